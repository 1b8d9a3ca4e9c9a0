import Foundation

// A heatmap picture of a matrix [rows, cols] (row-major), labelled so it cannot be misread:
// a title, token labels on both axes, axis names, a colour bar with ticks, a legend for
// masked cells and notes. Layout sizes are in pixels.

// MARK: - Colour scale

/// How attention weights are emphasised on their fixed 0…1 scale. Attention is sparse: on long
/// inputs most weights are near 0 and a linear scale shows dark maps with one-pixel lines, so a
/// picture may stretch the low end — and says so on its colour bar.
public enum AttentionEmphasis: String, Sendable, CaseIterable {
    /// Colour proportional to the weight (the default).
    case linear
    /// Colour by the square root of the weight: small weights become visible.
    case power
    /// Colour by log₁₀ of the weight from 0.001 to 1: every order of magnitude gets a third.
    case log
    /// Each row divided by its own largest weight: where each token looks most, whatever the amount.
    case row

    /// The colour bar's title.
    public var barTitle: String {
        switch self {
        case .linear: "attention"
        case .power: "attention (√ scale)"
        case .log: "attention (log scale)"
        case .row: "attention ÷ row's max"
        }
    }

    /// `[H, N, K]` weights as drawn: divided by each row's largest for `.row`, else unchanged.
    public func prepared(_ weights: [Float], rowLength K: Int) -> [Float] {
        guard self == .row, K > 0 else { return weights }
        var out = weights
        for start in stride(from: 0, to: out.count, by: K) {
            let top = out[start..<(start + K)].filter(\.isFinite).max() ?? 0
            if top > 0 { for i in start..<(start + K) { out[i] /= top } }
        }
        return out
    }
}

/// How values become colours: viridis from 0 to `max` (probabilities), or the blue–white–red
/// diverging map from −limit to +limit with zero white (signed values), or attention's fixed
/// 0…1 with an emphasis.
public enum ColorScale: Sendable, Equatable {
    case sequential(max: Float)
    case diverging(limit: Float)
    case attention(AttentionEmphasis)

    /// The scale that fits `values`: sequential 0…max when none is negative, else diverging.
    public static func fitting(_ values: [Float]) -> ColorScale {
        let finite = values.filter(\.isFinite)
        let low = finite.min() ?? 0, high = finite.max() ?? 1
        if low < 0 { return .diverging(limit: max(abs(low), abs(high), .leastNormalMagnitude)) }
        return .sequential(max: high > 0 ? high : 1)
    }

    public var range: (low: Float, high: Float) {
        switch self {
        case .sequential(let max): return (0, max)
        case .diverging(let limit): return (-limit, limit)
        case .attention: return (0, 1)
        }
    }

    /// Where `value` sits along the colour bar, 0 (bottom) to 1 (top), before clamping.
    public func fraction(_ value: Float) -> Float {
        switch self {
        case .attention(.power): return value > 0 ? value.squareRoot() : 0
        case .attention(.log): return (log10(max(value, 1e-3)) + 3) / 3
        default:
            let (low, high) = range
            return high > low ? (value - low) / (high - low) : 0.5
        }
    }

    public func color(_ value: Float) -> RGB {
        switch self {
        case .diverging(let limit): return Colormap.diverging.color(value, low: -limit, high: limit)
        case .sequential(let max): return Colormap.viridis.color(value, low: 0, high: max)
        case .attention(.linear), .attention(.row): return Colormap.viridis.color(value)
        case .attention: return Colormap.viridis.color(value.isNaN ? 0 : fraction(value))
        }
    }

    /// The colour at `t` along the colour bar (0 bottom, 1 top).
    public func color(atFraction t: Float) -> RGB {
        switch self {
        case .diverging, .sequential:
            let (low, high) = range
            return color(low + (high - low) * t)
        case .attention: return Colormap.viridis.color(t)
        }
    }

    /// Tick values, low to high: five evenly spaced ones, or each power of ten on a log scale.
    public var ticks: [Float] {
        if case .attention(.log) = self { return [0.001, 0.01, 0.1, 1] }
        let (low, high) = range
        return (0...4).map { low + (high - low) * Float($0) / 4 }
    }

    /// A tick's label: two decimals, or three significant digits for small or large ranges.
    public func label(_ value: Float) -> String {
        if case .attention(.log) = self { return String(format: "%g", value) }
        let (low, high) = range
        let span = high - low
        if span >= 0.1 && span < 1000 { return String(format: "%.2f", value) }
        return String(format: "%.3g", value)
    }
}

// MARK: - Shared drawing pieces

