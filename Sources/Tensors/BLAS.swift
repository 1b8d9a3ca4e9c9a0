import COpenBLAS

/// Thread control for the BLAS library that does the engine's matrix work.
public enum BLAS {
    /// Number of threads OpenBLAS uses for every later call (1 or more).
    public static func setThreads(_ count: Int) {
        openblas_set_num_threads(Int32(max(1, count)))
    }

    public static var threads: Int { Int(openblas_get_num_threads()) }
}
