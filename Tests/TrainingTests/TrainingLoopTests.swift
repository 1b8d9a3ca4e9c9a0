import Foundation
import Tensors
import Training
import Transformer
import XCTest

/// The pieces together: forward, backward, clipping, AdamW and the schedule in a training loop,
/// and the trained weights in the engine.
final class TrainingLoopTests: XCTestCase {
    /// A few hundred AdamW steps on a repeated pattern drive the loss from ≈ ln V to near zero. The
    /// pattern repeats tokens with different successors (1 → 4 and 1 → 5; 5 → 9, 5 → 3 and 3 → 5),
    /// so the model must use attention over earlier positions, not just the current token.
    func testLossFallsOnARepeatedPatternCorpus() {
        let config = TransformerConfig.gpt2(layers: 2, heads: 2, width: 16, vocabularySize: 11, contextLength: 16)
        let pattern: [Int32] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4, 3, 3, 8, 3, 2, 7, 9, 5]
        let corpus = Array((0..<40).map { _ in pattern }.joined())
        let B = 4, T = 16, steps = 300
        var model = GPT2TrainingModel(config: config, seed: 42)
        let activations = GPT2Activations(config: config, B: B, T: T)
        let activationGradients = GPT2Activations(config: config, B: B, T: T, forGradients: true)
        var gradients = GPT2Parameters(zerosFor: config)
        var optimizer = AdamW(for: model.parameters, settings: AdamWSettings(beta2: 0.99, weightDecay: 0.0))
        let schedule = LearningRateSchedule(maxRate: 1e-2, minRate: 1e-3, warmupSteps: 20, totalSteps: steps)
        var random = SplitMix64(seed: 8)

        var losses: [Float] = []
        for step in 0..<steps {
            var inputs: [Int32] = [], targets: [Int32] = []
            for _ in 0..<B {
                let start = Int(random.next() % UInt64(corpus.count - T - 1))
                inputs += corpus[start..<(start + T)]
                targets += corpus[(start + 1)..<(start + T + 1)]
            }
            let loss = model.forward(inputs: inputs, targets: targets, activations: activations)!
            gradients.zero()
            model.backward(
                inputs: inputs, targets: targets, activations: activations,
                activationGradients: activationGradients, gradients: &gradients)
            clipByGlobalNorm(&gradients.values, maxNorm: 1)
            optimizer.update(&model.parameters, gradients: gradients, learningRate: schedule.rate(at: step))
            losses.append(loss)
        }
        let first = losses[0], last = losses.suffix(10).reduce(0, +) / 10
        print("repeated-pattern training: loss \(first) → \(last) (mean of the last 10 of \(steps) steps)")
        XCTAssertEqual(first, logf(11), accuracy: 0.1)
        XCTAssertLessThan(last, first / 10, "the loss should fall by more than 10×")

        // The trained weights, exported, run in the engine and continue the pattern.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-trained-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        XCTAssertNoThrow(try model.exportHuggingFace(to: folder))
        guard let engine = try? ModelLoader.loadHuggingFace(folder: folder) else { return XCTFail("the export does not load") }
        var cache = engine.makeCache()
        let window = corpus[5..<(5 + T)].map { Int($0) }
        let logits = engine.forward(window, cache: &cache, capture: .nothing, allLogits: true).logits
        var correct = 0
        for t in 0..<T {
            let row = Array(logits.row(t))
            let predicted = row.indices.max { row[$0] < row[$1] }!
            if predicted == Int(corpus[5 + t + 1]) { correct += 1 }
        }
        print("engine on the trained export: \(correct) of \(T) next tokens predicted")
        XCTAssertGreaterThanOrEqual(correct, T - 3)
    }
}
