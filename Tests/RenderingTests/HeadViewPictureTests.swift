import Foundation
import Tensors
import XCTest

@testable import Rendering

/// The head view draws each head's lines in its colour from query to key, as strong as the weight,
/// only the chosen token's with a query, and stays a readable size at 500 tokens.
final class HeadViewPictureTests: XCTestCase {
    /// Two heads over four tokens: head 0 looks from every token at token 0, head 1 at itself.
    func source(tokens N: Int = 4) -> AttentionSource {
        var scalars = [Float](repeating: 0, count: 2 * N * N)
        for q in 0..<N {
            scalars[q * N + 0] = 1  // head 0 → token 0
            scalars[(N + q) * N + q] = 1  // head 1 → itself
        }
        return AttentionSource(
            pattern: Tensor(shape: [2, N, N], scalars: scalars), pieces: (0..<N).map { "t\($0)" }, layer: 2, model: "m.bin",
            prompt: "")
    }

    /// The point a fraction `t` along head `head`'s line from query `q` to key `k` (of two heads,
    /// whose lines are drawn 2.5 px above and below the rows' centres).
    func point(_ layout: (left: Int, right: Int, top: Int, row: Int), q: Int, k: Int, t: Double, head: Int) -> (Int, Int) {
        let offset = head == 0 ? -2.5 : 2.5
        let y0 = Double(layout.top + q * layout.row) + Double(layout.row - 1) / 2 + offset
        let y1 = Double(layout.top + k * layout.row) + Double(layout.row - 1) / 2 + offset
        return (Int((Double(layout.left) + t * Double(layout.right - layout.left)).rounded()), Int((y0 + t * (y1 - y0)).rounded()))
    }

    func testLinesGoFromQueryToKeyInTheirHeadsColour() throws {
        let canvas = try HeadViewPicture.render(source())
        // Find the two column rules (1-pixel grey lines spanning the rows) to locate the columns.
        let rules = (0..<canvas.width).filter { x in canvas.pixel(x, canvas.height / 2) == ChartPalette.grid }
        XCTAssertGreaterThanOrEqual(rules.count, 2)
        let left = rules.first!, right = rules.last!
        XCTAssertEqual(right - left, HeadViewPicture.gap)
        // Token 3's head-0 line runs up to token 0; the middle of the line is head 0's colour.
        // Rows are 20 px; the grid's top is where the rule starts (4 px above the first row).
        let top = (0..<canvas.height).first { canvas.pixel(left, $0) == ChartPalette.grid }! + 4
        let layout = (left: left, right: right, top: top, row: 20)
        let (x, y) = point(layout, q: 3, k: 0, t: 0.5, head: 0)
        XCTAssertEqual(canvas.pixel(x, y), HeadViewPicture.color(head: 0))
        // Head 1 looks at itself: a level line on token 2's row.
        let (x2, y2) = point(layout, q: 2, k: 2, t: 0.5, head: 1)
        XCTAssertEqual(canvas.pixel(x2, y2), HeadViewPicture.color(head: 1))
        // No line where no head looks: from token 3 to token 1, a quarter of the way, stays white.
        let (x3, y3) = point(layout, q: 3, k: 1, t: 0.25, head: 0)
        XCTAssertEqual(canvas.pixel(x3, y3), Palette.background)

        // With a query, only its lines: token 2's head-1 line is gone when token 3 is chosen.
        let chosen = try HeadViewPicture.render(source(), query: 3)
        XCTAssertEqual(chosen.pixel(x2, y2), Palette.background)
        XCTAssertEqual(chosen.pixel(x, y), HeadViewPicture.color(head: 0))
        // A decoder's token sees only the tokens up to it: the rows after it are left out.
        XCTAssertLessThan(
            try HeadViewPicture.render(source(tokens: 10), query: 3).height, try HeadViewPicture.render(source(tokens: 10), query: 9).height
        )
    }

    /// A local layer's window (GPT-Neo) masks the keys older than the window, like later ones.
    func testALocalWindowMasksOlderKeys() throws {
        var local = source(tokens: 6)
        local.window = 2
        XCTAssertTrue(local.isMasked(query: 3, key: 1))
        XCTAssertFalse(local.isMasked(query: 3, key: 2))
        XCTAssertTrue(local.isMasked(query: 3, key: 4))
        let map = try AttentionPicture.heatmap(local, head: 0)
        XCTAssertTrue(map.isMasked(row: 5, col: 3))
        XCTAssertFalse(map.isMasked(row: 5, col: 4))
        XCTAssertTrue(map.maskLegend.contains("each sees only the latest 2"), map.maskLegend)
        let image = try map.render(), layout = try map.layout()
        let old = layout.cellRect(row: 5, col: 0), seen = layout.cellRect(row: 5, col: 4)
        XCTAssertTrue([Palette.maskFill, Palette.maskHatch].contains(image.pixel(old.x + 2, old.y + 3)))
        XCTAssertEqual(image.pixel(seen.x + 2, seen.y + 3), ColorScale.attention(.linear).color(local.pattern.scalars[5 * 6 + 4]))
    }

    func testFiveHundredTokensStayReadable() throws {
        let canvas = try HeadViewPicture.render(source(tokens: 500), query: 499)
        // Rows of 3 px: 1,500 px of rows plus title, legend and notes.
        XCTAssertLessThanOrEqual(canvas.height, 1_750)
        XCTAssertLessThanOrEqual(canvas.width, 1_200)
        // Labels are kept at least a text line apart, the chosen token and its keys first.
        let kept = HeadViewPicture.placed([499, 0, 498] + Array(stride(from: 0, to: 500, by: 5)), rowHeight: 3, all: false, count: 500)
        XCTAssertTrue(kept.contains(499) && kept.contains(0))
        XCTAssertFalse(kept.contains(498))
        let sorted = kept.sorted()
        XCTAssertTrue(zip(sorted, sorted.dropFirst()).allSatisfy { ($1 - $0) * 3 >= 13 })
    }
}
