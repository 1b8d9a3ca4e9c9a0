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
        let worst = zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
        print("\(what): max relative difference \(worst)")
        XCTAssertLessThan(worst, tolerance, what, file: file, line: line)
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

    /// Whole rows at once (one block), and causal row blocks of 2–3 and 4–5 rows, each of which
    /// skips the keys after it; and without the mask (encoders), every row over every key.
    func testAttentionForwardAndBackwardMatchTheReference() {
        for causal in [true, false] { checkAttention(causal: causal) }
        // Without the mask, a row's weights are spread over every key.
        let (B, T, C, NH) = (1, 4, 4, 1)
        let qkv = random(B * T * 3 * C, seed: 31)
        var (out, pre, att) = (
            [Float](repeating: 0, count: T * C), [Float](repeating: 0, count: T * T), [Float](repeating: 0, count: T * T)
        )
        attentionForward(out: &out, preatt: &pre, att: &att, inp: qkv, B: B, T: T, C: C, NH: NH, causal: false)
        XCTAssertGreaterThan(att[T - 1], 0, "row 0 attends to the last key")
        for t in 0..<T { XCTAssertEqual(att[(t * T)..<((t + 1) * T)].reduce(0, +), 1, accuracy: 1e-6) }
    }

    private func checkAttention(causal: Bool) {
        let B = 3, T = 9, C = 12, NH = 3
        XCTAssertEqual(causalRowBlocks(256), [0..<64, 64..<128, 128..<192, 192..<256])
        XCTAssertEqual(causalRowBlocks(9, minimumRows: 2), [0..<2, 2..<4, 4..<6, 6..<9])
        let qkv = random(B * T * 3 * C, seed: 11), dout = random(B * T * C, seed: 12)
        var (outR, preR, attR) = (
            [Float](repeating: 0, count: B * T * C), [Float](repeating: 0, count: B * NH * T * T),
            [Float](repeating: 0, count: B * NH * T * T)
        )
        attentionForward(out: &outR, preatt: &preR, att: &attR, inp: qkv, B: B, T: T, C: C, NH: NH, causal: causal)
        var (dxR, dpR, daR) = (
            [Float](repeating: 0, count: B * T * 3 * C), [Float](repeating: 0, count: B * NH * T * T),
            [Float](repeating: 0, count: B * NH * T * T)
        )
        attentionBackward(dinp: &dxR, dpreatt: &dpR, datt: &daR, dout: dout, inp: qkv, att: attR, B: B, T: T, C: C, NH: NH, causal: causal)
        for minimumRows in [64, 2, 4] {
            let blocks = causal ? "\(causalRowBlocks(T, minimumRows: minimumRows).count) row blocks" : "no mask"
            var (outF, preF, attF) = (
                [Float](repeating: 0, count: B * T * C), [Float](repeating: 0, count: B * NH * T * T),
                [Float](repeating: 0, count: B * NH * T * T)
            )
            fastAttentionForward(
                out: &outF, preatt: &preF, att: &attF, inp: qkv, B: B, T: T, C: C, NH: NH, causal: causal, minimumBlockRows: minimumRows)
            assertClose(outF, outR, tolerance: 1e-5, "attention output, \(blocks)")
            assertClose(attF, attR, tolerance: 1e-5, "attention pattern, \(blocks)")
            assertClose(preF, preR, tolerance: 1e-5, "attention scores, \(blocks)")
            var (dxF, dpF, daF) = (
                [Float](repeating: 0, count: B * T * 3 * C), [Float](repeating: 0, count: B * NH * T * T),
                [Float](repeating: 0, count: B * NH * T * T)
            )
            fastAttentionBackward(
                dinp: &dxF, dpreatt: &dpF, datt: &daF, dout: dout, inp: qkv, att: attR, B: B, T: T, C: C, NH: NH,
                causal: causal, minimumBlockRows: minimumRows)
            assertClose(dxF, dxR, tolerance: 1e-5, "attention q/k/v gradient, \(blocks)")
            assertClose(daF, daR, tolerance: 1e-5, "attention pattern gradient, \(blocks)")
            assertClose(dpF, dpR, tolerance: 1e-5, "attention score gradient, \(blocks)")
        }
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
