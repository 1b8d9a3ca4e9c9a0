import Foundation
import Rendering
import XCTest

/// `lantern attention --steps`, `lantern branch --graph` and `--terminal` on `attention` and
/// `probs`, end to end on the stories260K model.
final class StepsBranchTerminalCommandTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-steps-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func makeTrace(_ model: String, newTokens: Int = 6) throws -> URL {
        let trace = scratch.appendingPathComponent("trace")
        let generate = try CLI.run([
            "generate", "Once upon a time", "--model", model, "--max-new-tokens", "\(newTokens)",
            "--greedy", "--trace", trace.path
        ])
        XCTAssertEqual(generate.exitCode, 0, generate.stderr)
        return trace
    }

    func testAttentionStepsFromATrace() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let trace = try makeTrace(model)
        let run = try CLI.run(["attention", "--trace", trace.path, "--layer", "1", "--head", "2", "--steps"], in: scratch)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let path = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(path.hasSuffix("output/attention-steps-L1-H2.png"), path)
        let image = try PNGReader.read(URL(fileURLWithPath: path))
        XCTAssertGreaterThan(image.width, 300)
        XCTAssertGreaterThan(image.height, 200)

        let noTrace = try CLI.run(["attention", "Once upon a time", "--model", model, "--layer", "0", "--head", "0", "--steps"])
        XCTAssertNotEqual(noTrace.exitCode, 0)
        XCTAssertTrue(noTrace.stderr.contains("--steps reads a saved generation"), noTrace.stderr)
        let allHeads = try CLI.run(["attention", "--trace", trace.path, "--layer", "0", "--heads", "all", "--steps"])
        XCTAssertNotEqual(allHeads.exitCode, 0)
        XCTAssertTrue(allHeads.stderr.contains("--steps draws one head"), allHeads.stderr)
    }

    func testAttentionStepsInTheTerminal() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let trace = try makeTrace(model, newTokens: 4)
        let run = try CLI.run(
            ["attention", "--trace", trace.path, "--layer", "0", "--head", "0", "--steps", "--terminal"],
            environment: ["NO_COLOR": "", "TERM": "xterm-256color", "COLORTERM": "truecolor"], in: scratch)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertFalse(run.stdout.contains("\u{1B}"), "a pipe gets no escape codes")
        XCTAssertTrue(run.stdout.contains("newest token across generation"), run.stdout)
        XCTAssertTrue(run.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 }, "lines fit 80 columns: \(run.stdout)")
        XCTAssertTrue(run.stdout.contains("columns: 0 <s>  1 ␣Once"), run.stdout)
        XCTAssertTrue(run.stdout.contains("1 ,"), run.stdout)
        XCTAssertTrue(run.stdout.contains("attention: "), run.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("output").path), "no PNG written")
    }

    /// One token's row laid over the text; its errors before any work.
    func testOneTokensAttentionOverTheText() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let out = scratch.appendingPathComponent("text.png")
        let run = try CLI.run([
            "attention", "Once upon a time", "--model", model, "--layer", "2", "--head", "3", "--token", "3", "--out", out.path
        ])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let image = try PNGReader.read(out)
        XCTAssertGreaterThan(image.width, 600)
        XCTAssertLessThan(image.height, 400, "a short text is one line")
        let mean = try CLI.run(
            ["attention", "Once upon a time", "--model", model, "--layer", "2", "--heads", "mean", "--token", "1"], in: scratch)
        XCTAssertEqual(mean.exitCode, 0, mean.stderr)
        XCTAssertTrue(mean.stdout.hasSuffix("output/attention-text-L2-mean-T1.png\n"), mean.stdout)
        for (arguments, message) in [
            (["--head", "3", "--token", "99"], "--token 99 is out of range: the text has tokens 0 to"),
            (["--heads", "all", "--token", "1"], "--token draws one token's row"),
            (["--head", "3", "--token=-1"], "--token -1 is out of range")
        ] {
            let refused = try CLI.run(["attention", "Once upon a time", "--model", model, "--layer", "2"] + arguments, in: scratch)
            XCTAssertNotEqual(refused.exitCode, 0)
            XCTAssertTrue(refused.stderr.contains(message), "«\(message)» not in \(refused.stderr)")
        }
    }

    func testAttentionOneHeadInTheTerminal() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let run = try CLI.run(
            ["attention", "Once upon a time", "--model", model, "--layer", "2", "--head", "3", "--terminal"],
            in: scratch)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertFalse(run.stdout.contains("\u{1B}"))
        XCTAssertTrue(run.stdout.contains("Attention · layer 2, head 3"), run.stdout)
        XCTAssertTrue(run.stdout.contains("␣upon"), run.stdout)
        XCTAssertTrue(run.stdout.contains("··"), "masked cells")
        XCTAssertTrue(run.stdout.contains("masked: a token cannot look at later tokens"), run.stdout)
        let heads = try CLI.run(["attention", "Once upon a time", "--model", model, "--layer", "2", "--heads", "all", "--terminal"])
        XCTAssertNotEqual(heads.exitCode, 0)
        XCTAssertTrue(heads.stderr.contains("--terminal draws one head"), heads.stderr)
    }

    func testProbsInTheTerminal() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let run = try CLI.run(["probs", "Once upon a time", "--model", model, "--top", "5", "--terminal"], in: scratch)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertFalse(run.stdout.contains("\u{1B}"))
        XCTAssertTrue(run.stdout.contains("Next-token probabilities · step 1"), run.stdout)
        XCTAssertTrue(run.stdout.contains("▶ ,"), run.stdout)
        XCTAssertTrue(run.stdout.contains("█"), run.stdout)
        XCTAssertTrue(run.stdout.contains("legend: bar length = probability"), run.stdout)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("output").path), "no PNG written")
    }

    func testBranchGraph() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let run = try CLI.run(
            [
                "branch", "Once upon a time", "--model", model, "--at", "2", "--candidate", "2", "--greedy",
                "--max-new-tokens", "5", "--graph"
            ], in: scratch)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("branch tree saved to output/branch-tree.png"), run.stderr)
        let image = try PNGReader.read(scratch.appendingPathComponent("output/branch-tree.png"))
        XCTAssertGreaterThan(image.width, 400)

        let dot = scratch.appendingPathComponent("tree.dot")
        let file = try CLI.run(
            [
                "branch", "Once upon a time", "--model", model, "--at", "2", "--candidate", "2", "--greedy",
                "--max-new-tokens", "5", "--graph-out", dot.path
            ], in: scratch)
        XCTAssertEqual(file.exitCode, 0, file.stderr)
        let text = try String(contentsOf: dot, encoding: .utf8)
        XCTAssertTrue(text.hasPrefix("digraph branch {"), text)
        XCTAssertTrue(text.contains("s1 -> b2"), text)
        XCTAssertTrue(text.contains("forced (rank 2)"), text)
    }
}
