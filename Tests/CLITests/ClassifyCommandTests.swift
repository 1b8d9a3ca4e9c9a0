import Foundation
import XCTest

/// `lantern classify` end to end: on an NLI model the transformers pipeline's labels and scores
/// (random-weight fixture, `scripts/make_nli_fixture.py`), on the built-in decoder the labels'
/// likelihood with the method named; bad input is one clear line and a non-zero exit.
final class ClassifyCommandTests: XCTestCase {
    func testAnNLIModelGivesThePipelinesAnswer() throws {
        let model = CLI.fixtures.appendingPathComponent("bart-mnli-tiny")
        let reference = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: model.appendingPathComponent("reference/zero_shot.json")))
                as? [[String: Any]])
        for item in reference {
            let labels = try XCTUnwrap(item["candidate_labels"] as? [String])
            var arguments = [
                "classify", try XCTUnwrap(item["sequence"] as? String), "--labels", labels.joined(separator: ","), "--model", model.path,
                "--hypothesis-template", try XCTUnwrap(item["hypothesis_template"] as? String), "--json"
            ]
            if item["multi_label"] as? Bool == true { arguments.append("--multi-label") }
            let run = try CLI.run(arguments)
            XCTAssertEqual(run.exitCode, 0, run.stderr)
            let json = try CLI.json(run.stdout)
            XCTAssertEqual(json["labels"] as? [String], item["labels"] as? [String])
            let scores = try XCTUnwrap(json["scores"] as? [Double]), expected = try XCTUnwrap(item["scores"] as? [Double])
            for (a, b) in zip(scores, expected) { XCTAssertEqual(a, b, accuracy: 1e-4) }
            XCTAssertEqual((json["logits"] as? [String: Any])?.count, labels.count, "the raw logits, one row per label")
        }
        let text = try CLI.run(["classify", "one day I will see the world", "--labels", "travel,cooking,dancing", "--model", model.path])
        XCTAssertEqual(text.exitCode, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("method: natural-language inference"), text.stdout)
        XCTAssertTrue(text.stdout.contains("contradiction  neutral  entailment"), text.stdout)
        XCTAssertTrue(text.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 }, text.stdout)
        // A classifier does not write text: generating with it is refused, naming classify.
        // One label alone is scored against contradiction, and the output says so.
        let single = try CLI.run(["classify", "one day I will see the world", "--labels", "travel", "--model", model.path, "--json"])
        XCTAssertEqual(try CLI.json(single.stdout)["method"] as? String, "nli-multi-label", single.stdout)
        let generate = try CLI.run(["generate", "hello", "--model", model.path])
        XCTAssertNotEqual(generate.exitCode, 0)
        XCTAssertTrue(generate.stderr.contains("is a sequence classifier") && generate.stderr.contains("lantern classify"), generate.stderr)
    }

    func testTheBuiltInModelScoresLabelsByLikelihood() throws {
        let run = try CLI.run(["classify", "Mia lost her red ball. She felt", "--labels", "happy,sad", "--json"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let json = try CLI.json(run.stdout)
        XCTAssertEqual(json["method"] as? String, "label-likelihood")
        XCTAssertEqual((json["labels"] as? [String])?.first, "sad", "losing a ball makes a character sad in the story world")
        let scores = try XCTUnwrap(json["scores"] as? [Double])
        XCTAssertEqual(scores.reduce(0, +), 1, accuracy: 1e-9)
        let text = try CLI.run([
            "classify", "Tom and his dog went to the park.", "--labels", "park,kitchen", "--hypothesis-template", "They were in the {}."
        ])
        XCTAssertEqual(text.exitCode, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("method: label likelihood"), text.stdout)
        XCTAssertTrue(text.stdout.contains("prompt: \"Tom and his dog went to the park. They were in the\""), text.stdout)
        // --out draws the chart; --json on standard output stays one JSON object.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-classify-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let drawn = try CLI.run(["classify", "Mia lost her red ball. She felt", "--labels", "happy,sad", "--json", "--out", folder.path])
        XCTAssertEqual(drawn.exitCode, 0, drawn.stderr)
        XCTAssertNoThrow(try CLI.json(drawn.stdout))
        let png = try Data(contentsOf: folder.appendingPathComponent("classify.png"))
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
    }

    func testBadInputIsOneClearLine() throws {
        for (arguments, message) in [
            (["classify", "text", "--labels", ",,"], "--labels: give at least one candidate label"),
            (["classify", "text", "--labels", "a,b", "--hypothesis-template", "no slot"], "has no {} where the label goes"),
            (["classify", "text"], "Missing expected argument '--labels"),
            (["classify", "text", "--labels", "sad, sad", "--json"], "the label \"sad\" is given twice"),
            (["classify", "la balle", "--labels", "a,b", "--model", "lantern-tiny-translate"], "encoder–decoder")
        ] {
            let run = try CLI.run(arguments)
            XCTAssertNotEqual(run.exitCode, 0)
            XCTAssertTrue(run.stderr.contains(message), "«\(message)» not in \(run.stderr)")
            XCTAssertTrue(run.stdout.isEmpty)
        }
    }
}
