import Foundation

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
