import Foundation

// A bar chart drawn in the terminal: one labelled row per bar, the bar in eighth-cell blocks
// (coloured like the picture when colour is on), its value text after it, and a legend line.
// Without colour the bars are plain block characters and the highlighted row is marked ▶.

public enum TerminalBarChart {
    public static func render(_ chart: BarChart, painter: TerminalPainter, labelWidth: Int = 16, barWidth: Int = 40) -> String {
        var lines: [String] = [painter.bold(chart.title)]
        lines += chart.subtitles.map { painter.dim($0) }
        let panel = chart.panel
        for row in panel.rows {
            let marker = row.highlighted ? "▶ " : "  "
            let fraction = panel.maxValue > 0 ? row.value / panel.maxValue : 0
            let bar = TerminalPainter.bar(fraction, width: barWidth)
            let label = fitted(row.label, width: labelWidth)
            let drawn = painter.foreground(bar, row.color)
            lines.append(marker + (row.highlighted ? painter.bold(label) : label) + " " + drawn + " " + row.valueText)
        }
        lines.append(
            String(format: "legend: bar length = %@, full width = %@", panel.axisName, String(format: "%.2f", panel.maxValue))
                + (panel.rows.contains(where: \.highlighted) ? "; ▶ the token taken" : ""))
        lines += chart.notes
        return lines.joined(separator: "\n") + "\n"
    }
}
