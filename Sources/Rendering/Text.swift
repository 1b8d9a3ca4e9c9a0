import CFreeType
import Foundation

/// Why text cannot be drawn.
public enum FontError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case missing(String)
    case unusable(String, code: Int32)

    public var description: String {
        switch self {
        case .missing(let path):
            return "the font \(path) is missing; install it with `apt-get install fonts-dejavu-core` (Debian/Ubuntu)"
        case .unusable(let path, let code):
            return "FreeType cannot open the font \(path) (error \(code)); reinstall fonts-dejavu-core"
        }
    }

    public var errorDescription: String? { description }
}

/// A string rendered to 8-bit coverage (0 transparent … 255 solid), ready to blend onto a canvas.
/// `baseline` is the row of the text's baseline, counted from the mask's top.
public struct TextMask: Sendable {
    public var width: Int
    public var height: Int
    public var baseline: Int
    public var coverage: [UInt8]
}

/// DejaVu Sans through FreeType: measures and rasterises strings with anti-aliasing.
/// One face per weight is loaded once per process; FreeType faces are not thread-safe,
/// so every use goes through a lock.
public final class Font: @unchecked Sendable {
    public enum Weight: Sendable { case regular, bold }

    public static let folder = "/usr/share/fonts/truetype/dejavu"
    public static func path(_ weight: Weight) -> String {
        folder + (weight == .bold ? "/DejaVuSans-Bold.ttf" : "/DejaVuSans.ttf")
    }
    /// For characters DejaVu Sans lacks (most emoji): Symbola (Debian's fonts-symbola), when
    /// installed. A character no font has is drawn as U+FFFD �, never as an empty box.
    public static let fallbackPath = "/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf"

    private static let lock = NSLock()
    nonisolated(unsafe) private static var loaded: [Weight: Font] = [:]

    /// The shared font of `weight`, loaded on first use.
    public static func shared(_ weight: Weight = .regular) throws -> Font {
        lock.lock(); defer { lock.unlock() }
        if let font = loaded[weight] { return font }
        let font = try Font(path: path(weight))
        loaded[weight] = font
        return font
    }

    private var library: FT_Library?
    private var face: FT_Face?
    private var fallbackFace: FT_Face?
    private let lock = NSLock()

    public init(path: String, fallback: String? = Font.fallbackPath) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw FontError.missing(path) }
        var library: FT_Library?
        var code = FT_Init_FreeType(&library)
        guard code == 0 else { throw FontError.unusable(path, code: code) }
        var face: FT_Face?
        code = FT_New_Face(library, path, 0, &face)
        guard code == 0 else {
            FT_Done_FreeType(library)
            throw FontError.unusable(path, code: code)
        }
        self.library = library
        self.face = face
        if let fallback, FileManager.default.fileExists(atPath: fallback) {
            var second: FT_Face?
            if FT_New_Face(library, fallback, 0, &second) == 0 { fallbackFace = second }
        }
    }

    deinit {
        if let fallbackFace { FT_Done_Face(fallbackFace) }
        FT_Done_Face(face)
        FT_Done_FreeType(library)
    }

    /// One rendered glyph: its coverage bitmap (`rows` × `width`), where it sits relative to the
    /// pen (`left`, `top` above the baseline) and how far it moves the pen (26.6 fixed point).
    private struct Glyph {
        var advance: Int
        var left: Int, top: Int
        var width: Int, rows: Int
        var coverage: [UInt8]
    }
    private struct GlyphKey: Hashable { var scalar: UInt32; var size: Int }
    /// Every glyph drawn so far. Loading a glyph runs the font's hinting program, which was most
    /// of the time text took: charts draw the same few dozen characters again and again.
    private var glyphs: [GlyphKey: Glyph] = [:]

    /// The glyph of `scalar` at `size` pixels, or nil if the font cannot load it. Call with `lock` held.
    private func glyph(_ scalar: Unicode.Scalar, size: Int) -> Glyph? {
        let key = GlyphKey(scalar: scalar.value, size: size)
        if let glyph = glyphs[key] { return glyph }
        guard let main = face else { return nil }
        // A tab is drawn as ⇥; other control characters as �; a character the main face lacks
        // from the fallback face, else as �. (FreeType would draw glyph 0, an empty box.)
        let wanted: Unicode.Scalar =
            scalar == "\t" ? "⇥" : scalar.properties.generalCategory == .control ? "\u{FFFD}" : scalar
        var chosen = main
        if FT_Get_Char_Index(main, FT_ULong(wanted.value)) != 0 {
            chosen = main
        } else if let fallbackFace, FT_Get_Char_Index(fallbackFace, FT_ULong(wanted.value)) != 0 {
            chosen = fallbackFace
        }
        let code = FT_Get_Char_Index(chosen, FT_ULong(wanted.value)) != 0 ? wanted.value : 0xFFFD
        FT_Set_Pixel_Sizes(chosen, 0, FT_UInt(size))
        guard FT_Load_Char(chosen, FT_ULong(code), FT_Int32(FT_LOAD_RENDER)) == 0 else { return nil }
        let slot = chosen.pointee.glyph.pointee
        let bitmap = slot.bitmap
        let width = Int(bitmap.width), rows = Int(bitmap.rows)
        var coverage = [UInt8](repeating: 0, count: width * rows)
        if let buffer = bitmap.buffer {
            for row in 0..<rows {
                for column in 0..<width { coverage[row * width + column] = buffer[row * Int(bitmap.pitch) + column] }
            }
        }
        let glyph = Glyph(
            advance: Int(slot.advance.x), left: Int(slot.bitmap_left), top: Int(slot.bitmap_top),
            width: width, rows: rows, coverage: coverage)
        glyphs[key] = glyph
        return glyph
    }

    /// Advance width of `text` at `size` pixels (the em height), in pixels.
    public func width(_ text: String, size: Int) -> Int {
        lock.lock(); defer { lock.unlock() }
        let advance = text.unicodeScalars.reduce(0) { $0 + (glyph($1, size: size)?.advance ?? 0) }
        return (advance + 63) / 64
    }

    /// Ascent and descent of the face at `size` pixels (positive numbers).
    public func lineMetrics(size: Int) -> (ascent: Int, descent: Int) {
        lock.lock(); defer { lock.unlock() }
        guard let face else { return (size, 0) }
        FT_Set_Pixel_Sizes(face, 0, FT_UInt(size))
        let metrics = face.pointee.size.pointee.metrics
        return (Int(metrics.ascender + 63) / 64, Int(-metrics.descender + 63) / 64)
    }

    /// Rasterises `text` at `size` pixels into a coverage mask one line high.
    public func mask(_ text: String, size: Int) -> TextMask {
        let (ascent, descent) = lineMetrics(size: size)
        let width = max(1, self.width(text, size: size))
        let height = ascent + descent
        var coverage = [UInt8](repeating: 0, count: width * height)
        lock.lock(); defer { lock.unlock() }
        var penX = 0  // 26.6 fixed point
        for scalar in text.unicodeScalars {
            guard let glyph = glyph(scalar, size: size) else { continue }
            let left = (penX + 32) / 64 + glyph.left, top = ascent - glyph.top
            for row in 0..<glyph.rows {
                let y = top + row
                guard y >= 0, y < height else { continue }
                for column in 0..<glyph.width {
                    let x = left + column
                    guard x >= 0, x < width else { continue }
                    let i = y * width + x
                    coverage[i] = max(coverage[i], glyph.coverage[row * glyph.width + column])
                }
            }
            penX += glyph.advance
        }
        return TextMask(width: width, height: height, baseline: ascent, coverage: coverage)
    }
}

