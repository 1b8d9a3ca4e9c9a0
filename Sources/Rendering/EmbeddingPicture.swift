import Foundation
import Tensors

// Pictures of the token-embedding table: how alike the chosen tokens' vectors are (a cosine-
// similarity heatmap), and where they sit on the table's two main directions (a PCA scatter).
//
// Letters: P points (tokens), C channels (the model's width).

// MARK: - Cosine similarity

public enum EmbeddingMath {
    /// cos(a, b) = a·b / (|a| |b|); 0 when either vector is all zeros.
    public static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "cosine: vectors of \(a.count) and \(b.count) numbers")
        var dot: Float = 0, aa: Float = 0, bb: Float = 0
        for i in a.indices {
            dot += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]
        }
        let norms = (aa * bb).squareRoot()
        return norms > 0 ? min(1, max(-1, dot / norms)) : 0
    }

    /// The `[P, P]` matrix of cosines between every pair of `vectors`, row-major.
    public static func cosineMatrix(_ vectors: [[Float]]) -> [Float] {
        let P = vectors.count
        var matrix = [Float](repeating: 0, count: P * P)
        for i in 0..<P {
            for j in 0..<P { matrix[i * P + j] = cosine(vectors[i], vectors[j]) }
        }
        return matrix
    }
}

// MARK: - PCA

/// Principal component analysis of `P` points in `C` dimensions:
///   1. centre the points (subtract the mean of each channel);
///   2. the covariance matrix `[C, C]`: cov[i][j] = Σ_p x[p][i] · x[p][j] / (P − 1);
///   3. its eigenvectors, largest eigenvalue first, are the principal directions (LAPACK's
///      `dsyev`, exact to rounding). With fewer points than channels (64 tokens of a 768-wide
///      model) the same directions come from the small `[P, P]` matrix x xᵀ / (P − 1): each of its
///      eigenvectors u gives the direction xᵀ u, normalised, with the same eigenvalue.
/// The eigenvalue of a component is the variance of the points along it; divided by the total
/// variance (the covariance's trace) it is the fraction of the variance that component explains.
public struct PCA: Sendable {
    /// The principal directions, unit vectors of `C` numbers, largest variance first.
    public var components: [[Float]]
    /// Variance along each component (its eigenvalue).
    public var variances: [Float]
    /// Each component's share of the total variance, 0…1.
    public var explained: [Float]
    /// The points' coordinates on the components: `[P][components.count]`.
    public var coordinates: [[Float]]

