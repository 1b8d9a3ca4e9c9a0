import Foundation
import XCTest

/// `lantern train` end to end on a small teaching corpus and a tiny shape: the folder it writes is a
/// model the other commands load; resume continues the run; Ctrl-C leaves a usable checkpoint; bad
/// input is one clear line, a non-zero exit and nothing written.
final class TrainCommandTests: XCTestCase {
    let tiny = [
        "--layers", "2", "--heads", "2", "--width", "32", "--context", "32", "--batch", "4", "--vocab-size", "400",
        "--eval-every", "5", "--checkpoint-every", "5", "--threads", "2"
    ]

    private func scratch() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-train-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    private func corpus(in folder: URL) throws -> URL {
        let file = folder.appendingPathComponent("corpus.txt")
        let run = try CLI.run(["corpus", "--size-mb", "0.2", "--out", file.path])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        return file
    }

    private func state(_ folder: URL) throws -> [String: Any] {
        try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("training.json"))) as? [String: Any])
    }

    func testTrainWritesAModelThenResumeExtendsIt() throws {
        let folder = try scratch(), data = try corpus(in: folder), out = folder.appendingPathComponent("model")
        let run = try CLI.run(["train", "--data", data.path, "--out", out.path, "--steps", "12"] + tiny)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        for name in [
            "config.json", "model.safetensors", "vocab.json", "merges.txt", "optimizer.safetensors", "training.json", "loss.png",
            "snapshots/attention-step-000000.png", "snapshots/attention-step-000012.png"
        ] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "\(name) is missing")
        }
        XCTAssertTrue(run.stdout.contains("step 12 of 12: training loss"), run.stdout)
        let log = try XCTUnwrap(try state(out)["log"] as? [[String: Any]])
        XCTAssertEqual(log.count, 12)
        let first = try XCTUnwrap(log.first?["loss"] as? Double), last = try XCTUnwrap(log.last?["loss"] as? Double)
        XCTAssertLessThan(last, first, "the loss falls")
        XCTAssertEqual(log.compactMap { $0["validationLoss"] as? Double }.count, 3, "validation at steps 5, 10 and 12")

        // The folder is a model: generation runs on it.
        let generate = try CLI.run(["generate", "Once upon a time", "--model", out.path, "--max-new-tokens", "5", "--greedy"])
        XCTAssertEqual(generate.exitCode, 0, generate.stderr)
        // Evaluation items longer than a small context are left out, and said so, not an error.
        let evaluate = try CLI.run(["evaluate", "--model", out.path, "--count", "3", "--samples", "1"])
        XCTAssertEqual(evaluate.exitCode, 0, evaluate.stderr)
        XCTAssertTrue(evaluate.stdout.contains("do not fit the model's context of 32 tokens"), evaluate.stdout)

        // A second run into the same folder must say --resume; resuming extends it to 15 steps.
        let again = try CLI.run(["train", "--data", data.path, "--out", out.path, "--steps", "12"] + tiny)
        XCTAssertNotEqual(again.exitCode, 0)
        XCTAssertTrue(again.stderr.contains("pass --resume"), again.stderr)
        let resumed = try CLI.run(["train", "--data", data.path, "--out", out.path, "--steps", "15", "--resume", "--threads", "2"])
        XCTAssertEqual(resumed.exitCode, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming at step 12 of 15"), resumed.stderr)
        XCTAssertEqual((try state(out)["log"] as? [[String: Any]])?.count, 15)
        // A shape typed with --resume that differs from the run's is refused (it was ignored silently).
        let reshaped = try CLI.run(["train", "--data", data.path, "--out", out.path, "--steps", "20", "--resume", "--width", "48"])
        XCTAssertNotEqual(reshaped.exitCode, 0)
        XCTAssertTrue(
            reshaped.stderr.contains("--width 48 differs from the run in \(out.path) (width 32): its shape is kept; leave out --width"),
            reshaped.stderr)
        let finished = try CLI.run(["train", "--data", data.path, "--out", out.path, "--steps", "15", "--resume"])
        XCTAssertNotEqual(finished.exitCode, 0)
        XCTAssertTrue(finished.stderr.contains("already finished"), finished.stderr)
    }

    /// `--init-from`: a run that starts from a trained model's weights and tokenizer starts where
    /// that model is (its first loss is the model's own loss on the text, far below a random
    /// model's ln V), keeps its shape and tokenizer, and the result loads like any model.
    func testInitFromFineTunesATrainedModel() throws {
        let folder = try scratch(), data = try corpus(in: folder)
        let base = folder.appendingPathComponent("base"), tuned = folder.appendingPathComponent("tuned")
        XCTAssertEqual(try CLI.run(["train", "--data", data.path, "--out", base.path, "--steps", "40", "--lr", "0.003"] + tiny).exitCode, 0)
        let baseLog = try XCTUnwrap(try state(base)["log"] as? [[String: Any]])
        let baseLast = try XCTUnwrap(baseLog.last?["loss"] as? Double), baseFirst = try XCTUnwrap(baseLog.first?["loss"] as? Double)

        let run = try CLI.run([
            "train", "--init-from", base.path, "--data", data.path, "--out", tuned.path, "--steps", "3",
            "--eval-every", "3", "--checkpoint-every", "3", "--threads", "2"
        ])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("fine-tuning"), run.stderr)
        let log = try XCTUnwrap(try state(tuned)["log"] as? [[String: Any]])
        XCTAssertEqual(log.count, 3, "a fresh run of 3 steps, not the base's 40")
        let first = try XCTUnwrap(log.first?["loss"] as? Double)
        XCTAssertLessThan(first, (baseFirst + baseLast) / 2, "starts from the trained weights (base: \(baseFirst) → \(baseLast))")
        for name in ["vocab.json", "merges.txt"] {
            XCTAssertEqual(
                try Data(contentsOf: tuned.appendingPathComponent(name)), try Data(contentsOf: base.appendingPathComponent(name)), name)
        }
        XCTAssertEqual(try CLI.run(["generate", "Once", "--model", tuned.path, "--max-new-tokens", "3", "--greedy"]).exitCode, 0)

        // --init-from with --resume or --tokenizer, or a folder that is not a model: one clear line.
        for (extra, message) in [(["--resume"], "use one of them"), (["--tokenizer", base.path], "leave out --tokenizer")] {
            let bad = try CLI.run(
                ["train", "--init-from", base.path, "--data", data.path, "--out", folder.appendingPathComponent("x").path] + extra)
            XCTAssertNotEqual(bad.exitCode, 0)
            XCTAssertTrue(bad.stderr.contains(message), bad.stderr)
        }
        let notModel = try CLI.run([
            "train", "--init-from", folder.path, "--data", data.path, "--out", folder.appendingPathComponent("y").path
        ])
        XCTAssertNotEqual(notModel.exitCode, 0)
        XCTAssertTrue(notModel.stderr.contains("--init-from"), notModel.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("y").path))
    }

    /// Ctrl-C while training: the step in flight finishes, a checkpoint is saved, exit 130, and the
    /// run resumes from there.
    func testInterruptSavesACheckpointThatResumes() throws {
        let folder = try scratch(), data = try corpus(in: folder), out = folder.appendingPathComponent("model")
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = ["train", "--data", data.path, "--out", out.path, "--steps", "100000"] + tiny
        let errURL = folder.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: errURL.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        // Wait until it trains (a progress line for step 1), then press Ctrl-C.
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, !(String(data: (try? Data(contentsOf: errURL)) ?? Data(), encoding: .utf8) ?? "").contains("step 1/") {
            Thread.sleep(forTimeInterval: 0.1)
        }
        Thread.sleep(forTimeInterval: 0.5)
        process.interrupt()
        process.waitUntilExit()
        let stderr = String(decoding: try Data(contentsOf: errURL), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 130, stderr)
        XCTAssertTrue(stderr.contains("stopped by Ctrl-C at step"), stderr)
        XCTAssertTrue(stderr.contains("--resume"), stderr)
        let step = try XCTUnwrap(try state(out)["step"] as? Int)
        XCTAssertGreaterThan(step, 0)
        let resumed = try CLI.run(["train", "--data", data.path, "--out", out.path, "--steps", "\(step + 2)", "--resume"])
        XCTAssertEqual(resumed.exitCode, 0, resumed.stderr)
        XCTAssertEqual(try state(out)["step"] as? Int, step + 2)
    }

    /// A run split with --stop-after and resumed without --steps keeps its plan (and so its
    /// learning-rate schedule); a --steps that is not beyond the steps done is refused.
    func testResumeWithoutStepsKeepsThePlan() throws {
        let folder = try scratch(), data = try corpus(in: folder), out = folder.appendingPathComponent("model")
        let first = try CLI.run(["train", "--data", data.path, "--out", out.path, "--steps", "8", "--stop-after", "3"] + tiny)
        XCTAssertEqual(first.exitCode, 0, first.stderr)
        let tooFew = try CLI.run(["train", "--data", data.path, "--out", out.path, "--resume", "--steps", "2"])
        XCTAssertNotEqual(tooFew.exitCode, 0)
        XCTAssertTrue(tooFew.stderr.contains("--steps 2 is not more than the 3 steps"), tooFew.stderr)
        let resumed = try CLI.run(["train", "--data", data.path, "--out", out.path, "--resume"])
        XCTAssertEqual(resumed.exitCode, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming at step 3 of 8"), resumed.stderr)
        let saved = try state(out)
        XCTAssertEqual(saved["step"] as? Int, 8)
        XCTAssertEqual((saved["settings"] as? [String: Any])?["steps"] as? Int, 8)
    }

    /// `--precision bf16` trains with mixed-precision products, says so, saves it with the run, and
    /// a resume may go back to f32; the bench takes it only with --train.
    func testMixedPrecisionRunSavesItsPrecision() throws {
        let folder = try scratch(), data = try corpus(in: folder), out = folder.appendingPathComponent("model")
        let run = try CLI.run(
            ["train", "--data", data.path, "--out", out.path, "--steps", "4", "--stop-after", "2", "--precision", "bf16"] + tiny)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("products: bf16 operands, float32 sums"), run.stderr)
        XCTAssertEqual((try state(out)["settings"] as? [String: Any])?["precision"] as? String, "bf16")
        let resumed = try CLI.run(["train", "--data", data.path, "--out", out.path, "--resume", "--precision", "f32"])
        XCTAssertEqual(resumed.exitCode, 0, resumed.stderr)
        XCTAssertFalse(resumed.stderr.contains("products: bf16"), resumed.stderr)
        XCTAssertNil((try state(out)["settings"] as? [String: Any])?["precision"], "f32 is the default, saved as nothing")
        let bench = try CLI.run(["bench", "--precision", "bf16"])
        XCTAssertNotEqual(bench.exitCode, 0)
        XCTAssertTrue(bench.stderr.contains("--precision sets training's products: add --train"), bench.stderr)
    }

    /// A corpus written with --mark-unscored trains, and says how many tokens it reads without a loss.
    func testMarkedCorpusTrainsWithUnscoredSpans() throws {
        let folder = try scratch()
        let file = folder.appendingPathComponent("marked.txt")
        let corpus = try CLI.run(["corpus", "--size-mb", "0.2", "--mark-unscored", "--out", file.path])
        XCTAssertEqual(corpus.exitCode, 0, corpus.stderr)
        XCTAssertTrue(corpus.stdout.contains("unscored spans marked"), corpus.stdout)
        let run = try CLI.run(["train", "--data", file.path, "--out", folder.appendingPathComponent("model").path, "--steps", "2"] + tiny)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("tokens are in unscored spans"), run.stderr)
    }

    func testBadInputIsOneClearLineAndNothingWritten() throws {
        let folder = try scratch(), data = try corpus(in: folder)
        let empty = folder.appendingPathComponent("empty.txt"), binary = folder.appendingPathComponent("binary.txt")
        let small = folder.appendingPathComponent("small.txt")
        try Data().write(to: empty)
        try Data([0x47, 0x00, 0x01, 0xFF]).write(to: binary)
        try Data("A tiny corpus.".utf8).write(to: small)
        let unbalanced = folder.appendingPathComponent("unbalanced.txt")
        try Data((try String(contentsOf: data, encoding: .utf8) + "the end\u{E001}\n").utf8).write(to: unbalanced)
        let blocker = folder.appendingPathComponent("blocker")
        try Data("a file".utf8).write(to: blocker)
        let cases: [(arguments: [String], message: String)] = [
            (["--data", folder.appendingPathComponent("missing.txt").path], "missing.txt"),
            (["--data", empty.path], "empty"),
            (["--data", binary.path], "binary"),
            (["--data", small.path], "corpus is too small"),
            (["--data", unbalanced.path], "unscored-span mark out of place"),
            (["--data", data.path, "--width", "30", "--heads", "4"], "not divisible"),
            (["--data", data.path, "--vocab-size", "100"], "--vocab-size 100 is out of range"),
            (["--data", data.path, "--steps", "0"], "--steps 0 is out of range"),
            (["--data", data.path, "--lr", "2"], "--lr 2.0 is out of range"),
            (["--data", data.path, "--resume"], "holds no training run"),
            (
                ["--data", data.path, "--objective", "seq2seq", "--precision", "bf16"],
                "--precision bf16 is built for --objective next-token and mlm"
            ),
            (["--data", data.path, "--precision", "fp8"], "fp8")
        ]
        for (index, bad) in cases.enumerated() {
            let out = folder.appendingPathComponent("out-\(index)")
            var arguments = ["train", "--out", out.path, "--steps", "3"] + tiny + bad.arguments
            if bad.arguments.contains("--steps") { arguments.removeSubrange(3...4) }
            let run = try CLI.run(arguments)
            XCTAssertNotEqual(run.exitCode, 0, "\(bad.arguments) should fail")
            XCTAssertTrue(run.stderr.contains(bad.message), "\(bad.arguments): «\(bad.message)» not in \(run.stderr)")
            XCTAssertFalse(run.stderr.contains("Fatal error"), run.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("model.safetensors").path))
        }
        let unwritable = try CLI.run(["train", "--data", data.path, "--out", blocker.appendingPathComponent("model").path] + tiny)
        XCTAssertNotEqual(unwritable.exitCode, 0)
        XCTAssertTrue(unwritable.stderr.contains("cannot create"), unwritable.stderr)
        // Resuming with another shape's tokenizer is refused before anything is touched.
        let out = folder.appendingPathComponent("model")
        XCTAssertEqual(try CLI.run(["train", "--data", data.path, "--out", out.path, "--steps", "2"] + tiny).exitCode, 0)
        let other = folder.appendingPathComponent("other-tokenizer")
        XCTAssertEqual(try CLI.run(["train-tokenizer", "--data", data.path, "--vocab-size", "300", "--out", other.path]).exitCode, 0)
        let mismatch = try CLI.run(["train", "--data", data.path, "--out", out.path, "--steps", "4", "--resume", "--tokenizer", other.path])
        XCTAssertNotEqual(mismatch.exitCode, 0)
        XCTAssertTrue(mismatch.stderr.contains("is not the tokenizer the run"), mismatch.stderr)
    }
}
