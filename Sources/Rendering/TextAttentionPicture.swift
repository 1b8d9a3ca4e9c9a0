import Foundation

/// One token's attention laid over the text: the tokens written out as a paragraph, each on a
/// background coloured by how much the chosen token attends to it (viridis 0…1, as every
/// attention picture), the chosen token framed, tokens it cannot see (after it, in a decoder)
/// greyed. What the stepper's `a L H` lists, readable as a sentence.
public enum TextAttentionPicture {
    static let size = 16, lineHeight = 30, maxLineWidth = 900

    /// Query token `query`'s row of `source` for `head` (nil: the mean over heads).
    public static func render(_ source: AttentionSource, head: Int?, query: Int) throws -> Canvas {
        precondition((0..<source.tokens).contains(query), "query \(query) out of range")
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let K = source.keys
        let one = head.map { source.weights(head: $0) } ?? source.meanOverHeads.weights(head: 0)
        let row = Array(one[(query * K)..<((query + 1) * K)])
        let pieces = source.columnPieces.map { $0.replacingOccurrences(of: "␣", with: " ") }
        let m = Heatmap.margin
        // Lay the tokens out as runs of text, wrapping before a token that would pass the width.
        var boxes: [(x: Int, y: Int, width: Int)] = []
        var x = 0, line = 0
        for piece in pieces {
            let width = max(font.width(piece.isEmpty ? " " : piece, size: size), 4) + 2
            if x + width > maxLineWidth && x > 0 {
                line += 1
                x = 0
            }
            boxes.append((x, line, width))
            x += width
        }
        let headName = head.map { "head \($0)" } ?? "mean of \(source.heads) heads"
        let title =
            "Where “\(source.pieces[query].replacingOccurrences(of: "␣", with: ""))” (token \(query)) looks · layer \(source.layer), \(headName) · \(source.modelName)"
        let subtitle =
            "each token's background: how much of token \(query)'s attention it gets (the row sums to 1); framed: token \(query) itself"
        let top = m + 16 + 20 + 24
        let textHeight = (line + 1) * lineHeight
        let barY = top + textHeight + 24
        let width = max(maxLineWidth, bold.width(title, size: 16), font.width(subtitle, size: 12)) + 2 * m
        var canvas = Canvas(width: width, height: barY + 60 + m, background: Palette.background)
        canvas.text(title, x: m, y: m + 14, size: 16, color: Palette.text, font: bold)
        canvas.text(subtitle, x: m, y: m + 34, size: 12, color: Palette.secondaryText, font: font)
        let scale = ColorScale.attention(source.emphasis)
        let ascent = font.lineMetrics(size: size).ascent
        for (key, box) in boxes.enumerated() {
            let bx = m + box.x, by = top + box.y * lineHeight
            let visible = !(source.causal && key > query)
            let color = visible ? scale.color(row[key]) : Palette.maskFill
            canvas.fillRect(x: bx, y: by, width: box.width - 1, height: lineHeight - 4, color)
            if key == query { canvas.strokeRect(x: bx - 1, y: by - 1, width: box.width + 1, height: lineHeight - 2, ChartPalette.chosen) }
            let ink = !visible ? Palette.secondaryText : color.isLight ? RGB(0, 0, 0) : RGB(255, 255, 255)
            canvas.text(pieces[key], x: bx + 1, y: by + (lineHeight - 4 + ascent) / 2 - 1, size: size, color: ink, font: font)
        }
        // A horizontal colour bar under the text.
        for px in 0..<300 {
            canvas.fillRect(x: m + px, y: barY, width: 1, height: 12, scale.color(atFraction: Float(px) / 299))
        }
        canvas.strokeRect(x: m - 1, y: barY - 1, width: 302, height: 14, Palette.frame)
        for tick in scale.ticks {
            let tx = m + Int((min(max(scale.fraction(tick), 0), 1) * 299).rounded())
            canvas.text(scale.label(tick), x: tx, y: barY + 28, size: 11, color: Palette.secondaryText, font: font, anchor: .center)
        }
        canvas.text(source.emphasis.barTitle, x: m + 320, y: barY + 11, size: 12, color: Palette.text, font: bold)
        if source.causal && query < K - 1 {
            canvas.text(
                "grey: after token \(query), which it cannot see", x: m + 320, y: barY + 28, size: 11, color: Palette.secondaryText,
                font: font)
        }
        return canvas
    }
}