    /// The top `count` components of `points` (each `C` numbers). The sign of each component is
    /// chosen so that its largest entry is positive. `throughSmallMatrix` forces (true) or forbids
    /// (false) the `[P, P]` route; nil picks the smaller matrix.
    public init(points: [[Float]], count: Int = 2, throughSmallMatrix: Bool? = nil) {
        precondition(!points.isEmpty, "PCA: no points")
        let P = points.count, C = points[0].count
        precondition(points.allSatisfy { $0.count == C }, "PCA: points of different lengths")
        // 1. Centre (in Double: embeddings are small numbers, sums of many squares).
        var mean = [Double](repeating: 0, count: C)
        for point in points { for i in 0..<C { mean[i] += Double(point[i]) } }
        for i in 0..<C { mean[i] /= Double(P) }
        let centred = points.map { point in (0..<C).map { Double(point[$0]) - mean[$0] } }
        let divisor = Double(max(P - 1, 1))
        let total = centred.reduce(0.0) { $0 + $1.reduce(0) { $0 + $1 * $1 } } / divisor
        let wanted = min(count, C)
        var components: [[Double]] = [], variances: [Double] = []
        if throughSmallMatrix ?? (P < C) {
            // 2–3 through [P, P]: G = x xᵀ / (P − 1); direction = xᵀ u, normalised.
            var gram = [Double](repeating: 0, count: P * P)
            for a in 0..<P {
                for b in a..<P {
                    let dot = zip(centred[a], centred[b]).reduce(0.0) { $0 + $1.0 * $1.1 } / divisor
                    gram[a * P + b] = dot
                    gram[b * P + a] = dot
                }
            }
            let eigen = SymmetricEigen(gram, n: P)
            for k in 0..<wanted {
                let value = eigen.map { k < $0.values.count ? max($0.values[k], 0) : 0 } ?? 0
                var v = [Double](repeating: 0, count: C)
                if let u = eigen.flatMap({ k < $0.vectors.count ? $0.vectors[k] : nil }) {
                    for p in 0..<P { for i in 0..<C { v[i] += centred[p][i] * u[p] } }
                }
                let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                // Past the points' rank there is no direction left: a unit axis, with no variance.
                v = norm > 1e-12 && value > 0 ? v.map { $0 / norm } : (0..<C).map { $0 == k ? 1 : 0 }
                components.append(v)
                variances.append(norm > 1e-12 ? value : 0)
            }
        } else {
            // 2–3 through [C, C].
            var covariance = [Double](repeating: 0, count: C * C)
            for x in centred {
                for i in 0..<C where x[i] != 0 {
                    for j in 0..<C { covariance[i * C + j] += x[i] * x[j] }
                }
            }
            for k in covariance.indices { covariance[k] /= divisor }
            let eigen = SymmetricEigen(covariance, n: C)
            for k in 0..<wanted {
                components.append(eigen?.vectors[k] ?? (0..<C).map { $0 == k ? 1 : 0 })
                variances.append(max(eigen?.values[k] ?? 0, 0))
            }
        }
        // Sign convention: the largest entry positive.
        components = components.map { v in
            guard let big = v.indices.max(by: { abs(v[$0]) < abs(v[$1]) }), v[big] < 0 else { return v }
            return v.map { -$0 }
        }
        self.components = components.map { $0.map(Float.init) }
        self.variances = variances.map(Float.init)
        explained = variances.map { total > 0 ? Float($0 / total) : 0 }
        coordinates = centred.map { x in
            components.map { v in Float(zip(x, v).reduce(0) { $0 + $1.0 * $1.1 }) }
        }
    }
}

// MARK: - Scatter plot

/// A labelled 2-D scatter: each point a dot with its label beside it, a grid, axis names.
public struct ScatterPlot: Sendable {
    public var points: [(x: Float, y: Float)]
    public var labels: [String]
    public var title: String
    public var subtitles: [String]
    public var xAxis: String
    public var yAxis: String
    public var notes: [String] = []

    public static let margin = 16, plotSize = 560, dotRadius = 4, labelSize = 13

    public init(
        points: [(x: Float, y: Float)], labels: [String], title: String, subtitles: [String] = [],
        xAxis: String, yAxis: String
    ) {
        precondition(points.count == labels.count, "ScatterPlot: one label per point")
        self.points = points
        self.labels = labels
        self.title = title
        self.subtitles = subtitles
        self.xAxis = xAxis
        self.yAxis = yAxis
    }

    /// The plot area's top-left corner.
    public var plotOrigin: (x: Int, y: Int) { (Self.margin + 70, Self.margin + 24 + subtitles.count * 18 + 16) }

    /// A range around `values`'s middle with some room, `span` wide (both axes get the larger
    /// data span, so one unit is as long across as up: distances on the picture are true).
    static func padded(_ values: [Float], span: Float) -> (low: Float, high: Float) {
        let low = values.min() ?? -1, high = values.max() ?? 1
        let middle = (low + high) / 2, half = max(span, 1e-6) * 0.58
        return (middle - half, middle + half)
    }

    var span: Float {
        func extent(_ values: [Float]) -> Float { (values.max() ?? 1) - (values.min() ?? -1) }
        return max(extent(points.map(\.x)), extent(points.map(\.y)))
    }

    public var xRange: (low: Float, high: Float) { Self.padded(points.map(\.x), span: span) }
    public var yRange: (low: Float, high: Float) { Self.padded(points.map(\.y), span: span) }

    /// Round tick values inside `range` (at most six) with their labels, never "-0.00".
    public static func ticks(_ range: (low: Float, high: Float)) -> [(value: Float, label: String)] {
        let ticks = LineChart.roundTicks(low: Double(range.low), high: Double(range.high), most: 6)
        return ticks.values.map { (Float($0), String(format: "%.\(ticks.decimals)f", $0)) }
    }

