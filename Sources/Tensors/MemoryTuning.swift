import CKernels

/// Process-wide memory settings for running models.
///
/// Every forward pass allocates its activations, and a recorded pass its records (a fully
/// recorded 512-token GPT-2 small prefill keeps ~550 MB), then frees them. By default glibc
/// returns large freed blocks to the system, so the next pass page-faults and zero-fills
/// fresh memory again: measured, that was most of the cost of recording. Keeping freed memory
/// in the process makes repeated passes (the stepper, generation, lessons, benchmarks) reuse it.
/// The price: the process keeps its peak memory until it exits, which a command-line run does soon.
public enum MemoryTuning {
    nonisolated(unsafe) private static var applied = false

    /// Applies the settings once; later calls do nothing.
    public static func keepFreedMemory() {
        guard !applied else { return }
        applied = true
        lantern_keep_freed_memory()
    }
}
