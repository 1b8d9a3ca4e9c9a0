import Foundation
import Rendering
import XCTest

/// `lantern embeddings` and `lantern lens --png` end to end: the files they write, decoded, and their errors.
final class EmbeddingsCommandTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-embeddings-cli-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    static func titleIsDark(_ image: Canvas) -> Bool {
        var dark = 0
        for y in 0..<min(36, image.height) {
            for x in 0..<image.width where Int(image.pixel(x, y).r) < 90 { dark += 1 }
        }
        return dark > 100
    }

    func testEmbeddingsWritesBothPictures() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let run = try CLI.run(["embeddings", "Once upon a time there was a cat", "--model", model], in: scratch)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let paths = run.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(paths.count, 2, run.stdout)
        XCTAssertTrue(paths[0].hasSuffix("output/embeddings-similarity.png"), paths[0])
        XCTAssertTrue(paths[1].hasSuffix("output/embeddings-pca.png"), paths[1])
        let similarity = try PNGReader.read(URL(fileURLWithPath: paths[0]))
        let pca = try PNGReader.read(URL(fileURLWithPath: paths[1]))
        XCTAssertGreaterThan(similarity.width, 300)
        XCTAssertGreaterThan(pca.width, 600)
        XCTAssertTrue(Self.titleIsDark(similarity))
        XCTAssertTrue(Self.titleIsDark(pca))
        // The diagonal (a token with itself) is +1: the picture contains that colour.
        let plusOne = Colormap.diverging.color(1, low: -1, high: 1)
        var found = 0
        for y in 0..<similarity.height { for x in 0..<similarity.width where similarity.pixel(x, y) == plusOne { found += 1 } }
        XCTAssertGreaterThan(found, 100)
    }

    func testEmbeddingsWithChosenTokensIntoAFolder() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let run = try CLI.run(
            [
                "embeddings", "the cat", "--model", model, "--tokens", "cat,dog,red,blue,happy,sad",
                "--out", "pics"
            ], in: scratch)
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let paths = run.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(paths.count, 2, run.stdout)
        XCTAssertTrue(paths[1].hasSuffix("pics/embeddings-pca.png"), paths[1])
        XCTAssertNoThrow(try PNGReader.read(URL(fileURLWithPath: paths[1])))
    }

    func testEmbeddingsErrorsSayWhatToDo() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let one = try CLI.run(["embeddings", "cat", "--model", model, "--tokens", "cat"], in: scratch)
        XCTAssertNotEqual(one.exitCode, 0)
        XCTAssertTrue(one.stderr.contains("at least two words"), one.stderr)
        let file = try CLI.run(["embeddings", "cat", "--model", model, "--out", "x.png"], in: scratch)
        XCTAssertNotEqual(file.exitCode, 0)
        XCTAssertTrue(file.stderr.contains("--out names a folder"), file.stderr)
    }

    func testLensPNGKeepsTheTextAndWritesAPicture() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let plain = try CLI.run(["lens", "Once upon a time", "--model", model], in: scratch)
        XCTAssertEqual(plain.exitCode, 0, plain.stderr)
        let drawn = try CLI.run(["lens", "Once upon a time", "--model", model, "--png"], in: scratch)
        XCTAssertEqual(drawn.exitCode, 0, drawn.stderr)
        // The text grid is unchanged; the picture's path is one extra last line.
        XCTAssertTrue(drawn.stdout.hasPrefix(plain.stdout), drawn.stdout)
        let last = drawn.stdout.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(last.hasSuffix("output/lens.png"), last)
        let image = try PNGReader.read(URL(fileURLWithPath: last))
        XCTAssertTrue(Self.titleIsDark(image))
        // stories260K has 5 layers: embed + 5 rows of 30 px, 5 tokens (<s> Once upon a time) of 78 px.
        XCTAssertGreaterThan(image.width, 5 * LensPicture.cellWidth)
        XCTAssertGreaterThan(image.height, 6 * LensPicture.cellHeight)

        let named = try CLI.run(["lens", "Once upon a time", "--model", model, "--out", "pics/l.png", "--json"], in: scratch)
        XCTAssertEqual(named.exitCode, 0, named.stderr)
        XCTAssertNoThrow(try JSONSerialization.jsonObject(with: Data(named.stdout.utf8)))
        XCTAssertTrue(named.stderr.contains("pics/l.png"), named.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: scratch.appendingPathComponent("pics/l.png").path))
    }
}
