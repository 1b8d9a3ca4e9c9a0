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
        model.backward(
            inputs: inputs, targets: targets, activations: activations,
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
        print(
            "Gradients vs PyTorch, loss \(loss) (PyTorch \(batch.loss)):\n  " + report.joined(separator: "\n  ")
                + "\n  worst relative error \(worst)")
    }
}

/// The whole training loop against PyTorch over 30 steps, on a committed fixture made by
/// scripts/make_training_trajectory_fixture.py: the same starting weights and token stream, and the
/// reference re-implements batch sampling, the schedule, clipping and AdamW from their definitions.
/// A wrong window start, learning rate, clipping rule or optimiser term parts the losses within a
/// step or two and moves the final weights by orders of magnitude more than the bounds here.
final class TrainingTrajectoryTests: XCTestCase {
    private struct Trajectory: Decodable {
        struct Step: Decodable { var loss: Double, norm: Double, learning_rate: Double }
        var tokens: [Int32], settings: TrainingSettings, steps: [Step]
    }

    private let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/gpt2-tiny-trajectory")

    func testThirtyStepsMatchPyTorch() throws {
        let trajectory = try JSONDecoder().decode(Trajectory.self, from: Data(contentsOf: folder.appendingPathComponent("trajectory.json")))
        let model = try GPT2TrainingModel(huggingFaceFolder: folder)
        XCTAssertEqual(model.config.contextLength, 128, "long enough for the attention kernels' causal row blocks")
        let stream = try TokenStream(tokens: trajectory.tokens, context: model.config.contextLength)
        let run = try TrainingRun(startingFrom: model, settings: trajectory.settings, stream: stream)

        var worstLoss = 0.0, worstNorm = 0.0
        for (index, reference) in trajectory.steps.enumerated() {
            let entry = run.step()
            XCTAssertEqual(
                Double(entry.learningRate), reference.learning_rate, accuracy: 1e-6 * reference.learning_rate,
                "step \(index + 1): learning rate")
            XCTAssertEqual(Double(entry.loss), reference.loss, accuracy: 2e-5, "step \(index + 1): loss")
            XCTAssertEqual(Double(entry.gradientNorm), reference.norm, accuracy: 5e-5 * reference.norm, "step \(index + 1): gradient norm")
            worstLoss = max(worstLoss, abs(Double(entry.loss) - reference.loss))
            worstNorm = max(worstNorm, abs(Double(entry.gradientNorm) - reference.norm) / reference.norm)
        }
        XCTAssertTrue(run.isFinished)
        XCTAssertGreaterThan(
            trajectory.steps.filter { $0.norm > Double(trajectory.settings.gradientClip) }.count, 0, "some steps are clipped")
        XCTAssertGreaterThan(trajectory.steps.filter { $0.norm < Double(trajectory.settings.gradientClip) }.count, 0, "some are not")

        let final = try GPT2Parameters(
            config: model.config,
            store: WeightStore(
                files: [try SafetensorsFile(url: folder.appendingPathComponent("final.safetensors"))], strippingPrefixes: ["transformer."]))
        var worstWeight: Float = 0, report: [String] = []
        let C = model.config.width
        for tensor in GPT2ParameterTensor.allCases {
            let ours = run.parameters(GPT2ParameterTensor.self)[tensor], theirs = final[tensor], start = model.parameters[tensor]
            var difference: Float = 0, moved: Float = 0
            // The key bias cannot change a softmax (it adds the same amount to every score of a row), so
            // its true gradient is 0 and what moves it is rounding noise, normalised up by Adam: float32
            // and float64 noise differ. Its third of each layer's qkv bias is left out.
            let compared = ours.indices.filter { tensor != .qkvb || !(C..<(2 * C)).contains($0 % (3 * C)) }
            for i in compared {
                difference = max(difference, abs(ours[i] - theirs[i]))
                moved = max(moved, abs(theirs[i] - start[i]))
            }
            // Relative to how far training moved the tensor: staying put would score 1.
            worstWeight = max(worstWeight, difference / moved)
            report.append("\(tensor) \(difference / moved)")
            XCTAssertLessThan(difference / moved, 1e-3, "\(tensor): weights after 30 steps differ from PyTorch's")
        }
        print(
            "Training trajectory vs PyTorch, 30 steps: worst loss difference \(worstLoss), worst relative norm difference \(worstNorm), "
                + "worst weight difference \(worstWeight) of the distance trained (" + report.joined(separator: ", ") + ")")
    }
}
