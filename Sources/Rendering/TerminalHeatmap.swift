import Foundation

// A heatmap drawn in the terminal: each cell two columns of Unicode blocks coloured with the
// heatmap's scale (24-bit or 256 colours), rows labelled with their tokens, columns numbered
// with a key line naming each column's token, and a legend line. Without colour the cells
// are shade characters (░▒▓█) chosen by the value, so the picture still reads.

public enum TerminalHeatmap {
    static let shades = ["  ", "░░", "▒▒", "▓▓", "██"]

    /// The shade pair for `value` on `scale` (space for the low end, full block for the top).
    static func shade(_ value: Float, scale: ColorScale) -> String {
        let t = scale.fraction(value)
        let index = Int((min(max(t.isFinite ? t : 0, 0), 1) * Float(shades.count - 1)).rounded())
        return shades[index]
    }

    /// The whole picture as text ending in a newline. `isMasked(row, col)` overrides the
    /// heatmap's own causal mask when given.
    public static func render(
        _ map: Heatmap, painter: TerminalPainter,
        isMasked: ((Int, Int) -> Bool)? = nil, labelWidth: Int = 14
    ) -> String {
        let masked = isMasked ?? { map.isMasked(row: $0, col: $1) }
        var lines: [String] = []
        lines.append(painter.bold(map.title))
        if let subtitle = map.subtitle { lines.append(painter.dim(subtitle)) }
        lines.append(String(repeating: " ", count: labelWidth) + " " + map.columnAxis + "  (columns numbered; key below)")
        // Column numbers: the last two digits, one per two-column cell.
        var header = String(repeating: " ", count: labelWidth) + " "
        for col in 0..<map.cols { header += String(format: "%2d", col % 100) }
        lines.append(header)
        var anyMasked = false
        for row in 0..<map.rows {
            var line = fitted(map.rowLabels[row], width: labelWidth) + " "
            for col in 0..<map.cols {
                if masked(row, col) {
                    anyMasked = true
                    line += painter.dim("··")
                    continue
                }
                let value = map.values[row * map.cols + col]
                line +=
                    painter.color == .none
                    ? shade(value, scale: map.scale)
                    : painter.foreground("██", map.scale.color(value))
            }
            lines.append(line)
        }
        lines.append(map.rowAxis)
        let key = (0..<map.cols).map { "\($0) \(map.columnLabels[$0])" }.joined(separator: "  ")
        lines.append("columns: " + key)
        lines.append(legend(map.scale, title: map.colorBarTitle, painter: painter, masked: anyMasked))
        return lines.joined(separator: "\n") + "\n"
    }

    /// "attention: ░░ 0.00 … ██ 0.83 · ·· masked (key after query)", with colour swatches when colour is on.
    public static func legend(_ scale: ColorScale, title: String, painter: TerminalPainter, masked: Bool) -> String {
        let (low, high) = (scale.ticks.first ?? scale.range.low, scale.ticks.last ?? scale.range.high)
        var text = title + ": "
        if painter.color == .none {
            text += "\(shades[1]) \(scale.label(low)) … \(shades[4]) \(scale.label(high)) (darker shade = more)"
        } else {
            let ramp = (0..<8).map { painter.foreground("█", scale.color(atFraction: Float($0) / 7)) }.joined()
            text += "\(scale.label(low)) \(ramp) \(scale.label(high))"
        }
        if masked { text += "  ·· masked: a token cannot look at later tokens" }
        return text
    }
}
