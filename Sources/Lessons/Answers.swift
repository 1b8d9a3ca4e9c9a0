import Foundation

// MARK: - Captures: values taken from a command's output

public enum CaptureError: Error, CustomStringConvertible, Equatable {
    case notJSON(name: String)
    case pathNotFound(name: String, path: String)
    case noMatch(name: String, pattern: String)
    case notNumbers(name: String)

    public var description: String {
        switch self {
        case .notJSON(let name): "capture \(name): the command did not print JSON (add --json to it)"
        case .pathNotFound(let name, let path): "capture \(name): the JSON has nothing at \(path)"
        case .noMatch(let name, let pattern): "capture \(name): nothing in the output matches \(pattern)"
        case .notNumbers(let name): "capture \(name): the values it compares are not numbers"
        }
    }
}

public enum CaptureEvaluator {
    /// The value of `capture` given the command's standard output and error (colour codes removed)
    /// and the values captured so far.
    public static func value(of capture: Capture, stdout: String, stderr: String, known: [String: String]) throws -> String {
        switch capture.rule {
        case .json(let path):
            guard let root = jsonObject(in: stdout) else { throw CaptureError.notJSON(name: capture.name) }
            var current: Any = root
            for component in path {
                if let dictionary = current as? [String: Any], let next = dictionary[component] {
                    current = next
                } else if let array = current as? [Any] {
                    if component == "count" { current = array.count; continue }
                    guard let i = Int(component), i < array.count, i >= -array.count else {
                        throw CaptureError.pathNotFound(name: capture.name, path: path.joined(separator: "."))
                    }
                    current = array[i >= 0 ? i : array.count + i]
                } else if component == "count", let text = current as? String {
                    current = text.count
                } else {
                    throw CaptureError.pathNotFound(name: capture.name, path: path.joined(separator: "."))
                }
            }
            return display(current)
        case .regex(let pattern):
            let text = stripANSI(stdout + "\n" + stderr)
            guard let regex = try? NSRegularExpression(pattern: pattern),
                let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text))
            else {
                throw CaptureError.noMatch(name: capture.name, pattern: pattern)
            }
            let group = match.numberOfRanges > 1 ? 1 : 0
            guard let range = Range(match.range(at: group), in: text) else {
                throw CaptureError.noMatch(name: capture.name, pattern: pattern)
            }
            return String(text[range])
        case .difference(let a, let b):
            guard let x = known[a].flatMap(Double.init), let y = known[b].flatMap(Double.init) else {
                throw CaptureError.notNumbers(name: capture.name)
            }
            return formatNumber(x - y)
        case .compare(let a, let b):
            guard let x = known[a].flatMap(Double.init), let y = known[b].flatMap(Double.init) else {
                throw CaptureError.notNumbers(name: capture.name)
            }
            return x > y ? "higher" : x < y ? "lower" : "equal"
        case .calc(let calc):
            let value = try calc.evaluate { name in
                guard let number = known[name].flatMap(Double.init) else { throw CaptureError.notNumbers(name: capture.name) }
                return number
            }
            guard value.isFinite else { throw CaptureError.notNumbers(name: capture.name) }
            return formatNumber(value)
        }
    }

    /// The JSON object or array printed on standard output: the whole text, else its last line that parses.
    static func jsonObject(in text: String) -> Any? {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let value = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8), options: [.fragmentsAllowed]) { return value }
        for line in trimmed.split(separator: "\n").reversed() {
            if let value = try? JSONSerialization.jsonObject(with: Data(line.utf8)) { return value }
        }
        return nil
    }

    static func display(_ value: Any) -> String {
        if let number = value as? NSNumber {
            return formatNumber(number.doubleValue)
        }
        if let text = value as? String { return text }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(value)"
    }

    /// Integers without a decimal point; other numbers to at most 4 decimals.
    public static func formatNumber(_ x: Double) -> String {
        if x.isFinite, x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
        var text = String(format: "%.4f", x)
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
        return text
    }

    /// Removes terminal colour and style codes (ESC [ … letter).
    public static func stripANSI(_ text: String) -> String {
        guard text.contains("\u{1B}") else { return text }
        return text.replacingOccurrences(of: "\u{1B}\\[[0-9;?]*[A-Za-z]", with: "", options: .regularExpression)
    }
}

// MARK: - Checking answers

public enum AnswerChecker {
    public enum Verdict: Equatable, Sendable {
        case right
        case wrong(expected: String)
        /// The answer could not be read (e.g. text for a number question): ask again without counting it.
        case unreadable(String)
    }

