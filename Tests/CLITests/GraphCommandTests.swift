import Foundation
import XCTest

/// End-to-end runs of `lantern graph`.
final class GraphCommandTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-graph-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

    func testDefaultIsAPNGInOutputNamedAfterTheFamily() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let run = try CLI.run(["graph", "--model", model], in: folder)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertEqual(run.stdout, "output/architecture-llama.png\n")
        let png = try Data(contentsOf: folder.appendingPathComponent("output/architecture-llama.png"))
        XCTAssertEqual(Array(png.prefix(8)), Self.pngSignature)
        XCTAssertEqual(
            try FileManager.default.contentsOfDirectory(atPath: folder.appendingPathComponent("output").path),
            ["architecture-llama.png"])
    }

    /// The extension of --out chooses the format (x.svg used to get PNG bytes); a --format that
    /// disagrees, or an extension graph cannot write, is an error that writes nothing.
    func testTheOutExtensionChoosesTheFormat() throws {
        let svg = try CLI.run(["graph", "--kind", "loop", "--out", "loop.svg"], in: folder)
        XCTAssertEqual(svg.exitCode, 0, svg.stderr)
        XCTAssertTrue(try String(contentsOf: folder.appendingPathComponent("loop.svg"), encoding: .utf8).contains("<svg"))
        let dot = try CLI.run(["graph", "--kind", "loop", "--out", "loop.DOT"], in: folder)
        XCTAssertEqual(dot.exitCode, 0, dot.stderr)
        XCTAssertTrue(try String(contentsOf: folder.appendingPathComponent("loop.DOT"), encoding: .utf8).hasPrefix("digraph"))
        let clash = try CLI.run(["graph", "--kind", "loop", "--format", "png", "--out", "clash.svg"], in: folder)
        XCTAssertNotEqual(clash.exitCode, 0)
        XCTAssertTrue(clash.stderr.contains("ends in .svg but --format is png"), clash.stderr)
        let unknown = try CLI.run(["graph", "--kind", "loop", "--out", "loop.jpg"], in: folder)
        XCTAssertNotEqual(unknown.exitCode, 0)
        XCTAssertTrue(unknown.stderr.contains(".jpg is not a format graph writes"), unknown.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["loop.DOT", "loop.svg"])
    }

    /// `--out -` is standard output for the text formats (it used to write a file named "-"); a
    /// picture command given `-` refuses, writing nothing.
    func testOutDashIsStandardOutputForText() throws {
        let dot = try CLI.run(["graph", "--kind", "loop", "--out", "-"], in: folder)
        XCTAssertEqual(dot.exitCode, 0, dot.stderr)
        XCTAssertTrue(dot.stdout.hasPrefix("digraph"), dot.stdout)
        let svg = try CLI.run(["graph", "--kind", "loop", "--format", "svg", "--out", "-"], in: folder)
        XCTAssertEqual(svg.exitCode, 0, svg.stderr)
        XCTAssertTrue(svg.stdout.contains("<svg"), String(svg.stdout.prefix(200)))
        let png = try CLI.run(["graph", "--kind", "loop", "--format", "png", "--out", "-"], in: folder)
        XCTAssertEqual(png.exitCode, 64, png.stderr)
        XCTAssertTrue(png.stderr.contains("use --format dot or svg"), png.stderr)
        let picture = try CLI.run(["attention", "Mia saw a ball", "--layer", "0", "--head", "0", "--out", "-"], in: folder)
        XCTAssertEqual(picture.exitCode, 64, picture.stderr)
        XCTAssertTrue(picture.stderr.contains("standard output takes text"), picture.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), [])
    }

    func testStoriesDOTShowsGroupedQueryAttention() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let run = try CLI.run(["graph", "--model", model, "--format", "dot"], in: folder)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        for fragment in [
            "digraph architecture", "8 query heads, 4 key/value heads", "× 5 layers", "RMSNorm",
            "[8 heads, T, 8]", "[4 heads, T, 8]", "rotary positions (RoPE)", "SiLU(gate) × up"
        ] {
            XCTAssertTrue(run.stdout.contains(fragment), "missing «\(fragment)»")
        }
    }

    func testGPT2FixtureAsDOTAndSVG() throws {
        let model = CLI.fixtures.appendingPathComponent("gpt2-bytes-noprefix").path
        let dot = try CLI.run(["graph", "--model", model, "--format", "dot"], in: folder)
        XCTAssertEqual(dot.exitCode, 0, dot.stderr)
        for fragment in [
            "LayerNorm", "learned position embedding", "[T, 48]", "[4 heads, T, T]", "[T, 192]",
            "its own matrix", "× 3 layers", "GELU"
        ] {
            XCTAssertTrue(dot.stdout.contains(fragment), "missing «\(fragment)»")
        }
        let svg = try CLI.run(["graph", "--model", model, "--format", "svg", "--out", "gpt2.svg"], in: folder)
        XCTAssertEqual(svg.exitCode, 0, svg.stderr)
        XCTAssertEqual(svg.stdout, "gpt2.svg\n")
        let text = try String(contentsOf: folder.appendingPathComponent("gpt2.svg"), encoding: .utf8)
        XCTAssertTrue(text.contains("<svg") && text.contains("token embedding"))
    }

    func testVariationsAndLoopNeedNoModel() throws {
        let variations = try CLI.run(["graph", "--kind", "variations"], in: folder)
        XCTAssertEqual(variations.exitCode, 0, variations.stderr)
        XCTAssertEqual(variations.stdout, "output/variations.png\n")
        let png = try Data(contentsOf: folder.appendingPathComponent("output/variations.png"))
        XCTAssertEqual(Array(png.prefix(8)), Self.pngSignature)

        let loop = try CLI.run(["graph", "--kind", "loop", "--format", "dot"], in: folder)
        XCTAssertEqual(loop.exitCode, 0, loop.stderr)
        XCTAssertTrue(loop.stdout.contains("append -> model"), loop.stdout)

        let written = try CLI.run(["graph", "--kind", "loop", "--format", "dot", "--out", "loop.dot"], in: folder)
        XCTAssertEqual(written.exitCode, 0, written.stderr)
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("loop.dot"), encoding: .utf8), loop.stdout)
    }

    func testArchitectureWithoutAModelDrawsTheBuiltInModel() throws {
        let run = try CLI.run(["graph", "--format", "dot"], in: folder)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(
            run.stdout.contains("GPT-2: 6 layers, width 192, 6 heads, 3.1M params"), "the built-in model:\n\(run.stdout.prefix(800))")
    }

    func testUnwritableOutputNamesTheFolder() throws {
        try Data("x".utf8).write(to: folder.appendingPathComponent("blocker"))
        let run = try CLI.run(["graph", "--kind", "loop", "--out", "blocker/loop.png"], in: folder)
        XCTAssertNotEqual(run.exitCode, 0)
        XCTAssertTrue(run.stderr.contains("blocker"), run.stderr)
        XCTAssertTrue(run.stderr.contains("is a file, not a folder"), run.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["blocker"])
    }

    func testHelpHasExamples() throws {
        let run = try CLI.run(["graph", "--help"], in: folder)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        for fragment in ["Examples:", "lantern graph --kind variations", "--format", "--out"] {
            XCTAssertTrue(run.stdout.contains(fragment), "missing «\(fragment)» in\n\(run.stdout)")
        }
    }
}