/// Colours and sizes every picture uses.
public enum Palette {
    public static let background = RGB(255, 255, 255)
    public static let text = RGB(20, 20, 20)
    public static let secondaryText = RGB(80, 80, 80)
    public static let note = RGB(150, 50, 0)
    public static let frame = RGB(120, 120, 120)
    /// Cells a token cannot attend to (a key after the query): light grey with a darker hatch,
    /// so they never look like zero attention (viridis dark purple).
    public static let maskFill = RGB(232, 232, 232)
    public static let maskHatch = RGB(200, 200, 200)
}

extension Canvas {
    /// A masked cell: `Palette.maskFill` hatched with `Palette.maskHatch` diagonals
    /// (pixels where x + y is a multiple of 6, in canvas coordinates).
    public mutating func maskedCell(x: Int, y: Int, width w: Int, height h: Int) {
        fillRect(x: x, y: y, width: w, height: h, Palette.maskFill)
        guard w >= 6, h >= 6 else { return }
        for py in y..<(y + h) {
            for px in x..<(x + w) where (px + py) % 6 == 0 { set(px, py, Palette.maskHatch) }
        }
    }

    /// A vertical colour bar for `scale`, `height` pixels tall with its top at (x, y), max at
    /// the top; tick marks and labels to its right. Returns the total width drawn.
    @discardableResult
    public mutating func colorBar(
        _ scale: ColorScale, x: Int, y: Int, width: Int = 16, height: Int,
        title: String, font: Font, bold: Font, size: Int = 12
    ) -> Int {
        for row in 0..<height {
            let t = height > 1 ? Float(height - 1 - row) / Float(height - 1) : 0
            fillRect(x: x, y: y + row, width: width, height: 1, scale.color(atFraction: t))
        }
        strokeRect(x: x - 1, y: y - 1, width: width + 2, height: height + 2, Palette.frame)
        var widest = 0
        let ascent = font.lineMetrics(size: size).ascent
        for tick in scale.ticks {
            let t = min(max(scale.fraction(tick), 0), 1)
            let ty = y + Int((Float(height - 1) * (1 - t)).rounded())
            fillRect(x: x + width, y: ty, width: 5, height: 1, Palette.text)
            widest = max(
                widest,
                text(
                    scale.label(tick), x: x + width + 8, y: ty + ascent / 2 - 1, size: size,
                    color: Palette.text, font: font))
        }
        text(title, x: x, y: y - 8, size: size, color: Palette.text, font: bold)
        return max(width + 8 + widest, bold.width(title, size: size))
    }
}

// MARK: - Heatmap

/// One labelled heatmap: rows are drawn top to bottom, columns left to right.
public struct Heatmap: Sendable {
    /// `rows × cols` values, row-major.
    public var values: [Float]
    public var rows: Int
    public var cols: Int
    public var rowLabels: [String]
    public var columnLabels: [String]
    public var title: String
    public var subtitle: String?
    public var rowAxis = "query token ↓"
    public var columnAxis = "key token →"
    public var colorBarTitle = "attention"
    public var scale: ColorScale
    /// Cells with column > row are masked (causal attention: a query cannot see later keys).
    public var causalMask = false
    public var maskLegend = "masked: a token cannot look at later tokens (key after query)"
    /// Extra lines under the map (e.g. the attention-sink note).
    public var notes: [String] = []
    /// Cells (row × cols + col) marked with ★ (e.g. a head past a label's threshold).
    public var marked: Set<Int> = []
    /// The cell size in pixels, when several maps must share one (position tables side by side);
    /// nil: chosen from the number of rows and columns.
    public var fixedCell: Int?

    public init(
        values: [Float], rows: Int, cols: Int, rowLabels: [String], columnLabels: [String],
        title: String, subtitle: String? = nil, scale: ColorScale? = nil
    ) {
        precondition(values.count == rows * cols, "Heatmap: \(values.count) values for \(rows)×\(cols)")
        precondition(rowLabels.count == rows && columnLabels.count == cols, "Heatmap: one label per row and column")
        self.values = values
        self.rows = rows
        self.cols = cols
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.title = title
        self.subtitle = subtitle
        self.scale = scale ?? ColorScale.fitting(values)
    }

    public func isMasked(row: Int, col: Int) -> Bool { (causalMask && col > row) || (window.map { col <= row - $0 } ?? false) }
    /// A local attention layer's window: cells more than `window − 1` before their row are masked too.
    public var window: Int?

    /// Where things go on the picture.
    public struct Layout: Sendable, Equatable {
        public var width: Int, height: Int
        public var cell: Int
        public var gridX: Int, gridY: Int
        /// Every `labelStep`-th token is labelled (1 when cells are tall enough for text).
        public var labelStep: Int
        public var labelSize: Int
        public var labelWidth: Int
        public var titleBaseline: Int
        public var barX: Int, barHeight: Int
        public var legendY: Int
        /// With thinned labels, a complete numbered key of the tokens under the legend ("0 Once
        /// · 1 ␣upon · …"), wrapped to the picture's width; empty when every token is labelled.
        public var keyLines: [String]
        public var keyY: Int

