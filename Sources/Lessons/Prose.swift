import Foundation
import Rendering

// MARK: - Lesson prose for the terminal
//
// Markdown is written wrapped at whatever width its author liked; the learner's terminal may be
// narrower or wider. Paragraphs and list items are re-wrapped to `width` (list items with a
// hanging indent, so the text lines up after the marker); headings, tables, fenced and indented
// code are printed as they are. Inline: `code spans` are kept whole (never broken across lines,
// never styled), **strong** is bold and *emphasis* underlined when colour is on; without colour
// the asterisks are simply removed. A `*` that is not emphasis (`a * b`, `2*3`, an unmatched one)
// stays as written.

/// Renders lesson Markdown (and question text) to terminal lines of at most `width` columns.
public struct ProseRenderer: Sendable {
    /// The columns available (see `LessonRunner.terminalWidth`).
    public var width: Int
    public var painter: TerminalPainter

    public init(width: Int = 80, painter: TerminalPainter = TerminalPainter(color: .none)) {
        self.width = max(20, width)
        self.painter = painter
    }

    // MARK: Blocks

    /// The `# Title` line dropped (the lesson header shows it), other headings in bold, runs of
    /// blank lines collapsed to one, no blank lines at either end.
    public func render(_ markdown: String) -> String {
        let lines = markdown.components(separatedBy: "\n")
        var out: [String] = []
        var blankBefore = false
        func emit(_ block: [String]) {
            if blankBefore, !out.isEmpty { out.append("") }
            out.append(contentsOf: block)
            blankBefore = false
        }
        var i = 0
        while i < lines.count {
            let line = lines[i]
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { blankBefore = true; i += 1; continue }
            if line.hasPrefix("# ") { i += 1; continue }
            // Fenced code: verbatim, fences included, up to the closing fence.
            if let fence = Self.fence(trimmed) {
                var block = [line]
                i += 1
                while i < lines.count {
                    block.append(lines[i])
                    let closing = lines[i].trimmingCharacters(in: .whitespaces)
                    i += 1
                    if closing.hasPrefix(fence), closing.allSatisfy({ $0 == fence.first }) { break }
                }
                emit(block)
                continue
            }
            // Indented code (a block of its own, after a blank line or at the start): verbatim.
            if Self.indentation(line) >= 4, blankBefore || out.isEmpty {
                var block: [String] = []
                while i < lines.count, Self.indentation(lines[i]) >= 4 || lines[i].trimmingCharacters(in: .whitespaces).isEmpty {
                    block.append(lines[i])
                    i += 1
                }
                var blankAfter = false
                while block.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { block.removeLast(); blankAfter = true }
                emit(block)
                blankBefore = blankAfter
                continue
            }
            if trimmed.hasPrefix("#") {
                let text = trimmed.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
                emit([paint(Self.inline(text, base: [.strong]))])
                i += 1
                continue
            }
            // Tables: verbatim, row by row.
            if trimmed.hasPrefix("|") {
                emit([line])
                i += 1
                continue
            }
            if let item = Self.listItem(line) {
                var text = item.text
                i += 1
                while i < lines.count, Self.continues(lines[i]) { text += " " + lines[i].trimmingCharacters(in: .whitespaces); i += 1 }
                let hanging = String(repeating: " ", count: item.marker.count)
                emit(wrap(text, first: item.marker, rest: hanging))
                continue
            }
            if trimmed.hasPrefix(">") {
                var text = ""
                while i < lines.count, lines[i].trimmingCharacters(in: .whitespaces).hasPrefix(">") {
                    text += " " + lines[i].trimmingCharacters(in: .whitespaces).dropFirst().trimmingCharacters(in: .whitespaces)
                    i += 1
                }
                emit(wrap(text, first: "> ", rest: "> "))
                continue
            }
            // A paragraph: its lines joined and wrapped again; a hard break (two spaces or a
            // backslash at the end of a line) is kept.
            var block: [String] = []
            var text = ""
            while i < lines.count {
                let current = lines[i]
                let piece = current.trimmingCharacters(in: .whitespaces)
                if !text.isEmpty, !Self.continues(current) { break }
                i += 1
                if current.hasSuffix("  ") || piece.hasSuffix("\\") {
                    text += (text.isEmpty ? "" : " ") + (piece.hasSuffix("\\") ? String(piece.dropLast()) : piece)
                    block += wrap(text, first: "", rest: "")
                    text = ""
                    if i < lines.count, !Self.continues(lines[i]) { break }
                } else {
                    text += (text.isEmpty ? "" : " ") + piece
                }
            }
            if !text.isEmpty { block += wrap(text, first: "", rest: "") }
            emit(block)
        }
        return out.joined(separator: "\n")
    }

