import Foundation
@testable import Rendering
import XCTest

/// Canvases, PNG encoding and decoding, atomic writes, and FreeType text.
final class PNGTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-png-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func testCanvasRoundTripsThroughAPNGFile() throws {
        var canvas = Canvas(width: 37, height: 23, background: RGB(250, 240, 230))
        canvas.fillRect(x: 3, y: 4, width: 10, height: 5, RGB(12, 34, 56))
        canvas.strokeRect(x: 20, y: 2, width: 12, height: 12, RGB(200, 0, 0), thickness: 2)
        canvas.smoothLine(from: (0, 22), to: (36, 0), RGB(0, 128, 0))
        canvas.blend(30, 20, RGB(0, 0, 0), coverage: 128)
        canvas.fillRect(x: -5, y: -5, width: 8, height: 8, RGB(1, 2, 3))  // clipped, not a crash
        XCTAssertEqual(canvas.pixel(4, 5), RGB(12, 34, 56))
        XCTAssertEqual(canvas.pixel(0, 0), RGB(1, 2, 3))
        XCTAssertEqual(canvas.pixel(36, 0), RGB(0, 128, 0))

        let url = scratch.appendingPathComponent("nested/folder/round.png")
        try PNGWriter.write(canvas, to: url)
        let data = try Data(contentsOf: url)
        XCTAssertEqual(Array(data.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG signature")
        let decoded = try PNGReader.read(url)
        XCTAssertEqual(decoded.width, 37)
        XCTAssertEqual(decoded.height, 23)
        XCTAssertEqual(decoded.pixels, canvas.pixels)
        // Only the finished file is left: no temporary beside it.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: url.deletingLastPathComponent().path), ["round.png"])

        // Writing again replaces the file.
        canvas.fill(RGB(9, 9, 9))
        try PNGWriter.write(canvas, to: url)
        XCTAssertEqual(try PNGReader.read(url).pixel(10, 10), RGB(9, 9, 9))
    }

    /// Lines are anti-aliased: full colour on the stroke, partial coverage at its edge, untouched
    /// beyond reach; opacity mixes with what is under it.
    func testSmoothLinesCoverTheirStrokeAndBlendTheirEdges() {
        var canvas = Canvas(width: 40, height: 40, background: RGB(255, 255, 255))
        canvas.smoothLine(from: (5, 10), to: (30, 10), RGB(0, 0, 0), width: 2)
        XCTAssertEqual(canvas.pixel(15, 10), RGB(0, 0, 0))
        XCTAssertEqual(canvas.pixel(15, 13), RGB(255, 255, 255))
        // A 2-pixel stroke centred on row 10 half covers rows 9 and 11 (their centres 1 px away).
        XCTAssertEqual(canvas.pixel(15, 11), RGB(127, 127, 127))
        canvas.smoothLine(from: (5, 30), to: (30, 30), RGB(0, 0, 0), width: 1, opacity: 0.5)
        XCTAssertEqual(canvas.pixel(15, 30), RGB(127, 127, 127))
        // A diagonal has edge pixels between the two colours: anti-aliased, not stair-stepped.
        var diagonal = Canvas(width: 40, height: 40, background: RGB(255, 255, 255))
        diagonal.smoothLine(from: (2, 3), to: (37, 30), RGB(0, 0, 0), width: 1.5)
        let greys = Set((0..<40).flatMap { x in (0..<40).map { diagonal.pixel(x, $0).r } }).filter { $0 > 0 && $0 < 255 }
        XCTAssertGreaterThan(greys.count, 10)
        XCTAssertEqual(diagonal.pixel(37, 3), RGB(255, 255, 255))
    }

    func testWritingWhereAFolderCannotBeMadeFailsCleanly() throws {
        // A regular file stands where the folder should be.
        let blocker = scratch.appendingPathComponent("not-a-folder")
        try Data("x".utf8).write(to: blocker)
        let url = blocker.appendingPathComponent("sub/picture.png")
        XCTAssertThrowsError(try PNGWriter.write(Canvas(width: 2, height: 2), to: url)) { error in
            guard case PNGError.unwritable(let folder, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(folder, url.deletingLastPathComponent().path)
            XCTAssertTrue("\(error)".contains("cannot write \(folder): \(blocker.path) is a file, not a folder"), "\(error)")
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: scratch.path), ["not-a-folder"])
    }

    func testWritingIntoAnUnwritableFolderFailsWithNothingLeft() throws {
        // A folder without write permission (root ignores permissions, so it gets /proc instead,
        // which nobody can create files in).
        let folder: URL
        if getuid() == 0 {
            folder = URL(fileURLWithPath: "/proc")
        } else {
            folder = scratch.appendingPathComponent("locked")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o555], ofItemAtPath: folder.path)
        }
        defer { try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.path) }
        let before = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains("lantern-test") }
        XCTAssertThrowsError(try PNGWriter.write(Canvas(width: 2, height: 2), to: folder.appendingPathComponent("lantern-test.png"))) {
            error in
            guard case PNGError.unwritable(let path, _) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(path, folder.path)
        }
        let after = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains("lantern-test") }
        XCTAssertEqual(after, before, "nothing half-written is left")
    }

    /// Encoding writes into one buffer sized for the worst case; noise, which does not compress,
    /// must still fit, and a buffer too small is retried at the size libpng asks for.
    func testIncompressibleAndTooSmallBuffersStillEncode() throws {
        var canvas = Canvas(width: 300, height: 200)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for y in 0..<200 {
            for x in 0..<300 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                canvas.fillRect(
                    x: x, y: y, width: 1, height: 1,
                    RGB(
                        UInt8(truncatingIfNeeded: state >> 40), UInt8(truncatingIfNeeded: state >> 48),
                        UInt8(truncatingIfNeeded: state >> 56)))
            }
        }
        let url = scratch.appendingPathComponent("noise.png")
        let data = try PNGWriter.encode(canvas)
        try data.write(to: url)
        XCTAssertEqual(try PNGReader.read(url).pixels, canvas.pixels)
        XCTAssertGreaterThan(data.count, 300 * 200 * 3, "noise does not compress")
        XCTAssertEqual(try PNGWriter.encode(canvas, bufferBytes: 100), data)
    }

    func testReadingSomethingThatIsNotAPNGIsAnError() throws {
        let url = scratch.appendingPathComponent("fake.png")
        try Data("not a png".utf8).write(to: url)
        XCTAssertThrowsError(try PNGReader.read(url)) { error in
            guard case PNGError.decoding = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try PNGReader.read(scratch.appendingPathComponent("absent.png")))
    }

    func testTextIsDrawnAntiAliasedAndMeasured() throws {
        let font = try Font.shared()
        let width = font.width("Attention", size: 14)
        XCTAssertTrue((50...110).contains(width), "width \(width)")
        XCTAssertGreaterThan(font.width("WWWW", size: 14), font.width("iiii", size: 14))
        // Glyphs are kept per size: twice the size is about twice as wide, and asking again gives the same.
        XCTAssertEqual(Double(font.width("Attention", size: 28)) / Double(width), 2, accuracy: 0.15)
        XCTAssertEqual(font.width("Attention", size: 14), width)
        XCTAssertEqual(font.mask("Mia", size: 20).coverage, font.mask("Mia", size: 20).coverage)
        var canvas = Canvas(width: 120, height: 40)
        canvas.text("Attention", x: 5, y: 25, size: 14, font: font)
        let dark = (0..<40).flatMap { y in (0..<120).map { canvas.pixel($0, y) } }
        XCTAssertGreaterThan(dark.filter { $0.r < 60 }.count, 40, "solid glyph pixels")
        XCTAssertGreaterThan(dark.filter { $0.r > 60 && $0.r < 200 }.count, 10, "anti-aliased edges")
        // Nothing is drawn outside the text's box.
        XCTAssertTrue((0..<40).allSatisfy { canvas.pixel(115, $0) == RGB(255, 255, 255) })

        // Vertical text occupies a tall, narrow box.
        var vertical = Canvas(width: 40, height: 120)
        vertical.verticalText("Attention", x: 20, y: 110, size: 14, font: font)
        let rows = (0..<120).filter { y in (0..<40).contains { vertical.pixel($0, y).r < 128 } }
        let columns = (0..<40).filter { x in (0..<120).contains { vertical.pixel(x, $0).r < 128 } }
        XCTAssertGreaterThan(rows.count, 50)
        XCTAssertLessThan(columns.count, 20)

        XCTAssertEqual(shortened("a long token piece", maxWidth: 40, size: 12, font: font).last, "…")
        XCTAssertEqual(shortened("ok", maxWidth: 40, size: 12, font: font), "ok")
    }

    /// A tab is drawn as ⇥, a character no font has as �, an emoji from the fallback font:
    /// never FreeType's empty box.
    func testTabsEmojiAndUnknownCharactersAreVisible() throws {
        let font = try Font.shared()
        XCTAssertEqual(font.width("\t", size: 12), font.width("⇥", size: 12))
        XCTAssertEqual(font.mask("a\tb", size: 12).coverage, font.mask("a⇥b", size: 12).coverage)
        // U+0378 is unassigned: no font draws it, so it is the replacement character.
        XCTAssertEqual(font.mask("\u{0378}", size: 12).coverage, font.mask("\u{FFFD}", size: 12).coverage)
        guard FileManager.default.fileExists(atPath: Font.fallbackPath) else {
            throw XCTSkip("the fallback font \(Font.fallbackPath) is not installed (apt-get install fonts-symbola)")
        }
        let party = font.mask("🎉", size: 16)
        XCTAssertNotEqual(party.coverage, font.mask("\u{FFFD}", size: 16).coverage)
        XCTAssertGreaterThan(
            party.coverage.filter { $0 > 0 }.count, 20, "the emoji has ink: \(party.coverage.filter { $0 > 0 }.count) pixels")
    }

    func testAMissingFontSaysWhatToInstall() {
        XCTAssertThrowsError(try Font(path: "/nonexistent/DejaVuSans.ttf")) { error in
            XCTAssertTrue("\(error)".contains("fonts-dejavu-core"), "\(error)")
            XCTAssertTrue("\(error)".contains("/nonexistent/DejaVuSans.ttf"), "\(error)")
        }
    }
}
