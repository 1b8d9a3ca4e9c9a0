import Foundation
import Rendering
import XCTest
@testable import Lessons

/// Lesson text for the terminal: wrapping, emphasis, the terminal's width, and JSON laid out short.
final class ProseTests: XCTestCase {
    func testParagraphsAndListsWrapWhileCodeAndHeadingsStayWhole() {
        let markdown = """
            # Title

            The first paragraph is written on one long line that goes on well past forty columns, with a `code span, kept whole` in it. A `longer code span that cannot fit at the end` stays whole.

            ## A heading that is rather long, longer than forty columns

            - a list item that is long enough to wrap onto a second line
            1. a numbered item that also runs on beyond forty columns

                indented code that is longer than forty columns, as it is

            ```sh
            lantern generate "a fenced line longer than forty columns"
            ```
            """
        let rendered = ProseRenderer(width: 40).render(markdown)
        XCTAssertEqual(
            rendered,
            """
            The first paragraph is written on one
            long line that goes on well past forty
            columns, with a `code span, kept whole`
            in it. A
            `longer code span that cannot fit at the end`
            stays whole.

            A heading that is rather long, longer than forty columns

            - a list item that is long enough to
              wrap onto a second line
            1. a numbered item that also runs on
               beyond forty columns

                indented code that is longer than forty columns, as it is

            ```sh
            lantern generate "a fenced line longer than forty columns"
            ```
            """)
    }

    func testSourceLineBreaksAreJoinedAndHardBreaksKept() {
        let rendered = ProseRenderer(width: 80).render("one\ntwo  \nthree\\\nfour\n\n\n\nfive")
        XCTAssertEqual(rendered, "one two\nthree\nfour\n\nfive")
    }

    func testEmphasisWithoutColourLosesItsAsterisks() {
        let plain = ProseRenderer(width: 100)
        XCTAssertEqual(
            plain.render("The **prompt** and *this one*; `a * b`, 2 * 3, 2*3*4 and n*(n-1) stay."),
            "The prompt and this one; `a * b`, 2 * 3, 2*3*4 and n*(n-1) stay.")
        XCTAssertEqual(
            plain.render("A `**not strong**` span, an **unclosed one and \\*escaped\\*."),
            "A `**not strong**` span, an **unclosed one and *escaped*.")
        XCTAssertEqual(
            plain.render("**Bold with *emphasis* inside**, (**in brackets**)."),
            "Bold with emphasis inside, (in brackets).")
    }

    func testEmphasisWithColourIsBoldAndUnderlined() {
        let coloured = ProseRenderer(width: 100, painter: TerminalPainter(color: .palette256))
        XCTAssertEqual(
            coloured.render("The **the prompt** and *this*."),
            "The \u{1B}[1mthe prompt\u{1B}[0m and \u{1B}[4mthis\u{1B}[0m.")
        XCTAssertEqual(coloured.render("## Heading with `code`"), "\u{1B}[1mHeading with `code`\u{1B}[0m")
        // A styled phrase broken across lines is closed at the end of each line.
        let narrow = ProseRenderer(width: 20, painter: TerminalPainter(color: .palette256))
        XCTAssertEqual(
            narrow.render("Some words and **a bold phrase that wraps**"),
            "Some words and \u{1B}[1ma\u{1B}[0m\n\u{1B}[1mbold phrase that\u{1B}[0m\n\u{1B}[1mwraps\u{1B}[0m")
    }

    func testTheWidthComesFromColumnsThenTheTerminalAndStaysReadable() {
        XCTAssertEqual(LessonRunner.terminalWidth(environment: ["COLUMNS": "60"], terminalColumns: { 120 }), 60)
        XCTAssertEqual(LessonRunner.terminalWidth(environment: ["COLUMNS": "300"], terminalColumns: { nil }), 100)
        XCTAssertEqual(LessonRunner.terminalWidth(environment: [:], terminalColumns: { 90 }), 90)
        XCTAssertEqual(LessonRunner.terminalWidth(environment: [:], terminalColumns: { 200 }), 100)
        XCTAssertEqual(LessonRunner.terminalWidth(environment: ["COLUMNS": "wide"], terminalColumns: { nil }), 80)
        XCTAssertEqual(LessonRunner.terminalWidth(environment: [:], terminalColumns: { nil }), 80)
    }

    func testJSONIsLaidOutInItsOwnOrderAndCut() throws {
        let json = #"{"text":"Mia had a ball.\n","ids":[1,2,3],"p":0.08742177486419678,"ok":true,"nested":{"a":[],"b":{"c":null}}}"#
        XCTAssertEqual(
            CompactJSON.display(json, width: 80),
            """
            {
              "text": "Mia had a ball.\\n",
              "ids": [1, 2, 3],
              "p": 0.0874218,
              "ok": true,
              "nested": {"a": [], "b": {"c": null}}
            }
            """)
        // Lines of printed text before the JSON stay; long lists fill three lines and are cut.
        let ids = (100..<400).map(String.init).joined(separator: ",")
        let shown = try XCTUnwrap(CompactJSON.display("loading…\n{\"ids\":[\(ids)]}\n", width: 40))
        XCTAssertEqual(
            shown,
            """
            loading…
            {
              "ids": [100, 101, 102, 103, 104, 105,
                      106, 107, 108, 109, 110, 111,
                      112, 113, 114, … 285 more]
            }
            """)
        let many = "{" + (0..<30).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
        let cut = try XCTUnwrap(CompactJSON.display(many, width: 80)).components(separatedBy: "\n")
        XCTAssertEqual(cut.count, 13)
        XCTAssertEqual(cut.last, "… (20 more lines)")
        XCTAssertNil(CompactJSON.display("not json at all", width: 80))
    }
}