        /// The pixel rectangle of cell (row, col).
        public func cellRect(row: Int, col: Int) -> (x: Int, y: Int, width: Int, height: Int) {
            (gridX + col * cell, gridY + row * cell, cell, cell)
        }
    }

    static let margin = 16, titleSize = 16, subtitleSize = 12, axisSize = 12, maxLabelWidth = 130

    public func layout() throws -> Layout {
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let n = max(rows, cols)
        // Cells fill about 560 px, but stay at least one text line (12 px) tall up to 100 tokens
        // (the grid grows to 1,200 px), so every token keeps its label; beyond that the grid stays
        // 1,200 px, every labelStep-th token is labelled and a numbered key lists them all.
        let cell = fixedCell ?? (n <= 100 ? max(12, min(44, 560 / max(n, 1))) : max(2, 1200 / n))
        let labelSize = cell >= 16 ? 12 : 11
        let labelStep = cell >= 12 ? 1 : Int((12.0 / Double(cell)).rounded(.up))
        let widest =
            (0..<max(rows, cols)).map { i in
                max(
                    i < rows ? font.width(label(row: i, step: labelStep), size: labelSize) : 0,
                    i < cols ? font.width(label(col: i, step: labelStep), size: labelSize) : 0)
            }.max() ?? 0
        let labelWidth = min(Self.maxLabelWidth, widest)
        let m = Self.margin
        let titleAscent = bold.lineMetrics(size: Self.titleSize).ascent
        var y = m + titleAscent
        let titleBaseline = y
        if subtitle != nil { y += 20 }
        y += 16
        // Header: the column axis name, then the upright column labels down to the grid.
        let axisLine = y + font.lineMetrics(size: Self.axisSize).ascent
        let gridY = axisLine + 10 + labelWidth + 6
        let leftColumn = max(labelWidth, bold.width(rowAxis, size: Self.axisSize))
        let gridX = m + leftColumn + 8
        let gridW = cols * cell, gridH = rows * cell
        let barHeight = max(gridH, 150)
        let barX = gridX + gridW + 28
        let barWidth = 16 + 8 + (scale.ticks.map { font.width(scale.label($0), size: 12) }.max() ?? 0)
        let legendY = gridY + max(gridH, barHeight) + 24
        let lines = 1 + notes.count
        // A key only where the labels say something (position tables number their rows instead).
        let labelled = !(rowLabels + columnLabels).allSatisfy(\.isEmpty) && !labelsAreIndices
        let keyLines = labelStep > 1 && labelled ? numberedKey(maxWidth: max(gridX + gridW, 700) - m, font: font) : []
        let keyY = legendY + lines * 20 + (keyLines.isEmpty ? 0 : 6)
        let height = keyY + keyLines.count * 16 + m
        let textWidths =
            [
                bold.width(title, size: Self.titleSize), font.width(subtitle ?? "", size: Self.subtitleSize),
                20 + font.width(maskLegend, size: 12)
            ] + notes.map { bold.width($0, size: 12) + 8 } + keyLines.map { font.width($0, size: 11) }
        let width = max(
            barX + max(barWidth, bold.width(colorBarTitle, size: 12)) + m,
            (textWidths.max() ?? 0) + 2 * m + 8)
        return Layout(
            width: width, height: height, cell: cell, gridX: gridX, gridY: gridY, labelStep: labelStep,
            labelSize: labelSize, labelWidth: labelWidth, titleBaseline: titleBaseline, barX: barX,
            barHeight: barHeight, legendY: legendY, keyLines: keyLines, keyY: keyY)
    }

    /// The numbered key of the tokens, wrapped to `maxWidth` (rows and columns listed apart when
    /// they are different tokens).
    func numberedKey(maxWidth: Int, font: Font) -> [String] {
        if rowLabels == columnLabels {
            return Rendering.numberedKey(rowLabels, heading: "tokens:", maxWidth: maxWidth, size: 11, font: font)
        }
        return Rendering.numberedKey(rowLabels, heading: "rows:", maxWidth: maxWidth, size: 11, font: font)
            + Rendering.numberedKey(columnLabels, heading: "columns:", maxWidth: maxWidth, size: 11, font: font)
    }

