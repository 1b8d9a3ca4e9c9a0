import Foundation
import XCTest

/// `lantern ablate` end to end on the built-in model: the JSON the issue names, the induction
/// head mattering for copying more than an unrelated head, the sweep and its picture, refusals.
final class AblateCommandTests: XCTestCase {
    var scratch: URL!
    static let repeated = "Mia red ball kite Tom park duck blue cup Zoe hat green. Mia red ball kite Tom park duck blue cup Zoe hat green."

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-ablate-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func testJSONAndTheInductionHeadMattersForCopying() throws {
        func loss(_ head: String) throws -> (before: Double, after: Double) {
            let run = try CLI.run(["ablate", Self.repeated, "--head", head, "--mode", "mean", "--from", "13", "--json"])
            XCTAssertEqual(run.exitCode, 0, run.stderr)
            let json = try CLI.json(run.stdout)
            let pieces = try XCTUnwrap(json["pieces"] as? [String])
            XCTAssertEqual((json["baseline_logprob"] as? [Double])?.count, pieces.count - 1)
            XCTAssertEqual((json["ablated_logprob"] as? [Double])?.count, pieces.count - 1)
            XCTAssertNotNil(json["baseline_loss"] as? Double)
            return (try XCTUnwrap(json["baseline_loss_from"] as? Double), try XCTUnwrap(json["ablated_loss_from"] as? Double))
        }
        // The induction head `heads` finds (checked here, not assumed).
        let heads = try CLI.run(["heads", "--json"])
        let summary = try CLI.json(heads.stdout)
        let all = try XCTUnwrap(summary["heads"] as? [[String: Any]])
        let induction = try XCTUnwrap(all.max { ($0["induction"] as? Double ?? 0) < ($1["induction"] as? Double ?? 0) })
        let name = "\(induction["layer"] as? Int ?? -1).\(induction["head"] as? Int ?? -1)"
        let inductionOff = try loss(name), otherOff = try loss(name == "2.0" ? "2.1" : "2.0")
        XCTAssertGreaterThan(
            inductionOff.after - inductionOff.before, 4 * (otherOff.after - otherOff.before), "\(inductionOff) \(otherOff)")
    }

