import Foundation
import Tensors
import XCTest

/// Mixed-precision products (`ProductPrecision.bf16`): the rounding against PyTorch's, the
/// emulated product against a plain triple loop, and the AVX-512 BF16 kernel against the emulated
/// product on shapes that reach every edge of its blocking (12 × 32 tiles, depth blocks of 384,
/// column blocks of 1,024, odd depths).
final class BF16ProductTests: XCTestCase {
    /// (float32 bits, bfloat16-rounded bits) from `scripts/make_bf16_rounding_cases.py` (PyTorch).
    static let roundings: [(UInt32, UInt32)] = [
        (0x3f80_0000, 0x3f80_0000), (0xbf80_0000, 0xbf80_0000), (0x3f80_8000, 0x3f80_0000), (0x3f81_8000, 0x3f82_0000),
        (0x3f81_0000, 0x3f81_0000), (0x4049_0fdb, 0x4049_0000), (0xc02d_f854, 0xc02e_0000), (0x477f_e000, 0x4780_0000),
        (0x0da2_4260, 0x0da2_0000), (0x9fb1_16b8, 0x9fb1_0000), (0x7f7f_0000, 0x7f7f_0000), (0x7f7f_ffff, 0x7f80_0000),
        (0x3dcc_cccd, 0x3dcd_0000), (0x3eaa_aaab, 0x3eab_0000), (0x47f1_2065, 0x47f1_0000), (0xb901_73f8, 0xb901_0000)
    ]

    func testRoundingMatchesPyTorch() {
        for (input, expected) in Self.roundings {
            let rounded = roundedToBFloat16(Float(bitPattern: input))
            XCTAssertEqual(rounded.bitPattern, expected, "bf16(\(Float(bitPattern: input)))")
        }
        // Where AVX-512 BF16 (and so Lantern) differs from PyTorch on purpose: subnormals become 0.
        XCTAssertEqual(roundedToBFloat16(Float(bitPattern: 0x0000_1234)).bitPattern, 0)
        XCTAssertEqual(roundedToBFloat16(-Float(bitPattern: 0x0000_1234)).bitPattern, 0x8000_0000)
        XCTAssertTrue(roundedToBFloat16(.nan).isNaN)
    }

    func random(_ count: Int, seed: UInt64) -> [Float] {
        var r = SplitMix64(seed: seed)
        return r.normals(count, standardDeviation: 1)
    }

    /// alpha·op(A)·op(B) + beta·C over bfloat16-rounded operands, summed in Double: the definition.
    func definition(
        transA: Bool, transB: Bool, M: Int, N: Int, K: Int, alpha: Float = 1, A: [Float], lda: Int, B: [Float], ldb: Int, beta: Float,
        C: [Float]
    ) -> [Float] {
        var out = C
        for i in 0..<M {
            for j in 0..<N {
                var sum = 0.0
                for k in 0..<K {
                    let a = roundedToBFloat16(transA ? A[k * lda + i] : A[i * lda + k])
                    let b = roundedToBFloat16(transB ? B[j * ldb + k] : B[k * ldb + j])
                    sum += Double(a) * Double(b)
                }
                out[i * N + j] = Float(Double(alpha) * sum) + (beta == 0 ? 0 : beta * C[i * N + j])
            }
        }
        return out
    }

    /// Worst |x − y| / max(1, |y|); NaN anywhere is infinitely bad.
    func worst(_ x: [Float], _ y: [Float]) -> Float {
        zip(x, y).reduce(0) { worst, pair in
            let d = abs(pair.0 - pair.1) / max(1, abs(pair.1))
            return d.isNaN ? .infinity : max(worst, d)
        }
    }

    struct Shape: CustomStringConvertible {
        var transA: Bool, transB: Bool, M: Int, N: Int, K: Int, beta: Float, alpha: Float = 1
        var lda: Int { transA ? M : K }
        var ldb: Int { transB ? K : N }
        var description: String { "\(transA ? "T" : "N")\(transB ? "T" : "N") \(M)×\(N)×\(K) alpha \(alpha) beta \(beta)" }
    }

    func run(_ s: Shape, A: [Float], B: [Float], C: [Float], emulated: Bool) -> [Float] {
        var out = C
        ProductPrecision.forceEmulatedBF16 = emulated
        defer { ProductPrecision.forceEmulatedBF16 = false }
        gemm(
            transA: s.transA, transB: s.transB, M: s.M, N: s.N, K: s.K, alpha: s.alpha, A: A, lda: s.lda, B: B, ldb: s.ldb,
            beta: s.beta, C: &out, ldc: s.N, products: .bf16)
        return out
    }

