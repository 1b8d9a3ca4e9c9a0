import Foundation
import XCTest

/// The stepper driven through a pipe as a script would, and trace folders end to end.
final class StepAndTraceTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-step-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func traceJSON(_ folder: URL) throws -> [String: Any] {
        try CLI.json(String(contentsOf: folder.appendingPathComponent("trace.json"), encoding: .utf8))
    }

    func testPickChangeTemperatureUndoAndSave() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let saved = scratch.appendingPathComponent("stepped")
        // Take the sample, pick candidate 2, set temperature 0.5, take two, undo one, save, quit.
        let script = "\n2\ntemp 0.5\n\n\nu\nsave \(saved.path)\nq\n"
        let run = try CLI.run(["step", "Once upon a time", "--model", model, "--seed", "3"], stdin: script)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("── step 1"), run.stdout)
        XCTAssertTrue(run.stdout.contains("temperature 0.5"), run.stdout)
        XCTAssertTrue(run.stdout.contains("undid the last token"), run.stdout)
        XCTAssertTrue(run.stdout.contains("trace saved to \(saved.path)"), run.stdout)
        XCTAssertFalse(run.stdout.contains("\u{1B}["), "no colour codes through a pipe")

        let json = try traceJSON(saved)
        let generated = try XCTUnwrap(json["generated_ids"] as? [Int])
        XCTAssertEqual(generated.count, 3, "sample, pick, sample (the fourth was undone)")
        let steps = try XCTUnwrap(json["steps"] as? [[String: Any]])
        XCTAssertEqual(steps.map { $0["forced"] as? Bool }, [false, true, false])
        XCTAssertEqual(steps[1]["chosen_rank"] as? Int, 2, "candidate 2 is the second most likely")
        let temperatures = steps.map { ($0["settings"] as? [String: Any])?["temperature"] as? Double }
        XCTAssertEqual(temperatures.map { $0.map { Float($0) } }, [0.8, 0.8, 0.5], "the default 0.8, then the 0.5 typed")
        XCTAssertTrue(FileManager.default.fileExists(atPath: saved.appendingPathComponent("blocks.4.attn.pattern.npy").path))

        // The saved trace replays exactly: sampled steps from the seed, the pick forced.
        let replay = try CLI.run(["trace", "replay", saved.path, "--model", model])
        XCTAssertEqual(replay.exitCode, 0, replay.stderr)
        XCTAssertTrue(replay.stdout.contains("replayed 3 tokens: identical"), replay.stdout)
    }

    func testAttentionViewAndBadCommandsKeepGoing() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let run = try CLI.run(["step", "Once upon a time", "--model", model], stdin: "a 4 2\na 9 9\nfrobnicate\ntemp -3\nq\n")
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("attention of the newest token \"␣time\""), run.stdout)
        XCTAssertTrue(run.stdout.contains("usage: a LAYER HEAD"), run.stdout)
        XCTAssertTrue(run.stdout.contains("unknown command \"frobnicate\""), run.stdout)
        XCTAssertTrue(run.stdout.contains("temp -3.0 is out of range"), run.stdout)  // named as the stepper's command, not the flag
    }

    func testEndOfInputQuitsCleanly() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let run = try CLI.run(["step", "", "--model", model], stdin: "\n\n")
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("── step 3"), run.stdout)
    }

    /// Decoding leaves special tokens out, so a taken end-of-text token vanished from the text
    /// line while the model went on to a new story; it is shown by its piece where it stands.
    func testATakenEndOfTextTokenStaysVisibleInTheText() throws {
        // The built-in model ends this story after 44 greedy tokens.
        let run = try CLI.run(["step", "Mia went to the park. She", "--greedy"], stdin: String(repeating: "\n", count: 46) + "q\n")
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let after = try XCTUnwrap(run.stdout.components(separatedBy: "(the model chose its end-of-text token").last)
        let nextText = try XCTUnwrap(after.components(separatedBy: "temperature ").first)
        XCTAssertTrue(nextText.contains("<|endoftext|>"), nextText)
    }

    /// The stepper stops at --max-new-tokens (it took every Enter and ignored the option).
    func testMaxNewTokensBoundsTheStepper() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let trace = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-step-max-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: trace) }
        let run = try CLI.run(["step", "Once", "--model", model, "--max-new-tokens", "2", "--trace", trace.path], stdin: "\n\n\n\n\n")
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("--max-new-tokens 2 reached"), run.stdout)
        let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: trace.appendingPathComponent("trace.json"))) as? [String: Any]
        XCTAssertEqual((saved?["generated_ids"] as? [Int])?.count, 2)
    }

    func testGenerateTraceShowAndDiff() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let greedy = scratch.appendingPathComponent("greedy"), hot = scratch.appendingPathComponent("hot")
        let first = try CLI.run([
            "generate", "Once upon a time", "--model", model, "--greedy", "--max-new-tokens", "12",
            "--trace", greedy.path, "--capture", "+resid_post,+logits"
        ])
        XCTAssertEqual(first.exitCode, 0, first.stderr)
        XCTAssertTrue(first.stderr.contains("trace saved to \(greedy.path)"), first.stderr)
        try CLI.run([
            "generate", "Once upon a time", "--model", model, "--temperature", "2", "--seed", "9",
            "--max-new-tokens", "12", "--trace", hot.path, "--capture", "+resid_post"
        ])
        let json = try traceJSON(greedy)
        let tensors = try XCTUnwrap(json["tensors"] as? [[String: Any]])
        let names = Set(tensors.compactMap { $0["name"] as? String })
        XCTAssertTrue(names.isSuperset(of: ["embed", "blocks.0.attn.pattern", "blocks.4.resid_post", "logits"]), "\(names)")
        let pattern = try XCTUnwrap(tensors.first { $0["name"] as? String == "blocks.0.attn.pattern" })
        XCTAssertEqual(pattern["shape"] as? [Int], [8, 17, 17], "[head, query, key] over 5 prompt + 12 generated tokens")

        let show = try CLI.run(["trace", "show", greedy.path])
        XCTAssertEqual(show.exitCode, 0, show.stderr)
        XCTAssertTrue(show.stdout.contains("generated  12 tokens"), show.stdout)
        XCTAssertTrue(show.stdout.contains("blocks.0.attn.pattern"), show.stdout)

        let diff = try CLI.run(["trace", "diff", greedy.path, hot.path])
        XCTAssertEqual(diff.exitCode, 0, diff.stderr)
        XCTAssertTrue(diff.stdout.contains("tokens diverge at step ") || diff.stdout.contains("tokens agree"), diff.stdout)
        XCTAssertTrue(diff.stdout.contains("residual stream difference per layer"), diff.stdout)
    }

    func testOverBudgetCaptureIsRefusedBeforeAnythingIsWritten() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let folder = scratch.appendingPathComponent("big")
        let run = try CLI.run([
            "generate", "Once upon a time", "--model", model, "--max-new-tokens", "400",
            "--trace", folder.path, "--capture", "all", "--capture-budget", "5"
        ])
        XCTAssertNotEqual(run.exitCode, 0)
        XCTAssertEqual(run.stdout, "")
        XCTAssertTrue(run.stderr.contains("over the 5 MB budget"), run.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.path))
        let bad = try CLI.run(["generate", "x", "--model", model, "--trace", folder.path, "--capture", "+attention"])
        XCTAssertNotEqual(bad.exitCode, 0)
        XCTAssertTrue(bad.stderr.contains("unknown record \"attention\""), bad.stderr)
    }

    /// `--trace .` in a folder of the user's files, one of them a `trace.json`: refused, every
    /// file untouched (it used to delete the whole folder).
    func testTraceIntoAFolderOfUserFilesTouchesNothing() throws {
        let home = scratch.appendingPathComponent("home-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        try Data("{\"mine\": true}".utf8).write(to: home.appendingPathComponent("trace.json"))
        try Data("thesis".utf8).write(to: home.appendingPathComponent("thesis.txt"))
        let run = try CLI.run(["generate", "Once upon a time", "--max-new-tokens", "3", "--trace", "."], in: home)
        XCTAssertNotEqual(run.exitCode, 0)
        XCTAssertTrue(run.stderr.contains("left untouched"), run.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: home.path).sorted(), ["thesis.txt", "trace.json"])
        XCTAssertEqual(try String(contentsOf: home.appendingPathComponent("thesis.txt"), encoding: .utf8), "thesis")
    }

    func testTraceShowOnSomethingElseIsAClearError() throws {
        let run = try CLI.run(["trace", "show", scratch.path])
        XCTAssertNotEqual(run.exitCode, 0)
        XCTAssertTrue(run.stderr.contains("is not a Lantern trace"), run.stderr)
    }
}
