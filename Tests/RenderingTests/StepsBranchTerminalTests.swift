import Foundation
import LanternTestSupport
@testable import Rendering
import Tensors
import Tracing
import XCTest

/// The steps heatmap (newest token across generation steps), the branch tree's DOT (golden
/// file Golden/branch-tree.dot, re-record with LANTERN_RECORD_GOLDEN=1) and the terminal renderings.
final class StepsBranchTerminalTests: XCTestCase {
    /// One head over 5 tokens (3 prompt + 2 generated). Row 3 (step 1) puts everything on key 0,
    /// row 4 (step 2) everything on key 4.
    static func source() -> AttentionSource {
        var scalars = [Float](repeating: 0, count: 25)
        for row in 0..<5 { scalars[row * 5] = 1 }  // all on the first token
        scalars[4 * 5 + 0] = 0; scalars[4 * 5 + 4] = 1
        return AttentionSource(
            pattern: Tensor(shape: [1, 5, 5], scalars: scalars),
            pieces: ["<s>", "␣Once", "␣upon", "␣a", "␣time"], layer: 2, model: "/models/tiny.bin",
            prompt: "Once upon", promptTokens: 3)
    }

    func testStepsHeatmapRowsAreTheGeneratedTokens() throws {
        let map = try StepsPicture.heatmap(Self.source(), head: 0)
        XCTAssertEqual(map.rows, 2)
        XCTAssertEqual(map.cols, 5)
        XCTAssertEqual(map.rowLabels, ["1 ␣a", "2 ␣time"])
        XCTAssertEqual(map.columnLabels, ["<s>", "␣Once", "␣upon", "␣a", "␣time"])
        XCTAssertTrue(map.title.hasSuffix("across generation steps"), map.title)
        XCTAssertEqual(Array(map.values[0..<5]), [1, 0, 0, 0, 0])
        XCTAssertEqual(Array(map.values[5..<10]), [0, 0, 0, 0, 1])
        XCTAssertTrue(StepsPicture.isMasked(Self.source(), row: 0, col: 4))
        XCTAssertFalse(StepsPicture.isMasked(Self.source(), row: 0, col: 3))
        XCTAssertFalse(StepsPicture.isMasked(Self.source(), row: 1, col: 4))
    }

    func testStepsPNGDecodesWithKnownCellColours() throws {
        let source = Self.source()
        let map = try StepsPicture.heatmap(source, head: 0)
        let layout = try map.layout()
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("steps-\(UUID()).png")
        defer { try? FileManager.default.removeItem(at: url) }
        try PNGWriter.write(try StepsPicture.render(source, head: 0), to: url)
        let image = try PNGReader.read(url)
        XCTAssertEqual(image.width, layout.width)
        XCTAssertEqual(image.height, layout.height)
        // Step 1 on key 0 is the maximum (viridis top, yellow); step 1 on key 1 is zero (dark purple).
        let top = layout.cellRect(row: 0, col: 0), zero = layout.cellRect(row: 0, col: 1)
        XCTAssertEqual(image.pixel(top.x + 2, top.y + 2), Colormap.viridis.color(1, low: 0, high: 1))
        XCTAssertEqual(image.pixel(zero.x + 2, zero.y + 2), Colormap.viridis.color(0, low: 0, high: 1))
        // Step 1 cannot see key 4 (the token after it): masked grey, not a colour.
        let masked = layout.cellRect(row: 0, col: 4)
        let pixel = image.pixel(masked.x + 3, masked.y + 2)
        XCTAssertTrue(pixel == Palette.maskFill || pixel == Palette.maskHatch, "\(pixel)")
        // Step 2 looks at itself (key 4): the maximum again.
        let last = layout.cellRect(row: 1, col: 4)
        XCTAssertEqual(image.pixel(last.x + 2, last.y + 2), Colormap.viridis.color(1, low: 0, high: 1))
    }

    func testStepsNeedGeneratedTokens() {
        var source = Self.source()
        source.promptTokens = 5
        XCTAssertThrowsError(try StepsPicture.heatmap(source, head: 0)) { error in
            XCTAssertEqual(error as? StepsPictureError, .noGeneratedTokens)
        }
    }

    // MARK: - Branch tree

