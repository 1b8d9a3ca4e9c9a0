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
        isMasked: ((Int, Int) -> Bool)? = nil, labelWidth: Int = 14, width: Int = TerminalWidth.columns()
    ) -> String {
        let masked = isMasked ?? { map.isMasked(row: $0, col: $1) }
        var lines: [String] = []
        lines += TerminalWidth.wrap(map.title, width: width).map { painter.bold($0) }
        if let subtitle = map.subtitle { lines += TerminalWidth.wrap(subtitle, width: width).map { painter.dim($0) } }
        let margin = String(repeating: " ", count: labelWidth) + " "
        lines.append(margin + map.columnAxis + "  (columns numbered; key below)")
        // Column numbers, one digit per two-column cell: the tens on a line above the ones (so
        // 9, 10, 11 never run together as "91011").
        if map.cols > 10 {
            lines.append(margin + (0..<map.cols).map { $0 >= 10 ? "\($0 / 10 % 10) " : "  " }.joined())
        }
        lines.append(margin + (0..<map.cols).map { "\($0 % 10) " }.joined())
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
        lines += TerminalWidth.wrap("columns: " + key, width: width, indent: "         ")
        // The legend's colour swatches are escape codes: wrap the plain words only.
        let legendLine = legend(map.scale, title: map.colorBarTitle, painter: painter, masked: false)
        lines += painter.color == .none ? TerminalWidth.wrap(legendLine, width: width) : [legendLine]
        if anyMasked { lines.append("·· masked: a token cannot look at later tokens") }
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
