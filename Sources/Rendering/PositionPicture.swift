import Foundation
import Tensors
import Transformer

// Pictures of how models tell positions apart: each scheme's table as a heatmap (rows =
// position, columns = channel, blue–white–red because the values are signed), the schemes side
// by side, and a line chart of how similar two positions are as their distance grows.
// Letters: P positions, C channels (width), hs head size.

/// The positional schemes Lantern can draw.
public enum PositionScheme: String, Sendable, CaseIterable {
    /// GPT-2: a trained vector per position, added to the token embedding.
    case learned
    /// "Attention Is All You Need": fixed sines and cosines, added to the token embedding.
    case sinusoidal
    /// Llama: queries and keys turned by a position-dependent angle in every layer.
    case rotary
}

/// One scheme's table, ready to draw.
public struct PositionTable: Sendable {
    public var scheme: PositionScheme
    /// `[P, columns]`, row-major: the learned or sinusoidal vectors, or cos of the rotary angles.
    public var values: [Float]
    public var positions: Int
    public var columns: Int
    /// `[P, vectorWidth]`: what position-to-position similarity is measured on. For rotary,
    /// (cos, sin) of every pair's angle, so similarity is the mean cos of the angle difference.
    public var vectors: [Float]
    public var vectorWidth: Int
    /// Where the table came from, for the subtitle ("GPT-2 gpt2, width 768").
    public var origin: String
    /// Rotary frequencies stretched by a scaling (the subtitle must not give the plain formula).
    public var rotaryScaled = false

    /// GPT-2's learned table `[P, C]`, its first `positions` rows.
    public static func learned(_ table: Tensor, positions P: Int, origin: String) -> PositionTable {
        let C = table.shape[1]
        let values = Array(table.scalars.prefix(P * C))
        return PositionTable(
            scheme: .learned, values: values, positions: P, columns: C, vectors: values, vectorWidth: C,
            origin: origin)
    }

    public static func sinusoidal(positions P: Int, width C: Int, origin: String) -> PositionTable {
        let values = PositionalTables.sinusoidal(positions: P, width: C).scalars
        return PositionTable(
            scheme: .sinusoidal, values: values, positions: P, columns: C, vectors: values, vectorWidth: C,
            origin: origin)
    }

    /// cos of the rotary angle `[P, hs/2]`, one column per channel pair.
    public static func rotary(
        positions P: Int, headSize hs: Int, theta: Float, scaling: RotaryScaling = .none,
        origin: String
    ) -> PositionTable {
        let angles = PositionalTables.rotaryAngles(positions: P, headSize: hs, theta: theta, scaling: scaling).scalars
        let pairs = hs / 2
        var vectors = [Float](repeating: 0, count: P * hs)
        for pos in 0..<P {
            for j in 0..<pairs {
                vectors[pos * hs + 2 * j] = cosf(angles[pos * pairs + j])
                vectors[pos * hs + 2 * j + 1] = sinf(angles[pos * pairs + j])
            }
        }
        var table = PositionTable(
            scheme: .rotary, values: angles.map { cosf($0) }, positions: P, columns: pairs,
            vectors: vectors, vectorWidth: hs, origin: origin)
        table.rotaryScaled = scaling != .none
        return table
    }

    /// Cosine similarity of position p with p + d, averaged over every p, for d = 0 … P−1.
    public func similarityByDistance() -> [Float] {
        let W = vectorWidth
        var norms = [Float](repeating: 0, count: positions)
        for p in 0..<positions {
            var sum: Float = 0
            for i in 0..<W { sum += vectors[p * W + i] * vectors[p * W + i] }
            norms[p] = sqrtf(sum)
        }
        return (0..<positions).map { d in
            var total: Float = 0
            for p in 0..<(positions - d) {
                var dot: Float = 0
                for i in 0..<W { dot += vectors[p * W + i] * vectors[(p + d) * W + i] }
                let n = norms[p] * norms[p + d]
                total += n > 0 ? dot / n : 0
            }
            return total / Float(positions - d)
        }
    }
}

public enum PositionPicture {
    public static func title(_ scheme: PositionScheme) -> String {
        switch scheme {
        case .learned: return "Learned position table (GPT-2)"
        case .sinusoidal: return "Sinusoidal positions (Attention Is All You Need)"
        case .rotary: return "Rotary positions (RoPE): cos of the rotation angle"
        }
    }

