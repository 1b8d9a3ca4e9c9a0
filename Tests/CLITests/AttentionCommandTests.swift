import Foundation
import Rendering
import XCTest

/// `lantern attention` end to end on the stories260K model: live runs, traces, and its errors.
final class AttentionCommandTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-attention-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func testOneHeadAndAllHeadsFromAPrompt() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        // Default: output/attention-L2-H3.png under the working folder.
        let run = try CLI.run(
            [
                "attention", "Once upon a time, there was a little girl", "--model", model,
                "--layer", "2", "--head", "3"
            ], in: scratch)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let path = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(path.hasSuffix("output/attention-L2-H3.png"), path)
        let image = try PNGReader.read(URL(fileURLWithPath: path))
        XCTAssertGreaterThan(image.width, 300)
        XCTAssertGreaterThan(image.height, 300)
        // Dark title text in the top band.
        var dark = 0
        for y in 0..<30 { for x in 0..<image.width where Int(image.pixel(x, y).r) < 90 { dark += 1 } }
        XCTAssertGreaterThan(dark, 100)
        // Nothing half-written is left in the output folder.
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: scratch.appendingPathComponent("output").path),
            ["attention-L2-H3.png"])

        let file = scratch.appendingPathComponent("pictures/layer1.png")
        let all = try CLI.run([
            "attention", "Once upon a time", "--model", model, "--layer", "1", "--heads", "all",
            "--out", file.path
        ])
        XCTAssertEqual(all.exitCode, 0, all.stderr)
        XCTAssertEqual(all.stdout.trimmingCharacters(in: .whitespacesAndNewlines), file.path)
        XCTAssertGreaterThan(try PNGReader.read(file).width, 300)
    }

    func testFromASavedTrace() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let trace = scratch.appendingPathComponent("trace")
        let generate = try CLI.run([
            "generate", "Once upon a time", "--model", model, "--max-new-tokens", "5",
            "--greedy", "--trace", trace.path
        ])
        XCTAssertEqual(generate.exitCode, 0, generate.stderr)
        let run = try CLI.run(["attention", "--trace", trace.path, "--layer", "0", "--head", "1", "--out", scratch.path])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertEqual(
            run.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
            scratch.appendingPathComponent("attention-L0-H1.png").path)
        XCTAssertNoThrow(try PNGReader.read(scratch.appendingPathComponent("attention-L0-H1.png")))

        let badLayer = try CLI.run(["attention", "--trace", trace.path, "--layer", "7", "--head", "0", "--out", scratch.path])
        XCTAssertNotEqual(badLayer.exitCode, 0)
        XCTAssertTrue(badLayer.stderr.contains("--layer 7 is out of range: the traced model has layers 0 to 4"), badLayer.stderr)

        // A trace of some layers only says which ones it has.
        let partial = scratch.appendingPathComponent("partial")
        XCTAssertEqual(
            try CLI.run([
                "generate", "Once", "--model", model, "--max-new-tokens", "2", "--greedy",
                "--trace", partial.path, "--layers", "0,3"
            ]).exitCode, 0)
        let missing = try CLI.run(["attention", "--trace", partial.path, "--layer", "1", "--heads", "all", "--out", scratch.path])
        XCTAssertNotEqual(missing.exitCode, 0)
        XCTAssertTrue(missing.stderr.contains("recorded only layers 0, 3; choose one of them with --layer"), missing.stderr)
        let present = try CLI.run(["attention", "--trace", partial.path, "--layer", "3", "--heads", "all", "--out", scratch.path])
        XCTAssertEqual(present.exitCode, 0, present.stderr)
        XCTAssertTrue(present.stdout.hasSuffix("attention-L3-all.png\n"), present.stdout)
    }

    /// The head view: every head's lines of a layer, or one token's, written where asked.
    func testHeadViewLines() throws {
        let all = try CLI.run(["attention", "Tom saw a duck. Tom saw a", "--layer", "4", "--heads", "lines", "--out", scratch.path])
        XCTAssertEqual(all.exitCode, 0, all.stderr)
        XCTAssertEqual(
            all.stdout.trimmingCharacters(in: .whitespacesAndNewlines), scratch.appendingPathComponent("attention-lines-L4.png").path)
        let one = try CLI.run([
            "attention", "Tom saw a duck. Tom saw a", "--layer", "4", "--heads", "lines", "--token", "7", "--out", scratch.path
        ])
        XCTAssertEqual(one.exitCode, 0, one.stderr)
        let picture = try PNGReader.read(scratch.appendingPathComponent("attention-lines-L4-T7.png"))
        XCTAssertGreaterThan(picture.height, 200)
        XCTAssertNotEqual(try PNGReader.read(scratch.appendingPathComponent("attention-lines-L4.png")).pixels, picture.pixels)
    }

    func testErrorsSayWhatToDo() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let cases: [([String], String)] = [
            (
                ["attention", "Hi", "--model", model, "--layer", "5", "--head", "0"],
                "--layer 5 is out of range: this model has layers 0 to 4"
            ),
            (["attention", "Hi", "--model", model, "--layer", "0", "--head", "8"], "--head 8 is out of range: layer 0 has heads 0 to 7"),
            (["attention", "Hi", "--model", model, "--layer", "0"], "say which head: --head H, or --heads all"),
            (["attention", "Hi", "--model", model, "--layer", "0", "--heads", "2"], "--heads takes only \"all\""),
            (["attention", "Hi", "--model", model, "--layer", "0", "--heads", "lines", "--token", "9"], "--token 9 is out of range"),
            (["attention", "--layer", "0", "--head", "0"], "give a prompt (with --model), or a saved trace with --trace DIR")
        ]
        for (arguments, message) in cases {
            let run = try CLI.run(arguments, in: scratch)
            XCTAssertNotEqual(run.exitCode, 0, arguments.joined(separator: " "))
            XCTAssertTrue(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("output").path), "no picture on error")

        let help = try CLI.run(["attention", "--help"])
        XCTAssertEqual(help.exitCode, 0)
        XCTAssertTrue(help.stdout.contains("Examples:"), help.stdout)
        XCTAssertTrue(help.stdout.contains("--heads all"), help.stdout)
    }
}
