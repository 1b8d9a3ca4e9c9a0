import Foundation
import Generation
import Tensors
import Tracing
import XCTest

@testable import Rendering

/// Every picture kind Lantern draws, from small hand-made inputs, against a golden image
/// (`Golden/<name>.png`; `LANTERN_RECORD_GOLDEN=1` re-records), and at 500 tokens against size
/// limits: a long input wraps, pools or numbers its labels instead of growing without end.
final class PictureGoldenTests: XCTestCase {
    // MARK: - Hand-made inputs

    static let pieces = ["<s>", "␣The", "␣cat", "␣sat"]

    /// `[heads, N, N]` causal attention: head h of row q weighs key k by (k + 1 + h·(q − k)),
    /// normalised over k ≤ q (a different, deterministic shape per head).
    static func pattern(heads: Int, tokens N: Int) -> Tensor {
        var scalars = [Float](repeating: 0, count: heads * N * N)
        for h in 0..<heads {
            for q in 0..<N {
                let raw = (0...q).map { k in Float(k + 1 + h * (q - k)) }
                let total = raw.reduce(0, +)
                for k in 0...q { scalars[(h * N + q) * N + k] = raw[k] / total }
            }
        }
        return Tensor(shape: [heads, N, N], scalars: scalars)
    }

    static func source(heads: Int = 2, tokens N: Int = 4, layer: Int = 1) -> AttentionSource {
        let pieces = N == 4 ? Self.pieces : (0..<N).map { "t\($0)" }
        return AttentionSource(
            pattern: pattern(heads: heads, tokens: N), pieces: pieces, layer: layer, model: "/models/tiny.bin",
            prompt: pieces.joined(separator: " "), promptTokens: max(1, N / 2))
    }

    static func lens(tokens N: Int, layers: Int) -> LensPicture {
        var cells: [[LensGridCell]] = []
        for row in 0..<layers {
            var cellsOfRow: [LensGridCell] = []
            for position in 0..<N {
                let probability = Float((position * 3 + row) % 10) / 10
                cellsOfRow.append(LensGridCell(piece: "w\((position + row) % 7)", probability: probability, hit: (position + row) % 4 == 0))
            }
            cells.append(cellsOfRow)
        }
        return LensPicture(
            cells: cells, rowLabels: ["embed"] + (0..<(layers - 1)).map { "layer \($0)" },
            columnLabels: N == 4 ? pieces : (0..<N).map { "t\($0)" }, title: "Logit lens: the top prediction after each layer",
            subtitle: "tiny.bin · hand-made")
    }

    static func residual(tokens N: Int) -> ResidualStream {
        var shares: [DirectLogitAttribution.Share] = [
            .init(part: .tokenEmbedding, logit: 0.2), .init(part: .positionEmbedding, logit: -0.1)
        ]
        for l in 0..<2 {
            for h in 0..<2 { shares.append(.init(part: .head(layer: l, head: h), logit: Float(l + 1) * (h == 0 ? 0.5 : -0.3))) }
            shares.append(.init(part: .attentionBias(layer: l), logit: 0.05))
            shares.append(.init(part: .mlp(layer: l), logit: Float(l) + 0.4))
        }
        let total = shares.reduce(0) { $0 + $1.logit }
        let norms = (0..<3).map { layer in (0..<N).map { Float(layer * 10 + $0 % 5) + 1 } }
        var attribution = DirectLogitAttribution(position: N - 1, token: 7, logit: total + 0.3, constant: 0.3, shares: shares)
        attribution.probability = 0.62
        attribution.rank = 1
        return ResidualStream(tokens: Array(0..<N), norms: norms, attribution: attribution)
    }

