import Foundation

/// BertViz's head view: the tokens in two columns, queries on the left and keys on the right,
/// and a line from each query to each key it attends to, one colour per head, as strong as the
/// weight. From one chosen token only its lines are drawn; otherwise every token's.
public enum HeadViewPicture {
    /// Twelve distinguishable hues (Tableau 10 and two more); a model with more heads reuses them
    /// in order, which the legend shows.
    static let headColors = [
        RGB(31, 119, 180), RGB(255, 127, 14), RGB(44, 160, 44), RGB(214, 39, 40), RGB(148, 103, 189), RGB(140, 86, 75),
        RGB(227, 119, 194), RGB(127, 127, 127), RGB(188, 189, 34), RGB(23, 190, 207), RGB(0, 0, 128), RGB(128, 0, 64)
    ]
    static let gap = 300, maxLabelWidth = 150
    /// Weights under this draw no line (they would be invisible at their opacity anyway).
    static let faintest: Float = 0.02

    public static func color(head: Int) -> RGB { headColors[head % headColors.count] }

    /// For each head, the `count` keys `query` weighs most (weight order), as the lines show them.
    public static func strongest(_ source: AttentionSource, query: Int, count: Int = 2) -> [[(key: Int, weight: Float)]] {
        let N = source.tokens, K = source.keys
        return (0..<source.heads).map { h in
            let row = (0..<K).map { (key: $0, weight: source.pattern.scalars[(h * N + query) * K + $0]) }
            return Array(row.sorted { $0.weight > $1.weight }.prefix(count))
        }
    }

    /// The rows of `candidates` (in priority order) whose labels fit: each at least a text line
    /// (13 px) from every row kept before it; every row when `all`.
    static func placed(_ candidates: [Int], rowHeight: Int, all: Bool, count: Int) -> Set<Int> {
        if all { return Set(0..<count) }
        var kept: [Int] = []
        for row in candidates where !kept.contains(row) {
            if kept.allSatisfy({ abs($0 - row) * rowHeight >= 13 }) { kept.append(row) }
        }
        return Set(kept)
    }

