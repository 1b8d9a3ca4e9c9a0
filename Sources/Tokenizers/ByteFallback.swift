/// Byte-fallback pieces `<0x00>`…`<0xFF>`: how SentencePiece-style vocabularies (llama2.c's and
/// Hugging Face's) spell a raw byte that has no piece of its own.
enum ByteFallback {
    /// "<0x41>" → 0x41 (hex digits of either case, as llama2.c's `sscanf` and Hugging Face's
    /// ByteFallback decoder both accept); nil for any other piece.
    static func byte(named piece: [UInt8]) -> UInt8? {
        guard piece.count == 6, piece.starts(with: Array("<0x".utf8)), piece[5] == UInt8(ascii: ">"),
            let high = hexValue(piece[3]), let low = hexValue(piece[4])
        else { return nil }
        return high << 4 | low
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        default: return nil
        }
    }
}
