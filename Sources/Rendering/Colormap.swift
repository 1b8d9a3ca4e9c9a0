/// An 8-bit sRGB colour.
public struct RGB: Sendable, Equatable {
    public var r: UInt8, g: UInt8, b: UInt8
    public init(_ r: UInt8, _ g: UInt8, _ b: UInt8) { self.r = r; self.g = g; self.b = b }

    /// Relative luminance, to pick readable text (black on light, white on dark).
    public var isLight: Bool { 0.2126 * Double(r) + 0.7152 * Double(g) + 0.0722 * Double(b) > 140 }
}

/// Maps numbers to colours: viridis for values in a range (attention, probabilities), a
/// blue–white–red diverging map for signed values centred on zero.
public enum Colormap: String, Sendable, CaseIterable {
    case viridis
    case diverging

    /// Colour of `value` where `low` maps to the first colour and `high` to the last
    /// (for `diverging`, pass a symmetric range so zero is white).
    public func color(_ value: Float, low: Float = 0, high: Float = 1) -> RGB {
        let table = self == .viridis ? ColormapTables.viridis : ColormapTables.redBlue
        let span = high - low
        var t = span > 0 ? (value - low) / span : 0.5
        if !t.isFinite { t = value.isNaN ? 0 : (value > 0 ? 1 : 0) }
        let index = Int((min(max(t, 0), 1) * 255).rounded())
        let (r, g, b) = table[index]
        return RGB(r, g, b)
    }
}
