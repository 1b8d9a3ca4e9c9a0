import Foundation
import Generation
import Rendering
import Tensors
import Transformer
import XCTest

/// Probability bars, the sampling funnel and positional pictures, checked on the decoded PNG:
/// size, text where labels go, bar lengths against the probabilities, grey for cut candidates,
/// and the diverging colours of known table values.
final class ChartTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-charts-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func roundTrip(_ canvas: Canvas, name: String) throws -> Canvas {
        let url = scratch.appendingPathComponent(name)
        try PNGWriter.write(canvas, to: url)
        return try PNGReader.read(url)
    }

    static func darkPixels(_ image: Canvas, x: Range<Int>, y: Range<Int>) -> Int {
        var count = 0
        for py in y.clamped(to: 0..<image.height) {
            for px in x.clamped(to: 0..<image.width) {
                let c = image.pixel(px, py)
                if Int(c.r) + Int(c.g) + Int(c.b) < 3 * 90 { count += 1 }
            }
        }
        return count
    }

    /// Pixels of `color` in a row starting at x (the length of a bar drawn from there).
    static func run(_ image: Canvas, x: Int, y: Int, color: RGB) -> Int {
        var n = 0
        while x + n < image.width, image.pixel(x + n, y) == color { n += 1 }
        return n
    }

    /// A hand-made step over 4 tokens (SamplingStep has no public initialiser; it is Codable).
    /// Probabilities 0.5, 0.25, 0.15, 0.1; top-k 2 keeps the first two, renormalised to 2/3, 1/3;
    /// the draw 0.8 lands on token 11.
    static func handMadeStep() throws -> SamplingStep {
        let probabilities: [Float] = [0.5, 0.25, 0.15, 0.1]
        let candidates = probabilities.enumerated().map { i, p in ["id": 10 + i, "logit": Double(logf(p)), "probability": Double(p)] }
        let json: [String: Any] = [
            "settings": ["temperature": 1.0, "topK": 2, "topP": 1.0, "greedy": false, "seed": 7],
            "topLogits": candidates, "afterTemperature": candidates,
            "countAfterTopK": 2, "countAfterTopP": 2,
            "renormalised": [
                ["id": 10, "logit": Double(logf(0.5)), "probability": 2.0 / 3],
                ["id": 11, "logit": Double(logf(0.25)), "probability": 1.0 / 3]
            ],
            "randomDraw": 0.8, "chosen": 11, "chosenProbability": 1.0 / 3, "chosenRank": 2, "forced": false
        ]
        return try JSONDecoder().decode(SamplingStep.self, from: JSONSerialization.data(withJSONObject: json))
    }

    static func source() throws -> ProbabilitySource {
        ProbabilitySource(
            step: try handMadeStep(), index: 0, pieces: [10: "␣the", 11: "␣a", 12: "␣his", 13: "␣one"],
            model: "/models/tiny.bin", context: "Once upon a time there was", vocabularySize: 512)
    }

    func testBarLengthsAreProportionalToTheProbabilities() throws {
        let chart = try ProbabilityPicture.distribution(Self.source(), top: 4)
        let image = try roundTrip(chart.render(), name: "probs.png")
        XCTAssertGreaterThan(image.width, 500)
        XCTAssertEqual(chart.panel.maxValue, 0.5, "the axis ends at a round value above the largest bar")
        let origin = chart.panelOrigin
        let probabilities: [Float] = [0.5, 0.25, 0.15, 0.1]
        var lengths: [Int] = []
        for (row, p) in probabilities.enumerated() {
            let bar = chart.panel.barRect(row: row, x: origin.x, y: origin.y)
            let color = row == 1 ? ChartPalette.chosen : ChartPalette.bar
            let measured = Self.run(image, x: bar.x, y: bar.y + bar.height / 2, color: color)
            let expected = p / 0.5 * Float(chart.panel.plotWidth)
            XCTAssertEqual(Float(measured), expected, accuracy: 1.5, "bar \(row) of probability \(p)")
            lengths.append(measured)
        }
        XCTAssertEqual(Float(lengths[0]) / Float(lengths[1]), 2, accuracy: 0.02)
        XCTAssertEqual(Float(lengths[2]) / Float(lengths[3]), 1.5, accuracy: 0.05)
        // Title, token labels and value labels are dark text.
        XCTAssertGreaterThan(Self.darkPixels(image, x: 0..<image.width, y: 0..<36), 100, "title")
        let first = chart.panel.barRect(row: 0, x: origin.x, y: origin.y)
        XCTAssertGreaterThan(Self.darkPixels(image, x: origin.x..<first.x, y: first.y..<(first.y + first.height)), 10, "token label")
        XCTAssertGreaterThan(
            Self.darkPixels(
                image, x: (first.x + first.width + 2)..<(first.x + first.width + 50),
                y: first.y..<(first.y + first.height)), 10, "value at the bar's end")
    }

    /// A chosen token below the `top` shown is listed under them, in orange with its rank, in the
    /// distribution and in every funnel panel (it used to be missing from all of them).
    func testAChosenTokenBelowTheTopIsListedWithItsRank() throws {
        let source = try Self.source()  // token 11 (rank 2) is chosen
        let panels = ProbabilityPicture.funnelPanels(source, top: 1, labelWidth: 100)
        for panel in panels {
            XCTAssertEqual(panel.rows.map(\.label), ["␣the", "␣a (rank 2)"])
            XCTAssertEqual(panel.rows[1].color, ChartPalette.chosen)
            XCTAssertTrue(panel.rows[1].highlighted)
        }
        XCTAssertEqual(panels[0].rows[1].valueText, "0.250")
        XCTAssertEqual(panels[2].rows[1].valueText, "0.333")
        let chart = try ProbabilityPicture.distribution(source, top: 1)
        XCTAssertEqual(chart.panel.rows.map(\.label), ["␣the", "␣a (rank 2)"])
        // Ranked past the candidates a step keeps: listed, its probability said to be unknown.
        var step = try Self.handMadeStep()
        step.chosen = 99
        step.chosenRank = 700
        let far = ProbabilitySource(step: step, index: 0, pieces: [99: "␣K"], model: "m", context: "x")
        let farPanels = ProbabilityPicture.funnelPanels(far, top: 2, labelWidth: 100)
        XCTAssertEqual(farPanels[0].rows.last?.label, "␣K (rank 700)")
        XCTAssertEqual(farPanels[0].rows.last?.valueText, "not listed")
        XCTAssertEqual(farPanels[2].rows.last?.valueText, "0.333")
    }

    func testFunnelGreysCutCandidatesAndHighlightsTheChoice() throws {
        let source = try Self.source()
        let picture = try ProbabilityPicture.funnel(source, top: 4)
        let image = try roundTrip(picture, name: "funnel.png")
        let labelWidth = try ProbabilityPicture.funnelLabelWidth(source, top: 4)
        let panels = ProbabilityPicture.funnelPanels(source, top: 4, labelWidth: labelWidth)
        let layout = try ProbabilityPicture.funnelLayout(source, panels: panels, notes: 1)
        XCTAssertEqual(image.width, layout.width)
        XCTAssertEqual(image.height, layout.height)
        func color(panel: Int, row: Int) -> RGB {
            let bar = panels[panel].barRect(row: row, x: layout.panelX[panel], y: layout.panelY)
            return image.pixel(bar.x + 2, bar.y + bar.height / 2)
        }
        // After temperature nothing is cut; top-k 2 cuts rows 2 and 3 (grey), top-p keeps the same two.
        XCTAssertEqual(color(panel: 0, row: 0), ChartPalette.bar)
        XCTAssertEqual(color(panel: 0, row: 3), ChartPalette.bar)
        for panel in 1...2 {
            XCTAssertEqual(color(panel: panel, row: 0), ChartPalette.bar)
            XCTAssertEqual(color(panel: panel, row: 1), ChartPalette.chosen, "the chosen token is orange")
            XCTAssertEqual(color(panel: panel, row: 2), ChartPalette.cut, "cut candidates are grey")
            XCTAssertEqual(color(panel: panel, row: 3), ChartPalette.cut)
        }
        // Renormalised: 2/3 of the axis (the shared axis ends at 1, the round value above 2/3).
        let third = panels[2]
        XCTAssertEqual(third.maxValue, 1)
        let bar = third.barRect(row: 0, x: layout.panelX[2], y: layout.panelY)
        XCTAssertEqual(
            Float(Self.run(image, x: bar.x, y: bar.y + 8, color: ChartPalette.bar)), Float(third.plotWidth) * 2 / 3,
            accuracy: 1.5)
        // The cumulative strip: 0…2/3 is ␣the, 2/3…1 is the chosen ␣a; the draw 0.8 is a black marker.
        let y = layout.stripY + layout.stripHeight - 3
        XCTAssertEqual(image.pixel(layout.stripX + 5, y), ChartPalette.bar)
        XCTAssertEqual(image.pixel(layout.stripX + layout.stripWidth * 9 / 10, y), ChartPalette.chosen)
        XCTAssertEqual(image.pixel(layout.stripX + Int(0.8 * Float(layout.stripWidth)), y), RGB(0, 0, 0))
        XCTAssertGreaterThan(Self.darkPixels(image, x: 0..<image.width, y: 0..<36), 100, "title")
        XCTAssertGreaterThan(Self.darkPixels(image, x: 0..<image.width, y: layout.notesY - 14..<layout.notesY + 4), 50, "note")
    }

    func testSinusoidalHeatmapStartsWithZeroAndOne() throws {
        let table = PositionTable.sinusoidal(positions: 16, width: 16, origin: "width 16")
        let map = PositionPicture.heatmap(table)
        XCTAssertEqual(map.scale, .diverging(limit: 1))
        let layout = try map.layout()
        XCTAssertGreaterThanOrEqual(layout.labelSize, 11)
        let image = try roundTrip(map.render(), name: "sinusoidal.png")
        XCTAssertEqual(image.width, layout.width)
        // Position 0: sin 0 = 0 (white) in even channels, cos 0 = 1 (full red) in odd ones.
        let zero = Colormap.diverging.color(0, low: -1, high: 1), one = Colormap.diverging.color(1, low: -1, high: 1)
        XCTAssertNotEqual(zero, one)
        for channel in 0..<16 {
            let r = layout.cellRect(row: 0, col: channel)
            XCTAssertEqual(image.pixel(r.x + 2, r.y + 2), channel % 2 == 0 ? zero : one, "channel \(channel)")
        }
        XCTAssertGreaterThan(Self.darkPixels(image, x: 0..<image.width, y: 0..<30), 100, "title")
        // Row labels (positions) left of the grid.
        XCTAssertGreaterThan(Self.darkPixels(image, x: 0..<layout.gridX, y: layout.gridY..<(layout.gridY + 4 * layout.cell)), 20)
    }

    /// Axis ticks land on round numbers: steps of 1, 2 or 5 × 10^k, as many as fit.
    func testLineChartTicksAreRound() {
        func ticks(_ low: Double, _ high: Double, _ most: Int) -> [Double] { LineChart.roundTicks(low: low, high: high, most: most).values }
        XCTAssertEqual(ticks(1.19, 7.7, 8), [2, 3, 4, 5, 6, 7])
        XCTAssertEqual(ticks(1, 10_000, 11), [1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10_000])
        XCTAssertEqual(ticks(0, 31, 11), [0, 5, 10, 15, 20, 25, 30])
        XCTAssertEqual(ticks(-1, 1, 8), [-1, -0.5, 0, 0.5, 1])
        XCTAssertEqual(LineChart.roundTicks(low: -1, high: 1, most: 8).decimals, 1)
        // The smallest round step that fits wins (1, not 2, for 0.36 … 7.9 with room for 8).
        XCTAssertEqual(ticks(0.36, 7.9, 8), [1, 2, 3, 4, 5, 6, 7])
        // Whole-number axes (steps, distances) never get steps of 0.5 or labels that repeat.
        XCTAssertEqual(LineChart.roundTicks(low: 1, high: 5, most: 11, minimumStep: 1).values, [1, 2, 3, 4, 5])
        // A round end stored as a Float (0.3 → 0.30000001) keeps its tick.
        let float = LineChart.roundTicks(low: Double(Float(0.3)), high: Double(Float(0.9)), most: 8).values
        XCTAssertEqual(float.count, 7)
        XCTAssertEqual(float.first ?? 0, 0.3, accuracy: 1e-9)
        let fine = LineChart.roundTicks(low: 2.1, high: 2.4, most: 8)
        XCTAssertEqual(fine.decimals, 2)
        XCTAssertEqual(fine.values.count, 7)
        XCTAssertEqual(fine.values.first ?? 0, 2.1, accuracy: 1e-9)
    }

    func testSimilarityByDistance() throws {
        let rotary = PositionTable.rotary(positions: 32, headSize: 16, theta: 10000, origin: "test")
        XCTAssertEqual(rotary.columns, 8)
        XCTAssertEqual(rotary.values[0], 1, "cos of angle 0")
        let similarity = rotary.similarityByDistance()
        XCTAssertEqual(similarity.count, 32)
        XCTAssertEqual(similarity[0], 1, accuracy: 1e-5)
        // Rotary similarity is the mean cos of d·θ_j: the same at every position.
        let expected = (0..<8).map { cosf(3 * powf(10000, -Float(2 * $0) / 16)) }.reduce(0, +) / 8
        XCTAssertEqual(similarity[3], expected, accuracy: 1e-4)
        let sinusoidal = PositionTable.sinusoidal(positions: 32, width: 64, origin: "test").similarityByDistance()
        XCTAssertEqual(sinusoidal[0], 1, accuracy: 1e-5)
        XCTAssertGreaterThan(sinusoidal[1], sinusoidal[4])

        let chart = PositionPicture.similarityChart([PositionTable.sinusoidal(positions: 32, width: 64, origin: "test"), rotary])
        let image = try roundTrip(chart.render(), name: "similarity.png")
        XCTAssertGreaterThan(image.width, 600)
        XCTAssertGreaterThan(Self.darkPixels(image, x: 0..<image.width, y: 0..<30), 100, "title")
        // The rotary line (drawn last, on top) passes through its value at the largest distance.
        let end = chart.point(x: 31, value: similarity[31])
        XCTAssertEqual(image.pixel(end.x, end.y), ChartPalette.series[1])
        // The y axis name is drawn upright on the left.
        XCTAssertGreaterThan(Self.darkPixels(image, x: 0..<(LineChart.margin + 20), y: chart.plotOrigin.y..<(chart.plotOrigin.y + 300)), 50)
    }
}
