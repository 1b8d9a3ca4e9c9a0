import Foundation
import Tracing

/// What `lantern heads` measures, as layers × heads heatmaps, one per score: previous-token and
/// induction on the random (or repeated) sequences, first-token sink and attention entropy on
/// the prompt, and next-token for an encoder. Each cell prints its score; a head past a label's
/// threshold is marked ★ beside its score.
public enum HeadScoresPicture {
    /// One score of every head, as a panel.
    struct Panel {
        var title: String
        var score: (HeadSummary.Head) -> Float
        var scale: ColorScale
        /// The label's threshold, when the score has one.
        var threshold: Float?
    }

    /// `summary`'s heads of a model with `layers` × `heads`, measured on `onWhat` ("random tokens"
    /// or "the repeated text"), `promptTokens` long prompt; `model` names it in the title.
    public static func render(
        _ summary: HeadSummary, layers: Int, heads: Int, promptTokens: Int, onWhat: String, model: String
    ) throws -> Canvas {
        let t = summary.thresholds
        // Entropy runs from 0 (one key) to ln N (spread over every key of an N-token prompt).
        let entropyTop = max(log(Float(max(promptTokens, 2))), 1e-6)
        var panels = [
            Panel(
                title: "previous-token (\(onWhat)): attention from i to i−1", score: \.previousTokenOnRandom,
                scale: .sequential(max: 1), threshold: t.previousToken),
            Panel(
                title: "induction (\(onWhat)): to the token after the earlier copy", score: \.induction, scale: .sequential(max: 1),
                threshold: t.induction),
            Panel(
                title: "first-token sink (prompt): attention to position 0", score: \.firstToken, scale: .sequential(max: 1),
                threshold: t.firstToken),
            Panel(
                title: "entropy (prompt), nats: 0 = one key, ln N = even", score: \.entropy, scale: .sequential(max: entropyTop),
                threshold: nil)
        ]
        if summary.heads.contains(where: { $0.nextTokenOnRandom != nil }) {
            panels.insert(
                Panel(
                    title: "next-token (\(onWhat)): attention from i to i+1", score: { $0.nextTokenOnRandom ?? 0 },
                    scale: .sequential(max: 1),
                    threshold: t.previousToken), at: 1)
        }
        let byPosition = Dictionary(uniqueKeysWithValues: summary.heads.map { ("\($0.layer).\($0.head)", $0) })
        let pictures = try panels.map { panel -> Canvas in
            var values: [Float] = [], marked: Set<Int> = []
            for layer in 0..<layers {
                for head in 0..<heads {
                    let score = byPosition["\(layer).\(head)"].map(panel.score) ?? 0
                    if let threshold = panel.threshold, score > threshold { marked.insert(values.count) }
                    values.append(score)
                }
            }
            var map = Heatmap(
                values: values, rows: layers, cols: heads, rowLabels: (0..<layers).map { "layer \($0)" },
                columnLabels: (0..<heads).map { "head \($0)" }, title: panel.title, scale: panel.scale)
            map.rowAxis = "layer ↓"
            map.columnAxis = "head →"
            map.colorBarTitle = "score"
            map.maskLegend = ""
            map.marked = marked
            if let threshold = panel.threshold { map.notes = [String(format: "★ above %.1f: the head gets the label", threshold)] }
            return try map.render()
        }
        return try PanelGrid.compose(
            pictures, columns: 2,
            title: "Attention heads · \(layers) layers × \(heads) heads · \(URL(fileURLWithPath: model).lastPathComponent)",
            subtitle: "what `lantern heads` measures, one panel per score; each cell is one head (layer down, head across)")
    }
}