    /// Every head of `source`'s layer; `query` (a token position) draws only that token's lines.
    public static func render(_ whole: AttentionSource, query: Int? = nil) throws -> Canvas {
        let font = try Font.shared(), bold = try Font.shared(.bold)
        // One token of a decoder sees only the tokens up to it: the rest are left out.
        let source = query.map { whole.causal && whole.keyPieces == nil ? whole.upTo($0) : whole } ?? whole
        let N = source.tokens, K = source.keys, H = source.heads
        if let query { precondition((0..<N).contains(query), "query \(query) out of range") }
        let weights = source.drawnWeights  // [H, N, K], as the colour scale draws them
        let m = Heatmap.margin
        // Rows fill about 1,500 px, at most 20 and at least 3 px a token; labels where a row is
        // tall enough to read, else on every k-th row and on every key the chosen token weighs.
        let rowHeight = max(3, min(20, 1500 / max(N, K, 1)))
        let labelSize = rowHeight >= 14 ? 12 : 11
        let every = rowHeight >= 12 ? 1 : Int((13.0 / Double(rowHeight)).rounded(.up))
        let queries = query.map { [$0] } ?? Array(0..<N)
        // The largest weight any head gives each key from the chosen token.
        var strongest = [Float](repeating: 0, count: K)
        if let query { for k in 0..<K { strongest[k] = (0..<H).map { weights[($0 * N + query) * K + k] }.max() ?? 0 } }
        // Labels that fit: the chosen token and the keys it weighs 0.1 or more first (strongest
        // first), then every k-th row, each kept only where no kept label is closer than a line.
        let leftRows = placed(
            (query.map { [$0] } ?? []) + Array(stride(from: 0, to: N, by: every)), rowHeight: rowHeight, all: every == 1, count: N)
        let rightRows = placed(
            (0..<K).filter { strongest[$0] >= 0.1 }.sorted { strongest[$0] > strongest[$1] } + Array(stride(from: 0, to: K, by: every)),
            rowHeight: rowHeight, all: every == 1, count: K)
        func leftLabel(_ i: Int) -> String? {
            guard leftRows.contains(i) else { return nil }
            return every > 1 ? "\(source.pieces[i]) \(i)" : source.pieces[i]
        }
        func rightLabel(_ k: Int) -> String? {
            guard rightRows.contains(k) else { return nil }
            return every > 1 ? "\(k) \(source.columnPieces[k])" : source.columnPieces[k]
        }
        let leftWidth = min(
            maxLabelWidth, (0..<N).compactMap { i in leftLabel(i).map { (i == query ? bold : font).width($0, size: labelSize) } }.max() ?? 0
        )
        let rightWidth = min(maxLabelWidth, (0..<K).compactMap(rightLabel).map { font.width($0, size: labelSize) }.max() ?? 0)

        let title = "Head view · \(source.kindTitle) · layer \(source.layer) · \(source.modelName)"
        let subtitle =
            (query.map { "where token \($0) (\(source.pieces[$0])) looks" } ?? "where every token looks")
            + ": a line from a token on the left to each token it attends to on the right, one colour per head, as strong as the weight"
        let legendTop = m + 58
        // The heads' legend: a swatch and "head h", wrapped to the picture's width.
        let swatch = 64
        var notes = [
            "line opacity: the attention weight on the fixed 0–1 scale"
                + (source.emphasis == .linear ? "" : " (\(source.emphasis.barTitle))")
        ]
        if every > 1 {
            notes.append(
                "tokens numbered from 0, labelled where a label fits"
                    + (query == nil ? "" : ", first the chosen token and those a head weighs 0.1 or more"))
        }
        let leftX = m + leftWidth + 8
        let rightX = leftX + gap
        let width = max(
            rightX + 8 + max(rightWidth, bold.width("the tokens it looks at", size: 12)) + m, bold.width(title, size: 16) + 2 * m,
            font.width(subtitle, size: 12) + 2 * m, (notes.map { font.width($0, size: 12) }.max() ?? 0) + 2 * m)
        let perLine = max(1, (width - 2 * m) / swatch)
        let legendLines = (H + perLine - 1) / perLine
        let top = legendTop + legendLines * 18 + 40
        let height = top + max(N, K) * rowHeight + 16 + 20 * notes.count + m
        var canvas = Canvas(width: width, height: height, background: Palette.background)
        canvas.text(title, x: m, y: m + 14, size: 16, color: Palette.text, font: bold)
        canvas.text(subtitle, x: m, y: m + 34, size: 12, color: Palette.secondaryText, font: font)
        for h in 0..<H {
            let x = m + (h % perLine) * swatch, y = legendTop + (h / perLine) * 18
            canvas.fillRect(x: x, y: y - 10, width: 14, height: 10, color(head: h))
            canvas.text("head \(h)", x: x + 18, y: y, size: 11, color: Palette.text, font: font)
        }

        canvas.text("token", x: leftX - 6, y: top - 14, size: 12, color: Palette.text, font: bold, anchor: .right)
        canvas.text("the tokens it looks at", x: rightX + 6, y: top - 14, size: 12, color: Palette.text, font: bold)

        // The lines first, the labels over them. Each head's lines start and end a little apart
        // from the other heads' (spread over most of a row), so lines of several heads between the
        // same two tokens stay side by side instead of blending into one grey line.
        func centre(_ row: Int) -> Double { Double(top + row * rowHeight) + Double(rowHeight - 1) / 2 }
        let spread = min(Double(rowHeight) * 0.7, Double(H) * 2.5)
        func offset(_ h: Int) -> Double { H > 1 ? (Double(h) / Double(H - 1) - 0.5) * spread : 0 }
        for h in 0..<H {
            for q in queries {
                for k in 0..<K where !source.isMasked(query: q, key: k) {
                    let w = weights[(h * N + q) * K + k]
                    guard w >= faintest else { continue }
                    canvas.smoothLine(
                        from: (Double(leftX), centre(q) + offset(h)), to: (Double(rightX), centre(k) + offset(h)), color(head: h),
                        width: rowHeight >= 8 ? 2 : 1.2, opacity: Double(min(w, 1)))
                }
            }
        }
        let ascent = font.lineMetrics(size: labelSize).ascent
        for i in 0..<N {
            guard let label = leftLabel(i) else { continue }
            let y = Int(centre(i)) + ascent / 2
            let chosen = i == query
            let text = shortened(label, maxWidth: leftWidth, size: labelSize, font: chosen ? bold : font)
            canvas.text(text, x: leftX - 6, y: y, size: labelSize, color: Palette.text, font: chosen ? bold : font, anchor: .right)
            if chosen {
                // Framed in black: no head's colour means "the chosen token".
                let w = bold.width(text, size: labelSize)
                canvas.strokeRect(x: leftX - 9 - w, y: y - ascent - 2, width: w + 6, height: ascent + 6, Palette.text)
            }
        }
        for k in 0..<K {
            guard let label = rightLabel(k) else { continue }
            canvas.text(
                shortened(label, maxWidth: rightWidth, size: labelSize, font: font), x: rightX + 6, y: Int(centre(k)) + ascent / 2,
                size: labelSize, color: Palette.text, font: font)
        }
        canvas.fillRect(x: leftX, y: top - 4, width: 1, height: max(N, K) * rowHeight + 8, ChartPalette.grid)
        canvas.fillRect(x: rightX, y: top - 4, width: 1, height: max(N, K) * rowHeight + 8, ChartPalette.grid)
        for (index, note) in notes.enumerated() {
            canvas.text(note, x: m, y: top + max(N, K) * rowHeight + 22 + 20 * index, size: 12, color: Palette.secondaryText, font: font)
        }
        return canvas
    }
}
