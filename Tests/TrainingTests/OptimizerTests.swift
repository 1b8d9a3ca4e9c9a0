import Foundation
import Tensors
import Training
import Transformer
import XCTest

final class OptimizerTests: XCTestCase {
    // MARK: Learning-rate schedule

    func testScheduleWarmsUpLinearlyThenFollowsACosine() {
        let schedule = LearningRateSchedule(maxRate: 1e-3, minRate: 1e-4, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(schedule.rate(at: 0), 1e-4, accuracy: 1e-9)  // 1/10 of the maximum
        XCTAssertEqual(schedule.rate(at: 4), 5e-4, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(at: 9), 1e-3, accuracy: 1e-9)  // warm-up ends at the maximum
        XCTAssertEqual(schedule.rate(at: 10), 1e-3, accuracy: 1e-9)  // cosine starts at 1
        XCTAssertEqual(schedule.rate(at: 60), 5.5e-4, accuracy: 1e-9)  // halfway: (max + min) / 2
        // A quarter of the way: min + (1 + cos(π/4))/2 · (max − min)
        XCTAssertEqual(schedule.rate(at: 35), 1e-4 + Float((1 + cos(Double.pi / 4)) / 2) * 9e-4, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(at: 110), 1e-4, accuracy: 1e-9)
        XCTAssertEqual(schedule.rate(at: 500), 1e-4, accuracy: 1e-9)
        // Never increases after the warm-up.
        for step in 10..<120 { XCTAssertLessThanOrEqual(schedule.rate(at: step + 1), schedule.rate(at: step)) }
    }

    // MARK: Clipping

    func testClippingScalesToTheMaximumNormAndReportsTheOldNorm() {
        var gradients: [Float] = [3, 4, 0, 0, 12]  // norm 13
        XCTAssertEqual(globalNorm(gradients), 13, accuracy: 1e-6)
        let before = clipByGlobalNorm(&gradients, maxNorm: 1)
        XCTAssertEqual(before, 13, accuracy: 1e-6)
        XCTAssertEqual(globalNorm(gradients), 1, accuracy: 1e-6)
        XCTAssertEqual(gradients[0], 3 / 13, accuracy: 1e-7)
        XCTAssertEqual(gradients[4], 12 / 13, accuracy: 1e-7)

        var small: [Float] = [0.1, -0.2]
        clipByGlobalNorm(&small, maxNorm: 1)
        XCTAssertEqual(small, [0.1, -0.2], "gradients within the bound are left alone")
    }

    // MARK: AdamW

    func testAdamWUpdateMatchesHandComputedSteps() {
        var theta: [Float] = [1, -2], m: [Float] = [0, 0], v: [Float] = [0, 0]
        let lr: Float = 0.1, b1: Float = 0.9, b2: Float = 0.999, eps: Float = 1e-8, wd: Float = 0.01
        let g1: [Float] = [0.5, -0.25]
        adamWUpdate(
            parameters: &theta, gradients: g1, m: &m, v: &v, count: 2,
            learningRate: lr, beta1: b1, beta2: b2, epsilon: eps, weightDecay: wd, step: 1)
        // Step 1: m̂ = g and v̂ = g², so the step is lr·(sign(g) + wd·θ).
        XCTAssertEqual(theta[0], 1 - 0.1 * (1 + 0.01 * 1), accuracy: 1e-6)
        XCTAssertEqual(theta[1], -2 - 0.1 * (-1 + 0.01 * -2), accuracy: 1e-6)
        // Step 2, by hand in Double.
        let g2: [Float] = [-0.5, 0.75]
        var expected: [Double] = []
        for i in 0..<2 {
            let mi = 0.9 * Double(m[i]) + 0.1 * Double(g2[i]), vi = 0.999 * Double(v[i]) + 0.001 * Double(g2[i]) * Double(g2[i])
            let mHat = mi / (1 - 0.81), vHat = vi / (1 - 0.999 * 0.999)
            expected.append(Double(theta[i]) - 0.1 * (mHat / (vHat.squareRoot() + 1e-8) + 0.01 * Double(theta[i])))
        }
        adamWUpdate(
            parameters: &theta, gradients: g2, m: &m, v: &v, count: 2,
            learningRate: lr, beta1: b1, beta2: b2, epsilon: eps, weightDecay: wd, step: 2)
        XCTAssertEqual(Double(theta[0]), expected[0], accuracy: 1e-6)
        XCTAssertEqual(Double(theta[1]), expected[1], accuracy: 1e-6)
    }

    func testWeightDecayReachesMatricesButNotBiasesOrNorms() {
        let config = Tiny.config
        var parameters = Tiny.scrambledParameters(config, seed: 9)
        let before = parameters
        var optimizer = AdamW(for: parameters, settings: AdamWSettings(weightDecay: 0.5))
        optimizer.update(&parameters, gradients: GPT2Parameters(zerosFor: config), learningRate: 0.1)
        XCTAssertEqual(optimizer.step, 1)
        for tensor in GPT2ParameterTensor.allCases {
            let old = before[tensor], new = parameters[tensor]
            if tensor.isMatrix {
                for i in old.indices { XCTAssertEqual(new[i], old[i] * (1 - 0.05), accuracy: 1e-6, "\(tensor)") }
            } else {
                XCTAssertEqual(new, old, "\(tensor) must not decay")
            }
        }
    }
}
