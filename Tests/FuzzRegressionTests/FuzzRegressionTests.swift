import Foundation
import FuzzTargets
import XCTest

/// Every input the fuzzer found that once crashed, hung or misbehaved (scripts/fuzz.sh),
/// replayed through the same entry point: each must now be refused with a plain error.
final class FuzzRegressionTests: XCTestCase {
    static let inputs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Inputs")

    func testEveryFoundInputIsRefusedWithAPlainMessage() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-fuzz-replay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        var replayed = 0
        for target in FuzzTarget.allCases {
            let folder = Self.inputs.appendingPathComponent(target.rawValue)
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for name in files.sorted() where !name.hasPrefix(".") {
                let data = try Data(contentsOf: folder.appendingPathComponent(name))
                let error = target.run(data, in: scratch)
                XCTAssertNotNil(error, "\(target.rawValue)/\(name) was accepted")
                if let error {
                    let message = "\(error)"
                    XCTAssertFalse(
                        message.contains("NSCocoaErrorDomain") || message.isEmpty,
                        "\(target.rawValue)/\(name): \(message)")
                }
                replayed += 1
            }
        }
        XCTAssertGreaterThan(replayed, 0, "no regression inputs found in \(Self.inputs.path)")
    }
}
