import CKernels
import COpenBLAS

/// How a model's weight matrices are kept in memory. Every product is computed in float32
/// whatever the format; the 16-bit formats halve the bytes a decoded token reads (decode speed is
/// memory bandwidth) at the price of rounding each weight once, at load.
public enum WeightFormat: String, CaseIterable, Sendable, CustomStringConvertible {
    /// IEEE float32: exactly the checkpoint's values (the default; reference parity).
    case f32
    /// IEEE binary16: 10-bit mantissa, range ±65,504.
    case f16
    /// bfloat16: float32's range, 7-bit mantissa.
    case bf16

    public var bytesPerWeight: Int { self == .f32 ? 4 : 2 }
    public var description: String { rawValue }
}

/// A weight value that the chosen 16-bit format cannot hold (f16 overflows beyond ±65,504).
public struct WeightRangeError: Error, Sendable {
    public let format: WeightFormat
    /// The largest magnitude in the matrix.
    public let largest: Float
}

/// A weight matrix `[rows, columns]` in the nn.Linear layout `[out, in]`, kept in one
/// `WeightFormat`. Its products (`linearForward`) and row reads widen to float32 on the fly.
public struct WeightMatrix: Sendable {
    public let rows: Int
    public let columns: Int
    public let format: WeightFormat
    /// The values when `format == .f32`; empty otherwise.
    let wide: [Float]
    /// f16 or bf16 bit patterns, row-major; empty when `format == .f32`.
    let narrow: [UInt16]

    /// Stores `values` (`rows × columns`, row-major) in `format`, rounding to nearest even.
    /// Throws when a finite value overflows the format (only f16 can: bf16 has float32's range).
    public init(_ values: [Float], rows: Int, columns: Int, format: WeightFormat = .f32) throws(WeightRangeError) {
        precondition(values.count == rows * columns, "WeightMatrix: \(values.count) values for [\(rows), \(columns)]")
        self.rows = rows
        self.columns = columns
        self.format = format
        switch format {
        case .f32:
            wide = values
            narrow = []
        case .f16:
            let bits = HalfPrecision.narrow(values, to: .f16)
            if let overflow = bits.overflow {
                throw WeightRangeError(format: format, largest: values.map(abs).max() ?? values[overflow])
            }
            wide = []
            narrow = bits.values
        case .bf16:
            wide = []
            narrow = HalfPrecision.narrow(values, to: .bf16).values
        }
    }

    /// Bytes the matrix occupies in memory (what a decoded token reads).
    public var bytes: Int { rows * columns * format.bytesPerWeight }

    /// All values widened to float32, row-major (for pictures and analyses).
    public func floats() -> [Float] {
        if format == .f32 { return wide }
        var out = [Float](repeating: 0, count: rows * columns)
        out.withUnsafeMutableBufferPointer { widenRows(0..<rows, into: $0.baseAddress!) }
        return out
    }

    /// Rows `range` widened to float32 into `out[range.count, columns]`.
    public func widenRows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let n = range.count * columns, first = range.lowerBound * columns
        switch format {
        case .f32:
            wide.withUnsafeBufferPointer { out.update(from: $0.baseAddress! + first, count: n) }
        case .f16, .bf16:
            narrow.withUnsafeBufferPointer { HalfPrecision.widen($0.baseAddress! + first, into: out, count: n, format: format) }
        }
    }

    /// `y[r] = W[r, :] · x` for `r` in `range`, with the fastest kernel this CPU runs.
    func dotRows(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, rows range: Range<Int>) {
        switch format {
        case .f32:
            wide.withUnsafeBufferPointer { dotRowsFast($0.baseAddress!, x, y, rows: range, C: columns) }
        case .f16, .bf16:
            narrow.withUnsafeBufferPointer {
                HalfPrecision.dotRows($0.baseAddress!, x, y, rows: range, C: columns, format: format)
            }
        }
    }

    /// Calls `body` with the float32 values when the format is f32 (the BLAS path).
    func withFloat32<R>(_ body: (UnsafePointer<Float>) -> R) -> R? {
        guard format == .f32 else { return nil }
        return wide.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// `out[T, OC] = input[T, C] · weight[OC, C]ᵀ (+ bias[OC])` for a weight in any format.
/// f32 weights go straight to `linearForward` over pointers. 16-bit weights: one token is a
/// matrix–vector product that widens in registers; many tokens widen a block of weight rows at a
/// time into a worker's scratch and hand it to the same BLAS product, so prefill keeps BLAS speed.
public func linearForward(
    out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
    weight: WeightMatrix, bias: UnsafePointer<Float>?,
    T: Int, C: Int, OC: Int
) {
    precondition(
        weight.rows == OC && weight.columns == C,
        "linearForward: weight [\(weight.rows), \(weight.columns)] is not [\(OC), \(C)]")
    if weight.withFloat32({ linearForward(out: out, input: input, weight: $0, bias: bias, T: T, C: C, OC: OC) }) != nil {
        return
    }
    let pool = WorkerPool.shared
    if T == 1 {
        nonisolated(unsafe) let (xs, ys) = (input, out)
        splitRows(R: OC, C: C) { rows in weight.dotRows(xs, ys, rows: rows) }
        if let bias { for o in 0..<OC { out[o] += bias[o] } }
        return
    }
    let parts = OC >= 256 ? pool.width : 1
    // About 1 MB of widened rows per block: large enough for BLAS to run at speed, small enough
    // to stay in the core's cache while it is used.
    let blockRows = max(16, min(OC, (1 << 18) / C))
    nonisolated(unsafe) let (x, b, y) = (input, bias, out)
    pool.run(parts: parts) { part in
        let first = OC * part / parts, last = OC * (part + 1) / parts
        guard first < last else { return }
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: min(blockRows, last - first) * C)
        defer { scratch.deallocate() }
        var row = first
        while row < last {
            let end = min(last, row + blockRows)
            weight.widenRows(row..<end, into: scratch)
            if let b {
                for t in 0..<T { (y + t * OC + row).update(from: b + row, count: end - row) }
            }
            cblas_sgemm(
                CblasRowMajor, CblasNoTrans, CblasTrans, Int32(T), Int32(end - row), Int32(C),
                1, x, Int32(C), scratch, Int32(C), b == nil ? 0 : 1, y + row, Int32(OC))
            row = end
        }
    }
}

