// MARK: - UTF-8 byte rules

/// The few UTF-8 facts the decoders and displays need, applied to raw bytes
/// that may stop in the middle of a character (a token can hold 1 byte of a
/// 4-byte emoji).
enum UTF8Bytes {
    /// How many bytes a sequence starting with `lead` has, or nil when `lead`
    /// cannot start one (a continuation byte, C0, C1, F5…FF).
    static func sequenceLength(lead: UInt8) -> Int? {
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: return 2
        case 0xE0...0xEF: return 3
        case 0xF0...0xF4: return 4
        default: return nil
        }
    }

    /// The allowed range of the byte right after `lead`; narrower than 80…BF
    /// for a few leads so that overlong forms, surrogates and values past
    /// U+10FFFF are rejected.
    static func secondByteRange(lead: UInt8) -> ClosedRange<UInt8> {
        switch lead {
        case 0xE0: return 0xA0...0xBF
        case 0xED: return 0x80...0x9F
        case 0xF0: return 0x90...0xBF
        case 0xF4: return 0x80...0x8F
        default: return 0x80...0xBF
        }
    }

    static func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }

    /// How many of the bytes from `start` (at most `length`) follow the rules
    /// for a sequence that begins with `bytes[start]`.
    private static func validPrefixCount(_ bytes: [UInt8], from start: Int, length: Int) -> Int {
        var count = 1
        while count < length, start + count < bytes.count {
            let byte = bytes[start + count]
            let ok = count == 1 ? secondByteRange(lead: bytes[start]).contains(byte) : isContinuation(byte)
            if !ok { break }
            count += 1
        }
        return count
    }

    /// The complete, valid character starting at `start`, with its byte
    /// length, or nil when the bytes there are invalid or cut short.
    static func scalar(in bytes: [UInt8], at start: Int) -> (scalar: Unicode.Scalar, length: Int)? {
        guard let length = sequenceLength(lead: bytes[start]),
            validPrefixCount(bytes, from: start, length: length) == length
        else { return nil }
        var value = length == 1 ? UInt32(bytes[start]) : UInt32(bytes[start]) & (0x7F >> length)
        for k in 1..<length { value = value << 6 | UInt32(bytes[start + k] & 0x3F) }
        return Unicode.Scalar(value).map { ($0, length) }
    }

    /// Where a trailing, still-valid but unfinished character begins, or nil
    /// when the bytes end on a character boundary (or end in bytes that no
    /// later byte could make valid).
    static func incompleteTailStart(_ bytes: [UInt8]) -> Int? {
        // A character is at most 4 bytes, so its lead is among the last 3.
        var start = bytes.count - 1
        while start >= 0, start >= bytes.count - 3, isContinuation(bytes[start]) { start -= 1 }
        guard start >= 0, start >= bytes.count - 3,
            let length = sequenceLength(lead: bytes[start]), length > 1
        else { return nil }
        let present = bytes.count - start
        guard present < length, validPrefixCount(bytes, from: start, length: length) == present else { return nil }
        return start
    }
}
