import Foundation
import XCTest

/// `lantern residual` end to end on the built-in model: the parts add up to the logit, the default
/// token is the greedy choice, a trace gives what a prompt gives, bad input is refused by name.
final class ResidualCommandTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-residual-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func testPartsAddUpAndTheDefaultTokenIsTheGreedyChoice() throws {
        let prompt = "Mia went to the park. Mia saw a"
        let run = try CLI.run(["residual", prompt, "--json", "--out", scratch.path])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let json = try CLI.json(run.stdout)
        let pieces = try XCTUnwrap(json["pieces"] as? [String])
        let shares = try XCTUnwrap(json["shares"] as? [[String: Any]])
        let logit = try XCTUnwrap(json["logit"] as? Double), shift = try XCTUnwrap(json["final_norm_shift"] as? Double)
        let total = shares.reduce(shift) { $0 + ($1["logit"] as? Double ?? .nan) }
        XCTAssertEqual(total, logit, accuracy: 1e-3)
        XCTAssertEqual(json["position"] as? Int, pieces.count - 1)
        // Built-in model: 6 layers × 6 heads, each layer also an attention bias and an MLP, plus two embeddings.
        XCTAssertEqual(shares.count, 2 + 6 * (6 + 2))
        let norms = try XCTUnwrap(json["norms"] as? [[Double]])
        XCTAssertEqual(norms.count, 7)
        XCTAssertTrue(norms.allSatisfy { $0.count == pieces.count && $0.allSatisfy { $0 > 0 } })
        let greedy = try CLI.json(CLI.run(["generate", prompt, "--greedy", "--max-new-tokens", "1", "--json"]).stdout)
        XCTAssertEqual((json["token"] as? Int).map { [$0] }, greedy["generated_ids"] as? [Int])
        // The picture is written where asked, and its path printed.
        let picture = scratch.appendingPathComponent("residual.png")
        XCTAssertTrue(run.stderr.contains(picture.path), run.stderr)
        let bytes = try Data(contentsOf: picture)
        XCTAssertEqual(Array(bytes.prefix(4)), [0x89, 0x50, 0x4E, 0x47])

        // The text names the token, the sum and the largest parts.
        let text = try CLI.run(["residual", prompt, "--token", " ball", "--top", "3"])
        XCTAssertEqual(text.exitCode, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("direct logit attribution of ␣ball"), text.stdout)
        XCTAssertTrue(text.stdout.contains("the 3 largest parts"), text.stdout)
    }

    /// Token P of a trace is token P of a run on the text up to P (a decoder looks only back).
    func testATraceGivesWhatThePromptGives() throws {
        let trace = scratch.appendingPathComponent("trace")
        let made = try CLI.run([
            "generate", "Mia saw a", "--greedy", "--max-new-tokens", "3", "--trace", trace.path,
            "--capture", "+attn.z,+attn.out,+mlp.out,+resid_post"
        ])
        XCTAssertEqual(made.exitCode, 0, made.stderr)
        let fromTrace = try CLI.json(CLI.run(["residual", "--trace", trace.path, "--position", "2", "--json"]).stdout)
        let fromPrompt = try CLI.json(CLI.run(["residual", "Mia saw a", "--json"]).stdout)
        XCTAssertEqual(fromTrace["token"] as? Int, fromPrompt["token"] as? Int)
        XCTAssertEqual(fromTrace["logit"] as? Double ?? .nan, fromPrompt["logit"] as? Double ?? 0, accuracy: 1e-4)
        let a = try XCTUnwrap(fromTrace["shares"] as? [[String: Any]]), b = try XCTUnwrap(fromPrompt["shares"] as? [[String: Any]])
        XCTAssertEqual(a.count, b.count)
        for (x, y) in zip(a, b) {
            XCTAssertEqual(x["name"] as? String, y["name"] as? String)
            XCTAssertEqual(x["logit"] as? Double ?? .nan, y["logit"] as? Double ?? 0, accuracy: 1e-4)
        }
        // A trace without the head outputs says what to capture.
        let bare = scratch.appendingPathComponent("bare")
        try CLI.run(["generate", "Mia saw a", "--greedy", "--max-new-tokens", "1", "--trace", bare.path])
        let missing = try CLI.run(["residual", "--trace", bare.path])
        XCTAssertNotEqual(missing.exitCode, 0)
        XCTAssertTrue(missing.stderr.contains("record them with --capture +attn.z,+attn.out,+mlp.out,+resid_post"), missing.stderr)
    }

    func testBadInputIsRefusedByName() throws {
        let long = try CLI.run(["residual", "Mia", "--token", "xyzzy"])
        XCTAssertEqual(long.exitCode, 64, long.stderr)
        XCTAssertTrue(long.stderr.contains("exactly one token"), long.stderr)
        let outside = try CLI.run(["residual", "Mia saw", "--position", "9"])
        XCTAssertNotEqual(outside.exitCode, 0)
        XCTAssertTrue(outside.stderr.contains("choose 0 to 1"), outside.stderr)
        let encoder = try CLI.run(["residual", "Mia saw a [MASK].", "--model", "lantern-tiny-encoder"])
        XCTAssertNotEqual(encoder.exitCode, 0)
        XCTAssertTrue(encoder.stderr.contains("use a GPT-2 or Llama model"), encoder.stderr)
    }
}
