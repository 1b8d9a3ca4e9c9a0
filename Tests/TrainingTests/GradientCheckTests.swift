import Foundation
import Tensors
import Training
import Transformer
import XCTest

/// Every parameter's gradient from `backward` against central finite differences of the loss,
/// `(loss(θ + h) − loss(θ − h)) / 2h`, on a tiny model (V = 11, C = 8, NH = 2, L = 2, B = 2, T = 5).
///
/// The forward pass is float32, so the difference quotient carries rounding noise of about
/// ε_float·loss / h ≈ 1e-5 and a truncation error of order h²; both are far below the gradients
/// of these deliberately non-trivial weights. The error reported per tensor is
/// `max |analytic − numeric| / max |numeric|` over its elements (a relative error that small
/// gradients cannot blow up), and the bound asserted is 2e-3: a wrong term in any kernel's
/// backward gives errors of order 1.
final class GradientCheckTests: XCTestCase {
    func testEveryParameterGradientMatchesFiniteDifferences() {
        let config = Tiny.config
        let B = 2, T = 5
        var model = GPT2TrainingModel(config: config, parameters: Tiny.scrambledParameters(config, seed: 7))
        let inputs = Tiny.tokens(B * T, V: config.vocabularySize, seed: 11)
        let targets = Tiny.tokens(B * T, V: config.vocabularySize, seed: 12)
        let activations = GPT2Activations(config: config, B: B, T: T)
        let activationGradients = GPT2Activations(config: config, B: B, T: T)

        let loss = model.forward(inputs: inputs, targets: targets, activations: activations)!
        var gradients = GPT2Parameters(zerosFor: config)
        model.backward(
            inputs: inputs, targets: targets, activations: activations,
            activationGradients: activationGradients, gradients: &gradients)
        XCTAssertGreaterThan(loss, 0)

        let h: Float = 1e-2
        var worst: Float = 0
        var report: [String] = []
        for (tensor, maxDifference, maxNumeric) in finiteDifferenceCheck(
            &model, inputs: inputs, targets: targets, activations: activations, gradients: gradients, h: h)
        {
            XCTAssertGreaterThan(maxNumeric, 1e-4, "\(tensor): the loss should depend on every tensor")
            let relative = maxDifference / maxNumeric
            worst = max(worst, relative)
            report.append("\(tensor): max|Δ| \(maxDifference), max|grad| \(maxNumeric), relative \(relative)")
            XCTAssertLessThan(relative, 2e-3, "\(tensor): gradient disagrees with finite differences")
        }
        print("Gradient check (h = \(h)), loss \(loss):\n  " + report.joined(separator: "\n  ") + "\n  worst relative error \(worst)")
    }

    /// `backward` adds into the gradient buffer: two calls give twice the gradient (micro-batch accumulation).
    func testBackwardAccumulatesIntoGradients() {
        let config = Tiny.config
        let model = GPT2TrainingModel(config: config, parameters: Tiny.scrambledParameters(config, seed: 3))
        let inputs = Tiny.tokens(8, V: 11, seed: 1), targets = Tiny.tokens(8, V: 11, seed: 2)
        let a = GPT2Activations(config: config, B: 2, T: 4), g = GPT2Activations(config: config, B: 2, T: 4)
        model.forward(inputs: inputs, targets: targets, activations: a)
        var once = GPT2Parameters(zerosFor: config), twice = GPT2Parameters(zerosFor: config)
        model.backward(inputs: inputs, targets: targets, activations: a, activationGradients: g, gradients: &once)
        model.backward(inputs: inputs, targets: targets, activations: a, activationGradients: g, gradients: &twice)
        model.backward(inputs: inputs, targets: targets, activations: a, activationGradients: g, gradients: &twice)
        for i in once.values.indices { XCTAssertEqual(twice.values[i], 2 * once.values[i], accuracy: 1e-6) }
    }
}
