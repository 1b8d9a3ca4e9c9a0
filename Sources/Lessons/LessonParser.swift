import Foundation

/// Reads a lesson's Markdown into blocks, collecting every problem with its line instead of
/// stopping at the first: `--check` reports them all.
public enum LessonParser {
    public struct Result: Sendable {
        public var lesson: Lesson
        public var issues: [LessonIssue]
    }

    static let commandKeys: Set<String> = ["capture", "input", "fresh", "show", "needs"]
    /// Options whose value is a path a command writes (or reads from what an earlier step wrote).
    static let writingFlags: Set<String> = ["--out", "--trace", "--eval"]
    static let questionKeys: [QuestionKind: Set<String>] = [
        .choice: ["id", "ask", "answer", "why"],
        .number: ["id", "ask", "answer", "tolerance", "why"],
        .predict: ["id", "ask", "answer", "tolerance", "why", "run", "capture", "input", "fresh", "show"]
    ]

    public static func parse(_ text: String, file: String) -> Result {
        var issues: [LessonIssue] = []
        func problem(_ line: Int, _ message: String) { issues.append(LessonIssue(file: file, line: line, problem: message)) }

        let lines = text.components(separatedBy: "\n").map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        var blocks: [LessonBlock] = []
        var prose: [String] = []
        /// The line each text block starts on (for problems found in it).
        var proseStart = 1, textLines: [Int] = []
        var title: String?
        func flushProse() {
            let joined = prose.joined(separator: "\n")
            if !joined.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                blocks.append(.text(joined))
                textLines.append(proseStart)
            }
            prose = []
        }

