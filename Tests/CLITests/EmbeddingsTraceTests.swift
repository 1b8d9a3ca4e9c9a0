import Foundation
import XCTest

/// `lantern embeddings --trace DIR` draws the embeddings a trace recorded, without the model.
final class EmbeddingsTraceTests: XCTestCase {
    func testPicturesFromATraceAndArgumentChecks() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-emb-trace-\(UUID())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let trace = scratch.appendingPathComponent("run")
        let generate = try CLI.run(["generate", "The cat and the dog saw a ball", "--model", model, "--greedy",
                                    "--max-new-tokens", "4", "--trace", trace.path])
        XCTAssertEqual(generate.exitCode, 0, generate.stderr)

        let run = try CLI.run(["embeddings", "--trace", trace.path, "--out", scratch.appendingPathComponent("pictures").path])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        for name in ["embeddings-similarity.png", "embeddings-pca.png"] {
            let url = scratch.appendingPathComponent("pictures/\(name)")
            XCTAssertTrue(run.stdout.contains(url.path), run.stdout)
            XCTAssertEqual(Array(try Data(contentsOf: url).prefix(4)), [0x89, 0x50, 0x4E, 0x47], name)
        }

        let mixed = try CLI.run(["embeddings", "hello", "--trace", trace.path])
        XCTAssertNotEqual(mixed.exitCode, 0)
        XCTAssertTrue(mixed.stderr.contains("leave out the prompt"), mixed.stderr)
        let neither = try CLI.run(["embeddings"])
        XCTAssertNotEqual(neither.exitCode, 0)
        XCTAssertTrue(neither.stderr.contains("or --trace DIR"), neither.stderr)
    }
}
