import Foundation
import Rendering
import XCTest

/// `lantern probs` and `lantern positions` end to end: the files they write, decoded, and their errors.
final class PictureCommandTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-pictures-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    static let gpt2 = CLI.fixtures.appendingPathComponent("gpt2-bytes-noprefix").path

    static func paths(_ run: LanternRun) -> [String] {
        run.stdout.split(separator: "\n").map(String.init)
    }

    static func titleIsDark(_ image: Canvas) -> Bool {
        var dark = 0
        for y in 0..<min(36, image.height) {
            for x in 0..<image.width where Int(image.pixel(x, y).r) < 90 { dark += 1 }
        }
        return dark > 100
    }

    func testProbsFromAPromptAtAStep() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let run = try CLI.run(
            [
                "probs", "Once upon a time", "--model", model, "--step", "2", "--temperature", "1.2",
                "--top-k", "8", "--top-p", "0.9", "--top", "12"
            ], in: scratch)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let paths = Self.paths(run)
        XCTAssertEqual(paths.count, 2, run.stdout)
        XCTAssertTrue(paths[0].hasSuffix("output/probs-step2.png"), paths[0])
        XCTAssertTrue(paths[1].hasSuffix("output/funnel-step2.png"), paths[1])
        for path in paths {
            let image = try PNGReader.read(URL(fileURLWithPath: path))
            XCTAssertGreaterThan(image.width, 500)
            XCTAssertGreaterThan(image.height, 300)
            XCTAssertTrue(Self.titleIsDark(image), path)
        }
        // The funnel with top-k 8 of 12 drawn has grey (cut) bars or "cut" labels.
        let funnel = try PNGReader.read(URL(fileURLWithPath: paths[1]))
        var grey = 0, orange = 0
        for y in 0..<funnel.height {
            for x in 0..<funnel.width {
                let c = funnel.pixel(x, y)
                if c == ChartPalette.cutText || c == ChartPalette.cut { grey += 1 }
                if c == ChartPalette.chosen { orange += 1 }
            }
        }
        XCTAssertGreaterThan(grey, 20, "cut candidates are grey")
        XCTAssertGreaterThan(orange, 20, "the chosen token is orange")
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: scratch.appendingPathComponent("output").path).sorted(),
            ["funnel-step2.png", "probs-step2.png"], "nothing half-written is left")

        // The same step replays identically: a seed gives the same pictures.
        let again = try CLI.run([
            "probs", "Once upon a time", "--model", model, "--step", "2", "--temperature", "1.2",
            "--top-k", "8", "--top-p", "0.9", "--top", "12", "--out", scratch.appendingPathComponent("again.png").path
        ])
        XCTAssertEqual(again.exitCode, 0, again.stderr)
        XCTAssertEqual(
            Self.paths(again),
            [
                scratch.appendingPathComponent("again.png").path,
                scratch.appendingPathComponent("again-funnel.png").path
            ])
        XCTAssertEqual(try PNGReader.read(scratch.appendingPathComponent("again-funnel.png")), funnel)
    }

    func testProbsFromATraceAndGreedy() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let trace = scratch.appendingPathComponent("trace")
        let generate = try CLI.run([
            "generate", "Once upon a time", "--model", model, "--max-new-tokens", "4",
            "--temperature", "0.8", "--top-k", "5", "--trace", trace.path
        ])
        XCTAssertEqual(generate.exitCode, 0, generate.stderr)
        let run = try CLI.run(["probs", "--trace", trace.path, "--step", "3", "--out", scratch.path])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertEqual(
            Self.paths(run),
            [
                scratch.appendingPathComponent("probs-step3.png").path,
                scratch.appendingPathComponent("funnel-step3.png").path
            ])
        XCTAssertTrue(Self.titleIsDark(try PNGReader.read(scratch.appendingPathComponent("funnel-step3.png"))))

        // The whole generation over its steps, from the same trace.
        let over = try CLI.run(["probs", "--trace", trace.path, "--over-steps", "--out", scratch.path])
        XCTAssertEqual(over.exitCode, 0, over.stderr)
        XCTAssertEqual(Self.paths(over), [scratch.appendingPathComponent("generation-steps.png").path])
        XCTAssertTrue(Self.titleIsDark(try PNGReader.read(scratch.appendingPathComponent("generation-steps.png"))))
        // A long generation is drawn in bands of at most 100 steps, one under the other.
        let long = scratch.appendingPathComponent("long")
        try CLI.run([
            "generate", "Once upon a time", "--model", model, "--max-new-tokens", "250", "--ignore-eos", "--trace", long.path,
            "--capture", "none"
        ])
        let banded = try CLI.run(["probs", "--trace", long.path, "--over-steps", "--out", scratch.appendingPathComponent("long.png").path])
        XCTAssertEqual(banded.exitCode, 0, banded.stderr)
        let short = try PNGReader.read(scratch.appendingPathComponent("generation-steps.png"))
        let tall = try PNGReader.read(scratch.appendingPathComponent("long.png"))
        XCTAssertGreaterThan(tall.height, 2 * short.height, "three bands of about 84 steps")
        XCTAssertLessThan(tall.width, 1_300, "as wide as one chart and its notes")
        let overLive = try CLI.run(["probs", "Once", "--model", model, "--over-steps"])
        XCTAssertNotEqual(overLive.exitCode, 0)
        XCTAssertTrue(overLive.stderr.contains("--over-steps reads a saved generation"), overLive.stderr)
        // Steps count from 1, as in the stepper and export: a trace of 4 tokens has steps 1 to 4.
        let late = try CLI.run(["probs", "--trace", trace.path, "--step", "5", "--out", scratch.path])
        XCTAssertNotEqual(late.exitCode, 0)
        XCTAssertTrue(late.stderr.contains("--step 5 is out of range: the trace has steps 1 to 4"), late.stderr)

        let greedy = try CLI.run(["probs", "Once", "--model", model, "--greedy", "--out", scratch.appendingPathComponent("g").path])
        XCTAssertEqual(greedy.exitCode, 0, greedy.stderr)
        XCTAssertTrue(greedy.stdout.hasSuffix("g/funnel-step1.png\n"), greedy.stdout)
    }

    func testProbsErrorsSayWhatToDo() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let cases: [([String], String)] = [
            (["probs", "Hi", "--model", model, "--top", "0"], "--top 0 is out of range: use 1 to 20"),
            (["probs", "Hi", "--model", model, "--top", "21"], "--top 21 is out of range: use 1 to 20"),
            (["probs", "Hi", "--model", model, "--step=-1"], "--step -1 is out of range"),
            (["probs", "Hi", "--model", model, "--step", "0"], "--step 0 is out of range: steps count from 1"),
            (["probs", "Hi", "--model", model, "--step", "600"], "--step 600 is out of range: the prompt has"),
            (["probs", "Hi", "--model", model, "--top-p", "0"], "--top-p 0.0 is out of range"),
            (["probs"], "give a prompt (with --model), or a saved trace with --trace DIR")
        ]
        for (arguments, message) in cases {
            let run = try CLI.run(arguments, in: scratch)
            XCTAssertNotEqual(run.exitCode, 0, arguments.joined(separator: " "))
            XCTAssertTrue(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("output").path), "no picture on error")
        let help = try CLI.run(["probs", "--help"])
        XCTAssertEqual(help.exitCode, 0)
        XCTAssertTrue(help.stdout.contains("Examples:"), help.stdout)
    }

    func testPositionsWithoutAModel() throws {
        let run = try CLI.run(["positions", "--scheme", "sinusoidal", "--positions", "20", "--width", "16"], in: scratch)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let paths = Self.paths(run)
        XCTAssertEqual(paths.count, 2, run.stdout)
        XCTAssertTrue(paths[0].hasSuffix("output/positions-sinusoidal.png"), paths[0])
        XCTAssertTrue(paths[1].hasSuffix("output/positions-sinusoidal-similarity.png"), paths[1])
        let table = try PNGReader.read(URL(fileURLWithPath: paths[0]))
        XCTAssertTrue(Self.titleIsDark(table))
        // Somewhere in the picture: the diverging colours of 0 (white-ish) and +1 (dark red) as cells.
        let one = Colormap.diverging.color(1, low: -1, high: 1)
        var red = 0
        for y in 0..<table.height { for x in 0..<table.width where table.pixel(x, y) == one { red += 1 } }
        XCTAssertGreaterThan(red, 500, "cos 0 = 1 cells are full red")
        XCTAssertTrue(Self.titleIsDark(try PNGReader.read(URL(fileURLWithPath: paths[1]))))

        let all = try CLI.run(["positions", "--out", scratch.appendingPathComponent("pos.png").path])
        XCTAssertEqual(all.exitCode, 0, all.stderr)
        XCTAssertEqual(
            Self.paths(all),
            [
                scratch.appendingPathComponent("pos.png").path,
                scratch.appendingPathComponent("pos-similarity.png").path
            ])
        // Two schemes side by side are wider than one.
        XCTAssertGreaterThan(try PNGReader.read(scratch.appendingPathComponent("pos.png")).width, table.width)
    }

    func testPositionsFromModels() throws {
        let learned = try CLI.run([
            "positions", "--model", Self.gpt2, "--scheme", "learned", "--positions", "32",
            "--out", scratch.path
        ])
        XCTAssertEqual(learned.exitCode, 0, learned.stderr)
        XCTAssertEqual(Self.paths(learned)[0], scratch.appendingPathComponent("positions-learned.png").path)
        XCTAssertTrue(Self.titleIsDark(try PNGReader.read(scratch.appendingPathComponent("positions-learned.png"))))

        let all = try CLI.run(["positions", "--model", Self.gpt2, "--out", scratch.path])
        XCTAssertEqual(all.exitCode, 0, all.stderr)
        XCTAssertEqual(Self.paths(all)[0], scratch.appendingPathComponent("positions-all.png").path)

        let long = try CLI.run(["positions", "--model", Self.gpt2, "--positions", "129", "--out", scratch.path])
        XCTAssertNotEqual(long.exitCode, 0)
        XCTAssertTrue(
            long.stderr.contains("--positions 129 is out of range: gpt2-bytes-noprefix has a context of 128 positions"),
            long.stderr)

        let llama = try CLI.shared("stories260K/stories260K.bin")
        let none = try CLI.run(["positions", "--model", llama, "--scheme", "learned", "--out", scratch.path])
        XCTAssertNotEqual(none.exitCode, 0)
        XCTAssertTrue(none.stderr.contains("has no learned position table"), none.stderr)
        XCTAssertTrue(none.stderr.contains("uses rotary positions (RoPE)"), none.stderr)
        let rotary = try CLI.run(["positions", "--model", llama, "--scheme", "rotary", "--out", scratch.path])
        XCTAssertEqual(rotary.exitCode, 0, rotary.stderr)
    }

    func testPositionsErrors() throws {
        let cases: [([String], String)] = [
            (["positions", "--positions", "1"], "--positions 1 is out of range: use 2 to 4096"),
            (["positions", "--positions", "5000"], "--positions 5000 is out of range"),
            (["positions", "--scheme", "alibi"], "--scheme alibi is not known: use learned, sinusoidal, rotary or all"),
            (["positions", "--width", "7"], "--width 7 is out of range: use an even number")
        ]
        for (arguments, message) in cases {
            let run = try CLI.run(arguments, in: scratch)
            XCTAssertNotEqual(run.exitCode, 0, arguments.joined(separator: " "))
            XCTAssertTrue(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("output").path), "no picture on error")
    }
}