    static func explanation(_ table: PositionTable) -> String {
        switch table.scheme {
        case .learned:
            return "\(table.origin): one trained vector per position, added to the token embedding"
        case .sinusoidal:
            return "\(table.origin): channel 2i = sin(pos / 10000^(2i/C)), 2i+1 = cos(…); left channels turn fastest"
        case .rotary:
            return table.rotaryScaled
                ? "\(table.origin): pair j is turned by pos × its frequency (θ^(−2j/hs), stretched by the scaling) in every layer's queries and keys"
                : "\(table.origin): pair j is turned by pos · θ^(−2j/hs) radians in every layer's queries and keys"
        }
    }

    /// One cell size for `tables` drawn side by side: the largest that keeps the biggest table
    /// within about 1,200 px (at most 12 px, at least 2), so no panel is a thin strip beside a tall one.
    public static func sharedCell(_ tables: [PositionTable]) -> Int {
        let largest = tables.map { max($0.positions, $0.columns) }.max() ?? 1
        return max(2, min(12, 1200 / max(largest, 1)))
    }

    /// The table as a labelled heatmap with the diverging map (white is 0).
    public static func heatmap(_ table: PositionTable) -> Heatmap {
        let P = table.positions, C = table.columns
        // Heatmap labels every token up to 64 rows/columns; beyond that it labels every few and
        // puts the index first, so the labels themselves stay empty.
        let numbered = max(P, C) <= 64
        // A learned table's colours span ±(the 99th percentile of |value|): one outlier would
        // otherwise wash every other value out to white. The few beyond it are drawn at full colour.
        let magnitudes = table.values.map { abs($0) }.filter(\.isFinite).sorted()
        let limit: Float =
            table.scheme == .learned && !magnitudes.isEmpty
            ? max(magnitudes[min(magnitudes.count - 1, magnitudes.count * 99 / 100)], 1e-6) : 1
        let beyond = table.scheme == .learned ? magnitudes.count - (magnitudes.lastIndex { $0 <= limit }.map { $0 + 1 } ?? 0) : 0
        var map = Heatmap(
            values: table.values, rows: P, cols: C,
            rowLabels: (0..<P).map { numbered ? "\($0)" : "" },
            columnLabels: (0..<C).map { numbered ? "\($0)" : "" },
            title: title(table.scheme) + " · \(P) positions × \(C) \(table.scheme == .rotary ? "channel pairs" : "channels")",
            subtitle: explanation(table), scale: .diverging(limit: limit))
        map.rowAxis = "position ↓"
        map.columnAxis = table.scheme == .rotary ? "channel pair j (0 turns fastest) →" : "channel →"
        map.colorBarTitle = table.scheme == .rotary ? "cos(angle)" : "value"
        map.maskLegend = ""
        map.notes = ["blue is negative, white 0, red positive"]
        if beyond > 0 {
            map.notes.append(
                String(
                    format: "colours span ±%.2f (99%% of the values); %d values reach up to ±%.2f and are drawn at full colour", limit,
                    beyond,
                    magnitudes.last ?? limit))
        }
        return map
    }

    public static func seriesName(_ table: PositionTable) -> String {
        switch table.scheme {
        case .learned: return "learned (GPT-2)"
        case .sinusoidal: return "sinusoidal, width \(table.columns)"
        case .rotary: return "rotary, head size \(table.vectorWidth)"
        }
    }

    /// Average cosine similarity against distance, one line per scheme.
    public static func similarityChart(_ tables: [PositionTable]) -> LineChart {
        let series = tables.enumerated().map { i, table in
            LineChart.Series(
                name: seriesName(table), values: table.similarityByDistance(),
                color: ChartPalette.series[i % ChartPalette.series.count])
        }
        let P = tables.map(\.positions).max() ?? 0
        var chart = LineChart(
            title: "How similar are two positions d apart?",
            subtitles: [
                "Cosine similarity of position p with position p + d, averaged over every p (\(P) positions)",
                "1 = the same vector; near 0 = unrelated. A scheme that encodes distance falls smoothly as d grows."
            ],
            series: series, xAxis: "distance d (positions)", yAxis: "mean cosine similarity")
        if tables.contains(where: { $0.scheme == .rotary }) {
            chart.notes = ["Rotary: the similarity of two positions depends only on their distance, not on where they are."]
        }
        return chart
    }
}