    static let branchJSON = """
        {
          "format": "lantern-branch", "version": 1, "model": "/models/stories260K.bin", "prompt": "Once upon a time",
          "prompt_ids": [1, 403, 407, 261, 378], "max_new_tokens": 4, "stop_strings": [],
          "sampling": {"greedy": true, "seed": 42, "temperature": 1, "top_k": 0, "top_p": 1},
          "fork": {"at": 2, "forced_id": 382, "forced_piece": "␣we", "forced_probability": 0.0078, "forced_rank": 2,
                   "forced_within_filters": false, "original_id": 286, "original_piece": "␣was",
                   "original_probability": 0.9842, "original_rank": 1},
          "main": {"stop_reason": "max_tokens", "text": ", there was a", "tokens": [
            {"forced": false, "id": 432, "piece": ",", "probability": 0.9688, "rank": 1},
            {"forced": false, "id": 383, "piece": "␣there", "probability": 0.9339, "rank": 1},
            {"forced": false, "id": 286, "piece": "␣was", "probability": 0.9842, "rank": 1},
            {"forced": false, "id": 261, "piece": "␣a", "probability": 0.9992, "rank": 1}]},
          "branch": {"stop_reason": "max_tokens", "text": ", there we \\"re", "tokens": [
            {"forced": false, "id": 432, "piece": ",", "probability": 0.9688, "rank": 1},
            {"forced": false, "id": 383, "piece": "␣there", "probability": 0.9339, "rank": 1},
            {"forced": true, "id": 382, "piece": "␣we", "probability": 0.0078, "rank": 2},
            {"forced": false, "id": 276, "piece": "\\"re", "probability": 0.9926, "rank": 1}]}
        }
        """

    static func record() throws -> BranchRecord {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("branch-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data(branchJSON.utf8).write(to: url)
        return try BranchRecord.read(from: url)
    }

    func testBranchTreeMatchesGolden() throws {
        let dot = BranchGraph.dot(try Self.record())
        XCTAssertEqual(dot, BranchGraph.dot(try Self.record()), "same record, same bytes")
        try assertGolden(dot, "branch-tree.dot")
    }

    func testBranchTreeShape() throws {
        let dot = BranchGraph.dot(try Self.record())
        // Shared chain, then the fork from the last shared token into both lines.
        XCTAssertTrue(dot.contains("prompt -> s0 [label=\" p 0.9688 \"]"), dot)
        XCTAssertTrue(dot.contains("s0 -> s1 [label=\" p 0.9339 \"]"), dot)
        XCTAssertTrue(dot.contains("s1 -> m2 [label=\" p 0.9842 \"]"), dot)
        XCTAssertTrue(dot.contains("s1 -> b2 [label=\" p 0.0078 forced \""), dot)
        XCTAssertTrue(dot.contains("forced (rank 2)"), dot)
        XCTAssertTrue(dot.contains("\\\"re"), "quotes escaped")
        XCTAssertFalse(dot.contains("s2 "), "only the first --at tokens are shared")
    }

    func testBranchTreeRendersToPNG() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("branch-tree-\(UUID()).png")
        defer { try? FileManager.default.removeItem(at: url) }
        try BranchGraph.write(try Self.record(), to: url)
        let image = try PNGReader.read(url)
        XCTAssertGreaterThan(image.width, 400)
    }

    // MARK: - Terminal

    func testTerminalHeatmapPlainAndColoured() throws {
        let map = try StepsPicture.heatmap(Self.source(), head: 0)
        let masked = { StepsPicture.isMasked(Self.source(), row: $0, col: $1) }
        let plain = TerminalHeatmap.render(map, painter: TerminalPainter(color: .none), isMasked: masked)
        XCTAssertFalse(plain.contains("\u{1B}"))
        XCTAssertTrue(plain.contains("1 ␣a"), plain)
        XCTAssertTrue(plain.contains("4 ␣time"), plain)
        XCTAssertTrue(plain.contains("██"), "the maximum is a full block")
        XCTAssertTrue(plain.contains("··"), "the masked cell")
        XCTAssertTrue(plain.contains("attention: ░░ 0.00 … ██ 1.00"), plain)
        let coloured = TerminalHeatmap.render(map, painter: TerminalPainter(color: .trueColor), isMasked: masked)
        let yellow = Colormap.viridis.color(1, low: 0, high: 1)
        XCTAssertTrue(coloured.contains("\u{1B}[38;2;\(yellow.r);\(yellow.g);\(yellow.b)m██"), coloured)
        let palette = TerminalHeatmap.render(map, painter: TerminalPainter(color: .palette256), isMasked: masked)
        XCTAssertTrue(palette.contains("\u{1B}[38;5;"))
    }

    func testTerminalBarChart() {
        let panel = BarPanel(
            rows: [
                BarRow(label: "␣cat", value: 0.75, valueText: "0.750", highlighted: true),
                BarRow(label: "␣dog", value: 0.25, valueText: "0.250")
            ],
            maxValue: 1, axisName: "probability", labelWidth: 60, plotWidth: 200)
        let chart = BarChart(title: "Next-token probabilities", panel: panel, notes: ["a note"])
        let plain = TerminalBarChart.render(chart, painter: TerminalPainter(color: .none), labelWidth: 6, barWidth: 8)
        XCTAssertFalse(plain.contains("\u{1B}"))
        XCTAssertTrue(plain.contains("▶ ␣cat   ██████   0.750"), plain)
        XCTAssertTrue(plain.contains("  ␣dog   ██       0.250"), plain)
        XCTAssertTrue(plain.contains("legend: bar length = probability"), plain)
    }

    private func assertGolden(_ text: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try assertMatchesGolden(
            text, name, in: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden"),
            file: file, line: line)
    }
}
