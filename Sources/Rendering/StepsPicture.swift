import Foundation
import Tensors

// The newest token's attention across generation steps: one heatmap whose rows are the
// query rows of the generated tokens (prompt rows left out), one per generation step, and
// whose columns are every key token. Cells after a row's token are masked as elsewhere.

public enum StepsPictureError: Error, CustomStringConvertible, Equatable {
    case noGeneratedTokens

    public var description: String {
        switch self {
        case .noGeneratedTokens:
            return "the trace holds no generated tokens: record a generation of at least one new token (\(UserSetting.traceFolder))"
        }
    }
}

public enum StepsPicture {
    /// The heatmap of `head`'s generated rows, before rendering (tests read its layout).
    public static func heatmap(_ source: AttentionSource, head h: Int) throws -> Heatmap {
        precondition((0..<source.heads).contains(h), "head \(h) out of range")
        let N = source.tokens
        let first = min(max(source.promptTokens ?? 0, 0), N)
        guard first < N else { throw StepsPictureError.noGeneratedTokens }
        let weights = source.emphasis.prepared(source.weights(head: h), rowLength: N)
        let steps = N - first
        let values = Array(weights[(first * N)..<(N * N)])
        let rowLabels = (0..<steps).map { "\($0 + 1) \(source.pieces[first + $0])" }
        var map = Heatmap(
            values: values, rows: steps, cols: N, rowLabels: rowLabels, columnLabels: source.pieces,
            title: "Attention · layer \(source.layer), head \(h) · \(source.modelName) · newest token across generation steps",
            subtitle: "\(source.promptExcerpt) — \(source.tokenCount); row k: where the k-th generated token looks",
            scale: source.scale)
        map.colorBarTitle = source.emphasis.barTitle
        map.rowAxis = "generation step ↓"
        // The causal mask is offset by the prompt length, so it is drawn by `render` below;
        // the heatmap keeps the legend line free (it always reserves one).
        map.causalMask = false
        return map
    }

    /// Whether cell (step row, key col) is masked: the key comes after that step's token.
    public static func isMasked(_ source: AttentionSource, row: Int, col: Int) -> Bool {
        col > (source.promptTokens ?? 0) + row
    }

    public static func render(_ source: AttentionSource, head h: Int) throws -> Canvas {
        let map = try heatmap(source, head: h)
        var canvas = try map.render()
        let l = try map.layout()
        for row in 0..<map.rows {
            for col in 0..<map.cols where isMasked(source, row: row, col: col) {
                let r = l.cellRect(row: row, col: col)
                canvas.maskedCell(x: r.x, y: r.y, width: r.width, height: r.height)
            }
        }
        if (0..<map.rows).contains(where: { isMasked(source, row: $0, col: map.cols - 1) }) {
            let m = Heatmap.margin, y = l.legendY
            canvas.maskedCell(x: m, y: y - 12, width: 14, height: 14)
            canvas.strokeRect(x: m, y: y - 12, width: 14, height: 14, Palette.frame)
            canvas.text(map.maskLegend, x: m + 20, y: y, size: 12, color: Palette.secondaryText, font: try Font.shared())
        }
        return canvas
    }
}
