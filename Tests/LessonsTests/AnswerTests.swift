import Foundation
import XCTest
@testable import Lessons

/// Captures from command output and the checking of every kind of answer.
final class AnswerTests: XCTestCase {
    func capture(_ spec: String) throws -> Capture {
        var issues: [String] = []
        let capture = LessonParser.parseCapture(spec, line: 1) { issues.append("\($0): \($1)") }
        XCTAssertEqual(issues, [])
        return try XCTUnwrap(capture)
    }

    func testJSONRegexAndDerivedCaptures() throws {
        let json = #"{"ids": [5, 7, 9], "pieces": ["A", "␣b", "c"], "p": 0.123456, "nested": {"x": [{"y": 2}]}}"#
        func value(_ spec: String, _ stdout: String = json, known: [String: String] = [:]) throws -> String {
            try CaptureEvaluator.value(of: capture(spec), stdout: stdout, stderr: "", known: known)
        }
        XCTAssertEqual(try value("n = json ids.count"), "3")
        XCTAssertEqual(try value("n = json ids.-1"), "9")
        XCTAssertEqual(try value("n = json pieces.1"), "␣b")
        XCTAssertEqual(try value("n = json p"), "0.1235")
        XCTAssertEqual(try value("n = json nested.x.0.y"), "2")
        XCTAssertThrowsError(try value("n = json ids.5"))
        XCTAssertThrowsError(try value("n = json ids", "not json"))
        // JSON after other lines: the last line that parses.
        XCTAssertEqual(try value("n = json ids.0", "loading…\n" + json), "5")
        XCTAssertEqual(try value(#"n = regex induction head: layer (\d+)"#, "strongest induction head: layer 3 head 1"), "3")
        XCTAssertEqual(try value(#"n = regex head \d"#, "\u{1B}[1mhead 4\u{1B}[0m"), "head 4")
        XCTAssertThrowsError(try value(#"n = regex zebra"#, "no"))
        XCTAssertEqual(try value("d = difference a b", known: ["a": "0.75", "b": "0.25"]), "0.5")
        XCTAssertEqual(try value("d = compare a b", known: ["a": "0.75", "b": "0.25"]), "higher")
        XCTAssertEqual(try value("d = compare a b", known: ["a": "0.1", "b": "0.25"]), "lower")
    }

    func question(_ kind: QuestionKind, answer: String, options: [String] = [], tolerance: Double = 0) -> Question {
        Question(kind: kind, id: "q", ask: "?", options: options, answer: answer, tolerance: tolerance, why: "w", line: 1)
    }

    func testChoiceAnswers() {
        let q = question(.choice, answer: "b", options: ["red", "the same one", "blue"])
        XCTAssertEqual(AnswerChecker.check("2", question: q, captured: [:]), .right)
        XCTAssertEqual(AnswerChecker.check("B", question: q, captured: [:]), .right)
        XCTAssertEqual(AnswerChecker.check("b)", question: q, captured: [:]), .right)
        XCTAssertEqual(AnswerChecker.check("The same one", question: q, captured: [:]), .right)
        XCTAssertEqual(AnswerChecker.check("1", question: q, captured: [:]), .wrong(expected: "2) the same one"))
        XCTAssertEqual(AnswerChecker.check("blue", question: q, captured: [:]), .wrong(expected: "2) the same one"))
        if case .unreadable = AnswerChecker.check("7", question: q, captured: [:]) {} else { XCTFail("7 is not an option") }
    }

    func testNumberAnswersWithinTolerance() {
        let q = question(.number, answer: "{p}", tolerance: 0.05)
        let captured = ["p": "0.42"]
        XCTAssertEqual(AnswerChecker.check("0.4", question: q, captured: captured), .right)
        XCTAssertEqual(AnswerChecker.check("0.47", question: q, captured: captured), .right)
        XCTAssertEqual(AnswerChecker.check("42%", question: q, captured: captured), .right)
        XCTAssertEqual(AnswerChecker.check("0.48", question: q, captured: captured), .wrong(expected: "0.42 (± 0.05)"))
        if case .unreadable = AnswerChecker.check("many", question: q, captured: captured) {} else { XCTFail("text is not a number") }
        let exact = question(.number, answer: "1344")
        XCTAssertEqual(AnswerChecker.check("1,344", question: exact, captured: [:]), .right)
        XCTAssertEqual(AnswerChecker.check("1345", question: exact, captured: [:]), .wrong(expected: "1344"))
    }

    func testNumberAnswersTakeAPercentSignAndThousandsSeparators() {
        let percent = question(.number, answer: "99.8", tolerance: 0.05)
        XCTAssertEqual(AnswerChecker.check("99.8%", question: percent, captured: [:]), .right)
        XCTAssertEqual(AnswerChecker.check("99.8 %", question: percent, captured: [:]), .right)
        XCTAssertEqual(AnswerChecker.check("0.998", question: percent, captured: [:]), .wrong(expected: "99.8 (± 0.05)"))
        let probability = question(.number, answer: "0.25")
        XCTAssertEqual(AnswerChecker.check("25%", question: probability, captured: [:]), .right)
        XCTAssertEqual(AnswerChecker.check("0,25", question: probability, captured: [:]), .right)
        let count = question(.number, answer: "{n}")
        for typed in ["1,024", "1 024", "1024", "1,024.0"] {
            XCTAssertEqual(AnswerChecker.check(typed, question: count, captured: ["n": "1024"]), .right, typed)
        }
        XCTAssertEqual(AnswerChecker.check("1,024", question: question(.predict, answer: "{n}"), captured: ["n": "1024"]), .right)
        XCTAssertEqual(AnswerChecker.check("12%", question: question(.predict, answer: "{n}"), captured: ["n": "12"]), .right)
    }

    func testPredictAnswersComeFromTheOutput() {
        let text = question(.predict, answer: "{top}")
        XCTAssertEqual(AnswerChecker.check("mia", question: text, captured: ["top": "␣Mia"]), .right)
        XCTAssertEqual(AnswerChecker.check("\"Mia\".", question: text, captured: ["top": "␣Mia"]), .right)
        XCTAssertEqual(AnswerChecker.check("Tom", question: text, captured: ["top": "␣Mia"]), .wrong(expected: "\"␣Mia\""))
        let number = question(.predict, answer: "{n}", tolerance: 1)
        XCTAssertEqual(AnswerChecker.check("6", question: number, captured: ["n": "7"]), .right)
        XCTAssertEqual(AnswerChecker.check("9", question: number, captured: ["n": "7"]), .wrong(expected: "7 (± 1)"))
    }
}

/// The small arithmetic of `calc` captures.
final class CalcTests: XCTestCase {
    func testArithmeticFunctionsAndReferences() throws {
        let calc = try Calc("n * (n - 1) / 2 + 2 ^ 3 - -1")
        XCTAssertEqual(calc.references, ["n", "n"])
        XCTAssertEqual(try calc.evaluate { _ in 17 }, 136 + 8 + 1)
        XCTAssertEqual(try Calc("ln(exp(2))").evaluate { _ in 0 }, 2, accuracy: 1e-12)
        XCTAssertEqual(try Calc("sqrt(64) / round(1.6)").evaluate { _ in 0 }, 4)
        XCTAssertTrue(try Calc("ln(x)").references == ["x"])
        XCTAssertThrowsError(try Calc("n * (n - 1"))
        XCTAssertThrowsError(try Calc("n $ 2"))
        XCTAssertThrowsError(try Calc("sqrt 4"))
        XCTAssertThrowsError(try Calc("1 2"))
        let capture = try XCTUnwrap(LessonParser.parseCapture("m = calc n * (n - 1) / 2", line: 1) { _, _ in XCTFail() })
        XCTAssertEqual(try CaptureEvaluator.value(of: capture, stdout: "", stderr: "", known: ["n": "9"]), "36")
        XCTAssertThrowsError(try CaptureEvaluator.value(of: capture, stdout: "", stderr: "", known: ["n": "many"]))
    }
}
