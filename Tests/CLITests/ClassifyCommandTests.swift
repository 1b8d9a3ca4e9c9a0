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

    /// The inside view and traces: one picture and one trace per label, each trace readable by
    /// the trace commands; bad choices are refused before any work.
    func testTheInsideViewAndTraces() throws {
        let model = CLI.fixtures.appendingPathComponent("bart-mnli-tiny")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-classify-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let pictures = folder.appendingPathComponent("pictures"), traces = folder.appendingPathComponent("traces")
        let run = try CLI.run([
            "classify", "one day I will see the world", "--labels", "travel,cooking,dancing", "--model", model.path, "--attention", "1.0",
            "--out", pictures.path, "--trace", traces.path
        ])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("where the hypothesis looks in the premise, most (encoder layer 1, head 0):"), run.stdout)
        XCTAssertTrue(run.stdout.split(separator: "\n").allSatisfy { $0.count <= 80 }, run.stdout)
        for name in ["classify.png", "attention-1-travel.png", "attention-2-cooking.png", "attention-3-dancing.png"] {
            let png = try Data(contentsOf: pictures.appendingPathComponent(name))
            XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47], name)
        }
        let trace = traces.appendingPathComponent("1-travel")
        let show = try CLI.run(["trace", "show", trace.path])
        XCTAssertEqual(show.exitCode, 0, show.stderr)
        XCTAssertTrue(show.stdout.contains("encoder.blocks.1.attn.pattern"), show.stdout)
        XCTAssertFalse(show.stdout.contains("resid_post"), "only what the capture asked for: \(show.stdout)")
        for part in ["encoder", "cross", "decoder"] {
            let drawn = try CLI.run([
                "attention", "--trace", trace.path, "--part", part, "--layer", "1", "--heads", "all", "--out",
                folder.appendingPathComponent("\(part).png").path
            ])
            XCTAssertEqual(drawn.exitCode, 0, "\(part): \(drawn.stderr)")
        }
        // The built-in decoder: the position before each label token is the one that predicts it.
        let likelihood = try CLI.run(["classify", "Mia lost her red ball. She felt", "--labels", "sad,very happy", "--attention", "3.mean"])
        XCTAssertEqual(likelihood.exitCode, 0, likelihood.stderr)
        XCTAssertTrue(
            likelihood.stdout.contains("where the model looks as it predicts the label, most (layer 3, mean of"), likelihood.stdout)
        XCTAssertTrue(likelihood.stdout.contains("→␣very: "), likelihood.stdout)
        // Refused before any work, nothing written.
        let blocked = folder.appendingPathComponent("blocked")
        try FileManager.default.createDirectory(at: blocked, withIntermediateDirectories: true)
        try Data("mine".utf8).write(to: blocked.appendingPathComponent("2-cooking"))
        for (arguments, message) in [
            (["--attention", "9.0"], "layer 9 is out of range: this model's encoder has layers 0 to 1"),
            (["--attention", "1.7"], "head 7 is out of range"),
            (["--attention", "one"], "should be LAYER.HEAD or LAYER.mean"),
            (["--attention", "1.0", "--out", folder.appendingPathComponent("x.png").path], "give --out a folder"),
            (["--trace", blocked.path], "2-cooking exists and is not a Lantern trace")
        ] {
            let refused = try CLI.run(
                ["classify", "one day I will see the world", "--labels", "travel,cooking", "--model", model.path] + arguments)
            XCTAssertNotEqual(refused.exitCode, 0)
            XCTAssertTrue(refused.stderr.contains(message), "«\(message)» not in \(refused.stderr)")
        }
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: blocked.path), ["2-cooking"], "the other label's trace was not written")
        XCTAssertEqual(try String(contentsOf: blocked.appendingPathComponent("2-cooking"), encoding: .utf8), "mine")
    }
}
