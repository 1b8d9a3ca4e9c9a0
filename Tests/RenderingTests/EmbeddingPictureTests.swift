import Foundation
import Rendering
import XCTest

/// Embedding pictures (cosine heatmap, PCA scatter), the PCA itself, and the logit-lens grid,
/// checked by decoding the PNGs they write.
final class EmbeddingPictureTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-embeddings-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    /// Writes and decodes, as a command would.
    func roundTrip(_ canvas: Canvas, _ name: String) throws -> Canvas {
        let url = scratch.appendingPathComponent(name)
        try PNGWriter.write(canvas, to: url)
        return try PNGReader.read(url)
    }

    /// Pixels darker than mid-grey in a rectangle (text is drawn in near-black).
    static func darkPixels(_ image: Canvas, x: Range<Int>, y: Range<Int>) -> Int {
        var dark = 0
        for py in y.clamped(to: 0..<image.height) {
            for px in x.clamped(to: 0..<image.width) {
                let c = image.pixel(px, py)
                if Int(c.r) + Int(c.g) + Int(c.b) < 300 { dark += 1 }
            }
        }
        return dark
    }

    // MARK: - Cosine similarity

    func testCosineOfKnownVectors() {
        XCTAssertEqual(EmbeddingMath.cosine([1, 0], [1, 0]), 1, accuracy: 1e-6)
        XCTAssertEqual(EmbeddingMath.cosine([1, 0], [0, 2]), 0, accuracy: 1e-6)
        XCTAssertEqual(EmbeddingMath.cosine([1, 1], [-2, -2]), -1, accuracy: 1e-6)
        XCTAssertEqual(EmbeddingMath.cosine([0, 0], [1, 2]), 0)
        let m = EmbeddingMath.cosineMatrix([[1, 0], [1, 1], [0, 3]])
        XCTAssertEqual(m.count, 9)
        XCTAssertEqual(m[1], 1 / Float(2).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(m[1], m[3], accuracy: 1e-7)  // symmetric
    }

    // MARK: - PCA

    /// Points along (1, 1, 0) with small noise: the first component is ±(1, 1, 0)/√2 and explains
    /// almost all the variance; the second is orthogonal to it.
    func testPCAFindsAKnownAxis() {
        var points: [[Float]] = []
        for i in 0..<40 {
            let t = Float(i - 20) * 0.25
            // Deterministic small "noise" off the axis.
            let n1 = 0.05 * sin(Float(i) * 1.7), n2 = 0.05 * cos(Float(i) * 2.3)
            points.append([t + n1 + 3, t - n1 - 1, n2 + 0.5])
        }
        let pca = PCA(points: points, count: 2)
        XCTAssertEqual(pca.components.count, 2)
        let first = pca.components[0]
        let s = 1 / Float(2).squareRoot()
        XCTAssertEqual(abs(first[0]), s, accuracy: 0.01)
        XCTAssertEqual(abs(first[1]), s, accuracy: 0.01)
        XCTAssertEqual(first[2], 0, accuracy: 0.01)
        XCTAssertGreaterThan(first[0] * first[1], 0)  // same sign: (1, 1, 0), not (1, −1, 0)
        XCTAssertGreaterThan(pca.explained[0], 0.9)
        XCTAssertLessThanOrEqual(pca.explained[0] + pca.explained[1], 1.0001)
        // Unit length and orthogonal.
        let second = pca.components[1]
        XCTAssertEqual(zip(first, first).map(*).reduce(0, +), 1, accuracy: 1e-4)
        XCTAssertEqual(zip(second, second).map(*).reduce(0, +), 1, accuracy: 1e-4)
        XCTAssertEqual(zip(first, second).map(*).reduce(0, +), 0, accuracy: 1e-3)
        // Coordinates are centred and their variance along PC1 is its eigenvalue.
        let xs = pca.coordinates.map { $0[0] }
        XCTAssertEqual(xs.reduce(0, +) / Float(xs.count), 0, accuracy: 1e-3)
        let variance = xs.map { $0 * $0 }.reduce(0, +) / Float(xs.count - 1)
        XCTAssertEqual(variance, pca.variances[0], accuracy: variance * 1e-3)
    }

    /// The components are the covariance's eigenvectors (C v = λ v), and the small-matrix route
    /// (fewer points than channels) gives the same components and variances as the direct one.
    func testPCAComponentsAreEigenvectorsByEitherRoute() {
        let P = 12, C = 30
        var points: [[Float]] = []
        for p in 0..<P {
            var point: [Float] = []
            for c in 0..<C {
                let wave = sin(Double(p * 31 + c * 7)), ripple = 0.3 * cos(Double(p * c))
                point.append(Float(wave + ripple))
            }
            points.append(point)
        }
        let direct = PCA(points: points, count: 3, throughSmallMatrix: false)
        let small = PCA(points: points, count: 3, throughSmallMatrix: true)
        let mean = (0..<C).map { c in points.reduce(0.0) { $0 + Double($1[c]) } / Double(P) }
        for k in 0..<3 {
            XCTAssertEqual(direct.variances[k], small.variances[k], accuracy: 1e-5 * direct.variances[0])
            for c in 0..<C { XCTAssertEqual(direct.components[k][c], small.components[k][c], accuracy: 1e-4, "component \(k)") }
            // C v = λ v, with C computed here from the points.
            let v = direct.components[k].map(Double.init)
            for i in 0..<C {
                var cv = 0.0
                for p in 0..<P {
                    let xi = Double(points[p][i]) - mean[i]
                    var projection = 0.0
                    for j in 0..<C { projection += (Double(points[p][j]) - mean[j]) * v[j] }
                    cv += xi * projection / Double(P - 1)
                }
                XCTAssertEqual(cv, Double(direct.variances[k]) * v[i], accuracy: 1e-4)
            }
        }
        XCTAssertGreaterThanOrEqual(direct.variances[0], direct.variances[1])
        XCTAssertGreaterThanOrEqual(direct.variances[1], direct.variances[2])
    }

    func testPCAOfIdenticalPointsExplainsNothing() {
        let pca = PCA(points: [[1, 2, 3], [1, 2, 3], [1, 2, 3]], count: 2)
        XCTAssertEqual(pca.explained, [0, 0])
        XCTAssertTrue(pca.coordinates.allSatisfy { $0 == [0, 0] })
    }

    // MARK: - Pictures

    func testSimilarityHeatmapDiagonalIsPlusOne() throws {
        let vectors: [[Float]] = [[1, 0, 0], [0.8, 0.6, 0], [-1, 0.1, 0], [0, 0, 2]]
        let pieces = ["<s>", "␣cat", "␣dog", "␣sat"]
        let map = EmbeddingPicture.similarity(vectors: vectors, pieces: pieces, model: "tiny", prompt: "the cat")
        let image = try roundTrip(try map.render(), "similarity.png")
        let layout = try map.layout()
        XCTAssertEqual(image.width, layout.width)
        XCTAssertEqual(image.height, layout.height)
        let plusOne = Colormap.diverging.color(1, low: -1, high: 1)
        for i in 0..<4 {
            let r = layout.cellRect(row: i, col: i)
            XCTAssertEqual(image.pixel(r.x + 2, r.y + 2), plusOne, "diagonal cell \(i)")
        }
        // (0, 2) is strongly negative: the blue end, not red.
        let r02 = layout.cellRect(row: 0, col: 2)
        let c = image.pixel(r02.x + 2, r02.y + 2)
        XCTAssertGreaterThan(c.b, c.r)
        // Title and row labels are drawn in dark text.
        XCTAssertGreaterThan(Self.darkPixels(image, x: 0..<image.width, y: 0..<layout.titleBaseline + 4), 150)
        XCTAssertGreaterThan(Self.darkPixels(image, x: 0..<layout.gridX - 4, y: layout.gridY..<layout.gridY + 4 * layout.cell), 40)
    }

    func testPCAScatterHasTitleAxesAndLabelledPoints() throws {
        let vectors: [[Float]] = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [2, 0, 1]]
        let plot = EmbeddingPicture.pca(vectors: vectors, pieces: ["a", "b", "c", "d", "e"], model: "tiny", width: 3)
        XCTAssertTrue(plot.xAxis.hasPrefix("principal component 1 ("), plot.xAxis)
        XCTAssertTrue(plot.xAxis.hasSuffix("% of variance)"), plot.xAxis)
        XCTAssertTrue(plot.yAxis.hasPrefix("principal component 2 ("), plot.yAxis)
        let image = try roundTrip(try plot.render(), "pca.png")
        XCTAssertGreaterThanOrEqual(image.width, ScatterPlot.plotSize)
        XCTAssertGreaterThan(image.height, ScatterPlot.plotSize)
        XCTAssertGreaterThan(Self.darkPixels(image, x: 0..<image.width, y: 0..<34), 150)
        // Each point: a dot in the series colour at its pixel, and dark label text to its right.
        let (x0, y0) = plot.plotOrigin
        for point in plot.points {
            let p = plot.pixel(point)
            XCTAssertTrue((x0..<x0 + ScatterPlot.plotSize).contains(p.x) && (y0..<y0 + ScatterPlot.plotSize).contains(p.y))
            XCTAssertEqual(image.pixel(p.x, p.y), ChartPalette.series[0])
            XCTAssertGreaterThan(Self.darkPixels(image, x: p.x + 6..<p.x + 20, y: p.y - 8..<p.y + 6), 3)
        }
        // The x-axis name under the plot.
        XCTAssertGreaterThan(
            Self.darkPixels(
                image, x: x0..<x0 + ScatterPlot.plotSize,
                y: y0 + ScatterPlot.plotSize + 24..<y0 + ScatterPlot.plotSize + 44), 100)
    }

    func testLensGridCellsHaveTheViridisColourOfTheirProbability() throws {
        let probabilities: [[Float]] = [[0.05, 0.2, 0.9], [0.5, 0.75, 1.0]]
        let cells = probabilities.map { row in row.map { LensGridCell(piece: "x", probability: $0) } }
        let picture = LensPicture(
            cells: cells, rowLabels: ["embed", "layer 0"], columnLabels: ["<s>", "␣The", "␣cat"],
            title: "Logit lens: tiny", subtitle: "hand-made")
        let image = try roundTrip(try picture.render(), "lens.png")
        let layout = try picture.layout()
        XCTAssertEqual(image.width, layout.width)
        XCTAssertEqual(image.height, layout.height)
        for (row, line) in probabilities.enumerated() {
            for (col, p) in line.enumerated() {
                let r = layout.cellRect(row: row, col: col)
                // A corner of the cell, away from the centred text and the white separators.
                XCTAssertEqual(image.pixel(r.x + 3, r.y + 3), Colormap.viridis.color(p), "cell (\(row), \(col)) p = \(p)")
            }
        }
        XCTAssertGreaterThan(Self.darkPixels(image, x: 0..<image.width, y: 0..<34), 100)
        // Row labels to the left of the grid, column labels above it.
        XCTAssertGreaterThan(
            Self.darkPixels(image, x: 0..<layout.gridX - 4, y: layout.gridY..<layout.gridY + 2 * LensPicture.cellHeight), 40)
        XCTAssertGreaterThan(
            Self.darkPixels(
                image, x: layout.gridX..<layout.gridX + 3 * LensPicture.cellWidth,
                y: layout.gridY - 22..<layout.gridY - 2), 40)
    }

    /// A long input wraps into bands (evenly shared; at most 16 positions, 24 past 64), one under
    /// the other: 500 positions stay under 2,200 px wide and 21 bands tall, every cell in its band,
    /// every band labelled.
    func testALongLensWrapsIntoBands() throws {
        let N = 500
        let cells = (0..<3).map { row in (0..<N).map { LensGridCell(piece: "p\($0)", probability: Float(($0 + row) % 10) / 10) } }
        let picture = LensPicture(
            cells: cells, rowLabels: ["embed", "layer 0", "layer 1"], columnLabels: (0..<N).map { "t\($0)" },
            title: "Logit lens: long", subtitle: "hand-made")
        let layout = try picture.layout()
        XCTAssertEqual(layout.bands, 21)
        XCTAssertEqual(layout.bandColumns, 24)
        XCTAssertLessThan(layout.width, 2200)
        XCTAssertLessThan(layout.height, 21 * (3 * LensPicture.cellHeight + 52) + 300)
        let image = try roundTrip(try picture.render(), "lens-long.png")
        XCTAssertEqual(image.height, layout.height)
        for col in [0, 23, 24, 250, 499] {
            let r = layout.cellRect(row: 2, col: col)
            XCTAssertLessThan(r.x + r.width, image.width)
            XCTAssertLessThan(r.y + r.height, layout.legendY)
            XCTAssertEqual(image.pixel(r.x + 3, r.y + 3), Colormap.viridis.color(cells[2][col].probability), "position \(col)")
            // Its token's label above its band's first row.
            let top = layout.cellRect(row: 0, col: col)
            XCTAssertGreaterThan(Self.darkPixels(image, x: top.x..<top.x + top.width, y: top.y - 22..<top.y - 2), 10, "label of \(col)")
        }
        // 49 positions share out as 13, 13, 13, 10 rather than 16, 16, 16, 1.
        let short = LensPicture(
            cells: [(0..<49).map { _ in LensGridCell(piece: "x", probability: 0.5) }], rowLabels: ["embed"],
            columnLabels: (0..<49).map { "t\($0)" }, title: "t")
        XCTAssertEqual(try short.layout().bandColumns, 13)
    }

    /// The scatter keeps distances true (one unit as long across as up), ticks at round values
    /// without "-0.00", and puts close points' labels where they do not cover each other.
    func testTheScatterHasEqualAxesRoundTicksAndLabelsApart() throws {
        let points: [(x: Float, y: Float)] = [(-0.47, 0.1), (0.5, -0.02), (0.51, -0.02), (0.52, -0.03), (0.0, 0.3)]
        let plot = ScatterPlot(
            points: points, labels: ["␣first", "␣close", "␣closer", "␣closest", "␣top"], title: "t", xAxis: "x", yAxis: "y")
        let (x, y) = (plot.xRange, plot.yRange)
        XCTAssertEqual(x.high - x.low, y.high - y.low, accuracy: 1e-6, "equal aspect")
        let labels: [String] = ScatterPlot.ticks(y).map(\.label)
        XCTAssertTrue(labels.contains("0.0") || labels.contains("0.00"), "\(labels)")
        XCTAssertFalse(labels.contains("-0.0") || labels.contains("-0.00"), "\(labels)")
        let placed = try plot.labelPlacements()
        let font = try Font.shared()
        let boxes = placed.map { (x: $0.x, y: $0.y - ScatterPlot.labelSize, w: font.width($0.text, size: ScatterPlot.labelSize)) }
        for i in boxes.indices {
            for j in boxes.indices where j > i {
                let a = boxes[i], b = boxes[j]
                let h = ScatterPlot.labelSize + 2
                let side: Bool = a.x + a.w <= b.x || b.x + b.w <= a.x
                let stacked: Bool = a.y + h <= b.y || b.y + h <= a.y
                XCTAssertTrue(side || stacked, "\(placed[i].text) and \(placed[j].text) overlap")
            }
        }
    }
}
