import Foundation
import Rendering
import XCTest

/// `lantern attention --heads overview` and `lantern export` end to end on a stories260K trace,
/// and the bench's overview timing.
final class ExportCommandTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-export-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func makeTrace(_ name: String, capture: [String] = []) throws -> URL {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let trace = scratch.appendingPathComponent(name)
        let made = try CLI.run(
            [
                "generate", "Once upon a time", "--model", model, "--greedy", "--max-new-tokens", "3",
                "--trace", trace.path
            ] + capture)
        XCTAssertEqual(made.exitCode, 0, made.stderr)
        return trace
    }

    func testAttentionOverviewFromATraceAndAPrompt() throws {
        let trace = try makeTrace("trace")
        let run = try CLI.run(["attention", "--trace", trace.path, "--heads", "overview"], in: scratch)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let path = run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        XCTAssertTrue(path.hasSuffix("output/attention-overview.png"), path)
        let image = try PNGReader.read(URL(fileURLWithPath: path))
        // stories260K: 5 layers × 8 heads over 8 tokens.
        let layout = try OverviewPicture.layout(layers: 5, heads: 8, tokens: 8)
        XCTAssertEqual(image.height, layout.height)
        XCTAssertGreaterThanOrEqual(image.width, layout.width)

        let model = try CLI.shared("stories260K/stories260K.bin")
        let live = try CLI.run([
            "attention", "Once upon a time", "--model", model, "--heads", "overview",
            "--out", scratch.appendingPathComponent("live.png").path
        ])
        XCTAssertEqual(live.exitCode, 0, live.stderr)
        XCTAssertNoThrow(try PNGReader.read(scratch.appendingPathComponent("live.png")))

        let both = try CLI.run(["attention", "--trace", trace.path, "--heads", "overview", "--layer", "1"])
        XCTAssertNotEqual(both.exitCode, 0)
        XCTAssertTrue(both.stderr.contains("leave out --layer"), both.stderr)
        let noLayer = try CLI.run(["attention", "--trace", trace.path, "--head", "1"])
        XCTAssertNotEqual(noLayer.exitCode, 0)
        XCTAssertTrue(noLayer.stderr.contains("say which layer"), noLayer.stderr)
    }

    func testExportWritesEveryPicture() throws {
        let trace = try makeTrace("story", capture: ["--capture", "+resid_post"])
        let run = try CLI.run(["export", "--trace", trace.path], in: scratch)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let paths = run.stdout.split(separator: "\n").map(String.init)
        let names = Set(paths.map { URL(fileURLWithPath: $0).lastPathComponent })
        var expected: Set<String> = ["attention-overview.png", "lens.png"]
        for layer in 0..<5 { expected.insert("attention-L\(layer)-all.png") }
        for step in 1...3 { expected.formUnion(["probs-step\(step).png", "funnel-step\(step).png"]) }
        expected.insert("generation-steps.png")
        XCTAssertEqual(names, expected)
        for path in paths {
            XCTAssertTrue(path.contains("output/story/"), path)
            XCTAssertGreaterThan(try PNGReader.read(URL(fileURLWithPath: path)).width, 100)
        }
        // Not a terminal: plain progress lines on stderr.
        XCTAssertTrue(run.stderr.contains("exporting 1/\(expected.count)"), run.stderr)

        // Without resid_post the lens is skipped and said so.
        let bare = try makeTrace("bare")
        let out = scratch.appendingPathComponent("bare-out")
        let skipped = try CLI.run(["export", "--trace", bare.path, "--out", out.path])
        XCTAssertEqual(skipped.exitCode, 0, skipped.stderr)
        XCTAssertTrue(skipped.stderr.contains("skipped logit lens"), skipped.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.appendingPathComponent("lens.png").path))
        XCTAssertTrue(FileManager.default.fileExists(atPath: out.appendingPathComponent("attention-overview.png").path))
    }

    func testExportIntoAnUnwritableTargetFailsCleanly() throws {
        let trace = try makeTrace("trace")
        let file = scratch.appendingPathComponent("a-file")
        _ = FileManager.default.createFile(atPath: file.path, contents: Data("x".utf8))
        let run = try CLI.run(["export", "--trace", trace.path, "--out", file.path])
        XCTAssertNotEqual(run.exitCode, 0)
        XCTAssertTrue(run.stderr.contains("cannot export into"), run.stderr)

        let locked = scratch.appendingPathComponent("locked")
        try FileManager.default.createDirectory(at: locked, withIntermediateDirectories: true)
        try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: locked.path)
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: locked.path) }
        if access(locked.path, W_OK) == 0 { return }  // root can write anyway
        let refused = try CLI.run(["export", "--trace", trace.path, "--out", locked.path])
        XCTAssertNotEqual(refused.exitCode, 0)
        XCTAssertTrue(refused.stderr.contains("not writable"), refused.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: locked.path), [])
    }

    /// A trace whose listed pattern file is missing, cut short or of another shape: export names
    /// the file and fails, writing nothing (it used to say "no attention patterns" and exit 0).
    func testExportOfABrokenTraceNamesTheFile() throws {
        let damages: [(String, (URL) throws -> Void, String)] = [
            ("missing", { try FileManager.default.removeItem(at: $0) }, "is missing"),
            ("cut", { url in try Data(contentsOf: url).prefix(100).write(to: url) }, "cut short"),
            (
                "lying",
                { url in
                    var data = try Data(contentsOf: url)
                    let header = String(decoding: data.prefix(128), as: UTF8.self)
                    let range = try XCTUnwrap(header.range(of: "'shape': ("))
                    let offset = header.distance(from: header.startIndex, to: range.upperBound)
                    data[offset] = UInt8(ascii: "9")  // the first extent now disagrees with trace.json
                    try data.write(to: url)
                }, "shape"
            )
        ]
        for (name, damage, message) in damages {
            let trace = try makeTrace("trace-\(name)")
            try damage(trace.appendingPathComponent("blocks.1.attn.pattern.npy"))
            let out = scratch.appendingPathComponent("out-\(name)")
            let run = try CLI.run(["export", "--trace", trace.path, "--out", out.path])
            XCTAssertNotEqual(run.exitCode, 0, name)
            XCTAssertTrue(run.stderr.contains("blocks.1.attn.pattern.npy") && run.stderr.contains(message), "\(name): \(run.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "\(name): nothing written")
        }
    }

    func testBenchReportsTheOverviewRenderTime() throws {
        let run = try CLI.run([
            "bench", "--threads", "1", "--prefill-tokens", "8", "--decode-tokens", "2", "--prompt-tokens", "2",
            "--no-recording", "--json"
        ])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let json = try CLI.json(run.stdout)
        let seconds = try XCTUnwrap(json["overview_render_seconds"] as? Double)
        XCTAssertGreaterThan(seconds, 0)
        let without = try CLI.run([
            "bench", "--threads", "1", "--prefill-tokens", "8", "--decode-tokens", "2", "--prompt-tokens", "2",
            "--no-recording", "--no-pictures", "--json"
        ])
        XCTAssertEqual(without.exitCode, 0, without.stderr)
        XCTAssertNil(try CLI.json(without.stdout)["overview_render_seconds"])
    }
}