    /// A row's label; with thinned labels the position comes first ("12 ␣saw"), since the
    /// neighbours that would show it are not labelled.
    func label(row: Int, step: Int) -> String { step > 1 && !labelsAreIndices ? "\(row) \(rowLabels[row])" : rowLabels[row] }
    func label(col: Int, step: Int) -> String { step > 1 && !labelsAreIndices ? "\(col) \(columnLabels[col])" : columnLabels[col] }

    /// Labels that are their own positions ("0", "1", …) need no number before them and no key.
    var labelsAreIndices: Bool {
        rowLabels.enumerated().allSatisfy { $1 == "\($0)" } && columnLabels.enumerated().allSatisfy { $1 == "\($0)" }
    }

    /// A cell's value, two decimals; a value that rounds to zero reads "0.00", never "-0.00".
    func cellText(_ value: Float) -> String {
        let text = String(format: "%.2f", value)
        return text == "-0.00" ? "0.00" : text
    }

    public func render() throws -> Canvas {
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let l = try layout()
        var canvas = Canvas(width: l.width, height: l.height, background: Palette.background)
        let m = Self.margin

        // Title and subtitle.
        canvas.text(title, x: m, y: l.titleBaseline, size: Self.titleSize, color: Palette.text, font: bold)
        if let subtitle {
            canvas.text(subtitle, x: m, y: l.titleBaseline + 20, size: Self.subtitleSize, color: Palette.secondaryText, font: font)
        }

        // Axis names: keys above the column labels, queries above the row labels.
        let axisBaseline = l.gridY - 6 - l.labelWidth - 10
        canvas.text(columnAxis, x: l.gridX, y: axisBaseline, size: Self.axisSize, color: Palette.text, font: bold)
        canvas.text(rowAxis, x: l.gridX - 8, y: l.gridY - 6, size: Self.axisSize, color: Palette.text, font: bold, anchor: .right)

        // Token labels: rows right-aligned to the left of the grid, columns upright above it.
        let ascent = font.lineMetrics(size: l.labelSize).ascent
        for row in stride(from: 0, to: rows, by: l.labelStep) {
            let piece = shortened(label(row: row, step: l.labelStep), maxWidth: l.labelWidth, size: l.labelSize, font: font)
            let baseline = l.gridY + row * l.cell + (l.cell + ascent) / 2 - 1
            canvas.text(piece, x: l.gridX - 6, y: baseline, size: l.labelSize, color: Palette.text, font: font, anchor: .right)
        }
        for col in stride(from: 0, to: cols, by: l.labelStep) {
            let piece = shortened(label(col: col, step: l.labelStep), maxWidth: l.labelWidth, size: l.labelSize, font: font)
            let baseline = l.gridX + col * l.cell + (l.cell + ascent) / 2 - 1
            canvas.verticalText(piece, x: baseline, y: l.gridY - 6, size: l.labelSize, color: Palette.text, font: font)
        }

        // The cells; values printed inside when cells are large enough to read them.
        let showValues = l.cell >= 36
        for row in 0..<rows {
            for col in 0..<cols {
                let r = l.cellRect(row: row, col: col)
                if isMasked(row: row, col: col) {
                    canvas.maskedCell(x: r.x, y: r.y, width: r.width, height: r.height)
                    continue
                }
                let value = values[row * cols + col]
                let color = scale.color(value)
                canvas.fillRect(x: r.x, y: r.y, width: r.width, height: r.height, color)
                let star = marked.contains(row * cols + col) ? "★" : ""
                if showValues || !star.isEmpty {
                    canvas.text(
                        showValues ? cellText(value) + star : star, x: r.x + r.width / 2, y: r.y + r.height / 2 + 4,
                        size: 11, color: color.isLight ? RGB(0, 0, 0) : RGB(255, 255, 255), font: font, anchor: .center)
                }
            }
        }
        canvas.strokeRect(x: l.gridX - 1, y: l.gridY - 1, width: cols * l.cell + 2, height: rows * l.cell + 2, Palette.frame)

        canvas.colorBar(scale, x: l.barX, y: l.gridY, height: l.barHeight, title: colorBarTitle, font: font, bold: bold)

        // Legend and notes.
        var y = l.legendY
        if causalMask {
            canvas.maskedCell(x: m, y: y - 12, width: 14, height: 14)
            canvas.strokeRect(x: m, y: y - 12, width: 14, height: 14, Palette.frame)
            canvas.text(maskLegend, x: m + 20, y: y, size: 12, color: Palette.secondaryText, font: font)
            y += 20
        }
        for note in notes {
            canvas.text(note, x: m, y: y, size: 12, color: Palette.note, font: bold)
            y += 20
        }
        for (index, line) in l.keyLines.enumerated() {
            canvas.text(line, x: m, y: l.keyY + index * 16, size: 11, color: Palette.secondaryText, font: font)
        }
        return canvas
    }
}