    func testEveryHeadInTurnDrawsItsMap() throws {
        let run = try CLI.run(["ablate", Self.repeated, "--each-head", "--from", "13", "--out", scratch.path])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let rows = run.stdout.split(separator: "\n").filter { $0.hasPrefix("    ") }
        XCTAssertEqual(rows.count, 6, run.stdout)
        XCTAssertTrue(run.stdout.contains("most needed: layer "), run.stdout)
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("ablate-each-head.png").path))
    }

    /// A generation with heads switched off is traced with them, and replay switches them off
    /// too: with the record of it removed, the same trace no longer replays.
    func testAnAblatedGenerationReplays() throws {
        let text = "Mia red ball kite Tom park duck blue cup Zoe hat green. Mia red ball"
        let trace = scratch.appendingPathComponent("ablated")
        let made = try CLI.run([
            "generate", text, "--greedy", "--max-new-tokens", "8", "--ablate", "4.0", "--ablate", "4.4", "--ablate-mode", "mean",
            "--trace", trace.path, "--json"
        ])
        XCTAssertEqual(made.exitCode, 0, made.stderr)
        let plain = try CLI.json(CLI.run(["generate", text, "--greedy", "--max-new-tokens", "8", "--json"]).stdout)
        XCTAssertNotEqual(try CLI.json(made.stdout)["generated_ids"] as? [Int], plain["generated_ids"] as? [Int])
        let replay = try CLI.run(["trace", "replay", trace.path])
        XCTAssertEqual(replay.exitCode, 0, replay.stderr)
        XCTAssertTrue(try CLI.run(["trace", "show", trace.path]).stdout.contains("layer 4 head 0, layer 4 head 4 switched off (mean)"))
        // Without the ablation in trace.json, replay runs the whole model and diverges.
        let metadataURL = trace.appendingPathComponent("trace.json")
        var metadata = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: metadataURL)) as? [String: Any])
        metadata.removeValue(forKey: "ablation")
        try JSONSerialization.data(withJSONObject: metadata).write(to: metadataURL)
        let broken = try CLI.run(["trace", "replay", trace.path])
        XCTAssertNotEqual(broken.exitCode, 0)
        XCTAssertTrue(broken.stderr.contains("replay diverged"), broken.stderr)
        // A crafted trace naming heads the model does not have is refused, not written out of bounds.
        for (key, value, message) in [
            ("ablation", ["heads": [[0, 99]], "mlps": [Int](), "mode": "zero"] as [String: Any], "no head 0.99"),
            ("head_switches", [["step": 0, "heads_off": [[0, 99]]]], "trace.json's head_switches is not one Lantern writes")
        ] as [(String, Any, String)] {
            var crafted = metadata
            crafted[key] = value
            try JSONSerialization.data(withJSONObject: crafted).write(to: metadataURL)
            let refused = try CLI.run(["trace", "replay", trace.path])
            XCTAssertEqual(refused.exitCode, 1, "\(key): \(refused.stderr)")
            XCTAssertTrue(refused.stderr.contains(message) && !refused.stderr.contains("Fatal"), "\(key): \(refused.stderr)")
        }
    }

    /// The stepper switches heads off mid-run: the next choice changes at once, the saved trace
    /// records when, and replay repeats it (without the record it diverges).
    func testTheStepperSwitchesHeadsOffAndReplayRepeatsIt() throws {
        let trace = scratch.appendingPathComponent("stepped")
        let script = "off 4.0\noff 4.4\n\n\non\n\nsave \(trace.path)\nq\n"
        let run = try CLI.run(
            ["step", "Mia red ball kite Tom park duck blue cup Zoe hat green. Mia red ball", "--temperature", "0"], stdin: script)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("switched off (output zeroed): 4.0, 4.4"), run.stdout)
        XCTAssertTrue(run.stdout.contains("every head is on again"), run.stdout)
        let nexts = run.stdout.split(separator: "\n").filter { $0.hasPrefix("next: ") }
        XCTAssertTrue(nexts.first?.contains("␣kite") ?? false, "\(nexts)")
        XCTAssertNotEqual(nexts[0], nexts[2], "with both induction heads off the next choice changes")
        let replay = try CLI.run(["trace", "replay", trace.path])
        XCTAssertEqual(replay.exitCode, 0, replay.stderr)
        let metadataURL = trace.appendingPathComponent("trace.json")
        var metadata = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: metadataURL)) as? [String: Any])
        XCTAssertEqual((metadata["head_switches"] as? [[String: Any]])?.count, 3)
        metadata.removeValue(forKey: "head_switches")
        try JSONSerialization.data(withJSONObject: metadata).write(to: metadataURL)
        XCTAssertNotEqual(try CLI.run(["trace", "replay", trace.path]).exitCode, 0)
        let bad = try CLI.run(["step", "Mia saw", "--temperature", "0"], stdin: "off 9.9\nq\n")
        XCTAssertTrue(bad.stdout.contains("usage: off L.H / on L.H / on (every head), layers 0-5"), bad.stdout)
    }

    func testBadChoicesAreRefused() throws {
        let cases: [([String], String)] = [
            (["ablate", "Mia saw a ball"], "say what to switch off"),
            (["ablate", "Mia saw a ball", "--head", "4"], "should be LAYER.HEAD"),
            (["ablate", "Mia saw a ball", "--head", "9.0"], "there is no head 9.0"),
            (["ablate", "Mia saw a ball", "--each-head", "--head", "1.1"], "leave out --head"),
            (["ablate", "Mia saw a ball", "--head", "1.1", "--from", "40"], "--from 40 is out of range")
        ]
        for (arguments, message) in cases {
            let run = try CLI.run(arguments)
            XCTAssertNotEqual(run.exitCode, 0, arguments.joined(separator: " "))
            XCTAssertTrue(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
    }
}
