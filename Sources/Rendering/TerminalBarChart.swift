import Foundation

// A bar chart drawn in the terminal: one labelled row per bar, the bar in eighth-cell blocks
// (coloured like the picture when colour is on), its value text after it, and a legend line.
// Without colour the bars are plain block characters and the highlighted row is marked ▶.

public enum TerminalBarChart {
    public static func render(
        _ chart: BarChart, painter: TerminalPainter, labelWidth: Int = 16, barWidth: Int = 40, width: Int = TerminalWidth.columns()
    ) -> String {
        var lines = TerminalWidth.wrap(chart.title, width: width).map { painter.bold($0) }
        lines += chart.subtitles.flatMap { TerminalWidth.wrap($0, width: width) }.map { painter.dim($0) }
        let panel = chart.panel
        for row in panel.rows {
            let marker = row.highlighted ? "▶ " : "  "
            let fraction = panel.maxValue > 0 ? row.value / panel.maxValue : 0
            let bar = TerminalPainter.bar(fraction, width: barWidth)
            let label = fitted(row.label, width: labelWidth)
            let drawn = painter.foreground(bar, row.color)
            lines.append(marker + (row.highlighted ? painter.bold(label) : label) + " " + drawn + " " + row.valueText)
        }
        lines += TerminalWidth.wrap(
            String(format: "legend: bar length = %@, full width = %@", panel.axisName, String(format: "%.2f", panel.maxValue))
                + (panel.rows.contains(where: \.highlighted) ? "; ▶ the token taken" : ""), width: width)
        // The pictures' notes name the colours; without colour the ▶ marker alone says it.
        let notes = painter.color == .none ? chart.notes.map { $0.replacingOccurrences(of: "▶ orange: ", with: "▶ ") } : chart.notes
        lines += notes.flatMap { TerminalWidth.wrap($0, width: width) }
        return lines.joined(separator: "\n") + "\n"
    }
}
