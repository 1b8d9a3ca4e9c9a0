import XCTest
@testable import Tensors
#if os(Linux)
    import Glibc

    /// `ProcessMemory.keepFreedMemory` is what makes recording cheap after a process's first pass:
    /// freed record buffers are reused instead of being handed back to the system and zeroed again.
    /// Page faults are counted with getrusage, so the test checks the mechanism, not a timing.
    final class ProcessMemoryTests: XCTestCase {
        private func minorFaults() -> Int {
            var usage = rusage()
            getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
            return usage.ru_minflt
        }

        /// Allocates and fills a 64 MiB record (16,384 pages of 4 KiB), returning the faults it took.
        private func faultsOfOneRecord() -> Int {
            let before = minorFaults()
            let record = RecordStorage.make(count: 16 << 20) { buffer in
                buffer.initialize(repeating: 1)
            }
            let faults = minorFaults() - before
            XCTAssertEqual(record[record.count - 1], 1)
            return faults
        }

        func testFreedRecordMemoryIsReusedWithoutNewPageFaults() {
            ProcessMemory.keepFreedMemory()
            _ = faultsOfOneRecord()  // the first time the memory is fresh
            let again = faultsOfOneRecord()
            // 64 MiB of fresh 4 KiB pages would be 16,384 faults (32 with huge pages); reused memory
            // needs none. A few stray faults from other allocations are allowed.
            XCTAssertLessThan(again, 16, "a second 64 MiB record took \(again) page faults: freed memory was handed back to the system")
        }
    }
#endif  // the policy is glibc's; elsewhere `keepFreedMemory` does nothing and there is nothing to check
