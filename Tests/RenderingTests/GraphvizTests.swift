import Foundation
import Rendering
import Transformer
import XCTest

/// Rendering DOT through libgvc, and writing the result atomically.
final class GraphvizTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-graphviz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func testPNGHasSignatureAndPlausibleSize() throws {
        let png = try Graphviz.render(ArchitectureGraph.architecture(.gpt2()), as: .png)
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "not a PNG")
        // The first chunk is IHDR: length (4 bytes), "IHDR", then width and height, big-endian.
        XCTAssertEqual(String(decoding: png[12..<16], as: UTF8.self), "IHDR")
        let width = png[16..<20].reduce(0) { $0 << 8 | Int($1) }, height = png[20..<24].reduce(0) { $0 << 8 | Int($1) }
        // One block expanded and stacked top to bottom: a tall picture, wide enough for its labels.
        XCTAssertTrue((500...3000).contains(width), "width \(width)")
        XCTAssertTrue((1500...6000).contains(height), "height \(height)")
        XCTAssertGreaterThan(height, width)
        XCTAssertGreaterThan(png.count, 20_000)
    }

    func testSVGContainsTheNodeLabels() throws {
        let svg = String(decoding: try Graphviz.render(ArchitectureGraph.architecture(.gpt2()), as: .svg), as: UTF8.self)
        XCTAssertTrue(svg.contains("<svg"))
        for label in [
            "token embedding", "learned position embedding", "Q projection", "softmax over keys",
            "× 12 layers", "[12 heads, T, T]", "next&#45;token probabilities", "38.6M params"
        ] {
            XCTAssertTrue(
                svg.contains(label) || svg.contains(label.replacingOccurrences(of: "&#45;", with: "-")),
                "missing «\(label)» in the SVG")
        }
    }

    func testVariationsAndLoopRender() throws {
        for dot in [ArchitectureGraph.variations(highlighting: .gpt2), ArchitectureGraph.generationLoop()] {
            let png = try Graphviz.render(dot, as: .png)
            XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        }
    }

    func testWritesAtomicallyAndLeavesNoTemporaryFile() throws {
        let url = folder.appendingPathComponent("loop.svg")
        try Graphviz.write(ArchitectureGraph.generationLoop(), as: .svg, to: url)
        try Graphviz.write(ArchitectureGraph.generationLoop(), as: .svg, to: url)  // replacing works too
        XCTAssertTrue(try String(contentsOf: url, encoding: .utf8).contains("sample one token"))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["loop.svg"])
        try Graphviz.write("digraph { a -> b }", as: .dot, to: folder.appendingPathComponent("g.dot"))
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("g.dot"), encoding: .utf8), "digraph { a -> b }")
    }

    func testUnwritableFolderNamesTheFolderAndLeavesNoFile() throws {
        // A folder path that runs through a regular file cannot be written, even by root.
        let blocker = folder.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: blocker)
        let url = blocker.appendingPathComponent("graph.png")
        XCTAssertThrowsError(try Graphviz.write(ArchitectureGraph.generationLoop(), as: .png, to: url)) { error in
            guard case GraphvizError.unwritableFolder(let path, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(path, blocker.path)
            XCTAssertTrue(error.localizedDescription.contains(blocker.path), error.localizedDescription)
        }
        let missing = folder.appendingPathComponent("no-such-folder/graph.svg")
        XCTAssertThrowsError(try Graphviz.write(ArchitectureGraph.generationLoop(), as: .svg, to: missing)) { error in
            XCTAssertTrue(error.localizedDescription.contains("no-such-folder"), error.localizedDescription)
            XCTAssertTrue(error.localizedDescription.contains("does not exist"), error.localizedDescription)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["not-a-folder"])
    }

    func testBadDOTSaysWhatFailed() {
        XCTAssertThrowsError(try Graphviz.render("digraph { a -> ", as: .png)) { error in
            guard case GraphvizError.parseFailed = error else { return XCTFail("unexpected error \(error)") }
            XCTAssertTrue(error.localizedDescription.contains("could not read the DOT text"), error.localizedDescription)
        }
        // The library is usable again after a failure.
        XCTAssertNoThrow(try Graphviz.render("digraph { a -> b }", as: .svg))
    }

    func testCallsFromSeveralThreadsAreSerialised() {
        let results = ResultBox()
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let ok = (try? Graphviz.render(ArchitectureGraph.generationLoop(), as: .svg))?.isEmpty == false
            results.append(ok)
        }
        XCTAssertEqual(results.values, [true, true, true, true])
    }
}

private final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [Bool] = []
    func append(_ value: Bool) { lock.withLock { stored.append(value) } }
    var values: [Bool] { lock.withLock { stored } }
}
