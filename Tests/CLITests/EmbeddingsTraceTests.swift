import Foundation
import XCTest

/// `lantern embeddings --trace DIR` draws the embeddings a trace recorded, without the model.
final class EmbeddingsTraceTests: XCTestCase {
    func testPicturesFromATraceAndArgumentChecks() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-emb-trace-\(UUID())")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let trace = scratch.appendingPathComponent("run")
        let generate = try CLI.run([
            "generate", "The cat and the dog saw a ball", "--model", model, "--greedy",
            "--max-new-tokens", "4", "--trace", trace.path
        ])
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
        XCTAssertTrue(mixed.stderr.contains("give a prompt or --trace, not both"), mixed.stderr)
        let withModel = try CLI.run(["embeddings", "--trace", trace.path, "--model", "lantern-tiny"])
        XCTAssertNotEqual(withModel.exitCode, 0)
        XCTAssertTrue(withModel.stderr.contains("leave out --model, --tokenizer and --tokens"), withModel.stderr)
        let neither = try CLI.run(["embeddings"])
        XCTAssertNotEqual(neither.exitCode, 0)
        XCTAssertTrue(neither.stderr.contains("or a saved trace with --trace DIR"), neither.stderr)
    }
}

/// `lantern embeddings --json`: the cosine numbers behind the pictures.
final class EmbeddingsJSONTests: XCTestCase {
    func testJSONHoldsASymmetricCosineMatrixWithOnesOnTheDiagonal() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-emb-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try CLI.run(["embeddings", "Mia saw a red ball and a blue ball", "--json", "--out", folder.path])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("embeddings-similarity.png"), "picture paths go to stderr with --json")
        let json = try CLI.json(run.stdout)
        let pieces = try XCTUnwrap(json["pieces"] as? [String])
        let matrix = try XCTUnwrap(json["similarity"] as? [[NSNumber]]).map { $0.map(\.doubleValue) }
        XCTAssertEqual(matrix.count, pieces.count)
        for i in matrix.indices {
            XCTAssertEqual(matrix[i].count, pieces.count)
            XCTAssertEqual(matrix[i][i], 1, accuracy: 1e-4)
            for j in matrix.indices { XCTAssertEqual(matrix[i][j], matrix[j][i], accuracy: 1e-4) }
        }
        // The two " ball" tokens are the same vector.
        let balls = pieces.indices.filter { pieces[$0] == "␣ball" }
        XCTAssertEqual(balls.count, 2)
        XCTAssertEqual(matrix[balls[0]][balls[1]], 1, accuracy: 1e-4)
        XCTAssertNotNil(json["token_similarity"] as? [[NSNumber]])
    }
}
