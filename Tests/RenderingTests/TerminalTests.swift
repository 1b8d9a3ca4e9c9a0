import Rendering
import XCTest

final class TerminalTests: XCTestCase {
    func testColourFollowsTheEnvironment() {
        XCTAssertEqual(TerminalColor.detect(environment: ["TERM": "xterm-256color", "NO_COLOR": "1"], isTerminal: true), .none)
        XCTAssertEqual(TerminalColor.detect(environment: ["TERM": "dumb"], isTerminal: true), .none)
        XCTAssertEqual(TerminalColor.detect(environment: ["TERM": "xterm"], isTerminal: false), .none)
        XCTAssertEqual(TerminalColor.detect(environment: ["TERM": "xterm-256color"], isTerminal: true), .palette256)
        XCTAssertEqual(TerminalColor.detect(environment: ["TERM": "xterm", "COLORTERM": "truecolor"], isTerminal: true), .trueColor)
    }

    func testPlainPainterWritesNoEscapes() {
        let painter = TerminalPainter(color: .none)
        let text = painter.background("x", RGB(1, 2, 3)) + painter.bold("y") + painter.foreground("z", RGB(9, 9, 9))
        XCTAssertEqual(text, "xyz")
        XCTAssertTrue(TerminalPainter(color: .trueColor).background("x", RGB(1, 2, 3)).contains("48;2;1;2;3"))
    }

    func testBarsMeasureInEighths() {
        XCTAssertEqual(TerminalPainter.bar(0, width: 4), "    ")
        XCTAssertEqual(TerminalPainter.bar(1, width: 4), "████")
        XCTAssertEqual(TerminalPainter.bar(0.5, width: 4), "██  ")
        XCTAssertEqual(TerminalPainter.bar(1.0 / 32.0, width: 4), "▏   ")
        XCTAssertEqual(TerminalPainter.bar(0.5, width: 4, ascii: true), "##  ")
    }

    func testViridisEndsAndDivergingCentre() {
        // matplotlib's viridis starts dark purple (68, 1, 84) and ends yellow (253, 231, 37).
        XCTAssertEqual(Colormap.viridis.color(0), RGB(68, 1, 84))
        XCTAssertEqual(Colormap.viridis.color(1), RGB(253, 231, 37))
        XCTAssertEqual(Colormap.viridis.color(5, low: 0, high: 10), Colormap.viridis.color(0.5))
        let centre = Colormap.diverging.color(0, low: -1, high: 1)
        XCTAssertTrue(centre.r > 230 && centre.g > 230 && centre.b > 230, "\(centre) should be near white")
        XCTAssertGreaterThan(Colormap.diverging.color(1, low: -1, high: 1).r, Colormap.diverging.color(1, low: -1, high: 1).b)
    }

    func testFittedPiecesKeepTheirWidth() {
        XCTAssertEqual(fitted("␣the", width: 6), "␣the  ")
        XCTAssertEqual(fitted("extraordinary", width: 6), "extra…")
    }
}
