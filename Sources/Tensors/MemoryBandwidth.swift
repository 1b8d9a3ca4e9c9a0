import CKernels

/// How fast this machine reads memory: the ceiling of decode speed, which reads every weight
/// once per token (`lantern bench` prints decode as a fraction of `bandwidth ÷ bytes per token`).
public enum MemoryBandwidth {
    /// Bytes per second that `threads` workers sustain reading a buffer far larger than the caches,
    /// each summing its own contiguous share: the same access pattern as the matrix–vector
    /// kernels, one stream per thread. One measurement reads the buffer `passesPerWindow` times
    /// back to back (2 GB, about a tenth of a second, after one pass that faults the pages in),
    /// and the best of `windows` is kept. Why windows and not single passes: on a shared virtual
    /// machine single 512 MB passes ran up to 46–57 GB/s for an instant while two threads
    /// sustained 31–35 GB/s, and a decode run lasts seconds.
    public static func readBytesPerSecond(
        threads: Int, bytes: Int = 512 << 20, passesPerWindow: Int = 4, windows: Int = 3
    ) -> Double {
        let count = bytes / 4
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: count)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 1, count: count)
        let parts = max(1, min(threads, WorkerPool.shared.width))
        nonisolated(unsafe) let data = UnsafePointer(buffer)
        let sums = UnsafeMutablePointer<Float>.allocate(capacity: parts)
        defer { sums.deallocate() }
        nonisolated(unsafe) let partSums = sums
        func readAll() {
            WorkerPool.shared.run(parts: parts) { part in
                let first = count * part / parts, last = count * (part + 1) / parts
                partSums[part] = sum(data + first, count: last - first)
            }
        }
        readAll()
        var best = Double.infinity
        for _ in 0..<windows {
            let start = ContinuousClock.now
            for _ in 0..<passesPerWindow { readAll() }
            best = min(best, (ContinuousClock.now - start).seconds)
        }
        precondition((0..<parts).reduce(0) { $0 + Double(partSums[$1]) } > 0, "MemoryBandwidth: the probe read nothing")
        return Double(count * 4 * passesPerWindow) / best
    }

    static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
        if vectorKernelAvailable { return lantern_stream_sum_avx2(p, count) }
        var acc = SIMD8<Float>()
        var i = 0
        let raw = UnsafeRawPointer(p)
        while i + 8 <= count { acc += raw.loadUnaligned(fromByteOffset: i * 4, as: SIMD8<Float>.self); i += 8 }
        var s = acc.sum()
        while i < count { s += p[i]; i += 1 }
        return s
    }
}

extension Duration {
    /// The duration in seconds, as a Double.
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}
