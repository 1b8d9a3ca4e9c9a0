import Foundation
import Tensors
import Training
import Transformer
import XCTest

/// Loss and every gradient against PyTorch (Hugging Face GPT2LMHeadModel, autograd in float64) on
/// a committed fixture made by scripts/make_training_fixture.py: V = 11, C = 8, NH = 2, L = 2, B = 2, T = 5.
/// The error reported per tensor is `max |Lantern − PyTorch| / max |PyTorch|`; Lantern computes in
/// float32 (measured: at most 6e-7), so the bound asserted is 1e-5 (a wrong term gives errors of order 1).
final class PyTorchReferenceTests: XCTestCase {
    private struct Batch: Decodable {
        var inputs: [[Int32]], targets: [[Int32]], loss: Double
    }

    private let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/gpt2-tiny-gradients")

    func testLossAndGradientsMatchPyTorch() throws {
        let model = try GPT2TrainingModel(huggingFaceFolder: folder)
        let config = model.config
        XCTAssertEqual([config.vocabularySize, config.width, config.heads, config.layers], [11, 8, 2, 2])
        let batch = try JSONDecoder().decode(Batch.self, from: Data(contentsOf: folder.appendingPathComponent("batch.json")))
        let B = batch.inputs.count, T = batch.inputs[0].count
        let inputs = batch.inputs.flatMap { $0 }, targets = batch.targets.flatMap { $0 }

        let activations = GPT2Activations(config: config, B: B, T: T)
        let activationGradients = GPT2Activations(config: config, B: B, T: T)
        let loss = try XCTUnwrap(model.forward(inputs: inputs, targets: targets, activations: activations))
        var gradients = GPT2Parameters(zerosFor: config)
        model.backward(inputs: inputs, targets: targets, activations: activations,
                       activationGradients: activationGradients, gradients: &gradients)

        XCTAssertEqual(Double(loss), batch.loss, accuracy: 1e-5)
        let gradientFile = try SafetensorsFile(url: folder.appendingPathComponent("gradients.safetensors"))
        let reference = try GPT2Parameters(config: config, store: WeightStore(files: [gradientFile], strippingPrefixes: ["transformer."]))

        var report: [String] = [], worst: Float = 0
        for tensor in GPT2ParameterTensor.allCases {
            let ours = gradients[tensor], theirs = reference[tensor]
            var maxDifference: Float = 0, maxReference: Float = 0
            for i in ours.indices {
                maxDifference = max(maxDifference, abs(ours[i] - theirs[i]))
                maxReference = max(maxReference, abs(theirs[i]))
            }
            let relative = maxDifference / maxReference
            worst = max(worst, relative)
            report.append("\(tensor): max|Δ| \(maxDifference), max|grad| \(maxReference), relative \(relative)")
            XCTAssertLessThan(relative, 1e-5, "\(tensor): gradient disagrees with PyTorch")
        }
        print("Gradients vs PyTorch, loss \(loss) (PyTorch \(batch.loss)):\n  " + report.joined(separator: "\n  ")
              + "\n  worst relative error \(worst)")
    }
}
