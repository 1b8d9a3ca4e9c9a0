import Foundation
import XCTest

/// `lantern patch` end to end on the built-in model: where the copied word's information sits
/// (its own position through layer 3, the last position from layer 4), single sites, refusals.
final class PatchCommandTests: XCTestCase {
    static let clean = "Zoe found a blue hat. Zoe found a blue", corrupt = "Zoe found a blue cup. Zoe found a blue"

    func testTheResidualSweepShowsTheWordMovingToTheLastPosition() throws {
        let run = try CLI.run(["patch", Self.clean, Self.corrupt, "--each", "residual", "--json"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let json = try CLI.json(run.stdout)
        XCTAssertEqual(json["answer_piece"] as? String, "␣hat")
        XCTAssertGreaterThan(json["clean_probability"] as? Double ?? 0, 0.9)
        XCTAssertLessThan(json["corrupt_probability"] as? Double ?? 1, 0.01)
        let grid = try XCTUnwrap(json["restored"] as? [[Double]])
        XCTAssertEqual(grid.count, 6)
        // Layer 0: only the changed word's own position carries the answer; last layer: only the last position.
        XCTAssertGreaterThan(grid[0][4], 0.9)
        XCTAssertLessThan(grid[0].enumerated().filter { $0.offset != 4 }.map { abs($0.element) }.max() ?? 1, 0.05)
        XCTAssertEqual(grid[5][9], 1, accuracy: 1e-3)
        // The first layer where the last position holds it is after the positions in between stop mattering.
        let moved = try XCTUnwrap(grid.firstIndex { $0[9] > 0.5 })
        XCTAssertLessThan(grid[moved][4], 0.5)
    }

    func testOneSiteAndItsPicture() throws {
        let single = try CLI.run(["patch", Self.clean, Self.corrupt, "--layer", "0", "--position", "4"])
        XCTAssertEqual(single.exitCode, 0, single.stderr)
        XCTAssertTrue(single.stdout.contains("of the way back"), single.stdout)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-patch-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        let heads = try CLI.run(["patch", Self.clean, Self.corrupt, "--each", "heads", "--out", folder.path])
        XCTAssertEqual(heads.exitCode, 0, heads.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("patch-heads.png").path))
    }

    func testBadInputIsRefused() throws {
        let cases: [([String], String)] = [
            (["patch", "Zoe found a hat", "Zoe found a big red hat"], "say what to patch"),
            (["patch", "Zoe found a hat", "Zoe found a big red hat", "--head", "1.0"], "the same number"),
            (["patch", Self.clean, Self.corrupt, "--layer", "1"], "go together"),
            (["patch", Self.clean, Self.corrupt, "--each", "mlp"], "use residual or heads"),
            (["patch", Self.clean, Self.corrupt, "--head", "1.0", "--out", "x.png"], "--out draws a sweep")
        ]
        for (arguments, message) in cases {
            let run = try CLI.run(arguments)
            XCTAssertNotEqual(run.exitCode, 0, arguments.joined(separator: " "))
            XCTAssertTrue(run.stderr.contains(message), "\(arguments): \(run.stderr)")
        }
    }
}
