import Foundation

// The reference kernels of training, llm.c style (train_gpt2.c): readable loops that define what
// each layer computes, and the backward of every forward kernel (the forwards shared with
// inference are in Kernels.swift). A backward ACCUMULATES (+=) into gradient buffers, so a buffer
// read by two layers (the residual stream, a tied embedding) simply collects both; callers zero
// gradient buffers before a backward pass. The drivers run the fast versions (FastKernels.swift),
// each tested against its reference here (FastKernelTests).
//
// Letters used throughout:
//   B = batch size, T = sequence length, N = B·T rows, C = channels, OC = output channels,
//   NH = heads, hs = head size (C / NH), V = vocabulary.

// MARK: - Embedding (token + position)

/// The backward of the embedding `x[b, t] = wte[token] + wpe[t]`: scatters `dout[B, T, C]` back into the rows of `dwte[V, C]` the tokens used and into `dwpe[T, C]`.
public func embeddingBackward(
    dwte: UnsafeMutablePointer<Float>, dwpe: UnsafeMutablePointer<Float>,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Int32>, B: Int, T: Int, C: Int
) {
    for b in 0..<B {
        for t in 0..<T {
            let d = dout + (b * T + t) * C
            let dWte = dwte + Int(inp[b * T + t]) * C, dWpe = dwpe + t * C
            for i in 0..<C {
                dWte[i] += d[i]
                dWpe[i] += d[i]
            }
        }
    }
}

// MARK: - LayerNorm

/// With `x̂ = (x − mean)·rstd` and `dx̂ = dout·weight`:
/// `dx = rstd · (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))`, `dweight += dout·x̂`, `dbias += dout`.
public func layerNormBackward(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>,
    mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int
) {
    for n in 0..<N {
        let d = dout + n * C, x = inp + n * C, dx = dinp + n * C
        let m = mean[n], s = rstd[n]
        // Two reductions first: the mean of dx̂ and of dx̂·x̂.
        var dnormMean: Float = 0, dnormNormMean: Float = 0
        for i in 0..<C {
            let normed = (x[i] - m) * s
            let dnorm = weight[i] * d[i]
            dnormMean += dnorm
            dnormNormMean += dnorm * normed
        }
        dnormMean /= Float(C)
        dnormNormMean /= Float(C)
        for i in 0..<C {
            let normed = (x[i] - m) * s
            let dnorm = weight[i] * d[i]
            dbias[i] += d[i]
            dweight[i] += normed * d[i]
            dx[i] += (dnorm - dnormMean - normed * dnormNormMean) * s
        }
    }
}

// MARK: - Matrix multiplication

/// `out[N, OC] = inp[N, C] · weight[OC, C]ᵀ + bias[OC]` (nn.Linear layout), one BLAS GEMM.
public func matmulForward(
    out: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?, N: Int, C: Int, OC: Int
) {
    if let bias {
        for n in 0..<N { (out + n * OC).update(from: bias, count: OC) }
    }
    gemm(
        transA: false, transB: true, M: N, N: OC, K: C, alpha: 1, A: inp, lda: C, B: weight, ldb: C,
        beta: bias == nil ? 0 : 1, C: out, ldc: OC)
}

/// `dinp[N, C] += dout · weight`, `dweight[OC, C] += doutᵀ · inp`, `dbias[OC] += Σₙ dout[n, :]`.
public func matmulBackward(
    dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
    dout: UnsafePointer<Float>, inp: UnsafePointer<Float>, weight: UnsafePointer<Float>, N: Int, C: Int, OC: Int
) {
    gemm(
        transA: false, transB: false, M: N, N: C, K: OC, alpha: 1, A: dout, lda: OC, B: weight, ldb: C,
        beta: 1, C: dinp, ldc: C)
    gemm(
        transA: true, transB: false, M: OC, N: C, K: N, alpha: 1, A: dout, lda: OC, B: inp, ldb: C,
        beta: 1, C: dweight, ldc: C)
    if let dbias {
        for n in 0..<N {
            let d = dout + n * OC
            for o in 0..<OC { dbias[o] += d[o] }
        }
    }
}

