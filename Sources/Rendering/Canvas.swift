/// An RGBA8 picture in memory: `width × height` pixels, rows top to bottom, 4 bytes a pixel
/// (red, green, blue, alpha), the layout libpng's simplified API reads and writes.
/// Coordinates are pixels with (0, 0) at the top left; drawing outside the canvas is clipped.
public struct Canvas: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `height × width × 4` bytes.
    public var pixels: [UInt8]

    /// A canvas filled with `background` (opaque).
    public init(width: Int, height: Int, background: RGB = RGB(255, 255, 255)) {
        precondition(width > 0 && height > 0, "Canvas: \(width)×\(height) is not a picture")
        self.width = width
        self.height = height
        pixels = [UInt8](repeating: 255, count: width * height * 4)
        fill(background)
    }

    /// A canvas over existing RGBA8 bytes (e.g. a decoded PNG).
    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 4, "Canvas: \(pixels.count) bytes for \(width)×\(height) RGBA")
        self.width = width
        self.height = height
        self.pixels = pixels
    }

    /// The colour at (x, y), ignoring alpha.
    public func pixel(_ x: Int, _ y: Int) -> RGB {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "Canvas: (\(x), \(y)) is outside \(width)×\(height)")
        let i = (y * width + x) * 4
        return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
    }

    /// Sets (x, y) to `color`; outside the canvas nothing happens.
    public mutating func set(_ x: Int, _ y: Int, _ color: RGB) {
        guard x >= 0, x < width, y >= 0, y < height else { return }
        let i = (y * width + x) * 4
        pixels[i] = color.r; pixels[i + 1] = color.g; pixels[i + 2] = color.b; pixels[i + 3] = 255
    }

    /// Mixes `color` into (x, y) with `coverage` 0…255 (anti-aliased text and lines).
    public mutating func blend(_ x: Int, _ y: Int, _ color: RGB, coverage: UInt8) {
        guard coverage > 0, x >= 0, x < width, y >= 0, y < height else { return }
        if coverage == 255 { set(x, y, color); return }
        let i = (y * width + x) * 4
        let a = Int(coverage), b = 255 - a
        pixels[i] = UInt8((Int(color.r) * a + Int(pixels[i]) * b + 127) / 255)
        pixels[i + 1] = UInt8((Int(color.g) * a + Int(pixels[i + 1]) * b + 127) / 255)
        pixels[i + 2] = UInt8((Int(color.b) * a + Int(pixels[i + 2]) * b + 127) / 255)
        pixels[i + 3] = 255
    }

    public mutating func fill(_ color: RGB) {
        fillRect(x: 0, y: 0, width: width, height: height, color)
    }

    /// A filled rectangle with its top-left corner at (x, y).
    public mutating func fillRect(x: Int, y: Int, width w: Int, height h: Int, _ color: RGB) {
        let x0 = max(0, x), y0 = max(0, y), x1 = min(width, x + w), y1 = min(height, y + h)
        guard x0 < x1, y0 < y1 else { return }
        for row in y0..<y1 {
            var i = (row * width + x0) * 4
            for _ in x0..<x1 {
                pixels[i] = color.r; pixels[i + 1] = color.g; pixels[i + 2] = color.b; pixels[i + 3] = 255
                i += 4
            }
        }
    }

    /// A rectangle outline `thickness` pixels wide, inside the rectangle.
    public mutating func strokeRect(x: Int, y: Int, width w: Int, height h: Int, _ color: RGB, thickness t: Int = 1) {
        fillRect(x: x, y: y, width: w, height: t, color)
        fillRect(x: x, y: y + h - t, width: w, height: t, color)
        fillRect(x: x, y: y, width: t, height: h, color)
        fillRect(x: x + w - t, y: y, width: t, height: h, color)
    }

    /// An anti-aliased line `width` pixels thick with round ends, from `a` to `b` in pixel-centre
    /// coordinates (pixel (x, y) is centred on (x, y)), mixed in at `opacity` 0…1. Each pixel
    /// within reach is covered by how far its centre lies inside the stroke.
    public mutating func smoothLine(
        from a: (x: Double, y: Double), to b: (x: Double, y: Double), _ color: RGB, width: Double = 2, opacity: Double = 1
    ) {
        let half = width / 2, reach = half + 1
        let dx = b.x - a.x, dy = b.y - a.y, lengthSquared = dx * dx + dy * dy
        // Walk the longer axis; across it, only the pixels within reach of the line.
        let steep = abs(dy) > abs(dx)
        let (along0, along1) = steep ? (min(a.y, b.y), max(a.y, b.y)) : (min(a.x, b.x), max(a.x, b.x))
        let across = reach * (lengthSquared > 0 ? lengthSquared.squareRoot() / max(abs(steep ? dy : dx), 1e-9) : 1)
        for major in Int((along0 - reach).rounded(.down))...Int((along1 + reach).rounded(.up)) {
            let t = lengthSquared == 0 ? 0 : min(max((Double(major) - (steep ? a.y : a.x)) / (steep ? dy : dx), 0), 1)
            let centre = steep ? a.x + t * dx : a.y + t * dy
            for minor in Int((centre - across).rounded(.down))...Int((centre + across).rounded(.up)) {
                let (px, py) = steep ? (Double(minor), Double(major)) : (Double(major), Double(minor))
                // Distance from the pixel's centre to the segment.
                let u = lengthSquared == 0 ? 0 : min(max(((px - a.x) * dx + (py - a.y) * dy) / lengthSquared, 0), 1)
                let ex = px - (a.x + u * dx), ey = py - (a.y + u * dy)
                let coverage = min(max(half + 0.5 - (ex * ex + ey * ey).squareRoot(), 0), 1) * opacity
                blend(Int(px), Int(py), color, coverage: UInt8((coverage * 255).rounded()))
            }
        }
    }
}
