import Foundation

/// SplitMix64: a tiny seeded generator for building reproducible random weights
/// (benchmarks and tests), independent of the platform's generator.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` values from a normal distribution with the given standard deviation (Box–Muller).
    public mutating func normals(_ count: Int, standardDeviation: Float) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        var i = 0
        while i < count {
            let u1 = max(Float(next() >> 40) / Float(1 << 24), 1e-7), u2 = Float(next() >> 40) / Float(1 << 24)
            let radius = (-2 * logf(u1)).squareRoot() * standardDeviation
            out[i] = radius * cosf(2 * .pi * u2)
            if i + 1 < count { out[i + 1] = radius * sinf(2 * .pi * u2) }
            i += 2
        }
        return out
    }
}
