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
    private let lock = NSLock()

    public init(path: String) throws {
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
    }

    deinit {
        FT_Done_Face(face)
        FT_Done_FreeType(library)
    }

    /// Advance width of `text` at `size` pixels (the em height), in pixels.
    public func width(_ text: String, size: Int) -> Int {
        lock.lock(); defer { lock.unlock() }
        guard let face else { return 0 }
        FT_Set_Pixel_Sizes(face, 0, FT_UInt(size))
        var advance = 0
        for scalar in text.unicodeScalars where FT_Load_Char(face, FT_ULong(scalar.value), FT_Int32(FT_LOAD_DEFAULT)) == 0 {
            advance += Int(face.pointee.glyph.pointee.advance.x)
        }
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
        guard let face else { return TextMask(width: width, height: height, baseline: ascent, coverage: coverage) }
        FT_Set_Pixel_Sizes(face, 0, FT_UInt(size))
        var penX = 0  // 26.6 fixed point
        for scalar in text.unicodeScalars {
            guard FT_Load_Char(face, FT_ULong(scalar.value), FT_Int32(FT_LOAD_RENDER)) == 0 else { continue }
            let slot = face.pointee.glyph.pointee
            let bitmap = slot.bitmap
            let left = (penX + 32) / 64 + Int(slot.bitmap_left), top = ascent - Int(slot.bitmap_top)
            if let buffer = bitmap.buffer {
                for row in 0..<Int(bitmap.rows) {
                    let y = top + row
                    guard y >= 0, y < height else { continue }
                    for column in 0..<Int(bitmap.width) {
                        let x = left + column
                        guard x >= 0, x < width else { continue }
                        let value = buffer[row * Int(bitmap.pitch) + column]
                        let i = y * width + x
                        coverage[i] = max(coverage[i], value)
                    }
                }
            }
            penX += Int(slot.advance.x)
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
    public mutating func text(_ text: String, x: Int, y: Int, size: Int, color: RGB = RGB(0, 0, 0),
                              font: Font, anchor: TextAnchor = .left) -> Int {
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
    public mutating func verticalText(_ text: String, x: Int, y: Int, size: Int, color: RGB = RGB(0, 0, 0),
                                      font: Font, anchor: TextAnchor = .left) {
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
