// MARK: - Visible pieces

/// Turns a token's bytes into text a learner can read in a table or on a
/// heatmap axis: spaces and line breaks would otherwise be invisible, and a
/// byte that is only part of a character has no text of its own.
public enum PieceDisplay {
    /// Space → `␣`, newline → `↵`, tab → `⇥`; other control, format and
    /// non-space whitespace characters → `\u{1B}`-style escapes; bytes that are
    /// not a complete UTF-8 character → `<0xE2>`-style byte names.
    public static func visible(_ bytes: [UInt8]) -> String {
        var text = ""
        var index = 0
        while index < bytes.count {
            if let (scalar, length) = UTF8Bytes.scalar(in: bytes, at: index) {
                text += visible(scalar)
                index += length
            } else {
                text += byteName(bytes[index])
                index += 1
            }
        }
        return text
    }

    /// `<0x0A>`: the name SentencePiece gives byte tokens (two upper-case hex digits).
    public static func byteName(_ byte: UInt8) -> String {
        let hex = String(byte, radix: 16, uppercase: true)
        return "<0x" + (hex.count == 1 ? "0" + hex : hex) + ">"
    }

    static func visible(_ scalar: Unicode.Scalar) -> String {
        switch scalar {
        case " ": return "␣"
        case "\n": return "↵"
        case "\t": return "⇥"
        default: break
        }
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .surrogate, .unassigned:
            return "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
        default:
            return String(scalar)
        }
    }
}
