#if canImport(Glibc)
    import Glibc
#endif
import CKernels

/// Storage for large recorded tensors (attention scores and patterns, per-layer activations).
///
/// Why: a full recording of a long prompt writes hundreds of megabytes into fresh memory, and
/// with 4 KiB pages the kernel takes one page fault per 4 KiB (and zeroes each page) — measured
/// as most of the cost of recording a 512-token GPT-2 prefill. Asking for transparent huge pages
/// (`madvise(MADV_HUGEPAGE)`, honoured when the system's THP mode is `madvise` or `always`) before
/// the first write turns 512 faults into one. Small buffers and other systems get a plain array.
public enum RecordStorage {
    /// Buffers below this size are not worth a system call.
    static let hugePageThreshold = 4 << 20
    static let hugePageSize = 2 << 20

    /// An array of `count` floats that `fill` must initialise completely.
    public static func make(count: Int, _ fill: (UnsafeMutableBufferPointer<Float>) -> Void) -> [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            adviseHugePages(buffer)
            fill(buffer)
            initialized = count
        }
    }

    static func adviseHugePages(_ buffer: UnsafeMutableBufferPointer<Float>) {
        #if os(Linux)
            guard let base = buffer.baseAddress, buffer.count * MemoryLayout<Float>.size >= hugePageThreshold else { return }
            let start = (UInt(bitPattern: base) + UInt(hugePageSize - 1)) & ~UInt(hugePageSize - 1)
            let end = (UInt(bitPattern: base + buffer.count)) & ~UInt(hugePageSize - 1)
            guard end > start, let pointer = UnsafeMutableRawPointer(bitPattern: start) else { return }
            _ = madvise(pointer, Int(end - start), 14 /* MADV_HUGEPAGE */)
        #endif
    }
}

/// How the process hands memory back to the system.
///
/// Why: glibc serves large allocations (a record, a forward pass's scratch buffers) with fresh
/// `mmap`s and returns them on free, so every forward pass that records asks the kernel for
/// hundreds of megabytes again, and the kernel zeroes each page before handing it over. Profiled
/// on a fully recorded 512-token GPT-2 prefill, that zeroing (`clear_page_erms`) was a fifth of
/// all cycles and nearly the whole cost of recording. Serving them from the heap and keeping freed
/// memory for reuse makes every pass after the first write into pages the process already has.
/// The price: memory freed after a large trace stays with the process until it exits, which
/// suits a command-line tool. Only the `lantern` executable opts in; a library user decides.
public enum ProcessMemory {
    public static func keepFreedMemory() {
        lantern_keep_freed_memory()
    }
}
