import Foundation
import Tensors
import XCTest

/// The fast (BLAS) kernels against plain loops written straight from the definitions.
final class KernelTests: XCTestCase {
    var random = SplitMix64(seed: 99)

    func testLinearMatchesNaiveLoopsForOneAndManyRows() {
        for T in [1, 7] {
            let C = 13, OC = 9
            let x = random.normals(T * C, standardDeviation: 1), w = random.normals(OC * C, standardDeviation: 1)
            let b = random.normals(OC, standardDeviation: 1)
            var out = [Float](repeating: 0, count: T * OC)
            linearForward(out: &out, input: x, weight: w, bias: b, T: T, C: C, OC: OC)
            for t in 0..<T {
                for o in 0..<OC {
                    var expected = Double(b[o])
                    for c in 0..<C { expected += Double(x[t * C + c]) * Double(w[o * C + c]) }
                    XCTAssertEqual(Double(out[t * OC + o]), expected, accuracy: 1e-4)
                }
            }
        }
    }

    /// The decode kernel (AVX2 where the CPU has it, split over the worker pool) against the
    /// portable reference loop and a Double sum, on a matrix big enough to be split.
    func testMatVecMatchesTheReferenceAcrossThreads() {
        let R = 1003, C = 771  // odd sizes: tails in both directions
        let w = random.normals(R * C, standardDeviation: 1), x = random.normals(C, standardDeviation: 1)
        var reference = [Float](repeating: 0, count: R)
        dotRows(w, x, &reference, rows: 0..<R, C: C)
        for threads in [1, 2, 3] {
            Parallelism.setThreads(threads)
            var y = [Float](repeating: .nan, count: R)
            matVec(w, x, &y, R: R, C: C)
            for r in 0..<R {
                var exact = 0.0
                for c in 0..<C { exact += Double(w[r * C + c]) * Double(x[c]) }
                XCTAssertEqual(Double(y[r]), exact, accuracy: 1e-3, "row \(r), \(threads) threads")
                XCTAssertEqual(y[r], reference[r], accuracy: 1e-3)
            }
        }
        Parallelism.setThreads(1)
    }

    func testLayerNormHasZeroMeanUnitVarianceBeforeTheAffineStep() {
        let T = 3, C = 16
        let x = random.normals(T * C, standardDeviation: 3)
        var out = [Float](repeating: 0, count: T * C)
        layerNormForward(
            out: &out, input: x, weight: [Float](repeating: 1, count: C), bias: [Float](repeating: 0, count: C),
            T: T, C: C, eps: 1e-5)
        for t in 0..<T {
            let row = out[(t * C)..<((t + 1) * C)]
            let mean = row.reduce(0, +) / Float(C)
            let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(C)
            XCTAssertEqual(mean, 0, accuracy: 1e-5)
            XCTAssertEqual(variance, 1, accuracy: 1e-3)
        }
    }

    func testRMSNormGivesUnitRootMeanSquare() {
        let C = 32
        let x = random.normals(C, standardDeviation: 5)
        var out = [Float](repeating: 0, count: C)
        rmsNormForward(out: &out, input: x, weight: [Float](repeating: 1, count: C), T: 1, C: C, eps: 1e-6)
        let rms = (out.map { $0 * $0 }.reduce(0, +) / Float(C)).squareRoot()
        XCTAssertEqual(rms, 1, accuracy: 1e-4)
    }

    func testSoftmaxIsStableAndMasksMinusInfinity() {
        let p = softmax([1000, 1001, -.infinity, 999])
        XCTAssertEqual(p.reduce(0, +), 1, accuracy: 1e-6)
        XCTAssertEqual(p[2], 0)
        XCTAssertEqual(p[1] / p[0], Float(M_E), accuracy: 1e-3)
    }