        var index = 0
        while index < lines.count {
            let line = lines[index]
            let number = index + 1
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard let fence = fenceOpening(trimmed) else {
                if title == nil, trimmed.hasPrefix("# ") { title = String(trimmed.dropFirst(2)).trimmingCharacters(in: .whitespaces) }
                if prose.isEmpty { proseStart = number }
                prose.append(line)
                index += 1
                continue
            }
            // Find the closing fence (same number of backticks or more, nothing else on the line).
            var end = index + 1
            while end < lines.count {
                let candidate = lines[end].trimmingCharacters(in: .whitespaces)
                if candidate.count >= fence.ticks, candidate.allSatisfy({ $0 == "`" }) { break }
                end += 1
            }
            guard end < lines.count else {
                problem(number, "this ``` block is never closed (add a line with ``` after its last line)")
                if prose.isEmpty { proseStart = number }
                prose.append(contentsOf: lines[index...])
                break
            }
            let body = Array(lines[(index + 1)..<end])
            let words = fence.info.split(separator: " ").map(String.init)
            switch words.first {
            case "lantern":
                flushProse()
                if words.count > 1 { problem(number, "```lantern takes nothing after it on the fence line (found \"\(fence.info)\")") }
                if let step = parseCommandBlock(body, firstLine: number + 1, fenceLine: number, problem: problem) {
                    blocks.append(.command(step))
                }
            case "pause":
                flushProse()
                let prompt = body.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
                blocks.append(.pause(prompt: prompt.isEmpty ? nil : prompt, line: number))
            case "question":
                flushProse()
                guard words.count == 2, let kind = QuestionKind(rawValue: words[1]) else {
                    problem(number, "```question needs one kind: choice, number or predict (found \"\(fence.info)\")")
                    break
                }
                if let question = parseQuestion(kind, body, firstLine: number + 1, fenceLine: number, problem: problem) {
                    blocks.append(.question(question))
                }
            default:
                // Ordinary Markdown code: printed with its fences.
                if prose.isEmpty { proseStart = number }
                prose.append(contentsOf: lines[index...end])
            }
            index = end + 1
        }
        flushProse()
        if title == nil { problem(1, "the lesson has no title: start it with a `# Title` line") }
        checkReferences(blocks, textLines: textLines, problem: problem)
        return Result(lesson: Lesson(file: file, title: title ?? file, blocks: blocks), issues: issues)
    }

    // MARK: - Fences

    struct Fence { var ticks: Int; var info: String }

    static func fenceOpening(_ trimmed: String) -> Fence? {
        guard trimmed.hasPrefix("```") else { return nil }
        let ticks = trimmed.prefix { $0 == "`" }.count
        return Fence(ticks: ticks, info: String(trimmed.dropFirst(ticks)).trimmingCharacters(in: .whitespaces))
    }

    // MARK: - Blocks

    /// `key: value` lines and `- option` lines; a line indented by two spaces continues the value
    /// of the key just before it. Anything else is a problem.
    struct KeyLine { var key: String; var value: String; var line: Int }

    static func keyLines(
        _ body: [String], firstLine: Int, problem: (Int, String) -> Void
    )
        -> (keys: [KeyLine], options: [(text: String, line: Int)])
    {
        var keys: [KeyLine] = [], options: [(text: String, line: Int)] = []
        var continuesKey = false
        for (offset, raw) in body.enumerated() {
            let number = firstLine + offset
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if raw.hasPrefix("  "), continuesKey {
                keys[keys.count - 1].value += "\n" + trimmed
                continue
            }
            continuesKey = false
            if trimmed.hasPrefix("- ") {
                options.append((String(trimmed.dropFirst(2)).trimmingCharacters(in: .whitespaces), number))
                continue
            }
            if let colon = trimmed.firstIndex(of: ":") {
                let key = String(trimmed[..<colon])
                if !key.isEmpty, key.allSatisfy({ $0.isLetter || $0 == "-" }) {
                    let value = String(trimmed[trimmed.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
                    keys.append(KeyLine(key: key.lowercased(), value: value, line: number))
                    continuesKey = true
                    continue
                }
            }
            problem(number, "expected `key: value`, found \"\(trimmed)\"")
        }
        return (keys, options)
    }

    static func parseCommandBlock(_ body: [String], firstLine: Int, fenceLine: Int, problem: (Int, String) -> Void) -> CommandStep? {
        // The command is the first line; it may look like `key: value` only if it is not a known key.
        guard let firstIndex = body.firstIndex(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            problem(fenceLine, "```lantern block has no command (write one, e.g. `generate \"Once upon a time\"`)")
            return nil
        }
        let commandLine = body[firstIndex].trimmingCharacters(in: .whitespaces)
        let rest = Array(body[(firstIndex + 1)...])
        let parsed = keyLines(rest, firstLine: firstLine + firstIndex + 1, problem: problem)
        for option in parsed.options { problem(option.line, "options (`- …`) belong in a ```question choice block") }
        var step = commandStep(commandLine, line: firstLine + firstIndex, problem: problem)
        for key in parsed.keys {
            guard commandKeys.contains(key.key) else {
                problem(key.line, "unknown key \"\(key.key)\" in a ```lantern block (use capture, input, fresh, show or needs)")
                continue
            }
            apply(key, to: &step, problem: problem)
        }
        if step.needsModel != nil, !step.captures.isEmpty {
            problem(firstLine, "a block with `needs:` may be skipped, so it cannot capture values")
        }
        return step
    }

    static func commandStep(_ text: String, line: Int, problem: (Int, String) -> Void) -> CommandStep {
        var step = CommandStep(arguments: [], line: line)
        var source = text
        if source.hasPrefix("$ ") { source.removeFirst(2) }
        do {
            var words = try CommandWords.split(source)
            if words.first == "lantern" { words.removeFirst() }
            if words.isEmpty { problem(line, "the command is empty: write the words after `lantern`") }
            // A lesson runs this same binary for each command: `lesson` inside a lesson would start
            // lessons within lessons without end.
            if words.first == "lesson" { problem(line, "a lesson cannot run `lantern lesson` (it would start a lesson inside the lesson)") }
            if words.first == "download" {
                problem(line, "a lesson cannot run `lantern download` (it writes outside output/); ask the learner to run it")
            }
            // What a lesson writes stays in output/ under the learner's folder: a lesson file must
            // not be able to overwrite anything else.
            for (flag, value) in zip(words, words.dropFirst()) where writingFlags.contains(flag) {
                if !value.hasPrefix("output/") || value.split(separator: "/").contains("..") {
                    problem(line, "\(flag) \(value): a lesson writes only inside output/ (e.g. \(flag) output/lesson-1)")
                }
            }
            step.arguments = words
        } catch {
            problem(line, "\(error)")
        }
        return step
    }

    static func apply(_ key: KeyLine, to step: inout CommandStep, problem: (Int, String) -> Void) {
        switch key.key {
        case "capture":
            if let capture = parseCapture(key.value, line: key.line, problem: problem) { step.captures.append(capture) }
        case "input":
            step.input.append(key.value)
        case "show":
            switch key.value {
            case "all": step.show = .all
            case "captures": step.show = .captures
            default: problem(key.line, "show: takes all or captures (found \"\(key.value)\")")
            }
        case "needs":
            let words = key.value.split(separator: " ")
            if words.count == 2, words[0] == "model" {
                step.needsModel = String(words[1])
            } else {
                problem(key.line, "needs: takes `model NAME` (found \"\(key.value)\")")
            }
        case "fresh":
            let path = key.value
            let parts = path.split(separator: "/")
            if !path.hasPrefix("output/") || parts.count < 2 || parts.contains("..") {
                problem(key.line, "fresh: \"\(path)\" must be a folder inside output/ (e.g. output/lesson-12)")
            } else {
                step.fresh.append(path)
            }
        default: break
        }
    }

    static func parseCapture(_ text: String, line: Int, problem: (Int, String) -> Void) -> Capture? {
        guard let equals = text.firstIndex(of: "=") else {
            problem(
                line,
                "capture needs `NAME = json PATH`, `NAME = regex PATTERN`, `NAME = difference A B`, `NAME = compare A B` or `NAME = calc EXPRESSION`"
            )
            return nil
        }
        let name = text[..<equals].trimmingCharacters(in: .whitespaces)
        guard isName(name) else {
            problem(line, "capture name \"\(name)\" must be letters, digits and _ (starting with a letter)")
            return nil
        }
        let spec = text[text.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        let kind = String(spec.prefix { $0 != " " })
        let argument = spec.dropFirst(kind.count).trimmingCharacters(in: .whitespaces)
        switch kind {
        case "json":
            guard !argument.isEmpty, !argument.contains(" ") else {
                problem(line, "json needs a dot path such as ids.count or generated_ids.0")
                return nil
            }
            return Capture(name: name, rule: .json(path: argument.split(separator: ".").map(String.init)), line: line)
        case "regex":
            do {
                _ = try NSRegularExpression(pattern: argument)
            } catch {
                problem(line, "the regex \(argument) does not compile")
                return nil
            }
            guard !argument.isEmpty else { problem(line, "regex needs a pattern"); return nil }
            return Capture(name: name, rule: .regex(argument), line: line)
        case "difference", "compare":
            let names = argument.split(separator: " ").map(String.init)
            guard names.count == 2, names.allSatisfy(isName) else {
                problem(line, "\(kind) needs two capture names: `\(name) = \(kind) A B`")
                return nil
            }
            return Capture(
                name: name, rule: kind == "difference" ? .difference(names[0], names[1]) : .compare(names[0], names[1]), line: line)
        case "calc":
            do {
                return Capture(name: name, rule: .calc(try Calc(argument)), line: line)
            } catch {
                problem(line, "calc: \(error)")
                return nil
            }
        default:
            problem(line, "unknown capture kind \"\(kind)\" (use json, regex, difference, compare or calc)")
            return nil
        }
    }

    static func isName(_ text: String) -> Bool {
        guard let first = text.first, first.isLetter else { return false }
        return text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
    }

    static func parseQuestion(
        _ kind: QuestionKind, _ body: [String], firstLine: Int, fenceLine: Int,
        problem: (Int, String) -> Void
    ) -> Question? {
        let parsed = keyLines(body, firstLine: firstLine, problem: problem)
        var values: [String: KeyLine] = [:]
        var command: CommandStep?
        var pending: [KeyLine] = []
        let allowed = questionKeys[kind]!
        for key in parsed.keys {
            guard allowed.contains(key.key) else {
                problem(
                    key.line,
                    "unknown key \"\(key.key)\" in a ```question \(kind.rawValue) block (use \(allowed.sorted().joined(separator: ", ")))")
                continue
            }
            switch key.key {
            case "run":
                if command != nil { problem(key.line, "a question runs one command: only one run: line") }
                command = commandStep(key.value, line: key.line, problem: problem)
            case "capture", "input", "fresh", "show":
                pending.append(key)
            default:
                if values[key.key] != nil { problem(key.line, "\(key.key): is given twice") }
                values[key.key] = key
            }
        }
        if !pending.isEmpty {
            if command == nil {
                problem(pending[0].line, "\(pending[0].key): needs a run: line in the same question")
            } else {
                for key in pending { apply(key, to: &command!, problem: problem) }
            }
        }
        if kind == .predict, command == nil {
            problem(fenceLine, "a predict question needs a run: line (the command that shows the answer)")
        }
        for required in ["id", "ask", "answer", "why"] where values[required]?.value.isEmpty ?? true {
            let hint = required == "why" ? " (the explanation shown after a wrong answer)" : ""
            problem(fenceLine, "question is missing \(required):\(hint)")
        }
        if kind != .choice, !parsed.options.isEmpty {
            problem(parsed.options[0].line, "options (`- …`) only belong in a ```question choice block")
        }
        guard let id = values["id"]?.value, let ask = values["ask"]?.value, let answerKey = values["answer"],
            let why = values["why"]?.value,
            !id.isEmpty, !ask.isEmpty, !answerKey.value.isEmpty
        else { return nil }
        var question = Question(kind: kind, id: id, ask: ask, answer: answerKey.value, why: why, command: command, line: fenceLine)
        if !isName(id.replacingOccurrences(of: "-", with: "_")) {
            problem(values["id"]!.line, "question id \"\(id)\" must be letters, digits, - and _")
        }
        if let tolerance = values["tolerance"] {
            if let value = Double(tolerance.value), value >= 0 {
                question.tolerance = value
            } else {
                problem(tolerance.line, "tolerance must be a number ≥ 0 (found \"\(tolerance.value)\")")
            }
        }
        switch kind {
        case .choice:
            question.options = parsed.options.map(\.text)
            if question.options.count < 2 { problem(fenceLine, "a choice question needs two or more `- option` lines") }
            if question.options.count >= 1, AnswerChecker.choiceIndex(question.answer, optionCount: question.options.count) == nil {
                problem(
                    answerKey.line,
                    "answer \"\(question.answer)\" is not one of the options: use 1 to \(question.options.count) or a to \(letter(question.options.count - 1))"
                )
            }
        case .number:
            if !Interpolation.isReference(question.answer), Double(question.answer) == nil {
                problem(answerKey.line, "a number question's answer must be a number or a {capture} (found \"\(question.answer)\")")
            }
        case .predict:
            if Interpolation.references(in: question.answer).isEmpty {
                problem(answerKey.line, "a predict question's answer comes from the command's output: write it as {capture}")
            }
        }
        return question
    }

    static func letter(_ index: Int) -> String { String(UnicodeScalar(UInt8(97 + min(index, 25)))) }

    // MARK: - References

    /// Every `{name}` must be captured by an earlier block (or by the question's own command); in
    /// prose too, where an unknown one would be printed as it is. `textLines` holds the first line of
    /// each text block, in order.
    static func checkReferences(_ blocks: [LessonBlock], textLines: [Int] = [], problem: (Int, String) -> Void) {
        var known = Set(Interpolation.builtInNames)
        func use(_ text: String, line: Int) {
            for name in Interpolation.references(in: text) where !known.contains(name) {
                problem(line, "{\(name)} is not captured by an earlier block")
            }
        }
        func visit(_ step: CommandStep) {
            for word in step.arguments { use(word, line: step.line) }
            for capture in step.captures {
                for name in capture.rule.references where !known.contains(name) {
                    problem(capture.line, "\(capture.name) reads \(name), which is not captured before it")
                }
                if known.contains(capture.name) { problem(capture.line, "\(capture.name) is already captured earlier") }
                known.insert(capture.name)
            }
        }
        var questionIds: [String: Int] = [:]
        var textIndex = 0
        for block in blocks {
            switch block {
            case .command(let step): visit(step)
            case .question(let question):
                if let first = questionIds[question.id] {
                    problem(question.line, "question id \"\(question.id)\" is used twice (first at line \(first))")
                }
                questionIds[question.id] = question.line
                use(question.ask, line: question.line)
                for option in question.options { use(option, line: question.line) }
                if let step = question.command { visit(step) }
                use(question.answer, line: question.line)
                use(question.why, line: question.line)
            case .text(let text):
                let first = textIndex < textLines.count ? textLines[textIndex] : 0
                textIndex += 1
                for (offset, line) in text.components(separatedBy: "\n").enumerated() {
                    for name in Interpolation.references(in: line) where !known.contains(name) {
                        problem(
                            first > 0 ? first + offset : 0,
                            "{\(name)} in the text is not captured by an earlier block (it would be printed as it is)")
                    }
                }
            case .pause: break
            }
        }
    }
}

/// Splits a command line into words the way a POSIX shell would for simple cases: spaces
/// separate words, "double" and 'single' quotes group them, a backslash escapes the next
/// character (inside double quotes: only " and \).
public enum CommandWords {
    public struct SplitError: Error, CustomStringConvertible {
        public var description: String
    }

    public static func split(_ text: String) throws -> [String] {
        var words: [String] = []
        var current = ""
        var inWord = false
        var quote: Character?
        var iterator = Array(text)
        var index = 0
        while index < iterator.count {
            let c = iterator[index]
            if let q = quote {
                if c == q {
                    quote = nil
                } else if c == "\\", q == "\"", index + 1 < iterator.count, iterator[index + 1] == "\"" || iterator[index + 1] == "\\" {
                    index += 1
                    current.append(iterator[index])
                } else if c == "\\", q == "\"", index + 1 < iterator.count, iterator[index + 1] == "n" {
                    index += 1
                    current.append("\n")
                } else {
                    current.append(c)
                }
            } else if c == " " || c == "\t" {
                if inWord { words.append(current); current = ""; inWord = false }
            } else if c == "\"" || c == "'" {
                quote = c
                inWord = true
            } else if c == "\\", index + 1 < iterator.count {
                index += 1
                current.append(iterator[index])
                inWord = true
            } else {
                current.append(c)
                inWord = true
            }
            index += 1
        }
        iterator = []
        if let q = quote { throw SplitError(description: "unbalanced \(q) quote in the command") }
        if inWord { words.append(current) }
        return words
    }

    /// Quotes a word for showing a command that can be pasted into a shell.
    public static func quote(_ word: String) -> String {
        let plain =
            !word.isEmpty
            && word.unicodeScalars.allSatisfy {
                CharacterSet.alphanumerics.contains($0) || "-_./=:,+@%".unicodeScalars.contains($0)
            }
        if plain { return word }
        return "\"" + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }

    public static func join(_ words: [String]) -> String { words.map(quote).joined(separator: " ") }

    /// `prefix` and the words as shell lines of at most `width` columns where spaces allow:
    /// each line but the last ends in a backslash, which the shell joins back (inside double quotes
    /// too), so the lines copy and paste as one command. Continuation lines are not indented: an
    /// indent inside a quoted argument would become part of it.
    public static func shellLines(_ words: [String], prefix: String, width: Int) -> [String] {
        let text = prefix + join(words)
        guard text.count > width else { return [text] }
        var lines: [String] = [], current = ""
        for piece in text.split(separator: " ", omittingEmptySubsequences: false) {
            if current.isEmpty {
                current = String(piece)
            } else if current.count + 1 + piece.count + 2 <= width {
                current += " " + piece
            } else {
                lines.append(current + " \\")
                current = String(piece)
            }
        }
        return lines + [current]
    }
}

/// `{name}` references to captured values.
public enum Interpolation {
    /// Values every lesson has without capturing them: `{lessons}`, the lesson folder (for data
    /// files shipped beside the lessons, e.g. `{lessons}/data/zoe-dragon.txt`).
    public static let builtInNames = ["lessons"]

    public static func builtInValues(folder: URL) -> [String: String] { ["lessons": folder.path] }

    public static func references(in text: String) -> [String] {
        guard let regex = try? NSRegularExpression(pattern: "\\{([A-Za-z][A-Za-z0-9_]*)\\}") else { return [] }
        let range = NSRange(text.startIndex..., in: text)
        return regex.matches(in: text, range: range).compactMap { Range($0.range(at: 1), in: text).map { String(text[$0]) } }
    }

    public static func isReference(_ text: String) -> Bool {
        let refs = references(in: text)
        return refs.count == 1 && text == "{\(refs[0])}"
    }

    /// Replaces every `{name}` with its value; names without a value are left as they are.
    public static func fill(_ text: String, _ values: [String: String]) -> String {
        var result = text
        for name in references(in: text) {
            if let value = values[name] { result = result.replacingOccurrences(of: "{\(name)}", with: value) }
        }
        return result
    }
}
