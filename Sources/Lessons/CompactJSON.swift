import Foundation

// MARK: - JSON a learner can read
//
// A `--json` command prints one long line (`{"generated_ids":[13,440,…],"prompt":…,"timing":{…}}`):
// a wall of text that hides the two numbers the lesson talks about. Showing only the captures
// hides the rest of the output the lesson's text points at ("look at prompt_ids above"), so the
// runner shows the JSON itself, laid out: one member per line in the order the command printed
// them, anything that fits on a line kept on one line (`"prompt_ids": [515, 586, 258]`), longer
// lists of numbers and long strings filled over a few lines and then cut ("… N more"), long
// decimals shortened to 6 significant digits, and at most `maxLines` lines followed by
// "… (N more lines)". A lesson that wants the raw output writes
// `show: all`; one that wants only the values, `show: captures`.

enum CompactJSON {
    indirect enum Value: Equatable {
        /// A string (with its quotes and escapes, as printed), number, true, false or null.
        case scalar(String)
        case array([Value])
        case object([(key: String, value: Value)])

        static func == (a: Value, b: Value) -> Bool {
            switch (a, b) {
            case (.scalar(let x), .scalar(let y)): x == y
            case (.array(let x), .array(let y)): x == y
            case (.object(let x), .object(let y)): x.map(\.key) == y.map(\.key) && x.map(\.value) == y.map(\.value)
            default: false
            }
        }

        var isScalar: Bool { if case .scalar = self { true } else { false } }
    }

    /// `stdout` with its JSON (the whole text, else its last line that is a JSON object or array)
    /// laid out for reading; nil when it holds no JSON.
    static func display(_ stdout: String, width: Int, maxLines: Int = 12) -> String? {
        let trimmed = stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        if let value = parse(trimmed) { return layout(value, width: width, maxLines: maxLines).joined(separator: "\n") }
        var lines = trimmed.components(separatedBy: "\n")
        for index in lines.indices.reversed() {
            let line = lines[index].trimmingCharacters(in: .whitespaces)
            guard line.hasPrefix("{") || line.hasPrefix("["), let value = parse(line) else { continue }
            lines.replaceSubrange(index...index, with: layout(value, width: width, maxLines: maxLines))
            return lines.joined(separator: "\n")
        }
        return nil
    }

    /// The value's lines, at most `maxLines` of them and then a count of the rest.
    static func layout(_ value: Value, width: Int, maxLines: Int) -> [String] {
        var lines: [String] = []
        write(value, key: nil, indent: "", last: true, width: width, into: &lines)
        guard lines.count > maxLines + 1 else { return lines }
        let rest = lines.count - maxLines
        return Array(lines.prefix(maxLines)) + ["… (\(rest) more lines)"]
    }

    static func write(_ value: Value, key: String?, indent: String, last: Bool, width: Int, into lines: inout [String]) {
        let prefix = indent + (key.map { "\($0): " } ?? "")
        let comma = last ? "" : ","
        let room = width - prefix.count - comma.count
        let whole = inline(value)
        if whole.count <= room {
            lines.append(prefix + whole + comma)
            return
        }
        switch value {
        case .scalar(let text) where text.hasPrefix("\""):
            // A long string (a generated story) over up to four lines, broken at spaces and lined
            // up after its opening quote; cut with …" after that.
            let hanging = String(repeating: " ", count: prefix.count + 1)
            var rest = Substring(text)
            var rows: [Substring] = []
            while !rest.isEmpty {
                let room = max(12, width - (rows.isEmpty ? prefix.count : hanging.count) - comma.count)
                if rest.count <= room { rows.append(rest); rest = ""; break }
                if rows.count == 3 {
                    rows.append(rest.prefix(room - 2) + "…\"")
                    break
                }
                let window = rest.prefix(room)
                let cut = window.lastIndex(of: " ").map { window.index(after: $0) } ?? window.endIndex
                let end = cut > window.index(window.startIndex, offsetBy: room / 2) ? cut : window.endIndex
                rows.append(rest[..<end])
                rest = rest[end...]
            }
            for (r, row) in rows.enumerated() {
                let last = r == rows.count - 1
                lines.append((r == 0 ? prefix : hanging) + (last ? String(row) + comma : String(row).trimmingCharacters(in: .whitespaces)))
            }
        case .scalar(let text):
            lines.append(prefix + String(text.prefix(max(8, room - 1))) + "…" + comma)
        case .array(let items) where items.allSatisfy(\.isScalar):
            // Filled over up to three lines, lined up after the "["; then how many more there are.
            let hanging = String(repeating: " ", count: prefix.count + 1)
            var rows: [[String]] = [[]]
            var used = prefix.count + 1
            var shown = 0
            for (n, item) in items.enumerated() {
                let text = inline(item)
                let tail = n == items.count - 1 ? "]" + comma : ","
                if !rows[rows.count - 1].isEmpty, used + 1 + text.count + tail.count > width {
                    if rows.count == 3 { break }
                    rows.append([])
                    used = hanging.count
                }
                used += (rows[rows.count - 1].isEmpty ? 0 : 1) + text.count + 1
                rows[rows.count - 1].append(text)
                shown = n + 1
            }
            // Room for "… N more]" on the last line: drop items until it fits.
            let more = { items.count - shown }
            while more() > 0, rows[rows.count - 1].count > 1,
                (rows.count == 1 ? prefix.count + 1 : hanging.count)
                    + (rows[rows.count - 1] + ["… \(more()) more]" + comma]).joined(separator: ", ").count > width
            {
                rows[rows.count - 1].removeLast()
                shown -= 1
            }
            if more() > 0 { rows[rows.count - 1].append("… \(more()) more") }
            for (r, row) in rows.enumerated() {
                let last = r == rows.count - 1
                lines.append((r == 0 ? prefix + "[" : hanging) + row.joined(separator: ", ") + (last ? "]" + comma : ","))
            }
        case .array(let items):
            lines.append(prefix + "[")
            for (n, item) in items.enumerated() {
                write(item, key: nil, indent: indent + "  ", last: n == items.count - 1, width: width, into: &lines)
            }
            lines.append(indent + "]" + comma)
        case .object(let members):
            lines.append(prefix + "{")
            for (n, member) in members.enumerated() {
                write(member.value, key: member.key, indent: indent + "  ", last: n == members.count - 1, width: width, into: &lines)
            }
            lines.append(indent + "}" + comma)
        }
    }