    /// A line that carries on the paragraph or list item above it: not blank, not a new block.
    static func continues(_ line: String) -> Bool {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix("|") || trimmed.hasPrefix(">") || fence(trimmed) != nil {
            return false
        }
        return listItem(line) == nil
    }

    static func fence(_ trimmed: String) -> String? {
        for marker in ["```", "~~~"] where trimmed.hasPrefix(marker) {
            return String(trimmed.prefix { $0 == marker.first })
        }
        return nil
    }

    static func indentation(_ line: String) -> Int {
        var n = 0
        for c in line {
            if c == " " { n += 1 } else if c == "\t" { n += 4 } else { break }
        }
        return n
    }

    /// `- text`, `* text`, `+ text`, `1. text`, `2) text`, indented or not: the marker with its
    /// indentation and following space, and the text.
    static func listItem(_ line: String) -> (marker: String, text: String)? {
        let indent = line.prefix { $0 == " " }
        let rest = line.dropFirst(indent.count)
        var marker = ""
        if let first = rest.first, "-*+".contains(first) {
            marker = String(first)
        } else {
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            guard (1...3).contains(digits.count) else { return nil }
            let after = rest.dropFirst(digits.count).first
            guard after == "." || after == ")" else { return nil }
            marker = String(digits) + String(after!)
        }
        let body = rest.dropFirst(marker.count)
        guard let space = body.first, space == " " else { return nil }
        let text = body.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else { return nil }
        return (String(indent) + marker + " ", text)
    }

    // MARK: Wrapping

    /// `text` wrapped to the width: the first line after `first`, the others after `rest`
    /// (both plain text, e.g. a list marker and its hanging indent).
    public func wrap(_ text: String, first: String, rest: String) -> [String] {
        lines(text, firstIndent: first.count, restIndent: rest.count).enumerated().map { ($0.offset == 0 ? first : rest) + $0.element }
    }

    /// `text` (Markdown inline: code spans, emphasis) wrapped and painted, without prefixes: the first
    /// line fits after `firstIndent` columns, the others after `restIndent`. New lines in `text` are
    /// spaces (a question's `why:` continues on indented lines).
    public func lines(_ text: String, firstIndent: Int, restIndent: Int) -> [String] {
        wrap(Self.inline(text), firstIndent: firstIndent, restIndent: restIndent).map(paint)
    }

    /// The lines of a paragraph without their prefixes: the first fits in `width − firstIndent`
    /// columns, the others in `width − restIndent`. A word longer than a line gets a line of its own.
    func wrap(_ runs: [Run], firstIndent: Int, restIndent: Int) -> [[Run]] {
        let words = Self.words(runs)
        var lines: [[Run]] = []
        var line: [Run] = []
        var used = 0
        var lastStyle: Style = []
        for word in words {
            let length = word.reduce(0) { $0 + $1.text.count }
            let room = width - (lines.isEmpty ? firstIndent : restIndent)
            if used > 0, used + 1 + length > room {
                lines.append(line)
                line = []
                used = 0
            }
            if used > 0 {
                // The space between two words of one styled phrase keeps its style (an underline runs on).
                let style = word.first.map { $0.style.intersection(lastStyle) } ?? []
                line.append(Run(text: " ", style: style.subtracting(.code)))
                used += 1
            }
            line.append(contentsOf: word)
            used += length
            lastStyle = word.last?.style ?? []
        }
        if !line.isEmpty || lines.isEmpty { lines.append(line) }
        return lines
    }

    /// Splits runs at spaces outside code spans; a word is the runs between two spaces.
    static func words(_ runs: [Run]) -> [[Run]] {
        var words: [[Run]] = []
        var word: [Run] = []
        for run in runs {
            if run.style.contains(.code) { word.append(run); continue }
            var piece = ""
            for c in run.text {
                if c == " " || c == "\t" || c == "\n" {
                    if !piece.isEmpty { word.append(Run(text: piece, style: run.style)); piece = "" }
                    if !word.isEmpty { words.append(word); word = [] }
                } else {
                    piece.append(c)
                }
            }
            if !piece.isEmpty { word.append(Run(text: piece, style: run.style)) }
        }
        if !word.isEmpty { words.append(word) }
        return words
    }

    /// One line of runs in terminal styles (runs that look the same painted together; code spans
    /// take the style around them, as in a bold heading).
    func paint(_ runs: [Run]) -> String {
        var merged: [Run] = []
        for run in runs {
            let look = run.style.subtracting(.code)
            if let last = merged.last, last.style == look {
                merged[merged.count - 1].text += run.text
            } else {
                merged.append(Run(text: run.text, style: look))
            }
        }
        return merged.map { run in
            var text = run.text
            if run.style.contains(.emphasis) { text = painter.underline(text) }
            if run.style.contains(.strong) { text = painter.bold(text) }
            return text
        }.joined()
    }