/// How a string sits relative to the point it is drawn at.
public enum TextAnchor: Sendable { case left, center, right }

extension Canvas {
    /// Draws `text` with its baseline at `y`, starting at (`anchor` .left), centred on, or
    /// ending at (.right) `x`. Returns the drawn width.
    @discardableResult
    public mutating func text(
        _ text: String, x: Int, y: Int, size: Int, color: RGB = RGB(0, 0, 0),
        font: Font, anchor: TextAnchor = .left
    ) -> Int {
        let mask = font.mask(text, size: size)
        let left = anchor == .left ? x : anchor == .center ? x - mask.width / 2 : x - mask.width
        let top = y - mask.baseline
        for row in 0..<mask.height {
            for column in 0..<mask.width {
                blend(left + column, top + row, color, coverage: mask.coverage[row * mask.width + column])
            }
        }
        return mask.width
    }

    /// Draws `text` turned 90° anticlockwise (reading bottom to top), as on a vertical axis.
    /// The text's baseline runs along the column `x`; it starts at row `y` (anchor .left) and
    /// goes up, or ends at `y` (.right), or is centred on `y`.
    public mutating func verticalText(
        _ text: String, x: Int, y: Int, size: Int, color: RGB = RGB(0, 0, 0),
        font: Font, anchor: TextAnchor = .left
    ) {
        let mask = font.mask(text, size: size)
        // Mask pixel (column c, row r) goes to (x - baseline + r, start - c).
        let start = anchor == .left ? y : anchor == .center ? y + mask.width / 2 : y + mask.width
        for row in 0..<mask.height {
            for column in 0..<mask.width {
                blend(x - mask.baseline + row, start - column, color, coverage: mask.coverage[row * mask.width + column])
            }
        }
    }
}

/// Shortens `text` with … until it is at most `maxWidth` pixels wide at `size`.
public func shortened(_ text: String, maxWidth: Int, size: Int, font: Font) -> String {
    if font.width(text, size: size) <= maxWidth { return text }
    var characters = Array(text)
    while characters.count > 1 {
        characters.removeLast()
        let candidate = String(characters) + "…"
        if font.width(candidate, size: size) <= maxWidth { return candidate }
    }
    return "…"
}

/// A complete numbered key of tokens, "tokens:  0 Once  1 ␣upon  2 ␣a …", wrapped into lines of
/// at most `maxWidth` pixels at `size` (later lines indented), each piece cut to 12 characters:
/// the key under a picture whose token labels are thinned or absent.
public func numberedKey(_ pieces: [String], heading: String, maxWidth: Int, size: Int, font: Font) -> [String] {
    var lines: [String] = [], current = heading
    for (i, piece) in pieces.enumerated() {
        let item = "  \(i) " + (piece.count > 12 ? String(piece.prefix(11)) + "…" : piece)
        if font.width(current + item, size: size) > maxWidth, current != heading {
            lines.append(current)
            current = "        " + item.dropFirst(2)
        } else {
            current += item
        }
    }
    return lines + [current]
}
