import Foundation
import Tensors

/// How a decoder turns its last residual stream into logits, in the pieces direct logit
/// attribution needs: `logit[t] = u_t · norm(x)`, where `norm` is the final LayerNorm (GPT-2) or
/// RMSNorm (Llama) and `u_t` token t's unembedding row. The residual `x` is a sum of writes (the
/// embeddings, every head, every MLP); freezing the norm's scale for the whole `x` makes the logit
/// a sum over those writes (TransformerLens's `apply_ln_to_stack`).
public struct LogitReadout: Sendable {
    public enum Norm: Sendable {
        case layerNorm(gain: [Float], shift: [Float])  // [C] each: centres, divides by the std
        case rmsNorm(gain: [Float])  // [C]: divides by the root mean square
    }

    public let norm: Norm
    public let epsilon: Float
    /// `[V, C]`: the tied token embedding or a separate classifier.
    let unembedding: WeightMatrix

    public init(norm: Norm, epsilon: Float, unembedding: WeightMatrix) {
        self.norm = norm
        self.epsilon = epsilon
        self.unembedding = unembedding
    }

    /// How one token's logit reads the writes into the residual stream `x` `[C]` whose norm is frozen.
    public func reader(token: Int, residual x: [Float]) -> DirectLogitReader {
        let C = x.count
        var row = [Float](repeating: 0, count: C)
        row.withUnsafeMutableBufferPointer { unembedding.widenRows(token..<(token + 1), into: $0.baseAddress!) }
        let values = x.map(Double.init)
        let mean = values.reduce(0, +) / Double(C)
        switch norm {
        case .layerNorm(let gain, let shift):
            let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(C)
            let scale = (variance + Double(epsilon)).squareRoot()
            return DirectLogitReader(
                direction: (0..<C).map { Double(gain[$0]) * Double(row[$0]) / scale }, centres: true,
                constant: Float((0..<C).reduce(0.0) { $0 + Double(shift[$1]) * Double(row[$1]) }))
        case .rmsNorm(let gain):
            let meanSquare = values.reduce(0) { $0 + $1 * $1 } / Double(C)
            let scale = (meanSquare + Double(epsilon)).squareRoot()
            return DirectLogitReader(direction: (0..<C).map { Double(gain[$0]) * Double(row[$0]) / scale }, centres: false, constant: 0)
        }
    }
}

/// One token's logit as a linear read of residual-stream writes (the final norm's scale frozen).
public struct DirectLogitReader: Sendable {
    /// `[C]`: gain ⊙ unembedding row ÷ the norm's scale.
    let direction: [Double]
    /// LayerNorm subtracts each write's mean (the sum of the writes' means is the stream's mean).
    let centres: Bool
    /// What no write carries: the final LayerNorm's shift read by the unembedding row (0 for RMSNorm).
    public let constant: Float

    /// The logit `write` `[C]` contributes.
    public func logit(of write: ArraySlice<Float>) -> Float {
        let mean = centres ? write.reduce(0.0) { $0 + Double($1) } / Double(write.count) : 0
        var sum = 0.0
        for (i, value) in zip(direction.indices, write) { sum += (Double(value) - mean) * direction[i] }
        return Float(sum)
    }
}