    func testEmulatedProductIsTheDefinition() {
        let shapes = [
            Shape(transA: false, transB: true, M: 13, N: 33, K: 19, beta: 0),
            Shape(transA: true, transB: false, M: 7, N: 40, K: 25, beta: 1),
            Shape(transA: false, transB: false, M: 20, N: 9, K: 1, beta: 1), Shape(transA: true, transB: true, M: 5, N: 6, K: 64, beta: 0),
            Shape(transA: false, transB: true, M: 9, N: 11, K: 32, beta: 1, alpha: 0.25),
            Shape(transA: true, transB: false, M: 8, N: 13, K: 9, beta: 0.5)
        ]
        for (n, s) in shapes.enumerated() {
            let A = random(s.M * s.K, seed: UInt64(10 + n)), B = random(s.K * s.N, seed: UInt64(20 + n))
            let C = random(s.M * s.N, seed: UInt64(30 + n))
            let expected = definition(
                transA: s.transA, transB: s.transB, M: s.M, N: s.N, K: s.K, alpha: s.alpha, A: A, lda: s.lda, B: B, ldb: s.ldb,
                beta: s.beta, C: C)
            XCTAssertLessThan(worst(run(s, A: A, B: B, C: C, emulated: true), expected), 1e-5, "\(s)")
        }
    }

    func testNativeKernelMatchesTheEmulatedProduct() throws {
        guard ProductPrecision.bf16IsNative else {
            throw XCTSkip("this CPU has no AVX-512 BF16: only the emulated bf16 product can run here (tested above)")
        }
        let shapes = [
            // training's: rows × 3C over C, the MLP's, the tied unembedding (N > 1,024), the backward's
            Shape(transA: false, transB: true, M: 512, N: 576, K: 192, beta: 0),
            Shape(transA: false, transB: true, M: 300, N: 2048 + 45, K: 192, beta: 1),
            Shape(transA: false, transB: false, M: 256, N: 192, K: 768, beta: 1),
            Shape(transA: true, transB: false, M: 576, N: 192, K: 1000, beta: 1),
            // edges: partial 12-row and 32-column tiles, odd and tiny depths, one row, one column
            Shape(transA: false, transB: true, M: 37, N: 45, K: 19, beta: 0),
            Shape(transA: true, transB: false, M: 13, N: 70, K: 33, beta: 1),
            Shape(transA: false, transB: false, M: 100, N: 33, K: 7, beta: 1),
            Shape(transA: true, transB: true, M: 50, N: 50, K: 801, beta: 0),
            Shape(transA: false, transB: true, M: 1, N: 31, K: 1, beta: 0), Shape(transA: true, transB: false, M: 29, N: 1, K: 2, beta: 1),
            // attention's: scaled scores (Q·Kᵀ / √hs) and the scaled backward products
            Shape(transA: false, transB: true, M: 64, N: 128, K: 32, beta: 0, alpha: 0.17677669),
            Shape(transA: true, transB: false, M: 128, N: 32, K: 64, beta: 1, alpha: 0.17677669),
            // a beta other than 0 or 1 scales C first
            Shape(transA: false, transB: false, M: 40, N: 70, K: 50, beta: 0.5)
        ]
        for (n, s) in shapes.enumerated() {
            let A = random(s.M * s.K, seed: UInt64(40 + n)), B = random(s.K * s.N, seed: UInt64(50 + n))
            let C = random(s.M * s.N, seed: UInt64(60 + n)).map { $0.isNaN ? 0 : $0 }
            let native = run(s, A: A, B: B, C: C, emulated: false), emulated = run(s, A: A, B: B, C: C, emulated: true)
            // Both sum exact float32 products; only the order differs: rounding grows with the depth.
            XCTAssertLessThan(worst(native, emulated), max(2e-5, Float(s.K) * 6e-8), "\(s)")
            // And bf16 is not float32: the products do differ from unrounded ones.
            var exact = C
            gemm(
                transA: s.transA, transB: s.transB, M: s.M, N: s.N, K: s.K, alpha: s.alpha, A: A, lda: s.lda, B: B, ldb: s.ldb,
                beta: s.beta, C: &exact, ldc: s.N)
            if s.K >= 7 { XCTAssertGreaterThan(worst(native, exact), 1e-4, "\(s): rounded operands should show") }
        }
    }

    /// `linearForward` in bf16 (split over two workers) is the bf16 product plus the bias.
    func testLinearForwardInBF16() {
        let before = Parallelism.threads
        Parallelism.setThreads(2)
        defer { Parallelism.setThreads(before) }
        let T = 300, C = 64, OC = 96
        let x = random(T * C, seed: 1), w = random(OC * C, seed: 2), bias = random(OC, seed: 3)
        var out = [Float](repeating: .nan, count: T * OC)
        linearForward(out: &out, input: x, weight: w, bias: bias, T: T, C: C, OC: OC, products: .bf16)
        let expected = definition(
            transA: false, transB: true, M: T, N: OC, K: C, A: x, lda: C, B: w, ldb: C, beta: 1,
            C: (0..<T).flatMap { _ in bias })
        XCTAssertLessThan(worst(out, expected), 1e-5)
    }
}