    /// The value on one line, with a space after each comma and colon.
    static func inline(_ value: Value) -> String {
        switch value {
        case .scalar(let text): text
        case .array(let items): "[" + items.map(inline).joined(separator: ", ") + "]"
        case .object(let members): "{" + members.map { "\($0.key): " + inline($0.value) }.joined(separator: ", ") + "}"
        }
    }

    // MARK: Parsing (order kept, scalars as printed)

    static func parse(_ text: String) -> Value? {
        var parser = Parser(bytes: Array(text.utf8))
        guard let value = parser.value() else { return nil }
        parser.skipSpace()
        return parser.index == parser.bytes.count ? value : nil
    }

    struct Parser {
        let bytes: [UInt8]
        var index = 0

        mutating func skipSpace() {
            while index < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[index]) { index += 1 }
        }

        mutating func value() -> Value? {
            skipSpace()
            guard index < bytes.count else { return nil }
            switch bytes[index] {
            case UInt8(ascii: "{"):
                index += 1
                var members: [(key: String, value: Value)] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return .object([]) }
                while true {
                    skipSpace()
                    guard let key = string() else { return nil }
                    skipSpace()
                    guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { return nil }
                    index += 1
                    guard let member = value() else { return nil }
                    members.append((key, member))
                    skipSpace()
                    guard index < bytes.count else { return nil }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "}") { index += 1; return .object(members) }
                    return nil
                }
            case UInt8(ascii: "["):
                index += 1
                var items: [Value] = []
                skipSpace()
                if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return .array([]) }
                while true {
                    guard let item = value() else { return nil }
                    items.append(item)
                    skipSpace()
                    guard index < bytes.count else { return nil }
                    if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
                    if bytes[index] == UInt8(ascii: "]") { index += 1; return .array(items) }
                    return nil
                }
            case UInt8(ascii: "\""):
                return string().map(Value.scalar)
            default:
                let start = index
                while index < bytes.count, !",]} \n\r\t".utf8.contains(bytes[index]) { index += 1 }
                let word = String(decoding: bytes[start..<index], as: UTF8.self)
                if ["true", "false", "null"].contains(word) { return .scalar(word) }
                guard let number = Double(word) else { return nil }
                // 64.80861193653651 → 64.8086: the digits past the sixth say nothing to a reader.
                let digits = word.filter(\.isNumber).count
                return .scalar(digits > 7 && (word.contains(".") || word.contains("e")) ? String(format: "%.6g", number) : word)
            }
        }

        /// A string with its quotes, escapes left as printed.
        mutating func string() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            let start = index
            index += 1
            while index < bytes.count {
                if bytes[index] == UInt8(ascii: "\\") { index += 2; continue }
                if bytes[index] == UInt8(ascii: "\"") {
                    index += 1
                    return String(decoding: bytes[start..<index], as: UTF8.self)
                }
                index += 1
            }
            return nil
        }
    }
}
