// MARK: - GPT-2's byte ↔ character table

/// GPT-2 stores its pieces as text, one character per byte. Printable Latin-1
/// bytes stand for themselves; the 68 others (controls, space, DEL, NBSP, soft
/// hyphen…) are moved up to U+0100 and beyond in byte order, so that no piece
/// contains whitespace or control characters. That is why a leading space
/// shows up as "Ġ" (U+0120) in `vocab.json`.
///
/// GPT-2's `vocab.json` gives the 256 one-byte pieces ids 0…255 in the order
/// of their characters' code points ("!" = 0 … "ÿ" = 187, then "Ā" = 188 for
/// byte 0x00 …): `bytesInVocabularyOrder` lists the bytes that way.
public enum ByteLevel {
    /// Byte → the character that stands for it in vocabulary files.
    public static let characterForByte: [Unicode.Scalar] = {
        var table = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if standsForItself(UInt8(byte)) {
                table[byte] = Unicode.Scalar(UInt8(byte))
            } else {
                table[byte] = Unicode.Scalar(next)!
                next += 1
            }
        }
        return table
    }()

    /// Character in a vocabulary file → the byte it stands for.
    public static let byteForCharacter: [Unicode.Scalar: UInt8] = {
        var table: [Unicode.Scalar: UInt8] = [:]
        for (byte, scalar) in characterForByte.enumerated() { table[scalar] = UInt8(byte) }
        return table
    }()

    /// The bytes in the order GPT-2's `vocab.json` numbers their one-byte
    /// pieces: the bytes that stand for themselves, then the others, each
    /// group in byte order (which is code point order of their characters).
    public static let bytesInVocabularyOrder: [UInt8] =
        (0..<256).map(UInt8.init).sorted { characterForByte[Int($0)].value < characterForByte[Int($1)].value }

    private static func standsForItself(_ byte: UInt8) -> Bool {
        (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte)
    }

    /// A vocabulary piece → its bytes. Characters outside the table (added
    /// tokens may hold any text) stand for their own UTF-8 bytes.
    public static func bytes(ofPiece piece: String) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(piece.utf8.count)
        for scalar in piece.unicodeScalars {
            if let byte = byteForCharacter[scalar] {
                bytes.append(byte)
            } else {
                bytes.append(contentsOf: String(scalar).utf8)
            }
        }
        return bytes
    }

    /// Bytes → the vocabulary piece that spells them.
    public static func piece(ofBytes bytes: some Sequence<UInt8>) -> String {
        var piece = String.UnicodeScalarView()
        for byte in bytes { piece.append(characterForByte[Int(byte)]) }
        return String(piece)
    }
}