// MARK: - GELU (tanh approximation; the forward is `geluForward` in Kernels.swift)

private let geluScale = Float((2.0 / Double.pi).squareRoot())

/// `dinp += dout · gelu'(x)`, with `gelu'(x) = 0.5·(1 + tanh u) + 0.5·x·sech²u·u'`.
public func geluBackward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, N: Int) {
    for i in 0..<N {
        let x = inp[i]
        let u = geluScale * (x + 0.044715 * x * x * x)
        let tanhU = tanhf(u)
        let sech2 = 1 - tanhU * tanhU
        let du = geluScale * (1 + 3 * 0.044715 * x * x)
        dinp[i] += dout[i] * (0.5 * (1 + tanhU) + 0.5 * x * sech2 * du)
    }
}

/// Backward of the exact GELU (`geluErfForward`): `d/dx [x·Φ(x)] = Φ(x) + x·φ(x)`, ADDED into `dinp`.
public func geluErfBackward(dinp: UnsafeMutablePointer<Float>, inp: UnsafePointer<Float>, dout: UnsafePointer<Float>, N: Int) {
    let inverseRoot2: Float = 0.70710678118654752, inverseRoot2Pi: Float = 0.39894228040143268
    for i in 0..<N {
        let x = inp[i]
        let cdf = 0.5 * (1 + erff(x * inverseRoot2)), pdf = inverseRoot2Pi * expf(-0.5 * x * x)
        dinp[i] += dout[i] * (cdf + x * pdf)
    }
}

// MARK: - Residual connection

/// `out = inp1 + inp2` over `N` values.
public func residualForward(out: UnsafeMutablePointer<Float>, inp1: UnsafePointer<Float>, inp2: UnsafePointer<Float>, N: Int) {
    for i in 0..<N { out[i] = inp1[i] + inp2[i] }
}

/// A sum passes its gradient to both inputs unchanged.
public func residualBackward(dinp1: UnsafeMutablePointer<Float>, dinp2: UnsafeMutablePointer<Float>, dout: UnsafePointer<Float>, N: Int) {
    for i in 0..<N {
        dinp1[i] += dout[i]
        dinp2[i] += dout[i]
    }
}

// MARK: - Softmax and cross-entropy

/// Softmax of each of the `N` rows of `logits[N, V]` into `probs[N, V]` (`softmaxInPlace` per row).
public func softmaxForward(probs: UnsafeMutablePointer<Float>, logits: UnsafePointer<Float>, N: Int, V: Int) {
    probs.update(from: logits, count: N * V)
    for n in 0..<N { softmaxInPlace(probs + n * V, count: V) }
}

/// `losses[n] = −log probs[n, targets[n]]`; 0 where the target is −1 (a position not scored).
public func crossEntropyForward(
    losses: UnsafeMutablePointer<Float>, probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>, N: Int, V: Int
) {
    for n in 0..<N { losses[n] = targets[n] < 0 ? 0 : -logf(probs[n * V + Int(targets[n])]) }
}

/// Softmax and cross-entropy together: `dlogits[n, i] += dlosses[n] · (probs[n, i] − [i == target])`;
/// nothing where the target is −1.
public func crossEntropySoftmaxBackward(
    dlogits: UnsafeMutablePointer<Float>, dlosses: UnsafePointer<Float>,
    probs: UnsafePointer<Float>, targets: UnsafePointer<Int32>, N: Int, V: Int
) {
    for n in 0..<N {
        let d = dlogits + n * V, p = probs + n * V
        let target = Int(targets[n])
        if target < 0 { continue }
        for i in 0..<V { d[i] += dlosses[n] * (p[i] - (i == target ? 1 : 0)) }
    }
}