    func testGELUTanhKnownValues() {
        // gelu_new(x) = 0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) evaluated in Double.
        let xs: [Float] = [-3, -1, -0.5, 0, 0.5, 1, 3]
        var ys = xs
        geluForward(out: &ys, input: xs, count: ys.count)
        for (x, y) in zip(xs, ys) {
            let d = Double(x)
            let expected = 0.5 * d * (1 + tanh((2 / Double.pi).squareRoot() * (d + 0.044715 * d * d * d)))
            XCTAssertEqual(Double(y), expected, accuracy: 1e-6)
        }
    }

    /// The two rotary layouts are the same rotation on a permuted head: interleaved pair j is
    /// channels (2j, 2j+1), half-split pair j is (j, j + hs/2).
    func testRotaryLayoutsAgreeUpToAChannelPermutation() {
        let hs = 8, half = 4
        let x = random.normals(hs, standardDeviation: 1)
        var interleaved = x
        applyRotary(&interleaved, heads: 1, headSize: hs, position: 5, theta: 10000, layout: .interleaved)
        // Permute x into half-split order: channel 2j → j, 2j+1 → j + half.
        var permuted = [Float](repeating: 0, count: hs)
        for j in 0..<half { permuted[j] = x[2 * j]; permuted[j + half] = x[2 * j + 1] }
        applyRotary(&permuted, heads: 1, headSize: hs, position: 5, theta: 10000, layout: .halfSplit)
        for j in 0..<half {
            XCTAssertEqual(permuted[j], interleaved[2 * j], accuracy: 1e-6)
            XCTAssertEqual(permuted[j + half], interleaved[2 * j + 1], accuracy: 1e-6)
        }
        // Position 0 is the identity; rotation keeps each pair's length.
        var unchanged = x
        applyRotary(&unchanged, heads: 1, headSize: hs, position: 0, theta: 10000, layout: .interleaved)
        XCTAssertEqual(unchanged, x)
        for j in 0..<half {
            XCTAssertEqual(hypotf(interleaved[2 * j], interleaved[2 * j + 1]), hypotf(x[2 * j], x[2 * j + 1]), accuracy: 1e-5)
        }
    }

    func testNPYRoundTrip() throws {
        let tensor = Tensor(shape: [2, 3, 4], scalars: random.normals(24, standardDeviation: 1))
        XCTAssertEqual(try NPY.decode(NPY.encode(tensor)), tensor)
        let vector = Tensor(shape: [5], scalars: [1, 2, 3, 4, 5])
        XCTAssertEqual(try NPY.decode(NPY.encode(vector)), vector)
        XCTAssertEqual(NPY.encode(tensor).count % 64, (24 * 4) % 64, "header padded to 64 bytes")
        XCTAssertThrowsError(try NPY.decode(Data("hello".utf8)))
    }

    /// Shapes from a crafted header: negative extents, products past Int.max, and a shape larger
    /// than the data are errors, never a crash or a 400 GB allocation.
    func testNPYHeadersWithImpossibleShapesAreErrors() {
        func file(shape: String, payloadBytes: Int = 16) -> Data {
            var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
            while (10 + header.count + 1) % 64 != 0 { header += " " }
            header += "\n"
            var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)])
            data.append(contentsOf: Array(header.utf8))
            data.append(contentsOf: [UInt8](repeating: 0, count: payloadBytes))
            return data
        }
        let cases = [
            ("(-3, 4)", "negative extent"), ("(4294967296, 4294967296, 16)", "more elements"),
            ("(100000, 1000000)", "data shorter"), ("(5,)", "data shorter")
        ]
        for (shape, reason) in cases {
            XCTAssertThrowsError(try NPY.decode(file(shape: shape))) { error in
                XCTAssertTrue("\(error)".contains(reason), "\(shape): \(error)")
            }
        }
        XCTAssertEqual(try NPY.decode(file(shape: "(2, 2)")).shape, [2, 2])
        XCTAssertEqual(try NPY.decode(file(shape: "(0, 7)", payloadBytes: 0)).shape, [0, 7])
    }
}