    /// Option `answer` as a 0-based index: "2" → 1, "b" → 1, "B)" → 1.
    public static func choiceIndex(_ answer: String, optionCount: Int) -> Int? {
        guard optionCount >= 1 else { return nil }  // (1...0) traps: a question with no options
        var text = answer.trimmingCharacters(in: .whitespaces).lowercased()
        if text.hasSuffix(")") || text.hasSuffix(".") { text.removeLast() }
        if let n = Int(text), (1...optionCount).contains(n) { return n - 1 }
        if text.count == 1, let scalar = text.unicodeScalars.first, scalar.value >= 97 {
            let i = Int(scalar.value) - 97
            if i < optionCount { return i }
        }
        return nil
    }

    /// Checks `given` against the question, its expected answer filled from the captured values.
    public static func check(_ given: String, question: Question, captured: [String: String]) -> Verdict {
        let expected = Interpolation.fill(question.answer, captured)
        switch question.kind {
        case .choice:
            let right = choiceIndex(expected, optionCount: question.options.count) ?? 0
            let shown = "\(right + 1)) \(question.options[right])"
            if let index = choiceIndex(given, optionCount: question.options.count) {
                return index == right ? .right : .wrong(expected: shown)
            }
            // The option's text typed out counts too.
            if normalised(given) == normalised(question.options[right]) { return .right }
            if question.options.contains(where: { normalised($0) == normalised(given) }) { return .wrong(expected: shown) }
            return .unreadable("answer with a number from 1 to \(question.options.count) (or a letter)")
        case .number:
            guard let values = numbers(given) else { return .unreadable("answer with a number, e.g. 12 or 0.25") }
            guard let target = number(expected) else { return .wrong(expected: expected) }
            return values.contains { abs($0 - target) <= question.tolerance + 1e-9 }
                ? .right : .wrong(expected: withTolerance(expected, question.tolerance))
        case .predict:
            if let target = number(expected) {
                guard let values = numbers(given) else { return .unreadable("answer with a number, e.g. 12 or 0.25") }
                return values.contains { abs($0 - target) <= question.tolerance + 1e-9 }
                    ? .right : .wrong(expected: withTolerance(expected, question.tolerance))
            }
            return normalised(given) == normalised(expected) ? .right : .wrong(expected: "\"\(expected)\"")
        }
    }

    static func withTolerance(_ expected: String, _ tolerance: Double) -> String {
        tolerance > 0 ? "\(expected) (± \(CaptureEvaluator.formatNumber(tolerance)))" : expected
    }

    /// What a typed number may mean: "12", "0.25", "1,344" and "1 344" (thousands separators),
    /// "0,25" (a decimal comma); "25%" is either 25 or 0.25, so it is right for a question whose
    /// answer is 25 (a percentage) and for one whose answer is 0.25 (a probability). nil when it is
    /// not a number.
    static func numbers(_ text: String) -> [Double]? {
        var t = text.trimmingCharacters(in: .whitespaces)
        guard t.hasSuffix("%") else { return number(t).map { [$0] } }
        t.removeLast()
        return number(t).map { [$0, $0 / 100] }
    }

    /// "12", "-0.25", "1,344", "1 344", "1,024.5", "0,25" (a decimal comma) as a number; a comma
    /// between groups of three digits separates thousands, any other one is a decimal comma.
    static func number(_ text: String) -> Double? {
        var t = text.trimmingCharacters(in: .whitespaces)
        // Spaces (plain, no-break, thin) or _ between digit groups: "1 344".
        t = t.replacingOccurrences(of: "(?<=\\d)[ \u{00A0}\u{202F}\u{2009}_](?=\\d{3}(\\D|$))", with: "", options: .regularExpression)
        if t.range(of: "^[-+]?\\d{1,3}(,\\d{3})+(\\.\\d*)?$", options: .regularExpression) != nil {
            t = t.replacingOccurrences(of: ",", with: "")
        } else if t.range(of: "^[-+]?\\d*,\\d+$", options: .regularExpression) != nil {
            t = t.replacingOccurrences(of: ",", with: ".")
        }
        return Double(t)
    }

    /// Lower case, without surrounding spaces, quotes, a final full stop, or the ␣ and ↵ markers.
    public static func normalised(_ text: String) -> String {
        var t = text.replacingOccurrences(of: "␣", with: " ").replacingOccurrences(of: "↵", with: "\n")
        t = t.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        if t.count > 1, t.hasSuffix(".") { t.removeLast() }
        t = t.trimmingCharacters(in: CharacterSet(charactersIn: "\"'`“”‘’"))
        return t.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
