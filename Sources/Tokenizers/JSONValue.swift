// MARK: - A small JSON reader

/// A JSON document as a tree, read by a small parser of its own rather than
/// `JSONDecoder`, because a SentencePiece vocabulary needs its keys exactly
/// as written: Swift's `String` compares by canonical equivalence, so
/// `JSONDecoder` and `JSONSerialization` fold "à" (U+00E0) and "a" + U+0300
/// into one dictionary key and silently lose one of the two ids. Objects here
/// keep every member, in file order; look keys up with `member(_:)`, which
/// compares them byte for byte.
enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    /// The member named `key` (compared as UTF-8 bytes), or nil when this is
    /// not an object or has no such member. With repeated keys the last wins,
    /// as in most JSON readers.
    func member(_ key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key.utf8.elementsEqual(key.utf8) })?.value
    }

    /// `member(key)`, with JSON `null` read as absent.
    subscript(key: String) -> JSONValue? {
        guard let value = member(key), !value.isNull else { return nil }
        return value
    }

    var isNull: Bool { if case .null = self { return true } else { return false } }

    var string: String? { if case .string(let text) = self { return text } else { return nil } }
    var bool: Bool? { if case .bool(let flag) = self { return flag } else { return nil } }
    var array: [JSONValue]? { if case .array(let items) = self { return items } else { return nil } }
    var members: [(key: String, value: JSONValue)]? {
        if case .object(let members) = self { return members } else { return nil }
    }
    var double: Double? { if case .number(let number) = self { return number } else { return nil } }

    /// A number with no fractional part that fits an `Int`.
    var int: Int? {
        guard case .number(let number) = self, number.rounded() == number,
            abs(number) < 9.0e15
        else { return nil }
        return Int(number)
    }

    /// "an object", "a string"…, for messages about a value of the wrong kind.
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

// MARK: Parsing

/// Why a document is not JSON: what was wrong and at which byte.
struct JSONSyntaxError: Error, Equatable, CustomStringConvertible {
    var offset: Int
    var message: String

    var description: String { "\(message) at byte \(offset)" }
}

extension JSONValue {
    /// Parses a whole document (RFC 8259; a UTF-8 byte order mark is allowed).
    /// Invalid UTF-8 inside strings becomes U+FFFD.
    static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        return try parser.document()
    }
}

/// A recursive-descent parser over the document's bytes.
private struct JSONParser {
    let bytes: [UInt8]
    var index = 0
    var depth = 0

    /// Nesting deeper than this is refused instead of overflowing the stack.
    static let maximumDepth = 512

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func document() throws(JSONSyntaxError) -> JSONValue {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
        let root = try value()
        skipWhitespace()
        if index < bytes.count { throw error("unexpected text after the document") }
        return root
    }

    private func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: index, message: message)
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private mutating func value() throws(JSONSyntaxError) -> JSONValue {
        skipWhitespace()
        guard index < bytes.count else { throw error("unexpected end of file") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try number())
        default: throw error("unexpected character")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        guard bytes.count - index >= expected.count,
            bytes[index..<(index + expected.count)].elementsEqual(expected)
        else {
            throw error("unexpected character")
        }
        index += expected.count
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > Self.maximumDepth { throw error("nested more than \(Self.maximumDepth) levels deep") }
        index += 1  // the opening bracket
    }

    private mutating func object() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of file") }
            guard bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':'") }
            index += 1
            members.append((key, try value()))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of file") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return .object(members)
            default: throw error("expected ',' or '}'")
            }
        }
    }

    private mutating func array() throws(JSONSyntaxError) -> JSONValue {
        try enter()
        defer { depth -= 1 }
        var items: [JSONValue] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            return .array(items)
        }
        while true {
            items.append(try value())
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of file") }
            switch bytes[index] {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return .array(items)
            default: throw error("expected ',' or ']'")
            }
        }
    }

    private mutating func number() throws(JSONSyntaxError) -> Double {
        let start = index
        func digits() -> Int {
            let first = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - first
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard digits() > 0 else { throw error("expected a digit") }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw error("expected a digit") }
        }
        if index < bytes.count, bytes[index] | 0x20 == UInt8(ascii: "e") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw error("expected a digit") }
        }
        guard let number = Double(String(decoding: bytes[start..<index], as: UTF8.self)) else {
            index = start
            throw error("unreadable number")
        }
        return number
    }

    /// A string starting at its opening quote. Runs without escapes are
    /// copied as they are; escapes are decoded, surrogate pairs joined, and a
    /// lone surrogate becomes U+FFFD.
    private mutating func string() throws(JSONSyntaxError) -> String {
        index += 1  // the opening quote
        var runStart = index
        var decoded: [UInt8] = []
        var hasEscapes = false
        while true {
            guard index < bytes.count else { throw error("unterminated string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                defer { index += 1 }
                if !hasEscapes { return String(decoding: bytes[runStart..<index], as: UTF8.self) }
                decoded += bytes[runStart..<index]
                return String(decoding: decoded, as: UTF8.self)
            }
            if byte < 0x20 { throw error("control character in a string") }
            if byte != UInt8(ascii: "\\") {
                index += 1
                continue
            }
            hasEscapes = true
            decoded += bytes[runStart..<index]
            index += 1
            guard index < bytes.count else { throw error("unterminated string") }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
            case UInt8(ascii: "b"): decoded.append(0x08)
            case UInt8(ascii: "f"): decoded.append(0x0C)
            case UInt8(ascii: "n"): decoded.append(0x0A)
            case UInt8(ascii: "r"): decoded.append(0x0D)
            case UInt8(ascii: "t"): decoded.append(0x09)
            case UInt8(ascii: "u"):
                var value = try hex4()
                if (0xD800...0xDBFF).contains(value), bytes.count - index >= 6,
                    bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
                {
                    let save = index
                    index += 2
                    let low = try hex4()
                    if (0xDC00...0xDFFF).contains(low) {
                        value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        index = save  // not a pair: the high surrogate stands alone
                    }
                }
                decoded += Array(String(Unicode.Scalar(value) ?? "\u{FFFD}").utf8)
            default:
                index -= 2  // point at the backslash
                throw error("unknown escape")
            }
            runStart = index
        }
    }

    private mutating func hex4() throws(JSONSyntaxError) -> UInt32 {
        guard bytes.count - index >= 4 else { throw error("unterminated \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("bad hex digit in a \\u escape")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }
}
