import Foundation
import LanternTestSupport
import Rendering
import XCTest

/// Encoders from the command line: `fill` and `embed` on the committed BERT fixtures (random
/// weights, so the guesses are checked for shape and consistency, not sense), and every command
/// that would generate refusing an encoder with what to run instead, printing nothing.
final class EncoderCommandTests: XCTestCase {
    var scratch: URL!
    let masked = CLI.fixtures.appendingPathComponent("bert-tiny-mlm").path
    let sentenceEncoder = CLI.fixtures.appendingPathComponent("bert-tiny-base").path

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-encoder-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func testFillGivesRankedGuessesForEveryMask() throws {
        let run = try CLI.run(["fill", "The [MASK] sat on the [MASK].", "--model", masked, "--top", "4", "--json"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let masks = try XCTUnwrap(CLI.json(run.stdout)["masks"] as? [[String: Any]])
        XCTAssertEqual(masks.count, 2)
        // [CLS] the [MASK] sat on the [MASK] . [SEP]
        XCTAssertEqual(masks.map { $0["position"] as? Int }, [2, 6])
        for mask in masks {
            let candidates = try XCTUnwrap(mask["candidates"] as? [[String: Any]])
            XCTAssertEqual(candidates.count, 4)
            let probabilities = candidates.compactMap { ($0["probability"] as? NSNumber)?.floatValue }
            XCTAssertEqual(probabilities, probabilities.sorted(by: >), "best first")
            XCTAssertLessThanOrEqual(probabilities.reduce(0, +), 1.0001)
            XCTAssertTrue(candidates.allSatisfy { $0["piece"] is String && $0["id"] is Int })
        }
        let text = try CLI.run(["fill", "The [MASK] sat on the [MASK].", "--model", masked, "--top", "2"])
        XCTAssertEqual(text.exitCode, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("[MASK] 2 of 2, token 6:"), text.stdout)
    }

    func testFillRefusesWhatItCannotDo() throws {
        let cases: [([String], String)] = [
            (["fill", "no blank here", "--model", masked], "write [MASK] where the hidden word goes"),
            (["fill", "The [MASK] sat.", "--model", sentenceEncoder], "no masked-language head"),
            (["fill", "The [MASK] sat.", "--model", "lantern-tiny"], "this model is a decoder (GPT-2)"),
            (["fill", "The [MASK] sat.", "--model", masked, "--top", "0"], "--top 0 is out of range")
        ]
        for (arguments, message) in cases {
            let run = try CLI.run(arguments)
            XCTAssertNotEqual(run.exitCode, 0, arguments.joined(separator: " "))
            XCTAssertEqual(run.stdout, "", arguments.joined(separator: " "))
            XCTAssertTrue(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
    }

    func testEncodersDoNotGenerateAndSaySo() throws {
        for command in [["generate", "Hello"], ["probs", "Hello"], ["branch", "Hello", "--at", "0", "--candidate", "2"], ["step", "Hello"]]
        {
            let run = try CLI.run(command + ["--model", masked], stdin: "")
            XCTAssertNotEqual(run.exitCode, 0, command[0])
            XCTAssertEqual(run.stdout, "", "\(command[0]) printed before refusing")
            XCTAssertTrue(run.stderr.contains("this model is an encoder (BERT)"), "\(command[0]): \(run.stderr)")
            XCTAssertTrue(run.stderr.contains("lantern fill"), run.stderr)
        }
    }

    func testEmbedWritesTheSimilarityPictureAndJSON() throws {
        let run = try CLI.run(["embed", "A cat sat.", "A dog ran.", "Stocks fell.", "--model", sentenceEncoder], in: scratch)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(
            run.stdout.contains(
                "3 sentences → vectors of 48 (mean pooling, normalised)\npooling: no sentence-transformers files in the folder"),
            run.stdout)
        // Every line but the picture's path fits 80 columns (the long sentence is shortened).
        let long = try CLI.run(["embed", String(repeating: "word ", count: 40), "two", "--model", sentenceEncoder], in: scratch)
        let lines: [Substring] = long.stdout.split(separator: "\n" as Character)
        XCTAssertTrue(lines.dropLast().allSatisfy { $0.count <= 80 }, long.stdout)
        let path = try XCTUnwrap(run.stdout.split(separator: "\n").last.map(String.init))
        XCTAssertTrue(path.hasSuffix("output/sentence-similarity.png"), path)
        let picture = try PNGReader.read(URL(fileURLWithPath: path))
        XCTAssertGreaterThan(picture.width, 400)

        let json = try CLI.run(["embed", "A cat sat.", "A dog ran.", "--model", sentenceEncoder, "--json"], in: scratch)
        XCTAssertEqual(json.exitCode, 0, json.stderr)
        let object = try CLI.json(json.stdout)
        let vectors = try XCTUnwrap(object["embeddings"] as? [[Double]])
        let cosine = try XCTUnwrap(object["cosine"] as? [[Double]])
        XCTAssertEqual(vectors.map(\.count), [48, 48])
        // Normalised vectors: length 1, and the cosine is their dot product.
        for vector in vectors { XCTAssertEqual(vector.reduce(0) { $0 + $1 * $1 }, 1, accuracy: 1e-5) }
        XCTAssertEqual(cosine[0][1], zip(vectors[0], vectors[1]).reduce(0) { $0 + $1.0 * $1.1 }, accuracy: 1e-5)
        XCTAssertEqual(cosine[0][0], 1, accuracy: 1e-5)

        let decoder = try CLI.run(["embed", "A cat sat.", "--model", "lantern-tiny"], in: scratch)
        XCTAssertNotEqual(decoder.exitCode, 0)
        XCTAssertTrue(decoder.stderr.contains("this model is a decoder"), decoder.stderr)
    }

    func testAttentionOnAnEncoderShowsTheWholeSquare() throws {
        let run = try CLI.run(
            [
                "attention", "The cat sat on the mat.", "--model", masked, "--layer", "1", "--head", "0", "--out",
                scratch.appendingPathComponent("a.png").path
            ])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let terminal = try CLI.run(["attention", "The cat sat.", "--model", masked, "--layer", "0", "--head", "0", "--terminal"])
        XCTAssertEqual(terminal.exitCode, 0, terminal.stderr)
        XCTAssertFalse(terminal.stdout.contains("masked"), terminal.stdout)
        let lens = try CLI.run(["lens", "The cat sat.", "--model", sentenceEncoder])
        XCTAssertNotEqual(lens.exitCode, 0)
        XCTAssertTrue(lens.stderr.contains("no output head"), lens.stderr)
    }

    /// An encoder's forward pass as a trace: the records of the whole input, nothing generated;
    /// `trace show`, `attention --trace`, `lens --trace` and `export` read it.
    func testFillTraceIsReadByTheTraceTools() throws {
        let folder = scratch.appendingPathComponent("fill-trace").path
        let run = try CLI.run([
            "fill", "Mia [MASK] the red ball to Tom.", "--model", masked, "--trace", folder, "--capture", "+resid_post,+embed_ln"
        ])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("trace saved to"), run.stderr)
        let trace = try CLI.json(String(decoding: try Data(contentsOf: URL(fileURLWithPath: folder + "/trace.json")), as: UTF8.self))
        XCTAssertEqual((trace["generated_ids"] as? [Int])?.count, 0)
        XCTAssertEqual((trace["prompt_ids"] as? [Int])?.count, (trace["texts"] as? [String])?.count)
        XCTAssertTrue((trace["texts"] as? [String])?.contains("[MASK]") ?? false)
        let show = try CLI.run(["trace", "show", folder])
        XCTAssertEqual(show.exitCode, 0, show.stderr)
        let picture = try CLI.run([
            "attention", "--trace", folder, "--layer", "0", "--head", "1", "--out", scratch.appendingPathComponent("t.png").path
        ])
        XCTAssertEqual(picture.exitCode, 0, picture.stderr)
        let lens = try CLI.run(["lens", "--trace", folder, "--model", masked])
        XCTAssertEqual(lens.exitCode, 0, lens.stderr)
        XCTAssertTrue(lens.stdout.contains("the actual token at that position"), lens.stdout)
        let export = try CLI.run(["export", "--trace", folder, "--model", masked])
        XCTAssertEqual(export.exitCode, 0, export.stderr)
        XCTAssertTrue(
            FileManager.default.fileExists(atPath: folder + "/attention-L0-all.png") || export.stdout.contains(".png"), export.stdout)
    }
}
