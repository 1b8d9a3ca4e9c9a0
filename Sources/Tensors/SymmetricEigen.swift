import COpenBLAS

/// Eigenvalues and eigenvectors of a symmetric matrix, through LAPACK's `dsyev` (in OpenBLAS).
public struct SymmetricEigen: Sendable {
    /// Eigenvalues, largest first.
    public var values: [Double]
    /// `vectors[k]`: the unit eigenvector of `values[k]`.
    public var vectors: [[Double]]

    /// `matrix` is `n × n`, row-major (symmetric, so the layout does not matter to LAPACK).
    /// Returns nil when LAPACK reports the iteration did not converge.
    public init?(_ matrix: [Double], n: Int) {
        precondition(matrix.count == n * n, "SymmetricEigen: \(matrix.count) values for \(n) × \(n)")
        guard n > 0 else {
            values = []
            vectors = []
            return
        }
        var a = matrix, w = [Double](repeating: 0, count: n), info: Int32 = 0
        var size = Int32(n), lwork: Int32 = -1, query = 0.0
        // Ask LAPACK for the best work size, then solve.
        dsyev_("V", "U", &size, &a, &size, &w, &query, &lwork, &info)
        lwork = Int32(max(query, Double(3 * n)))
        var work = [Double](repeating: 0, count: Int(lwork))
        dsyev_("V", "U", &size, &a, &size, &w, &work, &lwork, &info)
        guard info == 0 else { return nil }
        // LAPACK gives ascending values and column-major vectors: column k is a[k·n ..< (k+1)·n].
        values = w.reversed()
        vectors = (0..<n).reversed().map { k in Array(a[(k * n)..<((k + 1) * n)]) }
    }
}