    static func headSummary() throws -> HeadSummary {
        var heads: [[String: Any]] = []
        for layer in 0..<2 {
            for head in 0..<3 {
                heads.append([
                    "layer": layer, "head": head, "entropy": Double(layer + head) * 0.4, "previousToken": 0.1 * Double(head + 1),
                    "firstToken": layer == 0 ? 0.7 : 0.2, "previousTokenOnRandom": head == 1 ? 0.8 : 0.1,
                    "induction": layer == 1 && head == 2 ? 0.6 : 0.05, "labels": [String]()
                ])
            }
        }
        let json: [String: Any] = [
            "heads": heads, "thresholds": ["previousToken": 0.5, "induction": 0.4, "firstToken": 0.6],
            "promptIds": [1, 2, 3, 4, 5], "randomSequences": [[0, 1, 2, 1, 2]], "repeatLength": 2, "seed": 42
        ]
        return try JSONDecoder().decode(HeadSummary.self, from: JSONSerialization.data(withJSONObject: json))
    }

    /// Each picture kind, drawn from the inputs above at `tokens` tokens.
    static func pictures(tokens N: Int) throws -> [(name: String, canvas: Canvas)] {
        let one = source(heads: 2, tokens: N)
        var stepsSource = source(heads: 2, tokens: N)
        stepsSource.promptTokens = max(1, N / 2)
        let vectors = (0..<min(N, 64)).map { i in (0..<8).map { Float(sin(Double(i * 8 + $0))) } }
        let points = vectors.map { (x: $0[0], y: $0[1]) }
        let loss = LineChart(
            title: "Training loss", subtitles: ["hand-made"],
            series: [
                .init(name: "train", values: (0..<40).map { 3 * exp(-Float($0) / 12) + 0.4 }, color: ChartPalette.series[0]),
                .init(
                    name: "validation", values: (0..<40).map { $0 % 10 == 0 ? 3 * exp(-Float($0) / 12) + 0.6 : .nan },
                    color: ChartPalette.series[1], markers: true)
            ], xAxis: "step", yAxis: "loss", yRange: (0, 3.5))
        return [
            ("attention-overview", try OverviewPicture.render([one, source(heads: 2, tokens: N, layer: 2)])),
            ("attention-text", try TextAttentionPicture.render(one, head: 1, query: N - 1)),
            ("attention-lines", try HeadViewPicture.render(one, query: nil)),
            ("attention-steps", try StepsPicture.render(stepsSource, head: 0)),
            ("lens", try lens(tokens: N, layers: 3).render()),
            (
                "residual",
                try ResidualPicture.render(residual(tokens: N), pieces: one.pieces, tokenPiece: "␣dog", heads: 2, model: "tiny.bin")
            ),
            (
                "embeddings-similarity",
                try EmbeddingPicture.similarity(
                    vectors: vectors, pieces: Array(one.pieces.prefix(vectors.count)), model: "tiny.bin", prompt: "x"
                )
                .render()
            ),
            (
                "embeddings-pca",
                try ScatterPlot(
                    points: points, labels: Array(one.pieces.prefix(points.count)), title: "Embeddings (PCA)", xAxis: "PC 1",
                    yAxis: "PC 2"
                ).render()
            ),
            (
                "positions-sinusoidal",
                try PositionPicture.heatmap(.sinusoidal(positions: max(N, 16), width: 32, origin: "hand-made")).render()
            ),
            ("line-chart", try loss.render()),
            ("probs", try ProbabilityPicture.distribution(ChartTests.source(), top: 4).render()),
            ("funnel", try ProbabilityPicture.funnel(ChartTests.source(), top: 4)),
            (
                "head-scores",
                try HeadScoresPicture.render(headSummary(), layers: 2, heads: 3, promptTokens: 5, onWhat: "random", model: "tiny.bin")
            ),
            (
                "classification",
                try ClassificationPicture.chart(
                    text: "Mia lost her ball.", labels: ["sad", "happy"], scores: [0.8, 0.2], method: "label likelihood",
                    detail: "hand-made", model: "tiny.bin"
                ).render()
            )
        ]
    }

    // MARK: - Tests

    func testEveryPictureKindMatchesItsGolden() throws {
        for (name, canvas) in try Self.pictures(tokens: 4) {
            try assertMatchesGoldenImage(canvas, name: "kind-" + name)
        }
    }