    // MARK: Inline

    struct Style: OptionSet, Hashable, Sendable {
        let rawValue: Int
        static let strong = Style(rawValue: 1)
        static let emphasis = Style(rawValue: 2)
        static let code = Style(rawValue: 4)
    }

    struct Run: Equatable, Sendable {
        var text: String
        var style: Style
    }

    enum Token {
        case text(Character)
        case code(String)
        case stars(count: Int, canOpen: Bool, canClose: Bool)
    }

    /// The text as styled runs: code spans (backticks kept) whole, `**strong**` and `*emphasis*`
    /// without their asterisks. A run of asterisks opens only before a non-space and after a space,
    /// punctuation or the start; it closes only after a non-space and before a space, punctuation
    /// or the end — so `a * b`, `2*3*4` and `n*(n-1)` keep their asterisks.
    static func inline(_ text: String, base: Style = []) -> [Run] {
        let chars = Array(text)
        var tokens: [Token] = []
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "\\", i + 1 < chars.count, "*`\\_".contains(chars[i + 1]) {
                tokens.append(.text(chars[i + 1]))
                i += 2
                continue
            }
            if c == "`" {
                let n = run(of: "`", in: chars, at: i)
                // The span closes at the next run of exactly as many backticks.
                var j = i + n
                var close: Int?
                while j < chars.count {
                    if chars[j] == "`" {
                        let m = run(of: "`", in: chars, at: j)
                        if m == n { close = j; break }
                        j += m
                    } else {
                        j += 1
                    }
                }
                if let close {
                    tokens.append(.code(String(chars[i..<(close + n)])))
                    i = close + n
                } else {
                    for k in i..<(i + n) { tokens.append(.text(chars[k])) }
                    i += n
                }
                continue
            }
            if c == "*" {
                let n = run(of: "*", in: chars, at: i)
                let before: Character? = i > 0 ? chars[i - 1] : nil
                let after: Character? = i + n < chars.count ? chars[i + n] : nil
                func loose(_ c: Character?) -> Bool { c == nil || c!.isWhitespace || (c!.isPunctuation && c! != "*") || c!.isSymbol }
                let canOpen = (after.map { !$0.isWhitespace } ?? false) && loose(before)
                let canClose = (before.map { !$0.isWhitespace } ?? false) && loose(after)
                tokens.append(.stars(count: n, canOpen: canOpen, canClose: canClose))
                i += n
                continue
            }
            tokens.append(.text(c))
            i += 1
        }
        // Pair openers with closers of the same length (1 emphasis, 2 strong, 3 both); openers
        // left inside a pair, and anything unpaired, stay literal asterisks.
        var pairedWith: [Int: Int] = [:]
        var openers: [Int] = []
        for (index, token) in tokens.enumerated() {
            guard case .stars(let count, let canOpen, let canClose) = token, count <= 3 else { continue }
            if canClose, let k = openers.lastIndex(where: { if case .stars(let c, _, _) = tokens[$0] { c == count } else { false } }) {
                pairedWith[openers[k]] = index
                pairedWith[index] = openers[k]
                openers.removeSubrange(k...)
            } else if canOpen {
                openers.append(index)
            }
        }
        var runs: [Run] = []
        var style = base
        func add(_ text: String, _ style: Style) {
            if let last = runs.last, last.style == style {
                runs[runs.count - 1].text += text
            } else {
                runs.append(Run(text: text, style: style))
            }
        }
        for (index, token) in tokens.enumerated() {
            switch token {
            case .text(let c): add(String(c), style)
            case .code(let code): runs.append(Run(text: code, style: style.union(.code)))
            case .stars(let count, _, _):
                guard let partner = pairedWith[index] else { add(String(repeating: "*", count: count), style); continue }
                let change: Style = count == 1 ? .emphasis : count == 2 ? .strong : [.strong, .emphasis]
                if partner > index { style.formUnion(change) } else { style.subtract(change); style.formUnion(base) }
            }
        }
        return runs
    }

    static func run(of c: Character, in chars: [Character], at start: Int) -> Int {
        var n = 0
        while start + n < chars.count, chars[start + n] == c { n += 1 }
        return n
    }
}

extension TerminalPainter {
    /// `text` underlined (for *emphasis*); as is without colour.
    func underline(_ text: String) -> String {
        color == .none ? text : "\u{1B}[4m\(text)\u{1B}[0m"
    }
}
