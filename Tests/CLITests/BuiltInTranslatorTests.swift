import Foundation
import LanternTestSupport
import Rendering
import XCTest

/// The built-in teaching translator, lantern-tiny-translate (a BART-layout encoder–decoder): it
/// ships with the package, `generate` translates with it, `attention` draws its cross-attention,
/// `evaluate` gives its card — thresholds below the figures measured when it was trained
/// (Sources/ModelHub/lantern-tiny-translate/TRAINING.md). And the way it was made: `corpus
/// --pairs translation`, then `train --objective seq2seq`, end to end on a tiny run.
final class BuiltInTranslatorTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-translator-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func testGenerateTranslatesAPhraseWhoseWordOrderFlips() throws {
        let run = try CLI.run(["generate", "la balle rouge est sous la table", "--model", "lantern-tiny-translate", "--greedy", "--json"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let json = try CLI.json(run.stdout)
        XCTAssertEqual(json["text"] as? String, "the red ball is under the table", run.stdout)
        XCTAssertEqual(json["stop_reason"] as? String, "eos")
        // prompt_ids are the encoder's input: [CLS] and the seven words and [SEP].
        XCTAssertEqual((json["prompt_ids"] as? [Int])?.count, 9)
        XCTAssertEqual((json["generated_ids"] as? [Int])?.count, 7)
        let text = try CLI.run(["generate", "une pomme verte", "--model", "lantern-tiny-translate", "--greedy"])
        XCTAssertEqual(text.stdout, "une pomme verte\n→ a green apple\n", text.stderr)
        XCTAssertTrue(text.stderr.contains("5 source tokens read by the encoder, 3 written by the decoder"), text.stderr)
        let models = try CLI.run(["models"])
        XCTAssertTrue(models.stdout.contains("lantern-tiny-translate"), models.stdout)
    }

    func testCrossAttentionPicturesAndTheirRefusals() throws {
        let out = scratch.appendingPathComponent("cross.png")
        let run = try CLI.run([
            "attention", "la balle rouge", "--model", "lantern-tiny-translate", "--layer", "1", "--head", "1", "--out", out.path
        ])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertGreaterThan(try PNGReader.read(out).width, 300)
        for (part, name) in [
            ("encoder", "encoder-attention-L0-all.png"), ("decoder", "decoder-attention-L0-all.png"),
            ("cross", "cross-attention-L0-all.png")
        ] {
            let grid = try CLI.run([
                "attention", "le chat noir", "--model", "lantern-tiny-translate", "--layer", "0", "--heads", "all", "--part", part, "--out",
                scratch.path
            ])
            XCTAssertEqual(grid.exitCode, 0, grid.stderr)
            XCTAssertEqual(grid.stdout, scratch.appendingPathComponent(name).path + "\n")
        }
        let mean = try CLI.run([
            "attention", "le chat noir", "--model", "lantern-tiny-translate", "--layer", "1", "--heads", "mean", "--out", scratch.path
        ])
        XCTAssertEqual(mean.stdout, scratch.appendingPathComponent("cross-attention-L1-mean.png").path + "\n", mean.stderr)
        let overview = try CLI.run([
            "attention", "le chat noir", "--model", "lantern-tiny-translate", "--heads", "overview", "--out", scratch.path
        ])
        XCTAssertEqual(overview.exitCode, 0, overview.stderr)
        // Which self-attention, and cross-attention on a decoder-only model: clear refusals.
        let ambiguous = try CLI.run([
            "attention", "le chat", "--model", "lantern-tiny-translate", "--layer", "0", "--head", "0", "--part", "self"
        ])
        XCTAssertNotEqual(ambiguous.exitCode, 0)
        XCTAssertTrue(ambiguous.stderr.contains("--part encoder or --part decoder"), ambiguous.stderr)
        let decoderOnly = try CLI.run(["attention", "the cat", "--layer", "0", "--head", "0", "--part", "cross"])
        XCTAssertNotEqual(decoderOnly.exitCode, 0)
        XCTAssertTrue(decoderOnly.stderr.contains("needs an encoder–decoder"), decoderOnly.stderr)
    }

    /// A traced translation holds the encoder's records, the decoder's and the cross-attention:
    /// the pictures come from it as from a live run, `export` draws every part, replay gives the
    /// same tokens, and the commands not built for encoder–decoders say so.
    func testATracedTranslation() throws {
        let trace = scratch.appendingPathComponent("trace")
        let run = try CLI.run(["generate", "la balle rouge", "--model", "lantern-tiny-translate", "--greedy", "--trace", trace.path])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let metadata = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: trace.appendingPathComponent("trace.json"))) as? [String: Any])
        XCTAssertEqual((metadata["decoder_ids"] as? [Int])?.count, 4, "[CLS] the red ball")
        let names = try XCTUnwrap(metadata["tensors"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        XCTAssertTrue(names.contains("blocks.1.cross_attn.pattern") && names.contains("encoder.blocks.0.attn.pattern"), "\(names)")
        let cross = try CLI.run(["attention", "--trace", trace.path, "--layer", "1", "--head", "1", "--terminal"])
        XCTAssertEqual(cross.exitCode, 0, cross.stderr)
        XCTAssertTrue(cross.stdout.contains("red ← rouge") && cross.stdout.contains("ball ← balle"), cross.stdout)
        let export = try CLI.run(["export", "--trace", trace.path, "--out", scratch.appendingPathComponent("pictures").path])
        XCTAssertEqual(export.exitCode, 0, export.stderr)
        for name in ["cross-attention-L1-all.png", "encoder-attention-overview.png", "decoder-attention-L0-all.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("pictures/\(name)").path), name)
        }
        // A damaged trace (the cross-attention file swapped for the encoder's square one, trace.json
        // edited to match): a clear error, no crash.
        let damaged = scratch.appendingPathComponent("damaged")
        try FileManager.default.copyItem(at: trace, to: damaged)
        let crossFile = damaged.appendingPathComponent("blocks.1.cross_attn.pattern.npy")
        try FileManager.default.removeItem(at: crossFile)
        try FileManager.default.copyItem(at: damaged.appendingPathComponent("encoder.blocks.0.attn.pattern.npy"), to: crossFile)
        var edited = metadata
        edited["tensors"] = try XCTUnwrap(metadata["tensors"] as? [[String: Any]]).map { entry -> [String: Any] in
            guard entry["name"] as? String == "blocks.1.cross_attn.pattern" else { return entry }
            var entry = entry
            entry["shape"] = [4, 5, 5]
            return entry
        }
        try JSONSerialization.data(withJSONObject: edited).write(to: damaged.appendingPathComponent("trace.json"))
        let refused = try CLI.run(["attention", "--trace", damaged.path, "--layer", "1", "--head", "1", "--terminal"])
        XCTAssertNotEqual(refused.exitCode, 0)
        XCTAssertTrue(refused.stderr.contains("a damaged or edited trace"), refused.stderr)
        let replay = try CLI.run(["trace", "replay", trace.path])
        XCTAssertEqual(replay.exitCode, 0, replay.stderr)
        XCTAssertTrue(replay.stdout.contains("identical"), replay.stdout)
        for command in [["lens", "--trace", trace.path], ["heads", "--model", "lantern-tiny-translate"]] {
            let refused = try CLI.run(command)
            XCTAssertNotEqual(refused.exitCode, 0, command[0])
            XCTAssertTrue(refused.stderr.contains("encoder–decoder"), refused.stderr)
            XCTAssertFalse(refused.stderr.contains("Fatal"), refused.stderr)
        }
    }

    /// The stepper on the translator: the source, then "→" and the words so far; `a L H` adds
    /// where in the source the newest token looked (writing after "red", the head looks at "balle").
    func testTheStepperShowsTheSourceAndCrossAttention() throws {
        let run = try CLI.run(
            ["step", "la balle rouge", "--model", "lantern-tiny-translate", "--greedy"], stdin: "\n\na 1 1\nq\n")
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("la balle rouge\n→ the red"), run.stdout)
        XCTAssertTrue(run.stdout.contains("cross-attention of the same token over the source"), run.stdout)
        XCTAssertTrue(run.stdout.contains("strongest: \"balle\""), run.stdout)
    }

    func testTheTranslationCard() throws {
        let run = try CLI.run(["evaluate", "--model", "lantern-tiny-translate", "--count", "30", "--json"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let report = try CLI.json(run.stdout)
        print("lantern evaluate --model lantern-tiny-translate (30 phrases): \(run.stdout)")
        func number(_ key: String) throws -> Double { try XCTUnwrap((report[key] as? NSNumber)?.doubleValue, key) }
        XCTAssertGreaterThanOrEqual(try number("heldOutCorrect"), 28)
        XCTAssertGreaterThanOrEqual(try number("freshCorrect"), 28)
        // A head that follows the alignment far better than reading word for word.
        XCTAssertGreaterThan(try number("alignmentShare"), 0.9)
        XCTAssertLessThan(try number("samePositionShare"), 0.75)
    }

    /// corpus --pairs → train --objective seq2seq → generate, on a tiny model for 40 steps; and a
    /// line that is not a pair is refused with its number.
    func testTrainingATranslatorEndToEnd() throws {
        let pairs = scratch.appendingPathComponent("pairs/train.tsv")
        let corpus = try CLI.run([
            "corpus", "--pairs", "translation", "--pair-count", "600", "--out", pairs.path, "--eval",
            scratch.appendingPathComponent("pairs").path
        ])
        XCTAssertEqual(corpus.exitCode, 0, corpus.stderr)
        let lines = try String(contentsOf: pairs, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 600)
        XCTAssertTrue(lines.allSatisfy { $0.split(separator: "\t").count == 2 })
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("pairs/translation-heldout.tsv").path))

        let model = scratch.appendingPathComponent("model")
        let train = try CLI.run([
            "train", "--objective", "seq2seq", "--data", pairs.path, "--out", model.path, "--layers", "1", "--heads", "2", "--width", "32",
            "--context", "48", "--steps", "40", "--batch", "8", "--eval-every", "20", "--threads", "1", "--warmup", "4", "--lr", "0.003"
        ])
        XCTAssertEqual(train.exitCode, 0, train.stderr)
        let log = try JSONSerialization.jsonObject(with: Data(contentsOf: model.appendingPathComponent("training.json"))) as? [String: Any]
        let entries = try XCTUnwrap(log?["log"] as? [[String: Any]])
        let first = try XCTUnwrap((entries.first?["loss"] as? NSNumber)?.doubleValue)
        let last = try XCTUnwrap((entries.last?["loss"] as? NSNumber)?.doubleValue)
        XCTAssertLessThan(last, first * 0.8, "40 steps should lower the loss")
        let generate = try CLI.run(["generate", "le chat rouge", "--model", model.path, "--greedy", "--max-new-tokens", "5", "--json"])
        XCTAssertEqual(generate.exitCode, 0, generate.stderr)
        // Resuming the finished run needs more steps, and says so.
        let resume = try CLI.run(["train", "--data", pairs.path, "--out", model.path, "--resume", "--threads", "1"])
        XCTAssertNotEqual(resume.exitCode, 0)
        XCTAssertTrue(resume.stderr.contains("already finished"), resume.stderr)
        // bf16 products are not built for the encoder–decoder: asked on resume, one clear line; a
        // training.json that asks for them (edited, or from a later version) is the file's fault, not a crash.
        let bf16 = try CLI.run(["train", "--data", pairs.path, "--out", model.path, "--resume", "--steps", "45", "--precision", "bf16"])
        XCTAssertNotEqual(bf16.exitCode, 0)
        XCTAssertTrue(
            bf16.stderr.contains("--precision bf16 is built for next-token and mlm runs so far; this is a seq2seq run"), bf16.stderr)
        let stateFile = model.appendingPathComponent("training.json")
        var state = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: stateFile)) as? [String: Any])
        var settings = try XCTUnwrap(state["settings"] as? [String: Any])
        settings["precision"] = "bf16"
        state["settings"] = settings
        try JSONSerialization.data(withJSONObject: state).write(to: stateFile)
        for extra in [[], ["--precision", "f32"]] {
            let edited = try CLI.run(["train", "--data", pairs.path, "--out", model.path, "--resume", "--steps", "45"] + extra)
            XCTAssertEqual(edited.exitCode, 1, edited.stderr)
            XCTAssertTrue(edited.stderr.contains("training.json asks for bf16 products"), edited.stderr)
            XCTAssertFalse(edited.stderr.contains("Fatal error") || edited.stderr.contains("Precondition"), edited.stderr)
        }

        let bad = scratch.appendingPathComponent("bad.tsv")
        try "le chat\tthe cat\nno tab here\n".write(to: bad, atomically: true, encoding: .utf8)
        let refused = try CLI.run([
            "train", "--objective", "seq2seq", "--data", bad.path, "--out", scratch.appendingPathComponent("bad").path
        ])
        XCTAssertNotEqual(refused.exitCode, 0)
        XCTAssertTrue(refused.stderr.contains("line 2") && refused.stderr.contains("tab"), refused.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("bad").path))
    }
}