    /// At 500 tokens every kind stays within a size a screen can show at 100 % a part at a time:
    /// no one-row picture thousands of pixels wide, no map growing with the square of the length.
    func testFiveHundredTokensKeepEveryPictureWithinBounds() throws {
        let limits: [String: (width: Int, height: Int)] = [
            "attention-overview": (1_200, 2_200), "attention-text": (1_000, 2_600), "attention-lines": (1_300, 1_800),
            "attention-steps": (1_700, 2_600), "lens": (2_200, 5_000), "residual": (1_700, 3_600),
            "embeddings-similarity": (1_400, 2_000), "embeddings-pca": (1_000, 1_000), "positions-sinusoidal": (1_600, 2_600),
            "line-chart": (1_000, 700), "probs": (1_000, 700), "funnel": (1_600, 800), "head-scores": (1_600, 1_200),
            "classification": (1_000, 600)
        ]
        for (name, canvas) in try Self.pictures(tokens: 500) {
            let limit = try XCTUnwrap(limits[name], "no size limit for \(name)")
            XCTAssertLessThanOrEqual(canvas.width, limit.width, "\(name) is \(canvas.width) × \(canvas.height)")
            XCTAssertLessThanOrEqual(canvas.height, limit.height, "\(name) is \(canvas.width) × \(canvas.height)")
        }
        // The single-head map and the layer grid, drawn by the attention command.
        let long = Self.source(heads: 6, tokens: 500)
        let head = try AttentionPicture.head(long, head: 0), grid = try AttentionPicture.layer(long)
        XCTAssertLessThanOrEqual(head.width, 1_500)
        XCTAssertLessThanOrEqual(head.height, 2_600)
        XCTAssertLessThanOrEqual(grid.width, 1_000, "six pooled maps of about 180 px, three a row")
        XCTAssertLessThanOrEqual(grid.height, 2_000)
        // The same grid at 200 tokens has maps of the same size (only the token key grows).
        let shorter = try AttentionPicture.layer(Self.source(heads: 6, tokens: 200))
        XCTAssertEqual(shorter.width, grid.width)
    }
}

/// Compares `canvas`, written and decoded as a user gets it, with `Golden/<name>.png`: same size,
/// and every channel within a small tolerance (font rasterisers differ slightly between FreeType
/// versions) except for a few pixels. `LANTERN_RECORD_GOLDEN=1` re-records.
func assertMatchesGoldenImage(_ canvas: Canvas, name: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    let url = folder.appendingPathComponent(name + ".png")
    if ProcessInfo.processInfo.environment["LANTERN_RECORD_GOLDEN"] == "1" {
        try PNGWriter.write(canvas, to: url)
        print("recorded \(url.path)")
        return
    }
    guard FileManager.default.fileExists(atPath: url.path) else {
        return XCTFail("no golden image \(url.path); record it with LANTERN_RECORD_GOLDEN=1", file: file, line: line)
    }
    let golden = try PNGReader.read(url)
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-golden-\(UUID()).png")
    defer { try? FileManager.default.removeItem(at: scratch) }
    try PNGWriter.write(canvas, to: scratch)
    let actual = try PNGReader.read(scratch)
    XCTAssertEqual(actual.width, golden.width, "\(name): width", file: file, line: line)
    XCTAssertEqual(actual.height, golden.height, "\(name): height", file: file, line: line)
    guard actual.width == golden.width, actual.height == golden.height else { return }
    var largest = 0, different = 0
    for i in stride(from: 0, to: actual.pixels.count, by: 4) {
        let d = (0..<3).map { abs(Int(actual.pixels[i + $0]) - Int(golden.pixels[i + $0])) }.max()!
        largest = max(largest, d)
        if d > 16 { different += 1 }
    }
    let total = actual.width * actual.height
    XCTAssertLessThanOrEqual(
        different, total / 200,
        "\(name) differs from its golden in \(different) pixels (largest difference \(largest)); "
            + "if the change is intended, re-record with LANTERN_RECORD_GOLDEN=1", file: file, line: line)
}
