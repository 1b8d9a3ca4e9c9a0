import Foundation

/// Which channels of a head rotary position embedding (RoPE) rotates together.
///
/// Both rotate pairs of channels by the angle `position · θ^(−2j/hs)` for pair `j`;
/// they differ only in *which* two channels form pair `j`, so the same weights give
/// different pictures if the wrong layout is used:
/// - `interleaved`: channels `(2j, 2j+1)` — llama2.c and Meta's original code.
/// - `halfSplit`: channels `(j, j + hs/2)` — Hugging Face transformers' `rotate_half`.
public enum RotaryLayout: String, Sendable, Codable {
    case interleaved
    case halfSplit = "half-split"
}

/// The angle (radians) that RoPE turns pair `pair` of a head of size `headSize` at `position`.
@inline(__always)
public func rotaryAngle(position: Int, pair: Int, headSize: Int, theta: Float) -> Float {
    Float(position) * powf(theta, -Float(2 * pair) / Float(headSize))
}

/// Applies RoPE in place to `x[heads, headSize]`, one token at `position`.
public func applyRotary(
    _ x: UnsafeMutablePointer<Float>, heads: Int, headSize hs: Int,
    position: Int, theta: Float, layout: RotaryLayout
) {
    let half = hs / 2
    for j in 0..<half {
        let angle = rotaryAngle(position: position, pair: j, headSize: hs, theta: theta)
        let c = cosf(angle), s = sinf(angle)
        let (a, b) = layout == .interleaved ? (2 * j, 2 * j + 1) : (j, j + half)
        for h in 0..<heads {
            let v = x + h * hs
            let x0 = v[a], x1 = v[b]
            v[a] = x0 * c - x1 * s
            v[b] = x0 * s + x1 * c
        }
    }
}
