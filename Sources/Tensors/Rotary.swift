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

/// How a checkpoint stretches RoPE to a longer context than it was first trained for, by scaling
/// the pairs' frequencies `θ^(−2j/hs)` (Hugging Face's `rope_type`). Only kinds that change the
/// frequencies alone are here; kinds that also rescale cos/sin (yarn, longrope, dynamic) are
/// refused when a config is read.
public enum RotaryScaling: Sendable, Equatable, CustomStringConvertible {
    case none
    /// Every frequency divided by `factor` (positions effectively compressed: "linear").
    case linear(factor: Float)
    /// Llama 3.1: long wavelengths (beyond `originalContext / lowFrequencyFactor`) divided by
    /// `factor`, short ones (below `originalContext / highFrequencyFactor`) kept, and a smooth
    /// blend between.
    case llama3(factor: Float, lowFrequencyFactor: Float, highFrequencyFactor: Float, originalContext: Int)

    public var description: String {
        switch self {
        case .none: return "none"
        case .linear(let factor): return "linear, factor \(factor)"
        case .llama3(let factor, let low, let high, let original):
            return "llama3, factor \(factor), low/high frequency factors \(low)/\(high), original context \(original)"
        }
    }

    /// The `hs / 2` inverse frequencies of pairs `j`: `θ^(−2j/hs)`, then scaled (as transformers'
    /// `ROPE_INIT_FUNCTIONS` compute them, in float32).
    public func inverseFrequencies(headSize hs: Int, theta: Float) -> [Float] {
        let plain = (0..<(hs / 2)).map { j in powf(theta, -Float(2 * j) / Float(hs)) }
        switch self {
        case .none:
            return plain
        case .linear(let factor):
            return plain.map { $0 / factor }
        case .llama3(let factor, let low, let high, let original):
            let lowFrequencyWavelength = Float(original) / low, highFrequencyWavelength = Float(original) / high
            return plain.map { frequency in
                let wavelength = 2 * Float.pi / frequency
                if wavelength > lowFrequencyWavelength { return frequency / factor }
                if wavelength < highFrequencyWavelength { return frequency }
                let smooth = (Float(original) / wavelength - low) / (high - low)
                return (1 - smooth) * frequency / factor + smooth * frequency
            }
        }
    }
}

/// Applies RoPE in place to `x[heads, headSize]`, one token at `position`, with the pairs'
/// inverse frequencies given (`RotaryScaling.inverseFrequencies`, `hs / 2` of them).
public func applyRotary(
    _ x: UnsafeMutablePointer<Float>, heads: Int, headSize hs: Int,
    position: Int, inverseFrequencies: [Float], layout: RotaryLayout
) {
    let half = hs / 2
    for j in 0..<half {
        let angle = Float(position) * inverseFrequencies[j]
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

/// Applies RoPE in place to `x[heads, headSize]`, one token at `position` (no scaling).
public func applyRotary(
    _ x: UnsafeMutablePointer<Float>, heads: Int, headSize hs: Int,
    position: Int, theta: Float, layout: RotaryLayout
) {
    applyRotary(
        x, heads: heads, headSize: hs, position: position,
        inverseFrequencies: RotaryScaling.none.inverseFrequencies(headSize: hs, theta: theta), layout: layout)
}
