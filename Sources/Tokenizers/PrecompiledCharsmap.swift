import Foundation

/// SentencePiece's normalization rules as `tokenizer.json` keeps them (`Precompiled`,
/// `precompiled_charsmap`, base64): a darts-clone double-array trie from UTF-8 byte strings to
/// offsets into a pool of NUL-terminated replacement strings (T5's and mT5's NFKC-like rules:
/// "ﬁ" → "fi", full-width letters to ASCII, tabs and newlines to spaces…).
///
/// Applied as Hugging Face's `tokenizers` applies it, oddities included: the text is taken one
/// extended grapheme cluster at a time; a cluster shorter than 6 bytes that starts with a key
/// is replaced whole by the replacement of the SHORTEST key that starts it; otherwise each of
/// its characters is looked up alone and replaced, or kept.
struct PrecompiledCharsmap: Sendable, Equatable {
    /// The trie's units (darts-clone layout).
    private let units: [UInt32]
    /// The replacement strings, each ending with a NUL byte.
    private let pool: [UInt8]

    /// Parses the decoded `precompiled_charsmap`: a little-endian UInt32 giving the trie's size in
    /// bytes, the trie, then the pool. nil when the blob is not that shape.
    init?(_ blob: [UInt8]) {
        guard blob.count >= 4 else { return nil }
        let trieBytes = Int(blob[0]) | Int(blob[1]) << 8 | Int(blob[2]) << 16 | Int(blob[3]) << 24
        guard trieBytes % 4 == 0, trieBytes >= 4, 4 + trieBytes <= blob.count else { return nil }
        units = stride(from: 4, to: 4 + trieBytes, by: 4).map { i in
            UInt32(blob[i]) | UInt32(blob[i + 1]) << 8 | UInt32(blob[i + 2]) << 16 | UInt32(blob[i + 3]) << 24
        }
        pool = Array(blob[(4 + trieBytes)...])
    }

    // darts-clone's unit fields.
    private static func hasLeaf(_ unit: UInt32) -> Bool { (unit >> 8) & 1 == 1 }
    private static func value(_ unit: UInt32) -> Int { Int(unit & 0x7FFF_FFFF) }
    private static func label(_ unit: UInt32) -> UInt32 { unit & (1 << 31 | 0xFF) }
    private static func offset(_ unit: UInt32) -> Int { Int((unit >> 10) << ((unit & (1 << 9)) >> 6)) }

    /// The replacement of the shortest key that is a prefix of `key`, or nil when none is.
    func replacement(forPrefixOf key: some Sequence<UInt8>) -> [UInt8]? {
        guard !units.isEmpty else { return nil }
        var node = Self.offset(units[0])
        for byte in key {
            guard byte != 0 else { return nil }
            node ^= Int(byte)
            guard units.indices.contains(node) else { return nil }
            let unit = units[node]
            guard Self.label(unit) == UInt32(byte) else { return nil }
            node ^= Self.offset(unit)
            if Self.hasLeaf(unit) {
                guard units.indices.contains(node) else { return nil }
                let start = Self.value(units[node])
                guard start < pool.count else { return nil }
                let end = pool[start...].firstIndex(of: 0) ?? pool.count
                return Array(pool[start..<end])
            }
        }
        return nil
    }

    /// `text` with the rules applied.
    func normalize(_ text: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for cluster in text {
            let bytes = Array(String(cluster).utf8)
            if bytes.count < 6, let replacement = replacement(forPrefixOf: bytes) {
                out += replacement
                continue
            }
            for scalar in cluster.unicodeScalars {
                let scalarBytes = Array(String(scalar).utf8)
                out += replacement(forPrefixOf: scalarBytes) ?? scalarBytes
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
