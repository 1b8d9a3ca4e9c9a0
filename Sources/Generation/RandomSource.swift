/// Lantern's own seeded random generator, so that one seed replays the same run on any
/// machine and with any Swift version (the standard library's generator is not seedable).
///
/// It is xorshift64* (Vigna, 2016), exactly as llama2.c's sampler uses it: the state is the
/// seed (0, which would stay 0 forever, is replaced by 0x9E3779B97F4A7C15); each draw shifts
/// the state (>>12, <<25, >>27), multiplies by 0x2545F4914F6CDD1D and keeps the top 32 bits.
/// A uniform float in [0, 1) is the top 24 of those bits divided by 2²⁴.
public struct RandomSource: Sendable, Equatable {
    public private(set) var state: UInt64

    public init(seed: UInt64) {
        state = seed == 0 ? 0x9E37_79B9_7F4A_7C15 : seed
    }

    public mutating func nextUInt32() -> UInt32 {
        state ^= state >> 12
        state ^= state << 25
        state ^= state >> 27
        return UInt32(truncatingIfNeeded: (state &* 0x2545_F491_4F6C_DD1D) >> 32)
    }

    /// Uniform in [0, 1), 24 bits of resolution.
    public mutating func nextFloat() -> Float {
        Float(nextUInt32() >> 8) / 16_777_216
    }
}