    /// The pixel of a data point.
    public func pixel(_ point: (x: Float, y: Float)) -> (x: Int, y: Int) {
        let (x0, y0) = plotOrigin, xr = xRange, yr = yRange
        let tx = (point.x - xr.low) / (xr.high - xr.low), ty = (point.y - yr.low) / (yr.high - yr.low)
        return (x0 + Int((tx * Float(Self.plotSize - 1)).rounded()), y0 + Int(((1 - ty) * Float(Self.plotSize - 1)).rounded()))
    }

    /// Where each label goes (its text and baseline start): right of its dot, else left, above or
    /// below — the first place that overlaps no dot and no label placed before it (right when none is free).
    public func labelPlacements() throws -> [(text: String, x: Int, y: Int)] {
        let font = try Font.shared()
        let r = Self.dotRadius, height = Self.labelSize + 2
        // Every dot is taken from the start: a label never covers another token's dot.
        var taken: [(x: Int, y: Int, width: Int, height: Int)] = points.map { point in
            let p = pixel(point)
            return (p.x - r, p.y - r, 2 * r + 1, 2 * r + 1)
        }
        func overlaps(_ a: (x: Int, y: Int, width: Int, height: Int)) -> Bool {
            taken.contains { b in a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height }
        }
        return zip(points, labels).map { point, label in
            let p = pixel(point)
            let text = shortened(label, maxWidth: 160, size: Self.labelSize, font: font)
            let width = font.width(text, size: Self.labelSize)
            // Baseline positions; a label's box spans from baseline − labelSize to baseline + 2.
            let candidates = [
                (p.x + r + 3, p.y + 5), (p.x - r - 3 - width, p.y + 5), (p.x - width / 2, p.y - r - 4), (p.x - width / 2, p.y + r + 14)
            ]
            let boxes = candidates.map { (x: $0.0, y: $0.1 - Self.labelSize, width: width, height: height) }
            let chosen = boxes.indices.first { !overlaps(boxes[$0]) } ?? 0
            taken.append(boxes[chosen])
            return (text, candidates[chosen].0, candidates[chosen].1)
        }
    }

    public func render() throws -> Canvas {
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let m = Self.margin, S = Self.plotSize
        let (x0, y0) = plotOrigin
        let widestLabel = labels.map { font.width($0, size: Self.labelSize) }.max() ?? 0
        let textWidth =
            ([bold.width(title, size: 16)] + subtitles.map { font.width($0, size: 12) }
            + notes.map { font.width($0, size: 12) }).max() ?? 0
        let width = max(x0 + S + min(widestLabel, 160) + m, textWidth + 2 * m)
        let height = y0 + S + 50 + notes.count * 18 + m
        var canvas = Canvas(width: width, height: height, background: Palette.background)
        canvas.text(title, x: m, y: m + 14, size: 16, color: Palette.text, font: bold)
        for (i, line) in subtitles.enumerated() {
            canvas.text(line, x: m, y: m + 14 + 20 + i * 18, size: 12, color: Palette.secondaryText, font: font)
        }
        // Grid lines and tick labels at round values.
        let xr = xRange, yr = yRange
        for (value, label) in Self.ticks(xr) {
            let gx = pixel((value, yr.low)).x
            canvas.fillRect(x: gx, y: y0, width: 1, height: S, ChartPalette.grid)
            canvas.text(label, x: gx, y: y0 + S + 16, size: 11, color: Palette.secondaryText, font: font, anchor: .center)
        }
        for (value, label) in Self.ticks(yr) {
            let gy = pixel((xr.low, value)).y
            canvas.fillRect(x: x0, y: gy, width: S, height: 1, ChartPalette.grid)
            canvas.text(label, x: x0 - 6, y: gy + 4, size: 11, color: Palette.secondaryText, font: font, anchor: .right)
        }
        // The zero lines, when inside: the mean of the points (PCA coordinates are centred).
        if xr.low < 0 && xr.high > 0 {
            canvas.fillRect(x: pixel((0, yr.low)).x, y: y0, width: 1, height: S, ChartPalette.axis)
        }
        if yr.low < 0 && yr.high > 0 {
            canvas.fillRect(x: x0, y: pixel((xr.low, 0)).y, width: S, height: 1, ChartPalette.axis)
        }
        canvas.strokeRect(x: x0 - 1, y: y0 - 1, width: S + 2, height: S + 2, Palette.frame)
        // Axis names.
        canvas.text(xAxis, x: x0 + S / 2, y: y0 + S + 38, size: 12, color: Palette.text, font: bold, anchor: .center)
        canvas.verticalText(yAxis, x: m + 12, y: y0 + S / 2, size: 12, color: Palette.text, font: bold, anchor: .center)
        // Dots, then labels on top so no dot hides a label.
        let r = Self.dotRadius
        for point in points {
            let p = pixel(point)
            for dy in -r...r {
                for dx in -r...r where dx * dx + dy * dy <= r * r { canvas.set(p.x + dx, p.y + dy, ChartPalette.series[0]) }
            }
        }
        for placed in try labelPlacements() {
            // A white halo first, so a label stays readable where it crosses a dot or a grid line.
            for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
                canvas.text(placed.text, x: placed.x + dx, y: placed.y + dy, size: Self.labelSize, color: Palette.background, font: font)
            }
            canvas.text(placed.text, x: placed.x, y: placed.y, size: Self.labelSize, color: Palette.text, font: font)
        }
        for (i, note) in notes.enumerated() {
            canvas.text(note, x: m, y: y0 + S + 62 + i * 18, size: 12, color: Palette.secondaryText, font: font)
        }
        return canvas
    }
}