/// Conversions and kernels for the 16-bit formats: readable Swift references, and the AVX2 C
/// kernels (Sources/CKernels/halfmatvec.c) chosen at run time.
public enum HalfPrecision {
    /// bfloat16 bits of `x`, rounded to nearest even (as PyTorch's `.to(torch.bfloat16)`);
    /// NaN stays a (quiet) NaN.
    @inline(__always)
    public static func bfloat16Bits(_ x: Float) -> UInt16 {
        let bits = x.bitPattern
        if x.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        let roundingBias = 0x7FFF + ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: (bits &+ roundingBias) >> 16)
    }

    @inline(__always)
    public static func float(bfloat16 bits: UInt16) -> Float { Float(bitPattern: UInt32(bits) << 16) }

    @inline(__always)
    public static func float(float16 bits: UInt16) -> Float { Float(Float16(bitPattern: bits)) }

    /// Forces the portable Swift kernels (tests compare both paths on one machine).
    nonisolated(unsafe) public static var forcePortable = false

    /// Whether the f16 kernels run in C here (AVX2, FMA and F16C); bf16 needs AVX2 and FMA only.
    public static let f16KernelAvailable = vectorKernelAvailable && lantern_cpu_has_f16c() == 1

    /// `values` rounded to nearest even in a 16-bit `format`, and the first index of a finite
    /// value that overflowed to infinity (f16 only), if any.
    static func narrow(_ values: [Float], to format: WeightFormat) -> (values: [UInt16], overflow: Int?) {
        var overflow: Int? = nil
        let bits = [UInt16](unsafeUninitializedCapacity: values.count) { out, initialized in
            values.withUnsafeBufferPointer { input in
                guard let source = input.baseAddress, let target = out.baseAddress else { return }
                switch format {
                case .f16 where f16KernelAvailable && !forcePortable:
                    let first = lantern_narrow_f16_f16c(source, target, values.count)
                    overflow = first < 0 ? nil : first
                case .f16:
                    for i in 0..<values.count {
                        target[i] = Float16(source[i]).bitPattern
                        // An all-ones exponent is ±inf or NaN: an overflow unless the value was already so.
                        if overflow == nil, target[i] & 0x7C00 == 0x7C00, source[i].isFinite { overflow = i }
                    }
                case .bf16 where !forcePortable:
                    lantern_narrow_bf16(source, target, values.count)
                case .bf16:
                    for i in 0..<values.count { target[i] = bfloat16Bits(source[i]) }
                case .f32:
                    preconditionFailure("HalfPrecision.narrow: f32 is not a 16-bit format")
                }
            }
            initialized = values.count
        }
        return (bits, overflow)
    }

    /// `y[r] = W[r, :] · x` over rows `rows` of 16-bit `W[R, C]`.
    public static func dotRows(
        _ W: UnsafePointer<UInt16>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        rows: Range<Int>, C: Int, format: WeightFormat
    ) {
        switch format {
        case .f16 where f16KernelAvailable && !forcePortable:
            lantern_dot_rows_f16_avx2(W, x, y, rows.lowerBound, rows.upperBound, C)
        case .bf16 where vectorKernelAvailable && !forcePortable:
            lantern_dot_rows_bf16_avx2(W, x, y, rows.lowerBound, rows.upperBound, C)
        default:
            let widen: (UInt16) -> Float = format == .f16 ? { float(float16: $0) } : { float(bfloat16: $0) }
            for r in rows {
                var s: Float = 0
                for c in 0..<C { s += widen(W[r * C + c]) * x[c] }
                y[r] = s
            }
        }
    }

    /// `out[i] = float32(input[i])` for `count` 16-bit values.
    public static func widen(
        _ input: UnsafePointer<UInt16>, into out: UnsafeMutablePointer<Float>, count: Int,
        format: WeightFormat
    ) {
        switch format {
        case .f16 where f16KernelAvailable && !forcePortable: lantern_widen_f16_avx2(input, out, count)
        case .bf16 where vectorKernelAvailable && !forcePortable: lantern_widen_bf16_avx2(input, out, count)
        case .f16: for i in 0..<count { out[i] = float(float16: input[i]) }
        case .bf16: for i in 0..<count { out[i] = float(bfloat16: input[i]) }
        case .f32: preconditionFailure("HalfPrecision.widen: f32 is not a 16-bit format")
        }
    }
}
