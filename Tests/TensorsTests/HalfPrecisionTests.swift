import Foundation
import Tensors
import XCTest

/// 16-bit weight storage: the conversions against the IEEE rules, and every kernel path (the
/// AVX2 C kernels and the portable Swift ones, forced in turn) against Double sums over the
/// widened weights, on sizes with tails in every direction and at several thread counts.
final class HalfPrecisionTests: XCTestCase {
    var random = SplitMix64(seed: 7)

    override func tearDown() {
        HalfPrecision.forcePortable = false
        Parallelism.setThreads(1)
    }

    func testBFloat16RoundsToNearestEvenAndKeepsSpecialValues() {
        XCTAssertEqual(HalfPrecision.bfloat16Bits(1), 0x3F80)
        XCTAssertEqual(HalfPrecision.bfloat16Bits(-2), 0xC000)
        XCTAssertEqual(HalfPrecision.bfloat16Bits(Float.pi), 0x4049)  // 3.140625
        // Exactly halfway: ties go to the even mantissa (down from 0x3F80, up from 0x3F81).
        XCTAssertEqual(HalfPrecision.bfloat16Bits(Float(bitPattern: 0x3F80_8000)), 0x3F80)
        XCTAssertEqual(HalfPrecision.bfloat16Bits(Float(bitPattern: 0x3F81_8000)), 0x3F82)
        XCTAssertEqual(HalfPrecision.bfloat16Bits(Float(bitPattern: 0x3F80_8001)), 0x3F81)
        XCTAssertEqual(HalfPrecision.bfloat16Bits(.infinity), 0x7F80)
        XCTAssertTrue(HalfPrecision.float(bfloat16: HalfPrecision.bfloat16Bits(.nan)).isNaN)
        // The largest float rounds up to infinity, as PyTorch's conversion does.
        XCTAssertEqual(HalfPrecision.bfloat16Bits(.greatestFiniteMagnitude), 0x7F80)
        XCTAssertEqual(HalfPrecision.float(bfloat16: 0x4049), 3.140625)
    }

    func testFloat16WidensExactly() {
        XCTAssertEqual(HalfPrecision.float(float16: 0x3C00), 1)
        XCTAssertEqual(HalfPrecision.float(float16: 0x7BFF), 65504)
        XCTAssertEqual(HalfPrecision.float(float16: 0x0001), Float(bitPattern: 0x3380_0000))  // 2^-24, subnormal
        XCTAssertEqual(HalfPrecision.float(float16: 0xC000), -2)
    }

    func testFloat16StorageRefusesValuesBeyondItsRange() {
        for portable in [false, true] {
            HalfPrecision.forcePortable = portable
            // Past the vector width, so the C kernel's main loop meets it.
            var values = [Float](repeating: 0.5, count: 21)
            values[13] = -70_000
            XCTAssertThrowsError(try WeightMatrix(values, rows: 3, columns: 7, format: .f16)) { error in
                XCTAssertEqual((error as? WeightRangeError)?.largest, 70_000)
            }
            XCTAssertNoThrow(try WeightMatrix(values, rows: 3, columns: 7, format: .bf16))
            values[13] = 65_504
            XCTAssertNoThrow(try WeightMatrix(values, rows: 3, columns: 7, format: .f16))
            values[13] = .infinity  // not an overflow: the checkpoint already held it
            XCTAssertNoThrow(try WeightMatrix(values, rows: 3, columns: 7, format: .f16))
        }
    }

    /// The load-time narrowing (F16C and C) gives the bits of the Swift reference conversions,
    /// ties and special values included.
    func testNarrowingMatchesTheReferenceConversions() throws {
        var values = random.normals(2_003, standardDeviation: 4)
        values += [
            0, -0.0, .infinity, -.infinity, 65_504, 1e-8, Float(bitPattern: 0x3F80_8000), Float(bitPattern: 0x3F81_8000),
            Float(bitPattern: 0x3380_0000), Float.leastNonzeroMagnitude
        ]
        let n = values.count
        for format in [WeightFormat.f16, .bf16] {
            let fast = try WeightMatrix(values, rows: 1, columns: n, format: format).floats()
            for i in 0..<n {
                let expected =
                    format == .f16 ? Float(Float16(values[i])) : HalfPrecision.float(bfloat16: HalfPrecision.bfloat16Bits(values[i]))
                XCTAssertEqual(fast[i].bitPattern, expected.bitPattern, "\(format) value \(values[i])")
            }
        }
        let nan = try WeightMatrix([.nan], rows: 1, columns: 1, format: .bf16).floats()
        XCTAssertTrue(nan[0].isNaN)
    }

    /// Widened values are exactly the rounded weights, on both paths.
    func testWideningMatchesTheScalarConversion() throws {
        let n = 1_029
        let values = random.normals(n, standardDeviation: 3)
        for format in [WeightFormat.f16, .bf16] {
            let matrix = try WeightMatrix(values, rows: 1, columns: n, format: format)
            for portable in [false, true] {
                HalfPrecision.forcePortable = portable
                let widened = matrix.floats()
                for i in 0..<n {
                    let expected =
                        format == .f16 ? Float(Float16(values[i])) : HalfPrecision.float(bfloat16: HalfPrecision.bfloat16Bits(values[i]))
                    XCTAssertEqual(widened[i], expected, "\(format) value \(i), portable \(portable)")
                }
                let relative = zip(values, widened).map { abs($0 - $1) / max(abs($0), 1e-3) }.max()!
                XCTAssertLessThan(relative, format == .f16 ? 1e-3 : 8e-3, "\(format) rounding error")
            }
        }
    }

    /// One token (the matrix–vector kernels) and many tokens (widened blocks handed to BLAS, split
    /// over workers; 700 output rows exceed one widened block of 1,030 columns) against Double sums.
    func testLinearOverHalfWeightsMatchesDoubleSums() throws {
        let C = 1_030, OC = 700
        let weights = random.normals(OC * C, standardDeviation: 0.5), bias = random.normals(OC, standardDeviation: 1)
        for format in [WeightFormat.f16, .bf16] {
            let matrix = try WeightMatrix(weights, rows: OC, columns: C, format: format)
            let widened = matrix.floats()
            for T in [1, 67] {
                let x = random.normals(T * C, standardDeviation: 1)
                var exact = [Double](repeating: 0, count: T * OC)
                for t in 0..<T {
                    for o in 0..<OC {
                        var sum = Double(bias[o])
                        for c in 0..<C { sum += Double(widened[o * C + c]) * Double(x[t * C + c]) }
                        exact[t * OC + o] = sum
                    }
                }
                for portable in [false, true] {
                    HalfPrecision.forcePortable = portable
                    for threads in [1, 2, 3] {
                        Parallelism.setThreads(threads)
                        var out = [Float](repeating: .nan, count: T * OC)
                        linearForward(out: &out, input: x, weight: matrix, bias: bias, T: T, C: C, OC: OC)
                        let worst = zip(out, exact).map { abs(Double($0) - $1) }.max()!
                        XCTAssertLessThan(worst, 1e-3, "\(format), T \(T), \(threads) threads, portable \(portable)")
                    }
                }
            }
        }
    }

    func testFloat32MatrixIsTheOriginalValues() throws {
        let values = random.normals(12, standardDeviation: 1)
        let matrix = try WeightMatrix(values, rows: 3, columns: 4)
        XCTAssertEqual(matrix.floats(), values)
        XCTAssertEqual(matrix.bytes, 48)
        XCTAssertEqual(try WeightMatrix(values, rows: 3, columns: 4, format: .bf16).bytes, 24)
    }
}
