import Foundation
import Rendering
import Tensors
import XCTest

/// Attention heatmaps checked by decoding the PNG they write: size, text where labels go,
/// exact colours of known cells, masked cells, the sink note, and golden images.
final class HeatmapTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-heatmap-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    /// A hand-made causal pattern of 4 tokens: row i spreads over keys 0…i and sums to 1.
    static let lowerTriangular: [Float] = [
        1.0, 0, 0, 0,
        0.5, 0.5, 0, 0,
        0.2, 0.3, 0.5, 0,
        0.1, 0.2, 0.3, 0.4
    ]
    static let pieces = ["<s>", "␣The", "␣cat", "␣sat"]

    static func source(_ weights: [Float] = lowerTriangular, heads: Int = 1) -> AttentionSource {
        var scalars: [Float] = []
        for _ in 0..<heads { scalars += weights }
        return AttentionSource(
            pattern: Tensor(shape: [heads, 4, 4], scalars: scalars), pieces: pieces, layer: 3,
            model: "/models/tiny.bin", prompt: "The cat sat")
    }

    /// Writes and decodes `canvas`, so every check looks at what a user gets.
    func roundTrip(_ canvas: Canvas, name: String) throws -> Canvas {
        let url = scratch.appendingPathComponent(name)
        try PNGWriter.write(canvas, to: url)
        return try PNGReader.read(url)
    }

    static func isDark(_ c: RGB) -> Bool { Int(c.r) + Int(c.g) + Int(c.b) < 3 * 90 }

    static func darkPixels(_ image: Canvas, x: Range<Int>, y: Range<Int>) -> Int {
        var count = 0
        for py in y.clamped(to: 0..<image.height) {
            for px in x.clamped(to: 0..<image.width) where isDark(image.pixel(px, py)) { count += 1 }
        }
        return count
    }

    func testOneHeadShowsKnownValuesInViridisAndMasksTheFuture() throws {
        let map = try AttentionPicture.heatmap(Self.source(), head: 0)
        let layout = try map.layout()
        let image = try roundTrip(map.render(), name: "head.png")
        XCTAssertEqual(image.width, layout.width)
        XCTAssertEqual(image.height, layout.height)
        XCTAssertGreaterThanOrEqual(layout.labelSize, 11, "labels are readable")
        XCTAssertEqual(map.scale, .attention(.linear), "attention is drawn on its fixed 0…1 scale")
        XCTAssertEqual(map.title, "Attention · layer 3, head 0 · tiny.bin")

        for q in 0..<4 {
            for k in 0..<4 {
                let r = layout.cellRect(row: q, col: k)
                if k > q {
                    // Every pixel of a masked cell is the mask's fill or its hatch, mostly fill.
                    var fill = 0
                    for y in r.y..<(r.y + r.height) {
                        for x in r.x..<(r.x + r.width) {
                            let c = image.pixel(x, y)
                            XCTAssertTrue(c == Palette.maskFill || c == Palette.maskHatch, "masked cell (\(q), \(k)) has \(c)")
                            if c == Palette.maskFill { fill += 1 }
                        }
                    }
                    XCTAssertGreaterThan(fill, r.width * r.height / 2)
                } else {
                    // The cell's corner (away from the printed value) is the value's viridis colour.
                    let expected = Colormap.viridis.color(Self.lowerTriangular[q * 4 + k], low: 0, high: 1)
                    XCTAssertEqual(image.pixel(r.x + 2, r.y + 2), expected, "cell (\(q), \(k))")
                    XCTAssertEqual(image.pixel(r.x + r.width - 3, r.y + r.height - 3), expected, "cell (\(q), \(k))")
                }
            }
        }
        // Zero attention (dark purple) never looks like a masked cell.
        XCTAssertNotEqual(Colormap.viridis.color(0), Palette.maskFill)

        // Text: the title, the query labels left of the grid, the key labels above it, the axis names.
        XCTAssertGreaterThan(Self.darkPixels(image, x: 0..<image.width, y: 0..<(layout.titleBaseline + 4)), 100, "title")
        XCTAssertGreaterThan(
            Self.darkPixels(image, x: 0..<(layout.gridX - 2), y: layout.gridY..<(layout.gridY + 4 * layout.cell)), 60, "query labels")
        XCTAssertGreaterThan(
            Self.darkPixels(
                image, x: layout.gridX..<(layout.gridX + 4 * layout.cell),
                y: (layout.gridY - layout.labelWidth - 8)..<(layout.gridY - 2)), 60, "key labels")
        // The colour bar runs from viridis' last colour at the top to its first at the bottom.
        XCTAssertEqual(image.pixel(layout.barX + 8, layout.gridY), Colormap.viridis.color(1))
        XCTAssertEqual(image.pixel(layout.barX + 8, layout.gridY + layout.barHeight - 1), Colormap.viridis.color(0))
        XCTAssertTrue(map.notes.isEmpty, "first-token share is 0.27 here: no sink note")
    }

    func testAnAttentionSinkIsNamedOnTheImage() throws {
        let sink: [Float] = [1, 0, 0, 0, 0.9, 0.1, 0, 0, 0.8, 0.1, 0.1, 0, 0.85, 0.05, 0.05, 0.05]
        let map = try AttentionPicture.heatmap(Self.source(sink), head: 0)
        XCTAssertEqual(map.notes.count, 1)
        XCTAssertTrue(map.notes[0].hasPrefix(AttentionPicture.sinkNote), map.notes[0])
        let layout = try map.layout()
        let image = try roundTrip(map.render(), name: "sink.png")
        // The note is drawn in its own colour below the legend.
        var noteColoured = 0
        for y in (layout.legendY + 4)..<image.height {
            for x in 0..<image.width {
                let c = image.pixel(x, y)
                if Int(c.r) > Int(c.g) + 60 && Int(c.r) > Int(c.b) + 60 { noteColoured += 1 }
            }
        }
        XCTAssertGreaterThan(noteColoured, 50)
        try assertMatchesGolden(map.render(), name: "attention-head-sink")
    }

    func testSignedValuesUseTheDivergingMap() throws {
        let values: [Float] = [-2, 0, 1, 2]
        let map = Heatmap(values: values, rows: 2, cols: 2, rowLabels: ["a", "b"], columnLabels: ["c", "d"], title: "signed")
        XCTAssertEqual(map.scale, .diverging(limit: 2))
        let layout = try map.layout()
        let image = try roundTrip(map.render(), name: "signed.png")
        let zero = layout.cellRect(row: 0, col: 1)
        XCTAssertEqual(image.pixel(zero.x + 2, zero.y + 2), Colormap.diverging.color(0, low: -2, high: 2))
        let low = layout.cellRect(row: 0, col: 0)
        XCTAssertEqual(image.pixel(low.x + 2, low.y + 2), Colormap.diverging.color(-2, low: -2, high: 2))
    }

    func testManyTokensGetSmallerCellsAndThinnedLabels() throws {
        let N = 120
        let map = Heatmap(
            values: [Float](repeating: 0.5, count: N * N), rows: N, cols: N,
            rowLabels: (0..<N).map { "t\($0)" }, columnLabels: (0..<N).map { "t\($0)" }, title: "big")
        let layout = try map.layout()
        XCTAssertLessThan(layout.cell, 13)
        XCTAssertGreaterThan(layout.labelStep, 1)
        XCTAssertGreaterThanOrEqual(layout.cell * layout.labelStep, 12, "labelled rows are at least a text line apart")
        XCTAssertGreaterThanOrEqual(layout.labelSize, 11)
        let image = try map.render()
        XCTAssertEqual(image.width, layout.width)

        // Up to 64 tokens every token keeps its own label.
        let n = 60
        let medium = Heatmap(
            values: [Float](repeating: 0.5, count: n * n), rows: n, cols: n,
            rowLabels: (0..<n).map { "t\($0)" }, columnLabels: (0..<n).map { "t\($0)" }, title: "medium")
        XCTAssertEqual(try medium.layout().labelStep, 1)
        XCTAssertGreaterThanOrEqual(try medium.layout().cell, 12)
    }

    // MARK: - Golden images

    func testHeadPictureMatchesItsGolden() throws {
        try assertMatchesGolden(AttentionPicture.head(Self.source(), head: 0), name: "attention-head-4x4")
    }

    func testLayerPictureMatchesItsGolden() throws {
        let second: [Float] = [1, 0, 0, 0, 0.9, 0.1, 0, 0, 0.8, 0.1, 0.1, 0, 0.85, 0.05, 0.05, 0.05]
        let pattern = Tensor(shape: [2, 4, 4], scalars: Self.lowerTriangular + second)
        let source = AttentionSource(pattern: pattern, pieces: Self.pieces, layer: 1, model: "tiny.bin", prompt: "The cat sat")
        try assertMatchesGolden(AttentionPicture.layer(source), name: "attention-layer-4x4")
    }

    func assertMatchesGolden(_ canvas: Canvas, name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try assertMatchesGoldenImage(canvas, name: name, file: file, line: line)
    }

    /// Attention's colours sit on a fixed 0…1 scale; an emphasis stretches the low end and the
    /// colour bar names it: √ (0.25 shows at the bar's middle), log (each power of ten a third),
    /// row (each row divided by its largest weight).
    func testAttentionEmphasisStretchesTheLowEndAndSaysSo() throws {
        XCTAssertEqual(ColorScale.attention(.linear).fraction(0.25), 0.25)
        XCTAssertEqual(ColorScale.attention(.power).fraction(0.25), 0.5)
        XCTAssertEqual(ColorScale.attention(.log).fraction(0.01), 1.0 / 3, accuracy: 1e-6)
        XCTAssertEqual(ColorScale.attention(.log).fraction(0), 0, "below 0.001 is the bottom")
        XCTAssertEqual(ColorScale.attention(.log).ticks, [0.001, 0.01, 0.1, 1])
        XCTAssertEqual(ColorScale.attention(.log).color(0.1), Colormap.viridis.color(2.0 / 3))
        XCTAssertEqual(AttentionEmphasis.row.prepared([0.1, 0.4, 0.5, 0.0, 0.2, 0.8], rowLength: 3), [0.2, 0.8, 1.0, 0.0, 0.25, 1.0])
        XCTAssertEqual(AttentionEmphasis.linear.prepared([0.1, 0.4], rowLength: 2), [0.1, 0.4])

        var source = Self.source()
        source.emphasis = .power
        let map = try AttentionPicture.heatmap(source, head: 0)
        XCTAssertEqual(map.scale, .attention(.power))
        XCTAssertEqual(map.colorBarTitle, "attention (√ scale)")
        // A weight of 0.25 takes the colour linear gives 0.5.
        let image = try roundTrip(map.render(), name: "power.png")
        let layout = try map.layout()
        for q in 0..<4 {
            for k in 0...q {
                let cell = layout.cellRect(row: q, col: k)
                let weight = Self.lowerTriangular[q * 4 + k]
                XCTAssertEqual(image.pixel(cell.x + 1, cell.y + 1), Colormap.viridis.color(weight.squareRoot()), "(\(q), \(k))")
            }
        }
    }

    /// Up to 100 tokens every row and column is labelled (the grid grows to 1,200 px); beyond,
    /// labels thin out and a complete numbered key under the map lists every token. 500 tokens
    /// stay under 1,500 px wide.
    func testLongMapsLabelEveryTokenOrKeyThemAll() throws {
        func map(_ n: Int) -> Heatmap {
            var weights = [Float](repeating: 0, count: n * n)
            for q in 0..<n { for k in 0...q { weights[q * n + k] = 1 / Float(q + 1) } }
            let pieces = (0..<n).map { "t\($0)" }
            var map = Heatmap(
                values: weights, rows: n, cols: n, rowLabels: pieces, columnLabels: pieces, title: "long", scale: .attention(.linear))
            map.causalMask = true
            return map
        }
        let ninety = try map(90).layout()
        XCTAssertEqual(ninety.labelStep, 1)
        XCTAssertTrue(ninety.keyLines.isEmpty)
        let long = map(500)
        let layout = try long.layout()
        XCTAssertGreaterThan(layout.labelStep, 1)
        XCTAssertLessThan(layout.width, 1500)
        let key = layout.keyLines.joined(separator: " ")
        for index in [0, 1, 250, 499] { XCTAssertTrue(key.contains(" \(index) t\(index)"), "token \(index) missing from the key") }
        let image = try roundTrip(long.render(), name: "long.png")
        XCTAssertEqual(image.height, layout.height)
        XCTAssertLessThan(layout.keyY + (layout.keyLines.count - 1) * 16, layout.height)
    }
}
