import Foundation
import Tensors
import XCTest

/// The fast kernels (FastKernels.swift, the AVX2 GELU, `linearForward`) against the readable
/// reference kernels (Kernels.swift, TrainingKernels.swift) on random inputs, with the work split
/// over two workers.
final class FastKernelTests: XCTestCase {
    private var threadsBefore = 1
    override func setUp() { threadsBefore = Parallelism.threads; Parallelism.setThreads(2) }
    /// Later tests in the process run at the thread count they expect.
    override func tearDown() { Parallelism.setThreads(threadsBefore) }

    func random(_ count: Int, seed: UInt64, scale: Float = 1) -> [Float] {
        var r = SplitMix64(seed: seed)
        return r.normals(count, standardDeviation: scale)
    }

    func assertClose(_ a: [Float], _ b: [Float], tolerance: Float, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, what, file: file, line: line)
        let differences = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }
        print("\(what): max relative difference \(differences.max() ?? 0)")
        // `max()` passes over NaN; a NaN anywhere must fail.
        XCTAssertFalse(differences.contains { !($0 < tolerance) }, "\(what): worst \(differences.max() ?? 0)", file: file, line: line)
    }

    func testGeluForwardAndBackwardMatchTheReference() {
        let N = 10_003  // not a multiple of 8: the scalar tail runs too
        let x = random(N, seed: 1, scale: 3), dout = random(N, seed: 2)
        var reference = [Float](repeating: 0, count: N), fast = reference
        geluForward(out: &reference, input: x, count: N)
        fastGeluForward(out: &fast, inp: x, N: N)
        assertClose(fast, reference, tolerance: 1e-5, "GELU forward")
        var dReference = random(N, seed: 3), dFast = dReference  // accumulates into what is there
        geluBackward(dinp: &dReference, inp: x, dout: dout, N: N)
        fastGeluBackward(dinp: &dFast, inp: x, dout: dout, N: N)
        assertClose(dFast, dReference, tolerance: 1e-5, "GELU backward")
    }

    func testMatmulForwardAndBackwardMatchTheReference() {
        let N = 37, C = 48, OC = 300
        let x = random(N * C, seed: 4), w = random(OC * C, seed: 5), b = random(OC, seed: 6), dy = random(N * OC, seed: 7)
        var reference = [Float](repeating: 0, count: N * OC), fast = reference
        matmulForward(out: &reference, inp: x, weight: w, bias: b, N: N, C: C, OC: OC)
        linearForward(out: &fast, input: x, weight: w, bias: b, T: N, C: C, OC: OC)
        assertClose(fast, reference, tolerance: 1e-5, "matmul forward")
        var (dxR, dwR, dbR) = (random(N * C, seed: 8), random(OC * C, seed: 9), random(OC, seed: 10))
        var (dxF, dwF, dbF) = (dxR, dwR, dbR)
        matmulBackward(dinp: &dxR, dweight: &dwR, dbias: &dbR, dout: dy, inp: x, weight: w, N: N, C: C, OC: OC)
        fastMatmulBackward(dinp: &dxF, dweight: &dwF, dbias: &dbF, dout: dy, inp: x, weight: w, N: N, C: C, OC: OC)
        assertClose(dxF, dxR, tolerance: 1e-5, "matmul input gradient")
        assertClose(dwF, dwR, tolerance: 1e-5, "matmul weight gradient")
        assertClose(dbF, dbR, tolerance: 1e-5, "matmul bias gradient")
    }

    /// Training's layout (q, k, v side by side in `[B, T, 3C]`): whole rows at once (one block),
    /// causal row blocks of 2–3 and 4–5 rows, each of which skips the keys after it; and without
    /// the mask (encoders), every row over every key.
    func testAttentionForwardAndBackwardMatchTheReference() {
        XCTAssertEqual(causalRowBlocks(256), [0..<64, 64..<128, 128..<192, 192..<256])
        XCTAssertEqual(causalRowBlocks(9, minimumRows: 2), [0..<2, 2..<4, 4..<6, 6..<9])
        let B = 3, T = 9, C = 12, NH = 3
        let packed = AttentionStrides.sideBySide(rowWidth: 3 * C, headSize: C / NH, rowsPerSequence: T)
        let separate = AttentionStrides.sideBySide(rowWidth: C, headSize: C / NH, rowsPerSequence: T)
        for mask in [AttentionMask.causal(), .none] {
            let shape = AttentionShape(
                sequences: B, queries: T, keys: T, heads: NH, headSize: C / NH, scale: 0.5, mask: mask)
            for minimumRows in [64, 2, 4] {
                checkAttention(
                    shape, q: (0, packed), k: (C, packed), v: (2 * C, packed), out: separate, inputCount: B * T * 3 * C,
                    minimumRows: minimumRows, "\(mask), blocks of \(minimumRows)+ rows")
            }
        }
        // Without the mask, a row's weights are spread over every key.
        let shape = AttentionShape(queries: 4, keys: 4, heads: 1, headSize: 4, scale: 0.5, mask: .none)
        let x = random(4 * 12, seed: 31), strides = AttentionStrides.sideBySide(rowWidth: 12, headSize: 4)
        var out = [Float](repeating: 0, count: 16), probs = out
        x.withUnsafeBufferPointer { x in
            attentionForward(
                shape, q: AttentionInput(x.baseAddress!, strides), k: AttentionInput(x.baseAddress! + 4, strides),
                v: AttentionInput(x.baseAddress! + 8, strides), out: AttentionOutput(&out, .sideBySide(rowWidth: 4, headSize: 4)),
                probs: &probs)
        }
        XCTAssertGreaterThan(probs[3], 0, "row 0 attends to the last key")
        for t in 0..<4 { XCTAssertEqual(probs[(t * 4)..<((t + 1) * 4)].reduce(0, +), 1, accuracy: 1e-6) }
    }

    /// Inference's layout (the cache `[NKV, capacity, hs]`), with what only inference uses: rows
    /// after earlier positions, grouped key/value heads, a sliding window, a score bias, and a
    /// single decoded row (the matrix–vector path); and cross-attention's Tq ≠ Tk, backward too.
    func testAttentionOverTheCacheAndAcrossSequencesMatchesTheReference() {
        let NH = 4, NKV = 2, hs = 3, capacity = 80
        let cache = AttentionStrides.headMajor(capacity: capacity, headSize: hs)
        let rows = AttentionStrides.sideBySide(rowWidth: NH * hs, headSize: hs)
        // 70 rows from 0: enough work for the pairs to be shared out over the workers.
        for (start, T, window) in [(5, 7, nil), (5, 7, 4), (11, 1, nil), (11, 1, 3), (0, 12, 5), (0, 70, nil)] as [(Int, Int, Int?)] {
            let shape = AttentionShape(
                queries: T, keys: start + T, heads: NH, kvHeads: NKV, headSize: hs, scale: 0.7,
                mask: .causal(start: start, window: window))
            let bias = random(NH * T * (start + T), seed: 41)
            for minimumRows in [64, 2] {
                for softmax in [ElementwiseKernels.exact, .vectorised] {
                    checkAttention(
                        shape, q: (0, rows), k: (0, cache), v: (0, cache), out: rows, inputCount: 2 * capacity * NH * hs,
                        bias: bias, minimumRows: minimumRows, softmax: softmax, backward: false,
                        "\(T) rows from \(start), window \(window.map(String.init) ?? "none"), blocks of \(minimumRows)+ rows, \(softmax)")
                }
            }
        }
        let A = NH * hs, cross = AttentionShape(queries: 5, keys: 8, heads: NH, headSize: hs, scale: 0.4, mask: .none)
        let strides = AttentionStrides.sideBySide(rowWidth: A, headSize: hs)
        checkAttention(
            cross, q: (0, strides), k: (5 * A, strides), v: (13 * A, strides), out: strides, inputCount: 21 * A, minimumRows: 64,
            "cross-attention, 5 rows over 8")
    }

    /// Runs both kernels on one random buffer holding q, k and v (at the given offsets), and
    /// compares output, weights and scores (and, with `backward`, the input gradients).
    private func checkAttention(
        _ shape: AttentionShape, q: (Int, AttentionStrides), k: (Int, AttentionStrides), v: (Int, AttentionStrides),
        out outStrides: AttentionStrides, inputCount: Int, bias: [Float]? = nil, minimumRows: Int,
        softmax: ElementwiseKernels = .vectorised, backward: Bool = true,
        _ what: String
    ) {
        let outCount = shape.sequences * shape.queries * shape.heads * shape.headSize
        let x = random(inputCount, seed: 11), dout = random(outCount, seed: 12)
        let pairs = shape.sequences * shape.heads * shape.queries * shape.keys
        func zeros(_ n: Int) -> [Float] { [Float](repeating: 0, count: n) }
        // The fast kernel's buffers start as NaN: inference hands it uninitialised memory, so it
        // must write every cell, masked ones included.
        func nans(_ n: Int) -> [Float] { [Float](repeating: .nan, count: n) }
        var (outR, probsR, scoresR, outF, probsF, scoresF) = (
            zeros(outCount), zeros(pairs), zeros(pairs), nans(outCount), nans(pairs), nans(pairs)
        )
        var outWithoutRecords = nans(outCount)
        var (dxR, dxF) = (random(x.count, seed: 13), random(x.count, seed: 13))  // gradients accumulate
        x.withUnsafeBufferPointer { xb in
            let base = xb.baseAddress!
            let (qi, ki, vi) = (AttentionInput(base + q.0, q.1), AttentionInput(base + k.0, k.1), AttentionInput(base + v.0, v.1))
            (bias ?? []).withUnsafeBufferPointer { b in
                let b = bias == nil ? nil : b.baseAddress
                referenceAttentionForward(
                    shape, q: qi, k: ki, v: vi, out: AttentionOutput(&outR, outStrides), probs: &probsR, scores: &scoresR, bias: b)
                attentionForward(
                    shape, q: qi, k: ki, v: vi, out: AttentionOutput(&outF, outStrides), probs: &probsF, scores: &scoresF, bias: b,
                    softmax: softmax, minimumBlockRows: minimumRows)
                // Nothing recorded (generate's path): the weights live in scratch.
                attentionForward(
                    shape, q: qi, k: ki, v: vi, out: AttentionOutput(&outWithoutRecords, outStrides), bias: b, softmax: softmax,
                    minimumBlockRows: minimumRows)
            }
            guard backward else { return }
            dout.withUnsafeBufferPointer { dy in
                let dyi = AttentionInput(dy.baseAddress!, outStrides)
                func gradients(_ g: UnsafeMutablePointer<Float>) -> (AttentionOutput, AttentionOutput, AttentionOutput) {
                    (AttentionOutput(g + q.0, q.1), AttentionOutput(g + k.0, k.1), AttentionOutput(g + v.0, v.1))
                }
                dxR.withUnsafeMutableBufferPointer { g in
                    let (dq, dk, dv) = gradients(g.baseAddress!)
                    referenceAttentionBackward(shape, dq: dq, dk: dk, dv: dv, dout: dyi, q: qi, k: ki, v: vi, probs: probsR)
                }
                dxF.withUnsafeMutableBufferPointer { g in
                    let (dq, dk, dv) = gradients(g.baseAddress!)
                    attentionBackward(
                        shape, dq: dq, dk: dk, dv: dv, dout: dyi, q: qi, k: ki, v: vi, probs: probsR, minimumBlockRows: minimumRows)
                }
            }
        }
        assertClose(outF, outR, tolerance: 1e-5, "attention output, \(what)")
        assertClose(outWithoutRecords, outR, tolerance: 1e-5, "attention output without records, \(what)")
        assertClose(probsF, probsR, tolerance: 1e-5, "attention weights, \(what)")
        XCTAssertEqual(scoresF.map(\.isInfinite), scoresR.map(\.isInfinite), "the same cells masked, \(what)")
        assertClose(
            scoresF.map { $0.isInfinite ? 0 : $0 }, scoresR.map { $0.isInfinite ? 0 : $0 }, tolerance: 1e-5, "attention scores, \(what)")
        if backward { assertClose(dxF, dxR, tolerance: 1e-5, "attention q/k/v gradient, \(what)") }
    }

    /// The exact GELU's derivative against central differences of `geluErfForward` (in Double).
    func testGeluErfBackwardMatchesFiniteDifferences() {
        let x: [Float] = [-4, -2.5, -1, -0.3, 0, 0.2, 0.7, 1.5, 3, 6]
        var gradient = [Float](repeating: 0, count: x.count)
        geluErfBackward(dinp: &gradient, inp: x, dout: [Float](repeating: 1, count: x.count), N: x.count)
        for (i, v) in x.enumerated() {
            func gelu(_ t: Double) -> Double { 0.5 * t * (1 + erf(t / 2.0.squareRoot())) }
            let h = 1e-4, numeric = (gelu(Double(v) + h) - gelu(Double(v) - h)) / (2 * h)
            XCTAssertEqual(Double(gradient[i]), numeric, accuracy: 1e-5, "at \(v)")
            var y: Float = 0
            var input = v
            geluErfForward(out: &y, input: &input, count: 1)
            XCTAssertEqual(Double(y), gelu(Double(v)), accuracy: 1e-6, "forward at \(v)")
        }
    }

    func testLayerNormSoftmaxAndCrossEntropyMatchTheReference() {
        let N = 300, C = 16, V = 50
        let x = random(N * C, seed: 13), w = random(C, seed: 14), b = random(C, seed: 15), dy = random(N * C, seed: 16)
        var (yR, mR, rR) = ([Float](repeating: 0, count: N * C), [Float](repeating: 0, count: N), [Float](repeating: 0, count: N))
        var (yF, mF, rF) = (yR, mR, rR)
        layerNormForward(out: &yR, input: x, weight: w, bias: b, T: N, C: C, eps: 1e-5, mean: &mR, rstd: &rR)
        fastLayerNormForward(out: &yF, input: x, weight: w, bias: b, T: N, C: C, eps: 1e-5, mean: &mF, rstd: &rF)
        // Split by rows only: every row is computed exactly as the reference does (inference
        // relies on this — its numbers must not depend on the thread count).
        XCTAssertEqual(yF, yR, "layer norm forward")
        XCTAssertEqual(mF, mR, "layer norm mean")
        XCTAssertEqual(rF, rR, "layer norm rstd")
        var (dxR, dwR, dbR) = (random(N * C, seed: 17), random(C, seed: 18), random(C, seed: 19))
        var (dxF, dwF, dbF) = (dxR, dwR, dbR)
        layerNormBackward(dinp: &dxR, dweight: &dwR, dbias: &dbR, dout: dy, inp: x, weight: w, mean: mR, rstd: rR, N: N, C: C)
        fastLayerNormBackward(dinp: &dxF, dweight: &dwF, dbias: &dbF, dout: dy, inp: x, weight: w, mean: mR, rstd: rR, N: N, C: C)
        assertClose(dxF, dxR, tolerance: 1e-5, "layer norm input gradient")
        assertClose(dwF, dwR, tolerance: 1e-4, "layer norm weight gradient (summed in two parts)")
        assertClose(dbF, dbR, tolerance: 1e-4, "layer norm bias gradient (summed in two parts)")

        let logits = random(N * V, seed: 20, scale: 3)
        var targets = [Int32](repeating: 0, count: N)
        var r = SplitMix64(seed: 21)
        for n in 0..<N { targets[n] = Int32(r.next() % UInt64(V)) }
        var (pR, lR) = ([Float](repeating: 0, count: N * V), [Float](repeating: 0, count: N))
        var (pF, lF) = (pR, lR)
        softmaxForward(probs: &pR, logits: logits, N: N, V: V)
        crossEntropyForward(losses: &lR, probs: pR, targets: targets, N: N, V: V)
        fastSoftmaxCrossEntropyForward(probs: &pF, losses: &lF, logits: logits, targets: targets, N: N, V: V)
        // The fast softmax uses the AVX2 exponential (a polynomial, within a few float ulps of expf).
        assertClose(pF, pR, tolerance: 1e-6, "softmax")
        assertClose(lF, lR, tolerance: 1e-6, "cross-entropy")
    }
}
