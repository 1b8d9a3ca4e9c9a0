import Foundation
import Rendering
import Tensors
import XCTest

/// The whole-model attention overview, checked by decoding the PNG it encodes.
final class OverviewPictureTests: XCTestCase {
    /// `layers` layers of `heads` heads over `tokens` tokens; query q of every head attends
    /// uniformly to keys 0…q, except layer 1 head 2 row 3, which puts 0.7 on key 1.
    func sources(layers: Int, heads: Int, tokens N: Int) -> [AttentionSource] {
        (0..<layers).map { layer in
            var weights = [Float](repeating: 0, count: heads * N * N)
            for h in 0..<heads {
                for q in 0..<N {
                    for k in 0...q { weights[(h * N + q) * N + k] = 1 / Float(q + 1) }
                }
            }
            if layer == 1 && heads > 2 && N > 3 {
                let base = (2 * N + 3) * N
                for k in 0...3 { weights[base + k] = 0.1 }
                weights[base + 1] = 0.7
            }
            return AttentionSource(
                pattern: Tensor(shape: [heads, N, N], scalars: weights), pieces: (0..<N).map { "t\($0)" },
                layer: layer, model: "/models/tiny", prompt: "Once upon a time")
        }
    }

    func decoded(_ canvas: Canvas) throws -> Canvas {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-overview-\(UUID()).png")
        defer { try? FileManager.default.removeItem(at: url) }
        try PNGWriter.encode(canvas).write(to: url)
        return try PNGReader.read(url)
    }

    func testSizeGrowsWithLayersAndHeads() throws {
        let small = try decoded(OverviewPicture.render(sources(layers: 2, heads: 2, tokens: 8)))
        let moreLayers = try decoded(OverviewPicture.render(sources(layers: 6, heads: 2, tokens: 8)))
        let moreHeads = try decoded(OverviewPicture.render(sources(layers: 2, heads: 12, tokens: 8)))
        XCTAssertGreaterThan(moreLayers.height, small.height)
        XCTAssertGreaterThan(moreHeads.width, small.width)
        let layout = try OverviewPicture.layout(layers: 6, heads: 2, tokens: 8)
        let layoutSmall = try OverviewPicture.layout(layers: 2, heads: 2, tokens: 8)
        XCTAssertEqual(layout.height - layoutSmall.height, 4 * layout.pitchY)
    }

    func testKnownCellsAreViridisAndMaskedCellsAreGrey() throws {
        let N = 8
        let image = try decoded(OverviewPicture.render(sources(layers: 3, heads: 4, tokens: N)))
        let layout = try OverviewPicture.layout(layers: 3, heads: 4, tokens: N, titleWidth: 0)
        XCTAssertGreaterThanOrEqual(layout.cell, 2)
        // The scale runs 0…1 (the largest weight: query 0 on key 0).
        let hot = layout.cellRect(row: 1, head: 2, query: 3, key: 1)
        XCTAssertEqual(image.pixel(hot.x + hot.width / 2, hot.y + hot.height / 2), Colormap.viridis.color(0.7, low: 0, high: 1))
        let cold = layout.cellRect(row: 1, head: 2, query: 3, key: 2)
        XCTAssertEqual(image.pixel(cold.x + cold.width / 2, cold.y + cold.height / 2), Colormap.viridis.color(0.1, low: 0, high: 1))
        let plain = layout.cellRect(row: 2, head: 3, query: 4, key: 0)
        XCTAssertEqual(image.pixel(plain.x, plain.y), Colormap.viridis.color(0.2, low: 0, high: 1))
        // A key after the query: mask grey or hatch, never a viridis colour.
        let masked = layout.cellRect(row: 0, head: 0, query: 1, key: 5)
        for dx in 0..<masked.width {
            let colour = image.pixel(masked.x + dx, masked.y)
            XCTAssertTrue(colour == Palette.maskFill || colour == Palette.maskHatch, "\(colour)")
        }
    }

    func testLabelsHaveDarkPixels() throws {
        let image = try decoded(OverviewPicture.render(sources(layers: 3, heads: 4, tokens: 8)))
        let layout = try OverviewPicture.layout(layers: 3, heads: 4, tokens: 8)
        func darkPixels(x: Range<Int>, y: Range<Int>) -> Int {
            var count = 0
            for py in y { for px in x { let c = image.pixel(px, py); if Int(c.r) + Int(c.g) + Int(c.b) < 200 { count += 1 } } }
            return count
        }
        // "layer 1" left of the second row of maps, "head 3" above the fourth column, the title on top.
        XCTAssertGreaterThan(
            darkPixels(x: 0..<(layout.gridX - 2), y: (layout.gridY + layout.pitchY)..<(layout.gridY + layout.pitchY + layout.side)), 20)
        XCTAssertGreaterThan(
            darkPixels(
                x: (layout.gridX + 3 * layout.pitchX)..<(layout.gridX + 3 * layout.pitchX + layout.side),
                y: (layout.gridY - 20)..<(layout.gridY - 2)), 20)
        XCTAssertGreaterThan(darkPixels(x: 0..<image.width, y: 0..<40), 50)
    }

    func testGPT2SmallSizedOverviewRenders() throws {
        let image = try OverviewPicture.render(sources(layers: 12, heads: 12, tokens: 64))
        let layout = try OverviewPicture.layout(layers: 12, heads: 12, tokens: 64)
        XCTAssertGreaterThanOrEqual(image.width, layout.width)
        XCTAssertEqual(image.height, layout.height)
        XCTAssertFalse(try PNGWriter.encode(image).isEmpty)
        // LANTERN_KEEP_PICTURES=DIR keeps the picture to look at.
        if let folder = ProcessInfo.processInfo.environment["LANTERN_KEEP_PICTURES"] {
            try PNGWriter.write(image, to: URL(fileURLWithPath: folder).appendingPathComponent("overview-12x12x64.png"))
        }
    }
}
