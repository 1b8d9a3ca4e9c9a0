import Foundation
import Tensors
import Training
import Transformer
import XCTest

/// The masked-language BERT's gradients against central finite differences of its loss, as
/// GradientCheckTests does for GPT-2 (same step, bound and reasoning), on a tiny encoder
/// (V = 11, C = 8, NH = 2, L = 2, FF = 12, 2 token types, B = 2, T = 5) with 4 of its 10 rows masked.
final class BertGradientCheckTests: XCTestCase {
    static var config: TransformerConfig {
        var config = TransformerConfig(
            family: .bert, layers: 2, heads: 2, kvHeads: 2, width: 8, headSize: 4, feedForwardWidth: 12, vocabularySize: 11,
            contextLength: 8, normEpsilon: 1e-12, positional: .learnedAbsolute, tiedEmbeddings: true)
        config.head = .maskedToken
        config.tokenTypes = 2
        return config
    }

    /// Every tensor far from its initialisation (std 0.3–0.5, gains 1 ± 0.1, biases 0.1).
    static func scrambled(_ config: TransformerConfig, seed: UInt64) -> BertParameters {
        var parameters = BertParameters(zerosFor: config)
        var random = SplitMix64(seed: seed)
        for tensor in BertParameterTensor.allCases {
            let count = parameters.layout.counts[tensor.rawValue]
            switch tensor {
            case .wte, .wpe, .wtt: parameters[tensor] = random.normals(count, standardDeviation: 0.5)
            case .embLnw, .attLnw, .mlpLnw, .headLnw: parameters[tensor] = random.normals(count, standardDeviation: 0.1).map { 1 + $0 }
            default: parameters[tensor] = random.normals(count, standardDeviation: tensor.isMatrix ? 0.3 : 0.1)
            }
        }
        return parameters
    }

    func testEveryParameterGradientMatchesFiniteDifferences() {
        let config = Self.config, B = 2, T = 5
        var model = BertTrainingModel(config: config, parameters: Self.scrambled(config, seed: 7))
        let inputs = Tiny.tokens(B * T, V: config.vocabularySize, seed: 11)
        var targets = [Int32](repeating: -1, count: B * T)
        for (row, token) in [(1, 3), (4, 7), (5, 0), (8, 10)] { targets[row] = Int32(token) }
        let activations = BertActivations(config: config, B: B, T: T),
            activationGradients = BertActivations(config: config, B: B, T: T, forGradients: true)
        let loss = model.forward(inputs: inputs, targets: targets, activations: activations)!
        var gradients = BertParameters(zerosFor: config)
        model.backward(
            inputs: inputs, targets: targets, activations: activations, activationGradients: activationGradients, gradients: &gradients)

        let h: Float = 1e-2
        var report: [String] = []
        for tensor in BertParameterTensor.allCases {
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
            if tensor == .wtt {
                // Only type 0 is used in training: row 1's gradient is exactly 0, row 0's is not.
                XCTAssertEqual(gradients[.wtt].suffix(config.width), ArraySlice(repeating: 0, count: config.width))
            }
            XCTAssertGreaterThan(maxNumeric, 1e-4, "\(tensor): the loss should depend on every tensor")
            let relative = maxDifference / maxNumeric
            report.append("\(tensor): relative \(relative)")
            XCTAssertLessThan(relative, 2e-3, "\(tensor): gradient disagrees with finite differences")
        }
        print("BERT gradient check (h = \(h)), loss \(loss):\n  " + report.joined(separator: "\n  "))
    }

    /// Only masked rows count: a batch with no target has no loss and changes no gradient.
    func testUnmaskedRowsContributeNothing() {
        let config = Self.config
        let model = BertTrainingModel(config: config, parameters: Self.scrambled(config, seed: 3))
        let a = BertActivations(config: config, B: 1, T: 4), g = BertActivations(config: config, B: 1, T: 4)
        let inputs = Tiny.tokens(4, V: 11, seed: 1), none = [Int32](repeating: -1, count: 4)
        XCTAssertNil(model.forward(inputs: inputs, targets: none, activations: a))
        var gradients = BertParameters(zerosFor: config)
        model.backward(inputs: inputs, targets: none, activations: a, activationGradients: g, gradients: &gradients)
        XCTAssertTrue(gradients.values.allSatisfy { $0 == 0 })
    }
}
