import Foundation
import Tracing

/// `lantern residual` as a picture, two panels under one title: the residual stream's size
/// (‖x‖₂ per layer and position) and the direct logit attribution of one token at one position
/// (layers × heads, with each layer's attention-output bias and MLP beside its heads).
public enum ResidualPicture {
    /// A longer text's sizes are drawn in bands of at most this many positions.
    public static let maximumBandPositions = 64

    /// `pieces` are the tokens' display pieces; `tokenPiece` the attributed token's; `model` names it.
    public static func render(_ stream: ResidualStream, pieces: [String], tokenPiece: String, heads: Int, model: String) throws -> Canvas {
        precondition(pieces.count == stream.tokens.count, "ResidualPicture: one piece per token")
        let a = stream.attribution, layers = stream.norms.count - 1, N = pieces.count
        let where_ = "token \(a.position) (\(pieces[a.position]))"

        // The sizes, in bands of at most 64 positions at one cell size (a long text in one map
        // shrank its rows to a few pixels).
        let rowLabels = ["embeddings"] + (0..<layers).map { "after block \($0)" }
        let normPictures = try PositionBands.render(
            stream.norms, rowLabels: rowLabels, pieces: pieces, title: "How large the residual stream is: ‖x‖₂ per position",
            subtitle: "after the embeddings, then after each block (before the final norm)",
            scale: .sequential(max: stream.norms.flatMap { $0 }.max() ?? 1), most: maximumBandPositions
        ) { map, range in
            map.rowAxis = "stream ↓"
            map.columnAxis = "position →"
            map.colorBarTitle = "‖x‖₂"
            if range.contains(a.position) { map.marked = [a.position - range.lowerBound] }  // the attributed position, first row
        }

        // Layers × (heads, the attention output's bias where the model has one, MLP).
        let hasBiases = a.hasAttentionBiases
        let columns = (0..<heads).map { "head \($0)" } + (hasBiases ? ["attn bias"] : []) + ["MLP"]
        var values: [Float] = []
        for l in 0..<layers {
            values += (0..<heads).map { a.logit(of: .head(layer: l, head: $0)) }
            if hasBiases { values.append(a.logit(of: .attentionBias(layer: l))) }
            values.append(a.logit(of: .mlp(layer: l)))
        }
        let limit = max(a.shares.map { abs($0.logit) }.max() ?? 1, 1e-6)
        var attribution = Heatmap(
            values: values, rows: layers, cols: columns.count, rowLabels: (0..<layers).map { "layer \($0)" },
            columnLabels: columns,
            title: "Direct logit attribution of \(tokenPiece) at \(where_): probability \(probabilityText(a.probability)), rank \(a.rank)",
            subtitle: "what each head and MLP writes toward the token's logit, read through the final norm (its scale frozen)",
            scale: .diverging(limit: limit))
        attribution.rowAxis = "layer ↓"
        attribution.columnAxis = "component →"
        attribution.colorBarTitle = "logit share"
        attribution.maskLegend = ""
        attribution.notes = [
            a.breakdown,
            "red raises the token's logit, blue lowers it; the cells and the embeddings"
                + (a.constant != 0 ? " and the final norm's shift" : "") + " add up to the logit"
        ]

        return try PanelGrid.compose(
            normPictures + [try attribution.render()], columns: 1,
            title: "Residual stream · \(URL(fileURLWithPath: model).lastPathComponent) · \(N) tokens",
            subtitle: "★ marks the token attributed below; tokens are numbered from 0")
    }

    /// Two decimals with a true minus sign.
    public static func signed(_ value: Float) -> String { (value < 0 ? "−" : "") + String(format: "%.2f", abs(value)) }
}
