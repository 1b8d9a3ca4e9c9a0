import Tensors
import XCTest

/// When Lantern restarts itself with a named OpenBLAS core, and when it leaves OpenBLAS alone.
final class BLASCoreTests: XCTestCase {
    func testAGenericCoreOnAVectorCPUIsCorrected() {
        XCTAssertEqual(BLASCore.correction(runningCore: "Prescott", environment: [:], avx512: true, avx2FMA: true), "SkylakeX")
        XCTAssertEqual(BLASCore.correction(runningCore: "Prescott", environment: [:], avx512: false, avx2FMA: true), "Haswell")
        XCTAssertEqual(BLASCore.correction(runningCore: "Nehalem", environment: [:], avx512: false, avx2FMA: true), "Haswell")
    }

    func testAKnownCoreOrAnOldCPUIsLeftAlone() {
        for core in ["Zen", "Haswell", "SkylakeX", "Cooperlake", "SapphireRapids", "Sandybridge"] {
            XCTAssertNil(BLASCore.correction(runningCore: core, environment: [:], avx512: true, avx2FMA: true), core)
        }
        XCTAssertNil(BLASCore.correction(runningCore: "Prescott", environment: [:], avx512: false, avx2FMA: false))
    }

    /// The user's OPENBLAS_CORETYPE wins (some machines set a core on purpose), and a restarted
    /// process never restarts again.
    func testTheUsersChoiceAndARestartAreRespected() {
        XCTAssertNil(
            BLASCore.correction(runningCore: "Prescott", environment: ["OPENBLAS_CORETYPE": "Prescott"], avx512: true, avx2FMA: true))
        XCTAssertNil(
            BLASCore.correction(runningCore: "Prescott", environment: [BLASCore.correctedMarker: "1"], avx512: true, avx2FMA: true))
        XCTAssertEqual(
            BLASCore.correction(runningCore: "Prescott", environment: ["OPENBLAS_CORETYPE": ""], avx512: false, avx2FMA: true), "Haswell")
    }

    func testTheReportNamesTheRunningCore() {
        let report = KernelReport.current()
        XCTAssertFalse(report.blasCore.isEmpty)
        XCTAssertTrue(report.blasConfiguration.contains("OpenBLAS"), report.blasConfiguration)
        XCTAssertTrue(report.lines.contains { $0.contains("\(report.blasCore) kernels") }, "\(report.lines)")
    }
}
