import Foundation
import Tensors
import XCTest

/// The shared progress line: what reaches the terminal for each call, and nothing when standard
/// error is not a terminal (logs get the job's own plain lines instead).
final class ProgressLineTests: XCTestCase {
    final class Screen: @unchecked Sendable {
        var text = ""
    }

    func testTerminalRedrawsInPlaceAndEndsCleanly() {
        let screen = Screen()
        let line = ProgressLine(isTerminal: true) { screen.text += $0 }
        line.draw("a")
        line.draw("b")
        line.clear()
        line.clear()  // nothing shown: nothing to erase
        line.draw("c")
        line.replace(with: "done")
        line.end()  // already moved on
        line.draw("d")
        line.end()
        XCTAssertEqual(screen.text, "\ra\u{1B}[K\rb\u{1B}[K\r\u{1B}[K\rc\u{1B}[K\rdone\u{1B}[K\n\rd\u{1B}[K\n")
    }

    func testALogGetsNoBarOnlySummaries() {
        let screen = Screen()
        let line = ProgressLine(isTerminal: false) { screen.text += $0 }
        line.draw("a")
        line.clear()
        line.end()
        line.replace(with: "done")
        XCTAssertEqual(screen.text, "done\n")
    }

    func testBarsAndDurations() {
        XCTAssertEqual(ProgressLine.bar(fraction: 0.5, width: 10), "[#####>    ]")
        XCTAssertEqual(ProgressLine.bar(fraction: 2, width: 4), "[####]")
        XCTAssertEqual(ProgressLine.duration(3723), "1:02:03")
        XCTAssertEqual(ProgressLine.duration(.nan), "--:--")
    }
}
