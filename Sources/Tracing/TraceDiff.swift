import Foundation
import Tensors

/// How two traces of the same prompt differ: where their tokens part ways, and per layer and
/// head how far attention (and per layer the residual stream) moved over the positions they share.
public struct TraceDiff: Sendable {
    public struct HeadDifference: Sendable {
        public var layer: Int, head: Int
        /// Largest and mean absolute difference of the attention probabilities.
        public var maxAbs: Float, meanAbs: Float
    }

    public struct LayerDifference: Sendable {
        public var layer: Int
        /// ‖a − b‖ / ‖a‖ of the residual stream leaving the layer.
        public var relative: Float
    }

    /// Index of the first generated token that differs (nil when one continuation is a prefix of the other).
    public var firstDivergence: Int?
    /// Positions compared: those whose inputs are identical in both traces (the prompt plus the
    /// generated tokens before the divergence).
    public var sharedPositions: Int
    public var heads: [HeadDifference]
    public var layers: [LayerDifference]
    public var samePrompt: Bool

    /// Throws when the two traces cannot be compared row by row: models of different shapes
    /// (the same architecture with other weights — fine-tuned, f16 — compares fine), or no first
    /// token in common.
    public init(_ a: Trace, _ b: Trace) throws {
        let ma = a.metadata, mb = b.metadata
        func shape(_ m: TraceModel) -> String {
            "\(m.family), \(m.layers) layers × \(m.heads) heads, width \(m.width), vocabulary \(m.vocabularySize)"
        }
        guard shape(ma.model) == shape(mb.model) else {
            throw TraceError.notComparable("they come from models of different shapes (A: \(shape(ma.model)); B: \(shape(mb.model)))")
        }
        samePrompt = ma.promptIds == mb.promptIds
        let generated = zip(ma.generatedIds, mb.generatedIds)
        firstDivergence = generated.enumerated().first { $0.element.0 != $0.element.1 }?.offset
        // Token t's row depends on tokens 0...t: rows stay comparable while the inputs agree.
        let commonPrefix = zip(ma.tokens, mb.tokens).prefix { $0 == $1 }.count
        var shared = commonPrefix
        for name in a.tensors.keys where b.tensors[name] != nil {
            shared = min(
                shared, a.tensors[name]!.shape.count == 3 ? a.tensors[name]!.shape[1] : a.tensors[name]!.shape[0],
                b.tensors[name]!.shape.count == 3 ? b.tensors[name]!.shape[1] : b.tensors[name]!.shape[0])
        }
        sharedPositions = shared
        guard shared > 0 else {
            throw TraceError.notComparable("their token sequences differ from the first token on, so no position saw the same input")
        }
        heads = []
        layers = []
        let layerCount = min(ma.model.layers, mb.model.layers)
        for l in 0..<layerCount {
            if let pa = a.tensors["blocks.\(l).attn.pattern"], let pb = b.tensors["blocks.\(l).attn.pattern"] {
                let H = min(pa.shape[0], pb.shape[0]), Na = pa.shape[1], Nb = pb.shape[1]
                for h in 0..<H {
                    var worst: Float = 0, total: Float = 0, count = 0
                    for q in 0..<shared {
                        for k in 0...q {
                            let d = abs(pa.scalars[(h * Na + q) * Na + k] - pb.scalars[(h * Nb + q) * Nb + k])
                            worst = max(worst, d); total += d; count += 1
                        }
                    }
                    heads.append(HeadDifference(layer: l, head: h, maxAbs: worst, meanAbs: count > 0 ? total / Float(count) : 0))
                }
            }
            if let ra = a.tensors["blocks.\(l).resid_post"], let rb = b.tensors["blocks.\(l).resid_post"], ra.shape[1] == rb.shape[1] {
                let W = ra.shape[1]
                var difference: Float = 0, norm: Float = 0
                for i in 0..<(shared * W) {
                    let d = ra.scalars[i] - rb.scalars[i]
                    difference += d * d
                    norm += ra.scalars[i] * ra.scalars[i]
                }
                layers.append(LayerDifference(layer: l, relative: norm > 0 ? (difference / norm).squareRoot() : 0))
            }
        }
    }
}
