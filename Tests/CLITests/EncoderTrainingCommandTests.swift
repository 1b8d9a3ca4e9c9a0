import Foundation
import LanternTestSupport
import XCTest

/// `lantern train --objective mlm` end to end: a small encoder trained from text, then filled in.
final class EncoderTrainingCommandTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-encoder-train-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func testTrainAnEncoderThenFillAndResume() throws {
        let corpus = scratch.appendingPathComponent("corpus.txt")
        let made = try CLI.run([
            "corpus", "--seed", "4", "--size-mb", "0.2", "--mix", "story=1,repeat=0,sentiment=0,tweet=0,translation=0,qa=0", "--out",
            corpus.path
        ])
        XCTAssertEqual(made.exitCode, 0, made.stderr)
        let out = scratch.appendingPathComponent("encoder").path
        let common = ["--data", corpus.path, "--out", out, "--threads", "2"]
        let run = try CLI.run(
            ["train", "--objective", "mlm"] + common
                + [
                    "--layers", "1", "--heads", "2", "--width", "16", "--context", "16", "--batch", "4", "--steps", "12", "--stop-after",
                    "6", "--eval-every", "3", "--vocab-size", "300"
                ])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("objective: masked words"), run.stderr)
        for file in ["config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "training.json", "loss.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/" + file), file)
        }
        // Resuming needs no --objective: the run knows it is an encoder; a contradicting one is refused.
        let wrong = try CLI.run(["train", "--resume", "--objective", "next-token"] + common)
        XCTAssertNotEqual(wrong.exitCode, 0)
        XCTAssertTrue(wrong.stderr.contains("--objective next-token differs from the run"), wrong.stderr)
        let resumed = try CLI.run(["train", "--resume"] + common)
        XCTAssertEqual(resumed.exitCode, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming at step 6 of 12"), resumed.stderr)

        let fill = try CLI.run(["fill", "Mia found a red [MASK] in the garden.", "--model", out, "--json"])
        XCTAssertEqual(fill.exitCode, 0, fill.stderr)
        let masks = try XCTUnwrap(CLI.json(fill.stdout)["masks"] as? [[String: Any]])
        XCTAssertEqual(masks.count, 1)
        let info = try CLI.run(["info", "--model", out])
        XCTAssertTrue(info.stdout.contains("BERT (encoder-only"), info.stdout)
    }

    func testEncoderTrainingRefusesWhatItCannotDo() throws {
        let run = try CLI.run([
            "train", "--objective", "mlm", "--init-from", "lantern-tiny", "--data", "x.txt", "--out", scratch.path + "/m"
        ])
        XCTAssertNotEqual(run.exitCode, 0)
        XCTAssertTrue(run.stderr.contains("fine-tuning an encoder or an encoder–decoder is not implemented yet"), run.stderr)
    }
}
