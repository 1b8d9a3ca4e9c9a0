import Foundation

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

/// Principal component analysis of `P` points in `C` dimensions, small and readable:
///   1. centre the points (subtract the mean of each channel);
///   2. form the covariance matrix `[C, C]`: cov[i][j] = Σ_p x[p][i] · x[p][j] / (P − 1);
///   3. find its largest eigenvectors by power iteration: repeatedly multiply a vector by the
///      covariance and normalise it; it turns towards the direction of largest variance;
///   4. deflate (subtract λ v vᵀ from the covariance) and repeat for the next component.
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

    /// The top `count` components of `points` (each `C` numbers). Deterministic: the iteration
    /// starts from a fixed vector and the sign of each component is chosen so that its largest
    /// entry is positive.
    public init(points: [[Float]], count: Int = 2, iterations: Int = 500) {
        precondition(!points.isEmpty, "PCA: no points")
        let P = points.count, C = points[0].count
        precondition(points.allSatisfy { $0.count == C }, "PCA: points of different lengths")
        // 1. Centre (in Double: embeddings are small numbers, sums of many squares).
        var mean = [Double](repeating: 0, count: C)
        for point in points { for i in 0..<C { mean[i] += Double(point[i]) } }
        for i in 0..<C { mean[i] /= Double(P) }
        let centred = points.map { point in (0..<C).map { Double(point[$0]) - mean[$0] } }
        // 2. Covariance [C, C].
        var covariance = [Double](repeating: 0, count: C * C)
        let divisor = Double(max(P - 1, 1))
        for x in centred {
            for i in 0..<C where x[i] != 0 {
                for j in 0..<C { covariance[i * C + j] += x[i] * x[j] }
            }
        }
        for k in covariance.indices { covariance[k] /= divisor }
        let total = (0..<C).reduce(0.0) { $0 + covariance[$1 * C + $1] }
        // 3–4. Power iteration with deflation.
        var components: [[Double]] = [], variances: [Double] = []
        for _ in 0..<min(count, C) {
            // A fixed, uneven start so it is unlikely to be orthogonal to the answer.
            var v = (0..<C).map { 1.0 + Double($0 % 7) * 0.1 }
            var lambda = 0.0
            for _ in 0..<iterations {
                var w = [Double](repeating: 0, count: C)
                for i in 0..<C {
                    var sum = 0.0
                    for j in 0..<C { sum += covariance[i * C + j] * v[j] }
                    w[i] = sum
                }
                let norm = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
                guard norm > 1e-30 else { lambda = 0; break }  // nothing left to explain
                v = w.map { $0 / norm }
                lambda = norm
            }
            // Sign convention: the largest entry positive.
            if let big = v.indices.max(by: { abs(v[$0]) < abs(v[$1]) }), v[big] < 0 { v = v.map { -$0 } }
            components.append(v)
            variances.append(lambda)
            // Deflate: remove the found direction so the next iteration finds the next one.
            for i in 0..<C { for j in 0..<C { covariance[i * C + j] -= lambda * v[i] * v[j] } }
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

    /// A range with some room around the data, never empty.
    static func padded(_ values: [Float]) -> (low: Float, high: Float) {
        let low = values.min() ?? -1, high = values.max() ?? 1
        let span = max(high - low, 1e-6)
        return (low - span * 0.08, high + span * 0.08)
    }

    public var xRange: (low: Float, high: Float) { Self.padded(points.map(\.x)) }
    public var yRange: (low: Float, high: Float) { Self.padded(points.map(\.y)) }

    /// The pixel of a data point.
    public func pixel(_ point: (x: Float, y: Float)) -> (x: Int, y: Int) {
        let (x0, y0) = plotOrigin, xr = xRange, yr = yRange
        let tx = (point.x - xr.low) / (xr.high - xr.low), ty = (point.y - yr.low) / (yr.high - yr.low)
        return (x0 + Int((tx * Float(Self.plotSize - 1)).rounded()), y0 + Int(((1 - ty) * Float(Self.plotSize - 1)).rounded()))
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
        // Grid lines and tick labels: five a side.
        let xr = xRange, yr = yRange
        for k in 0...4 {
            let t = Float(k) / 4
            let gx = x0 + Int(t * Float(S - 1)), gy = y0 + Int((1 - t) * Float(S - 1))
            canvas.fillRect(x: gx, y: y0, width: 1, height: S, ChartPalette.grid)
            canvas.fillRect(x: x0, y: gy, width: S, height: 1, ChartPalette.grid)
            canvas.text(
                String(format: "%.2f", xr.low + (xr.high - xr.low) * t), x: gx, y: y0 + S + 16, size: 11,
                color: Palette.secondaryText, font: font, anchor: .center)
            canvas.text(
                String(format: "%.2f", yr.low + (yr.high - yr.low) * t), x: x0 - 6, y: gy + 4, size: 11,
                color: Palette.secondaryText, font: font, anchor: .right)
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
        for (point, label) in zip(points, labels) {
            let p = pixel(point)
            let text = shortened(label, maxWidth: 160, size: Self.labelSize, font: font)
            // A white halo first, so a label stays readable where it crosses a dot or a grid line.
            for (dx, dy) in [(-1, 0), (1, 0), (0, -1), (0, 1)] {
                canvas.text(text, x: p.x + r + 3 + dx, y: p.y + 5 + dy, size: Self.labelSize, color: Palette.background, font: font)
            }
            canvas.text(text, x: p.x + r + 3, y: p.y + 5, size: Self.labelSize, color: Palette.text, font: font)
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
    public static func similarity(vectors: [[Float]], pieces: [String], model: String, prompt: String) -> Heatmap {
        let P = vectors.count
        var map = Heatmap(
            values: EmbeddingMath.cosineMatrix(vectors), rows: P, cols: P, rowLabels: pieces, columnLabels: pieces,
            title: "Token embeddings: cosine similarity of every pair of tokens",
            subtitle: "\(model) · \"\(prompt)\" · each token's row of the embedding table, before any layer",
            scale: .diverging(limit: 1))
        map.rowAxis = "token ↓"
        map.columnAxis = "token →"
        map.colorBarTitle = "cosine"
        map.notes = ["red: pointing the same way (+1, the diagonal) · white: unrelated (0) · blue: opposite (−1)"]
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