// MARK: - The two embedding pictures

public enum EmbeddingPicture {
    /// The cosine-similarity heatmap of `vectors` (one per token), labelled by `pieces`.
    /// A long prompt is cut in the subtitle; `of` (the prompt's whole length in tokens, when only
    /// its first tokens are drawn) is said in a note.
    public static func similarity(vectors: [[Float]], pieces: [String], model: String, prompt: String, of total: Int? = nil) -> Heatmap {
        let P = vectors.count
        let flat = prompt.replacingOccurrences(of: "\n", with: " ")
        let excerpt = flat.count > 70 ? String(flat.prefix(69)) + "…" : flat
        var map = Heatmap(
            values: EmbeddingMath.cosineMatrix(vectors), rows: P, cols: P, rowLabels: pieces, columnLabels: pieces,
            title: "Token embeddings: cosine similarity of every pair of tokens",
            subtitle: "\(model) · \"\(excerpt)\" · each token's row of the embedding table, before any layer",
            scale: .diverging(limit: 1))
        map.rowAxis = "token ↓"
        map.columnAxis = "token →"
        map.colorBarTitle = "cosine"
        map.notes = ["red: pointing the same way (+1, the diagonal) · white: unrelated (0) · blue: opposite (−1)"]
        if let total, total > P { map.notes.append("the first \(P) of the prompt's \(total) tokens (at most \(P) keep their labels)") }
        return map
    }

    /// The PCA scatter of `vectors` labelled by `pieces`; the PCA is fitted on these points.
    public static func pca(vectors: [[Float]], pieces: [String], model: String, width: Int) -> ScatterPlot {
        let pca = PCA(points: vectors, count: 2)
        let percent = pca.explained.map { String(format: "%.1f", $0 * 100) }
        let coordinates = pca.coordinates.map { (x: $0.first ?? 0, y: $0.count > 1 ? $0[1] : 0) }
        var plot = ScatterPlot(
            points: coordinates, labels: pieces,
            title: "Token embeddings projected onto their two main directions (PCA)",
            subtitles: [
                "\(model) · \(pieces.count) tokens · each is a vector of \(width) numbers, flattened to 2-D",
                "tokens close together have similar embeddings; the axes are the directions along which these tokens differ most"
            ],
            xAxis: "principal component 1 (\(percent.first ?? "0") % of variance)",
            yAxis: "principal component 2 (\(percent.count > 1 ? percent[1] : "0") % of variance)")
        plot.notes = [
            "the rest of the variance (\(String(format: "%.1f", max(0, 100 - pca.explained.reduce(0, +) * 100))) %) lies in directions not shown"
        ]
        return plot
    }
}
