import Foundation
import Generation
import Tensors
import Tokenizers
import Transformer

/// Zero-shot classification as a bar chart: one bar per label, best first, its score at the
/// bar's end, and the method that produced the scores (an NLI model's entailment, or a model's
/// likelihood of each label) in the subtitle.
public enum ClassificationPicture {
    /// `labels` and `scores` best first; `method` and `detail` say how the scores were made.
    public static func chart(
        text: String, labels: [String], scores: [Double], method: String, detail: String, model: String
    ) throws -> BarChart {
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let rows = zip(labels, scores).enumerated().map { index, pair in
            BarRow(
                label: pair.0, value: Float(pair.1), color: index == 0 ? ChartPalette.chosen : ChartPalette.bar,
                valueText: probabilityText(Float(pair.1)), highlighted: index == 0)
        }
        let panel = BarPanel(
            rows: rows, maxValue: 1, axisName: "score (0 to 1)",
            labelWidth: ProbabilityPicture.labelWidth(labels, font: font, bold: bold), plotWidth: 400)
        let excerpt = text.count > 70 ? String(text.prefix(69)) + "…" : text
        return BarChart(
            title: "Zero-shot classification · \(model)", subtitles: ["“\(excerpt)”", method],
            panel: panel, notes: [detail, "▶ orange: the label chosen (highest score)."])
    }
}

/// How a classifier's run is cut for the inside view: which positions are the rows (the
/// hypothesis's tokens; or the positions that predict a label's tokens) and which the columns (the
/// premise's or the text's tokens), in one layer's self-attention over the whole run.
public struct ClassificationAttention: Sendable {
    /// `[H, N, N]`: one layer's attention over the run's N tokens.
    public var pattern: Tensor
    /// Display pieces of the run's N tokens.
    public var pieces: [String]
    /// The positions that look (rows) and the tokens looked at (columns).
    public var rows: Range<Int>, columns: Range<Int>
    /// One label per row (the row's own piece, or "→ the token it predicts").
    public var rowLabels: [String]
    /// "encoder layer 1" or "layer 3".
    public var layerName: String
    /// nil: the mean over heads.
    public var head: Int?
    /// The picture's question ("Where the hypothesis looks in the premise"), what one row is,
    /// and the two axes' names.
    public var question: String, rowMeaning: String, rowAxis: String, columnAxis: String
    public var label: String
    public var model: String
    /// Where the rest of each row's attention went, for the note under the map.
    public var elsewhere: String

    public init(
        pattern: Tensor, pieces: [String], rows: Range<Int>, columns: Range<Int>, rowLabels: [String]? = nil, layerName: String,
        head: Int?, question: String, rowMeaning: String, rowAxis: String, columnAxis: String, label: String, model: String,
        elsewhere: String
    ) {
        precondition(pattern.shape.count == 3 && pattern.shape[1] == pieces.count && pattern.shape[2] == pieces.count)
        precondition(rows.upperBound <= pieces.count && columns.upperBound <= pieces.count && !rows.isEmpty && !columns.isEmpty)
        precondition(head.map { (0..<pattern.shape[0]).contains($0) } ?? true, "head out of range")
        self.pattern = pattern
        self.pieces = pieces
        self.rows = rows
        self.columns = columns
        self.rowLabels = rowLabels ?? Array(pieces[rows])
        precondition(self.rowLabels.count == rows.count, "one label per row")
        self.layerName = layerName
        self.head = head
        self.question = question
        self.rowMeaning = rowMeaning
        self.rowAxis = rowAxis
        self.columnAxis = columnAxis
        self.label = label
        self.model = model
        self.elsewhere = elsewhere
    }

    /// `[rows, columns]` weights, row-major: the chosen head's, or the mean over heads.
    public var weights: [Float] {
        let H = pattern.shape[0], N = pieces.count
        let heads = head.map { [$0] } ?? Array(0..<H)
        var out: [Float] = []
        out.reserveCapacity(rows.count * columns.count)
        for r in rows {
            for c in columns {
                out.append(heads.reduce(0) { $0 + pattern.scalars[($1 * N + r) * N + c] } / Float(heads.count))
            }
        }
        return out
    }

    /// For each row, the column token it attends to most and how much.
    public var strongest: [(row: String, column: String, weight: Float)] {
        let w = weights, K = columns.count
        return rowLabels.enumerated().map { i, label in
            let row = w[(i * K)..<((i + 1) * K)]
            let best = row.indices.max { row[$0] < row[$1] }!
            return (label, pieces[columns.lowerBound + best - i * K], row[best])
        }
    }

    public var headName: String { head.map { "head \($0)" } ?? "mean of \(pattern.shape[0]) heads" }
}

extension ClassificationPicture {
    /// The inside view: where each row (a hypothesis token, or the position predicting a label
    /// token) looks in the premise (text).
    public static func attention(_ view: ClassificationAttention) -> Heatmap {
        let values = view.weights
        var map = Heatmap(
            values: values, rows: view.rows.count, cols: view.columns.count, rowLabels: view.rowLabels,
            columnLabels: Array(view.pieces[view.columns]),
            title: "\(view.question) · \(view.layerName), \(view.headName) · \(view.model)",
            subtitle: "label “\(view.label)” — each row: \(view.rowMeaning)",
            scale: .attention(.linear))
        map.rowAxis = view.rowAxis
        map.columnAxis = view.columnAxis
        map.notes.append("A row's remaining attention is on \(view.elsewhere).")
        return map
    }
}

extension ClassificationAttention {
    /// An NLI pair's inside view: where each hypothesis token looks in the premise, in the
    /// encoder's layer `layer` (the pair's run must have recorded that layer's pattern).
    public init?(
        hypothesisOf pair: ZeroShotClassifier.Pair, tokenizer: any Tokenizer, layer: Int, head: Int?, model: String
    ) {
        guard let pattern = pair.records[RecordKind.encoderScope + RecordKind.pattern.name(layer: layer)] else { return nil }
        self.init(
            pattern: pattern, pieces: pair.ids.map { tokenizer.displayPiece($0) }, rows: pair.hypothesisTokens, columns: pair.premise,
            layerName: "encoder layer \(layer)", head: head, question: "Where the hypothesis looks in the premise",
            rowMeaning: "how much of that hypothesis token's attention is on each premise token", rowAxis: "hypothesis token ↓",
            columnAxis: "premise token →", label: pair.label, model: model,
            elsewhere: "the hypothesis itself and the special tokens <s> </s>")
    }

    /// A label's inside view under the likelihood method: where the positions that predict its
    /// tokens look in the text. A token's probability is computed at the position before it, so
    /// the text's last token predicts the label's first (the same row for every label).
    public init?(
        labelOf scored: LikelihoodClassifier.Scored, tokenizer: any Tokenizer, layer: Int, head: Int?, model: String
    ) {
        guard let pattern = scored.records[RecordKind.pattern.name(layer: layer)], scored.promptTokens >= 1 else { return nil }
        let pieces = scored.ids.map { tokenizer.displayPiece($0) }
        self.init(
            pattern: pattern, pieces: pieces, rows: (scored.promptTokens - 1)..<(scored.ids.count - 1), columns: 0..<scored.promptTokens,
            rowLabels: pieces[scored.promptTokens...].map { "→" + $0 }, layerName: "layer \(layer)", head: head,
            question: "Where the model looks as it predicts the label",
            rowMeaning: "the position that predicts that label token, and its attention on each text token", rowAxis: "predicting ↓",
            columnAxis: "text token →", label: scored.label, model: model, elsewhere: "the label's own earlier tokens (after its first)")
    }
}
