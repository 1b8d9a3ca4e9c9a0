import Foundation
import Tensors
import Training
import Transformer

/// Tiny models and batches shared by the training tests.
enum Tiny {
    /// V = 11, C = 8, NH = 2, L = 2, P = 8: small enough to check every gradient by finite differences.
    static let config = TransformerConfig.gpt2(layers: 2, heads: 2, width: 8, vocabularySize: 11, contextLength: 8)

    /// Parameters far from GPT-2's initialisation, so that every tensor matters to the loss: matrices
    /// with std 0.3 (embeddings 0.5), biases 0.1, norm gains 1 ± 0.1.
    static func scrambledParameters(_ config: TransformerConfig, seed: UInt64) -> GPT2Parameters {
        var parameters = GPT2Parameters(zerosFor: config)
        var random = SplitMix64(seed: seed)
        for tensor in GPT2ParameterTensor.allCases {
            let count = parameters.layout.counts[tensor.rawValue]
            switch tensor {
            case .wte, .wpe:
                parameters[tensor] = random.normals(count, standardDeviation: 0.5)
            case .qkvw, .attprojw, .fcw, .fcprojw:
                parameters[tensor] = random.normals(count, standardDeviation: 0.3)
            case .ln1w, .ln2w, .lnfw:
                parameters[tensor] = random.normals(count, standardDeviation: 0.1).map { 1 + $0 }
            case .ln1b, .ln2b, .lnfb, .qkvb, .attprojb, .fcb, .fcprojb:
                parameters[tensor] = random.normals(count, standardDeviation: 0.1)
            }
        }
        return parameters
    }

    /// `count` token ids below `V`, seeded.
    static func tokens(_ count: Int, V: Int, seed: UInt64) -> [Int32] {
        var random = SplitMix64(seed: seed)
        return (0..<count).map { _ in Int32(random.next() % UInt64(V)) }
    }
}

/// Each GPT-2 parameter tensor's gradient against central finite differences of the loss,
/// `(loss(θ + h) − loss(θ − h)) / 2h`: per tensor, the largest difference and the largest
/// numeric gradient (callers bound their ratio).
func finiteDifferenceCheck(
    _ model: inout GPT2TrainingModel, inputs: [Int32], targets: [Int32], activations: GPT2Activations,
    gradients: GPT2Parameters, h: Float = 1e-2
) -> [(tensor: GPT2ParameterTensor, maxDifference: Float, maxNumeric: Float)] {
    GPT2ParameterTensor.allCases.map { tensor in
        var maxDifference: Float = 0, maxNumeric: Float = 0
        for i in gradients.layout.range(tensor) {
            let original = model.parameters.values[i]
            model.parameters.values[i] = original + h
            let plus = model.forward(inputs: inputs, targets: targets, activations: activations)!
            model.parameters.values[i] = original - h
            let minus = model.forward(inputs: inputs, targets: targets, activations: activations)!
            model.parameters.values[i] = original
            let numeric = (plus - minus) / (2 * h)
            maxDifference = max(maxDifference, abs(numeric - gradients.values[i]))
            maxNumeric = max(maxNumeric, abs(numeric))
        }
        return (tensor, maxDifference, maxNumeric)
    }
}
