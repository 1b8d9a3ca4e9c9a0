import Foundation
import XCTest

/// `--json` on the commands that compute or write something: one JSON object on standard output,
/// steps counted from 1, paths that exist.
final class JSONOutputTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-json-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func written(_ json: [String: Any]) throws -> [String] {
        let paths = try XCTUnwrap(json["written"] as? [String], "\(json)")
        for path in paths { XCTAssertTrue(FileManager.default.fileExists(atPath: path), path) }
        return paths
    }

    func testTraceCommandsSpeakJSON() throws {
        let trace = scratch.appendingPathComponent("trace")
        let made = try CLI.run(["generate", "Mia saw a", "--max-new-tokens", "3", "--seed", "5", "--trace", trace.path])
        XCTAssertEqual(made.exitCode, 0, made.stderr)

        let show = try CLI.json(CLI.run(["trace", "show", trace.path, "--json"]).stdout)
        let steps = try XCTUnwrap(show["steps"] as? [[String: Any]])
        XCTAssertEqual(steps.map { $0["step"] as? Int }, [1, 2, 3])
        XCTAssertEqual(steps.compactMap { $0["token"] as? Int }, show["generated_ids"] as? [Int])
        let tensors = try XCTUnwrap(show["tensors"] as? [[String: Any]])
        XCTAssertTrue(tensors.contains { $0["name"] as? String == "blocks.0.attn.pattern" && ($0["max"] as? Double ?? 2) <= 1 })
        XCTAssertEqual((show["model"] as? [String: Any])?["family"] as? String, "gpt2")

        let diff = try CLI.json(CLI.run(["trace", "diff", trace.path, trace.path, "--json"]).stdout)
        XCTAssertTrue(diff["first_divergent_step"] == nil || diff["first_divergent_step"] is NSNull, "\(diff)")
        XCTAssertEqual(diff["compared_positions"] as? Int, 3 + 3)
        XCTAssertTrue((diff["heads"] as? [[String: Any]])?.allSatisfy { $0["max_abs"] as? Double == 0 } ?? false)

        let replay = try CLI.json(CLI.run(["trace", "replay", trace.path, "--json"]).stdout)
        XCTAssertEqual(replay["identical"] as? Bool, true)
        XCTAssertEqual(replay["replayed_ids"] as? [Int], show["generated_ids"] as? [Int])

        let export = try CLI.run(["export", "--trace", trace.path, "--out", scratch.appendingPathComponent("pictures").path, "--json"])
        XCTAssertEqual(export.exitCode, 0, export.stderr)
        let exported = try written(CLI.json(export.stdout))
        XCTAssertTrue(exported.contains { $0.hasSuffix("funnel-step1.png") }, "\(exported)")
        XCTAssertEqual(exported.count, Set(exported).count)
    }

    func testPictureCommandsListWhatTheyWrote() throws {
        let probs = try CLI.json(CLI.run(["probs", "Mia went to the", "--top", "3", "--json", "--out", scratch.path]).stdout)
        XCTAssertEqual(probs["step"] as? Int, 1)
        let top = try XCTUnwrap(probs["top_logits"] as? [[String: Any]])
        XCTAssertEqual(top.count, 20, "every candidate a step keeps, not only the --top drawn")
        XCTAssertEqual(try written(probs).count, 2)

        let attention = try CLI.json(
            CLI.run(["attention", "Mia saw a ball", "--layer", "1", "--head", "2", "--json", "--out", scratch.path]).stdout)
        XCTAssertEqual(try written(attention), [scratch.appendingPathComponent("attention-L1-H2.png").path])
        let graph = try CLI.json(CLI.run(["graph", "--json", "--out", scratch.appendingPathComponent("g.svg").path]).stdout)
        XCTAssertEqual(try written(graph), [scratch.appendingPathComponent("g.svg").path])
    }
}
