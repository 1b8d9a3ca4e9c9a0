import Foundation
import Tensors
import Transformer

// The optimiser's pieces as small free functions over flat buffers (llm.c's gpt2_update, split
// up): AdamW's update, clipping by global norm, and the warm-up + cosine learning-rate schedule.

// MARK: - AdamW

/// AdamW's settings (Loshchilov & Hutter, 2019). Defaults are GPT-2/GPT-3 training's.
public struct AdamWSettings: Sendable, Equatable {
    public var beta1: Float = 0.9
    /// 0.95 for GPT-style pre-training; 0.999 is PyTorch's default.
    public var beta2: Float = 0.95
    public var epsilon: Float = 1e-8
    /// Decoupled weight decay, applied to matrices only (see `ParameterTensorKind.isMatrix`).
    public var weightDecay: Float = 0.1

    public init(beta1: Float = 0.9, beta2: Float = 0.95, epsilon: Float = 1e-8, weightDecay: Float = 0.1) {
        self.beta1 = beta1; self.beta2 = beta2; self.epsilon = epsilon; self.weightDecay = weightDecay
    }
}

/// One AdamW update of `n` parameters in place, at `step` (1 for the first update):
/// `m = β1·m + (1−β1)·g`, `v = β2·v + (1−β2)·g²`, bias-corrected `m̂ = m/(1−β1ᵗ)`, `v̂ = v/(1−β2ᵗ)`, then
/// `θ −= lr·(m̂/(√v̂ + ε) + λ·θ)`: the decay acts on θ directly, not through the gradient ("decoupled").
public func adamWUpdate(
    parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<Float>,
    m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, count n: Int,
    learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, weightDecay: Float, step: Int
) {
    precondition(step >= 1, "adamWUpdate: steps count from 1")
    let correction1 = 1 - powf(beta1, Float(step)), correction2 = 1 - powf(beta2, Float(step))
    for i in 0..<n {
        let g = gradients[i]
        m[i] = beta1 * m[i] + (1 - beta1) * g
        v[i] = beta2 * v[i] + (1 - beta2) * g * g
        let mHat = m[i] / correction1, vHat = v[i] / correction2
        parameters[i] -= learningRate * (mHat / (vHat.squareRoot() + epsilon) + weightDecay * parameters[i])
    }
}

/// AdamW over a model's flat parameters (any family's layout): the moment buffers, the step count, and the decay mask.
public struct AdamW<Kind: ParameterTensorKind>: Sendable {
    public var settings: AdamWSettings
    /// First and second moments, laid out like the parameters.
    public var m: FlatParameters<Kind>, v: FlatParameters<Kind>
    /// Updates made so far.
    public private(set) var step = 0

    public init(for parameters: FlatParameters<Kind>, settings: AdamWSettings = AdamWSettings()) {
        self.settings = settings
        m = FlatParameters(zerosFor: parameters.layout.config)
        v = m
    }

    /// An optimiser restored from a checkpoint: its moments and the number of updates already made.
    public init(m: FlatParameters<Kind>, v: FlatParameters<Kind>, step: Int, settings: AdamWSettings) {
        precondition(m.layout == v.layout && step >= 0, "AdamW: moments laid out differently, or a negative step")
        self.settings = settings
        self.m = m; self.v = v; self.step = step
    }

    /// One update of every tensor; weight decay only on matrices.
    public mutating func update(_ parameters: inout FlatParameters<Kind>, gradients: FlatParameters<Kind>, learningRate: Float) {
        precondition(
            parameters.layout == m.layout && gradients.layout == m.layout, "AdamW.update: buffers laid out for another configuration")
        step += 1
        let layout = parameters.layout, s = settings, t = step
        parameters.values.withUnsafeMutableBufferPointer { theta in
            gradients.values.withUnsafeBufferPointer { g in
                m.values.withUnsafeMutableBufferPointer { m in
                    v.values.withUnsafeMutableBufferPointer { v in
                        nonisolated(unsafe) let (theta, g, m, v) = (theta.baseAddress!, g.baseAddress!, m.baseAddress!, v.baseAddress!)
                        for tensor in Kind.allCases {
                            let start = layout.offsets[tensor.index]
                            let weightDecay = tensor.isMatrix ? s.weightDecay : 0
                            // Element by element, so splitting over the workers changes no result.
                            splitOverWorkers(layout.counts[tensor.index], minimumPerPart: 1 << 15) { range in
                                let o = start + range.lowerBound
                                adamWUpdate(
                                    parameters: theta + o, gradients: g + o, m: m + o, v: v + o, count: range.count,
                                    learningRate: learningRate, beta1: s.beta1, beta2: s.beta2, epsilon: s.epsilon,
                                    weightDecay: weightDecay, step: t)
                            }
                        }
                    }
                }
            }
        }
    }
}

// MARK: - Gradient clipping

/// The L2 norm of all gradients together, accumulated in Double.
public func globalNorm(_ gradients: [Float]) -> Float {
    var sum: Double = 0
    for g in gradients { sum += Double(g) * Double(g) }
    return Float(sum.squareRoot())
}

/// Scales `gradients` so their global norm is at most `maxNorm` (leaves them alone when it already is).
/// Returns the norm before clipping, the figure training logs report.
@discardableResult
public func clipByGlobalNorm(_ gradients: inout [Float], maxNorm: Float) -> Float {
    precondition(maxNorm > 0, "clipByGlobalNorm: maxNorm must be positive")
    let norm = globalNorm(gradients)
    if norm > maxNorm {
        let scale = maxNorm / norm
        for i in gradients.indices { gradients[i] *= scale }
    }
    return norm
}

// MARK: - Learning-rate schedule

/// Linear warm-up to `maxRate`, then a cosine decay to `minRate` at `totalSteps`, constant after.
/// Steps count from 0: step 0 trains at `maxRate / warmupSteps`, step `warmupSteps − 1` at `maxRate`.
public struct LearningRateSchedule: Sendable, Equatable {
    public var maxRate: Float, minRate: Float
    public var warmupSteps: Int, totalSteps: Int

    public init(maxRate: Float, minRate: Float, warmupSteps: Int, totalSteps: Int) {
        precondition(
            warmupSteps >= 0 && totalSteps > warmupSteps && minRate <= maxRate,
            "LearningRateSchedule: needs 0 ≤ warmup < total and minRate ≤ maxRate")
        self.maxRate = maxRate; self.minRate = minRate; self.warmupSteps = warmupSteps; self.totalSteps = totalSteps
    }

    public func rate(at step: Int) -> Float {
        if step < warmupSteps { return maxRate * Float(step + 1) / Float(warmupSteps) }
        if step >= totalSteps { return minRate }
        let progress = Double(step - warmupSteps) / Double(totalSteps - warmupSteps)
        let coefficient = 0.5 * (1 + cos(Double.pi * progress))  // 1 → 0
        return minRate + Float(coefficient) * (maxRate - minRate)
    }
}
