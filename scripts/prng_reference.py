"""Reference values for Lantern's RandomSource (xorshift64*, as llama2.c's sampler uses it).

An independent Python implementation; Tests/GenerationTests/SamplerTests.swift checks the
Swift generator against what this prints. Run: python3 scripts/prng_reference.py
"""
MASK = (1 << 64) - 1


def xorshift64star(seed, n):
    state = seed or 0x9E3779B97F4A7C15
    out = []
    for _ in range(n):
        state ^= state >> 12
        state ^= (state << 25) & MASK
        state ^= state >> 27
        out.append(((state * 0x2545F4914F6CDD1D) & MASK) >> 32)
    return out


if __name__ == "__main__":
    for seed in (42, 0, 1234567):
        values = xorshift64star(seed, 5)
        print(seed, values, [(v >> 8) / 16777216.0 for v in values[:2]])
