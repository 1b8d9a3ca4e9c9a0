import Foundation
import Tensors

/// The positional schemes side by side, as tables a lesson or picture can show.
public enum PositionalTables {
    /// The sinusoidal encoding of "Attention Is All You Need" (Vaswani et al., 2017), `[P, C]`:
    /// `PE[pos, 2i] = sin(pos / 10000^(2i/C))`, `PE[pos, 2i+1] = cos(pos / 10000^(2i/C))`.
    /// Neither GPT-2 (learned) nor Llama (rotary) uses it; it is here to compare against.
    public static func sinusoidal(positions P: Int, width C: Int, base: Double = 10000) -> Tensor {
        var table = [Float](repeating: 0, count: P * C)
        for pos in 0..<P {
            for i in stride(from: 0, to: C, by: 2) {
                let angle = Double(pos) / pow(base, Double(i) / Double(C))
                table[pos * C + i] = Float(sin(angle))
                if i + 1 < C { table[pos * C + i + 1] = Float(cos(angle)) }
            }
        }
        return Tensor(shape: [P, C], scalars: table)
    }

    /// Rotary angles `[P, hs/2]`: how far RoPE turns channel pair j at each position
    /// (`pos · θ^(−2j/hs)` radians, the frequencies scaled as `scaling` says), the same for every
    /// head and layer.
    public static func rotaryAngles(positions P: Int, headSize hs: Int, theta: Float, scaling: RotaryScaling = .none) -> Tensor {
        let frequencies = scaling.inverseFrequencies(headSize: hs, theta: theta)
        var table = [Float](repeating: 0, count: P * hs / 2)
        for pos in 0..<P {
            for j in 0..<(hs / 2) { table[pos * hs / 2 + j] = Float(pos) * frequencies[j] }
        }
        return Tensor(shape: [P, hs / 2], scalars: table)
    }
}
