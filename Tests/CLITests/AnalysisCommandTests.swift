import Foundation
import Rendering
import XCTest

/// `lantern heads`, `lantern lens` and `lantern branch` run end to end.
final class AnalysisCommandTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-analysis-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    // MARK: - heads

    func testHeadsTableOnTheStoriesModel() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let run = try CLI.run(["heads", "--model", model])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let lines = run.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let header = try XCTUnwrap(lines.firstIndex { $0.hasPrefix("layer head entropy") }, run.stdout)
        XCTAssertEqual(lines.filter { $0.count > 80 }, [], "lesson 6 shows this table in 80 columns")
        // 5 layers × 8 heads, in layer/head order, every value in range.
        let rows = lines[(header + 1)...].prefix { !$0.isEmpty }
        XCTAssertEqual(rows.count, 40, run.stdout)
        for (index, row) in rows.enumerated() {
            let fields = row.split(separator: " ", omittingEmptySubsequences: true)
            XCTAssertEqual(Int(fields[0]), index / 8, row)
            XCTAssertEqual(Int(fields[1]), index % 8, row)
            let entropy = try XCTUnwrap(Double(fields[2]), row)
            XCTAssertTrue(entropy >= 0 && entropy <= log(512.0), row)
            for field in fields[3...6] {
                let value = try XCTUnwrap(Double(field), row)
                XCTAssertTrue((0...1).contains(value), row)
            }
        }
        XCTAssertTrue(run.stdout.contains("strongest previous-token head: layer "), run.stdout)
        XCTAssertTrue(run.stdout.contains("strongest induction head: layer "), run.stdout)
        print(lines.filter { $0.hasPrefix("strongest") }.joined(separator: "\n"))

        let json = try CLI.json(CLI.run(["heads", "--model", model, "--json", "--seed", "7", "--length", "20"]).stdout)
        let heads = try XCTUnwrap(json["heads"] as? [[String: Any]])
        XCTAssertEqual(heads.count, 40)
        for head in heads {
            for key in ["previous_token", "first_token", "previous_token_on_random", "induction"] {
                let value = try XCTUnwrap(head[key] as? Double, key)
                XCTAssertTrue((0...1.0001).contains(value), "\(key) \(value)")
            }
            XCTAssertNotNil(head["labels"] as? [String])
        }
        XCTAssertEqual(json["seed"] as? Int, 7)
        XCTAssertEqual((json["random_sequences"] as? [[Int]])?.first?.count, 41)
        XCTAssertNotNil((json["strongest_induction"] as? [String: Any])?["score"] as? Double)
        XCTAssertEqual((json["thresholds"] as? [String: Any])?["induction"] as? Double, 0.4)
    }

    func testHeadsOnAFixtureAndItsErrors() throws {
        let model = CLI.fixtures.appendingPathComponent("llama-tiny-gqa").path
        let run = try CLI.run(["heads", "--model", model, "--length", "8", "--sequences", "1", "--json"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertEqual((try CLI.json(run.stdout)["heads"] as? [[String: Any]])?.count, 2 * 8, "2 layers × 8 query heads")
        // --out draws the scores as panels of layers × heads; --json stays one object on stdout.
        let drawn = try CLI.run([
            "heads", "--model", model, "--length", "8", "--sequences", "1", "--json", "--out", scratch.appendingPathComponent("h.png").path
        ])
        XCTAssertEqual(drawn.exitCode, 0, drawn.stderr)
        XCTAssertNoThrow(try CLI.json(drawn.stdout))
        XCTAssertTrue(drawn.stderr.contains("heads picture: "), drawn.stderr)
        let picture = try PNGReader.read(scratch.appendingPathComponent("h.png"))
        XCTAssertGreaterThan(picture.width, 2 * 8 * 12, "two panels across, 8 heads each")
        XCTAssertLessThan(picture.width, 2000)
        let tooLong = try CLI.run(["heads", "--model", model, "--length", "500"])
        XCTAssertNotEqual(tooLong.exitCode, 0)
        XCTAssertTrue(tooLong.stderr.contains("--length 500 is out of range"), tooLong.stderr)
    }

    /// The built-in model copies lists of its own words (TRAINING.md): with --repeat, the head
    /// that does it is found and labelled. Without --repeat the random sequences are measured.
    func testHeadsOnARepeatedTextFindTheBuiltInModelsCopyingHead() throws {
        let list = "Mia red ball kite Tom park duck blue cup Zoe hat green\n"
        let run = try CLI.run(["heads", "--repeat", list, "--json"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let json = try CLI.json(run.stdout)
        let sequences = try XCTUnwrap(json["random_sequences"] as? [[Int]])
        XCTAssertEqual(sequences.count, 1)
        let n = try XCTUnwrap(json["repeat_length"] as? Int)
        XCTAssertEqual(sequences[0].count, 1 + 2 * n)
        XCTAssertEqual(Array(sequences[0][1...n]), Array(sequences[0][(n + 1)...]))
        let strongest = try XCTUnwrap(json["strongest_induction"] as? [String: Any])
        let score = try XCTUnwrap(strongest["score"] as? Double)
        XCTAssertGreaterThan(score, 0.4, "the built-in model's copying heads (0.94 when the model was shipped)")
        let heads = try XCTUnwrap(json["heads"] as? [[String: Any]])
        let labelled = heads.filter { ($0["labels"] as? [String])?.contains("induction") == true }
        XCTAssertFalse(labelled.isEmpty)
        let random = try CLI.json(CLI.run(["heads", "--json"]).stdout)
        XCTAssertEqual((random["random_sequences"] as? [[Int]])?.count, 4)
        XCTAssertEqual(random["repeat_length"] as? Int, 25)

        let text = try CLI.run(["heads", "--repeat", list])
        XCTAssertTrue(text.stdout.contains("on the repeated text)") && text.stdout.contains("prev (repeat)"), text.stdout)
        for (bad, message) in [("a", "at least 2 tokens"), (String(repeating: "Mia ", count: 200), "at most 127 tokens")] {
            let refused = try CLI.run(["heads", "--repeat", bad])
            XCTAssertNotEqual(refused.exitCode, 0)
            XCTAssertTrue(refused.stderr.contains(message), refused.stderr)
            XCTAssertTrue(refused.stdout.isEmpty, refused.stdout)
        }
    }

    // MARK: - lens

    func testLensGridAndJSON() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let prompt = "Once upon a time, there was a little girl named Lily"
        let grid = try CLI.run(["lens", prompt, "--model", model, "--top", "2"])
        XCTAssertEqual(grid.exitCode, 0, grid.stderr)
        for label in ["pos", "input", "embed", "0", "4", "next"] {
            XCTAssertTrue(grid.stdout.split(separator: "\n").contains { $0.hasPrefix(label + " ") }, "row \(label) in\n\(grid.stdout)")
        }
        XCTAssertTrue(grid.stdout.contains("␣Once"), grid.stdout)

        let run = try CLI.run(["lens", prompt, "--model", model, "--top", "3", "--json"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let json = try CLI.json(run.stdout)
        let tokens = try XCTUnwrap(json["tokens"] as? [Int])
        let layers = try XCTUnwrap(json["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.compactMap { $0["layer"] as? Int }, [-1, 0, 1, 2, 3, 4])
        XCTAssertEqual(layers.last?["record"] as? String, "blocks.4.resid_post")
        for layer in layers {
            let cells = try XCTUnwrap(layer["cells"] as? [[String: Any]])
            XCTAssertEqual(cells.count, tokens.count)
            for cell in cells {
                let top = try XCTUnwrap(cell["top"] as? [[String: Any]])
                XCTAssertEqual(top.count, 3)
                XCTAssertNotNil(top.first?["piece"] as? String)
                XCTAssertTrue(top.allSatisfy { (0...1).contains($0["probability"] as? Double ?? -1) })
            }
        }
        // The last layer's top token after "named" is the model's own greedy choice (" Lily" is in the prompt).
        let greedy = try CLI.json(CLI.run(["generate", prompt, "--model", model, "--greedy", "--max-new-tokens", "1", "--json"]).stdout)
        let lastCells = try XCTUnwrap(layers.last?["cells"] as? [[String: Any]])
        let lastTop = try XCTUnwrap((lastCells.last?["top"] as? [[String: Any]])?.first?["id"] as? Int)
        XCTAssertEqual([lastTop], greedy["generated_ids"] as? [Int])
    }

    func testLensFromASavedTrace() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let trace = scratch.appendingPathComponent("trace"), bare = scratch.appendingPathComponent("bare")
        let made = try CLI.run([
            "generate", "Once upon a time", "--model", model, "--greedy", "--max-new-tokens", "6",
            "--trace", trace.path, "--capture", "+resid_post"
        ])
        XCTAssertEqual(made.exitCode, 0, made.stderr)
        let run = try CLI.run(["lens", "--trace", trace.path, "--model", model, "--json"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let json = try CLI.json(run.stdout)
        XCTAssertEqual((json["tokens"] as? [Int])?.count, 5 + 6)
        XCTAssertEqual((json["layers"] as? [[String: Any]])?.count, 6)
        // Without --model the lens unembeds with the traced model (it used to load the built-in one).
        let ownModel = try CLI.run(["lens", "--trace", trace.path, "--json"])
        XCTAssertEqual(ownModel.exitCode, 0, ownModel.stderr)
        XCTAssertEqual(ownModel.stdout, run.stdout)
        // A traced model that is gone: say so and how to name it.
        let moved = scratch.appendingPathComponent("moved")
        try FileManager.default.copyItem(at: trace, to: moved)
        let metadataURL = moved.appendingPathComponent("trace.json")
        var metadata = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: metadataURL)) as? [String: Any])
        var modelInfo = try XCTUnwrap(metadata["model"] as? [String: Any])
        modelInfo["source"] = scratch.appendingPathComponent("gone.bin").path
        metadata["model"] = modelInfo
        try JSONSerialization.data(withJSONObject: metadata).write(to: metadataURL)
        let gone = try CLI.run(["lens", "--trace", moved.path])
        XCTAssertNotEqual(gone.exitCode, 0)
        XCTAssertTrue(gone.stderr.contains("the lens needs the traced model") && gone.stderr.contains("--model PATH"), gone.stderr)

        try CLI.run(["generate", "Once upon a time", "--model", model, "--greedy", "--max-new-tokens", "2", "--trace", bare.path])
        let missing = try CLI.run(["lens", "--from-trace", bare.path, "--model", model])
        XCTAssertNotEqual(missing.exitCode, 0)
        XCTAssertTrue(missing.stderr.contains("add +resid_post to --capture"), missing.stderr)
        let neither = try CLI.run(["lens", "--model", model])
        XCTAssertNotEqual(neither.exitCode, 0)
        XCTAssertTrue(neither.stderr.contains("give a prompt"), neither.stderr)
    }

    // MARK: - branch

    func testBranchSideBySideJSONAndReproducibility() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let out = scratch.appendingPathComponent("branch.json")
        let args = [
            "branch", "Once upon a time", "--model", model, "--at", "3", "--candidate", "2", "--temperature", "0.8",
            "--seed", "5", "--max-new-tokens", "16", "--out", out.path
        ]
        let run = try CLI.run(args + ["--json"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("branch saved to \(out.path)"), run.stderr)
        let json = try CLI.json(run.stdout)
        XCTAssertEqual(try CLI.json(String(contentsOf: out, encoding: .utf8))["branch"] as? NSDictionary, json["branch"] as? NSDictionary)
        func ids(_ line: String, _ object: [String: Any]) throws -> [Int] {
            try XCTUnwrap(((object[line] as? [String: Any])?["tokens"] as? [[String: Any]])?.compactMap { $0["id"] as? Int })
        }
        let main = try ids("main", json), branch = try ids("branch", json)
        let fork = try XCTUnwrap(json["fork"] as? [String: Any])
        XCTAssertEqual(Array(branch.prefix(3)), Array(main.prefix(3)))
        XCTAssertEqual(branch[3], fork["forced_id"] as? Int)
        XCTAssertEqual(fork["forced_rank"] as? Int, 2)
        XCTAssertEqual(main[3], fork["original_id"] as? Int)

        // The same seed gives both lines again.
        let again = try CLI.json(CLI.run(args + ["--json"]).stdout)
        XCTAssertEqual(try ids("main", again), main)
        XCTAssertEqual(try ids("branch", again), branch)

        // The side-by-side view marks the fork.
        let view = try CLI.run(args)
        XCTAssertEqual(view.exitCode, 0, view.stderr)
        // Steps count from 1: keeping 3 tokens forks at step 4.
        XCTAssertTrue(view.stdout.contains("▶    4"), view.stdout)
        XCTAssertTrue(view.stdout.contains("fork    at step 4:"), view.stdout)
        XCTAssertTrue(view.stdout.contains("forced"), view.stdout)
        XCTAssertTrue(view.stdout.contains("main    Once upon a time"), view.stdout)
        XCTAssertTrue(view.stdout.contains("branch  Once upon a time"), view.stdout)
    }

    func testBranchForcedByTextAndItsErrors() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let out = scratch.appendingPathComponent("b.json")
        let run = try CLI.run([
            "branch", "Once upon a time", "--model", model, "--at", "0", "--token", " the", "--greedy",
            "--max-new-tokens", "8", "--out", out.path, "--json"
        ])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let tokens = try XCTUnwrap(((try CLI.json(run.stdout)["branch"] as? [String: Any])?["tokens"] as? [[String: Any]]))
        XCTAssertEqual(tokens.first?["piece"] as? String, "␣the")
        XCTAssertEqual(tokens.first?["forced"] as? Bool, true)

        let noChoice = try CLI.run(["branch", "Hi", "--model", model, "--at", "1", "--out", out.path])
        XCTAssertNotEqual(noChoice.exitCode, 0)
        XCTAssertTrue(noChoice.stderr.contains("exactly one of --token"), noChoice.stderr)
        let tooFar = try CLI.run([
            "branch", "Hi", "--model", model, "--at", "9", "--candidate", "2", "--max-new-tokens", "5", "--out", out.path
        ])
        XCTAssertNotEqual(tooFar.exitCode, 0)
        XCTAssertTrue(tooFar.stderr.contains("--at 9 must be below --max-new-tokens 5"), tooFar.stderr)
        let twoTokens = try CLI.run(["branch", "Hi", "--model", model, "--at", "0", "--token", "dog", "--out", out.path])
        XCTAssertNotEqual(twoTokens.exitCode, 0)
        XCTAssertTrue(twoTokens.stderr.contains("is 2 tokens"), twoTokens.stderr)
        // An id beyond the tokenizer is the flag's fault (it was blamed on a mismatched tokenizer).
        let badId = try CLI.run(["branch", "Hi", "--model", model, "--at", "0", "--token-id", "999999", "--out", out.path])
        XCTAssertNotEqual(badId.exitCode, 0)
        XCTAssertTrue(badId.stderr.contains("--token-id 999999 is out of range: this model's tokenizer has ids 0 to 511"), badId.stderr)
    }
}
