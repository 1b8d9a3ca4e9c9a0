import CKernels

/// Matrix–vector product for decoding, `y[r] = W[r, :] · x` over rows `rows` of a row-major
/// `W[R, C]`: the operation that bounds decode speed, since every weight is read once per token.
///
/// Four rows are walked together in 8-wide SIMD so each load of `x` serves four rows and the
/// loop runs at memory speed. Multiply and add are kept separate on purpose: `addingProduct`
/// becomes a libm `fmaf` call per lane unless the build targets a CPU with FMA.
@inline(__always)
public func dotRows(
    _ W: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
    rows: Range<Int>, C: Int
) {
    let vectorEnd = C & ~7
    let w = UnsafeRawPointer(W), xs = UnsafeRawPointer(x)
    var r = rows.lowerBound
    while r + 4 <= rows.upperBound {
        var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
        let row0 = w + r * C * 4, row1 = row0 + C * 4, row2 = row1 + C * 4, row3 = row2 + C * 4
        var c = 0
        while c < vectorEnd {
            let xv = xs.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
            a0 += row0.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self) * xv
            a1 += row1.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self) * xv
            a2 += row2.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self) * xv
            a3 += row3.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self) * xv
            c += 8
        }
        var s0 = a0.sum(), s1 = a1.sum(), s2 = a2.sum(), s3 = a3.sum()
        while c < C {
            let xc = x[c]
            s0 += W[r * C + c] * xc; s1 += W[(r + 1) * C + c] * xc
            s2 += W[(r + 2) * C + c] * xc; s3 += W[(r + 3) * C + c] * xc
            c += 1
        }
        y[r] = s0; y[r + 1] = s1; y[r + 2] = s2; y[r + 3] = s3
        r += 4
    }
    while r < rows.upperBound {
        var a = SIMD8<Float>()
        let row = w + r * C * 4
        var c = 0
        while c < vectorEnd {
            a +=
                row.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
                * xs.loadUnaligned(fromByteOffset: c * 4, as: SIMD8<Float>.self)
            c += 8
        }
        var s = a.sum()
        while c < C { s += W[r * C + c] * x[c]; c += 1 }
        y[r] = s
        r += 1
    }
}

/// Whether the AVX2 kernel can run here (checked once).
let vectorKernelAvailable = lantern_cpu_has_avx2_fma() == 1

/// `y[r] = W[r, :] · x` for `rows`, with the fastest kernel this CPU runs.
@inline(__always)
func dotRowsFast(
    _ W: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
    rows: Range<Int>, C: Int
) {
    if vectorKernelAvailable {
        lantern_dot_rows_avx2(W, x, y, rows.lowerBound, rows.upperBound, C)
    } else {
        dotRows(W, x, y, rows: rows, C: C)
    }
}

/// `y[R] = W[R, C] · x[C]`, rows split over the worker pool in blocks of four.
public func matVec(_ W: UnsafePointer<Float>, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, R: Int, C: Int) {
    nonisolated(unsafe) let (w, xs, ys) = (W, x, y)
    splitRows(R: R, C: C) { rows in dotRowsFast(w, xs, ys, rows: rows, C: C) }
}

/// Runs `body` over the rows `0..<R` of an `[R, C]` matrix–vector product, split over the worker
/// pool in blocks of four rows (one range inline when the product is small).
func splitRows(R: Int, C: Int, _ body: (Range<Int>) -> Void) {
    let pool = WorkerPool.shared
    // Below ~64K weights the hand-off costs more than it saves.
    let parts = R * C < 1 << 16 ? 1 : pool.width
    if parts == 1 {
        body(0..<R)
        return
    }
    let blocks = (R + 3) / 4
    pool.run(parts: parts) { part in
        let first = blocks * part / parts * 4, last = min(R, blocks * (part + 1) / parts * 4)
        if first < last { body(first..<last) }
    }
}
