import Foundation
import Tracing

// The logit lens as a picture: a grid with a row per layer (embed, 0 … L−1) and a column per
// input position; each cell names the token the model would predict there if it stopped after
// that layer, and is coloured by that token's probability (viridis 0…1).
//
// Letters: R rows (layers, embed first), N positions.

/// One cell of the grid: the top predicted piece and its probability; `hit` when it is the
/// token that actually comes next.
public struct LensGridCell: Sendable, Equatable {
    public var piece: String
    public var probability: Float
    public var hit: Bool
    public init(piece: String, probability: Float, hit: Bool = false) {
        self.piece = piece
        self.probability = probability
        self.hit = hit
    }
}

public struct LensPicture: Sendable {
    /// `[R][N]` cells, the embed row first.
    public var cells: [[LensGridCell]]
    public var rowLabels: [String]
    /// The input token at each position.
    public var columnLabels: [String]
    public var title: String
    public var subtitle: String?
    /// The lines under the grid (what a cell and ✓ mean).
    public var legend = LensPicture.decoderLegend
    public let scale = ColorScale.sequential(max: 1)

    public static let margin = 16, cellWidth = 78, cellHeight = 30, pieceSize = 12, labelSize = 12

    public init(cells: [[LensGridCell]], rowLabels: [String], columnLabels: [String], title: String, subtitle: String? = nil) {
        precondition(cells.count == rowLabels.count, "LensPicture: one label per row")
        precondition(cells.allSatisfy { $0.count == columnLabels.count }, "LensPicture: one label per column")
        self.cells = cells
        self.rowLabels = rowLabels
        self.columnLabels = columnLabels
        self.title = title
        self.subtitle = subtitle
    }

    /// The grid of `lens`, pieces from `piece` (e.g. the tokenizer's display piece).
    public init(lens: LogitLens, piece: (Int) -> String, title: String, subtitle: String? = nil) {
        let N = lens.tokens.count, offset = lens.predictsNextToken ? 1 : 0
        let cells = lens.layers.map { layer in
            layer.cells.enumerated().map { position, cell in
                let best = cell.top.first
                return LensGridCell(
                    piece: best.map { piece($0.id) } ?? "", probability: best?.probability ?? 0,
                    hit: best != nil && position + offset < N && best!.id == lens.tokens[position + offset])
            }
        }
        self.init(
            cells: cells, rowLabels: lens.layers.map { $0.layer < 0 ? "embed" : "layer \($0.layer)" },
            columnLabels: lens.tokens.map(piece), title: title, subtitle: subtitle)
        if !lens.predictsNextToken { legend = Self.encoderLegend }
    }

    /// A long input wraps into bands of at most this many positions, one under the other, so the
    /// picture stays about 1,300 px wide at any length (152 tokens drew 12,083 px in one row);
    /// past 64 positions bands are 24 wide (about 2,000 px), so 500 tokens are 21 bands, not 32.
    public static func maximumBandColumns(positions: Int) -> Int { positions > 64 ? 24 : 16 }
    /// Space between one band's last row and the next band's grid: its header and column labels.
    static let bandGap = 52

    /// The lens of `prompt` run through `model` (its name or path), titled the same wherever it
    /// is drawn; a long prompt is cut in the subtitle (the grid shows every token).
    public init(lens: LogitLens, piece: (Int) -> String, model: String, prompt: String) {
        let flat = prompt.replacingOccurrences(of: "\n", with: " ")
        let excerpt = flat.count > 80 ? String(flat.prefix(79)) + "…" : flat
        self.init(
            lens: lens, piece: piece, title: "Logit lens: the top prediction after each layer",
            subtitle: "\(URL(fileURLWithPath: model).lastPathComponent) · \"\(excerpt)\" · \(lens.tokens.count) tokens, "
                + "\(lens.layers.filter { $0.layer >= 0 }.count) layers")
    }

    public struct Layout: Sendable, Equatable {
        public var width: Int, height: Int
        public var gridX: Int, gridY: Int
        public var barX: Int, barHeight: Int
        public var legendY: Int
        /// Positions per band, and how far down each band starts after the previous one.
        public var bandColumns: Int, bandStride: Int
        public var bands: Int

        /// Band `band`'s grid top.
        public func bandY(_ band: Int) -> Int { gridY + band * bandStride }

        public func cellRect(row: Int, col: Int) -> (x: Int, y: Int, width: Int, height: Int) {
            (
                gridX + col % bandColumns * LensPicture.cellWidth, bandY(col / bandColumns) + row * LensPicture.cellHeight,
                LensPicture.cellWidth, LensPicture.cellHeight
            )
        }
    }

    static let rowAxis = "after layer ↓", columnAxis = "input token at each position →"
    static let decoderLegend = [
        "each cell: the most likely next token if the model stopped after that layer (final norm + unembedding applied early)",
        "the colour is its probability; the last row is the model's real prediction; ✓ = it is the token that actually comes next"
    ]
    static let encoderLegend = [
        "each cell: the token the masked-language head reads at that position if the model stopped after that layer",
        "the colour is its probability; the last row is the model's real output; ✓ = it is the token actually there"
    ]

    public func layout() throws -> Layout {
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let m = Self.margin
        let N = columnLabels.count, R = rowLabels.count
        let rowLabelWidth = max(
            rowLabels.map { font.width($0, size: Self.labelSize) }.max() ?? 0,
            bold.width(Self.rowAxis, size: 12))
        var y = m + 16
        if subtitle != nil { y += 20 }
        y += 20  // column axis name
        let gridY = y + 12 + 22  // column labels (one line, horizontal)
        let gridX = m + rowLabelWidth + 10
        // As many bands as needed, the positions shared out evenly (49 → 13, 13, 13, 10, not 16, 16, 16, 1).
        let most = Self.maximumBandColumns(positions: N)
        let bands = max(1, (N + most - 1) / most)
        let bandColumns = max(1, (N + bands - 1) / bands)
        let gridW = bandColumns * Self.cellWidth, gridH = R * Self.cellHeight
        let bandStride = gridH + Self.bandGap
        let barHeight = max(gridH, 150)
        let barX = gridX + gridW + 28
        let legendY = gridY + max((bands - 1) * bandStride + gridH, barHeight) + 26
        let height = legendY + legend.count * 18 + m
        let textWidth =
            ([bold.width(title, size: 16), font.width(subtitle ?? "", size: 12)]
            + legend.map { font.width($0, size: 12) }).max() ?? 0
        let width = max(barX + 16 + 8 + font.width("0.00", size: 12) + 20 + m, textWidth + 2 * m)
        return Layout(
            width: width, height: height, gridX: gridX, gridY: gridY, barX: barX, barHeight: barHeight, legendY: legendY,
            bandColumns: bandColumns, bandStride: bandStride, bands: bands)
    }

    /// "positions 16–31 of 0–151" over a band of a long input (numbered from 0, as every
    /// picture's token positions); nil when it all fits in one band.
    func bandHeader(_ band: Int, _ l: Layout) -> String? {
        guard l.bands > 1 else { return nil }
        let first = band * l.bandColumns, last = min(columnLabels.count, first + l.bandColumns) - 1
        let of = "of 0–\(columnLabels.count - 1)"
        return first == last ? "position \(first) \(of)" : "positions \(first)–\(last) \(of)"
    }

    public func render() throws -> Canvas {
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let l = try layout()
        let m = Self.margin
        var canvas = Canvas(width: l.width, height: l.height, background: Palette.background)
        canvas.text(title, x: m, y: m + 14, size: 16, color: Palette.text, font: bold)
        if let subtitle {
            canvas.text(subtitle, x: m, y: m + 14 + 20, size: 12, color: Palette.secondaryText, font: font)
        }
        canvas.text(Self.columnAxis, x: l.gridX, y: l.gridY - 34, size: 12, color: Palette.text, font: bold)
        let inner = Self.cellWidth - 6
        for band in 0..<l.bands {
            let top = l.bandY(band)
            if let header = bandHeader(band, l) {
                // The first band's header sits after the axis name; later ones on their own line.
                let x = band == 0 ? l.gridX + bold.width(Self.columnAxis, size: 12) + 16 : l.gridX
                canvas.text(header, x: x, y: top - 34, size: 12, color: Palette.secondaryText, font: font)
            }
            canvas.text(Self.rowAxis, x: l.gridX - 10, y: top - 8, size: 12, color: Palette.text, font: bold, anchor: .right)
            for (row, label) in rowLabels.enumerated() {
                canvas.text(
                    label, x: l.gridX - 10, y: top + row * Self.cellHeight + Self.cellHeight / 2 + 5, size: Self.labelSize,
                    color: Palette.text, font: font, anchor: .right)
            }
        }
        // Column labels: the input token, centred over its column.
        for (col, label) in columnLabels.enumerated() {
            let r = l.cellRect(row: 0, col: col)
            canvas.text(
                shortened(label, maxWidth: inner, size: Self.labelSize, font: font), x: r.x + r.width / 2,
                y: r.y - 8, size: Self.labelSize, color: Palette.text, font: font, anchor: .center)
        }
        // The cells: viridis of the probability, the piece written in black or white to stay readable.
        for (row, line) in cells.enumerated() {
            for (col, cell) in line.enumerated() {
                let r = l.cellRect(row: row, col: col)
                let color = scale.color(cell.probability)
                canvas.fillRect(x: r.x, y: r.y, width: r.width, height: r.height, color)
                let ink = color.isLight ? RGB(0, 0, 0) : RGB(255, 255, 255)
                let text = cell.hit ? cell.piece + " ✓" : cell.piece
                canvas.text(
                    shortened(text, maxWidth: inner, size: Self.pieceSize, font: font), x: r.x + r.width / 2,
                    y: r.y + r.height / 2 + 5, size: Self.pieceSize, color: ink, font: font, anchor: .center)
            }
        }
        // Thin white separators between cells, then each band's frame.
        for band in 0..<l.bands {
            let top = l.bandY(band)
            let columns = min(l.bandColumns, columnLabels.count - band * l.bandColumns)
            for col in 1..<max(1, columns) {
                canvas.fillRect(
                    x: l.gridX + col * Self.cellWidth, y: top, width: 1, height: rowLabels.count * Self.cellHeight, Palette.background)
            }
            for row in 1..<max(1, rowLabels.count) {
                canvas.fillRect(x: l.gridX, y: top + row * Self.cellHeight, width: columns * Self.cellWidth, height: 1, Palette.background)
            }
            canvas.strokeRect(
                x: l.gridX - 1, y: top - 1, width: columns * Self.cellWidth + 2, height: rowLabels.count * Self.cellHeight + 2,
                Palette.frame)
        }
        canvas.colorBar(scale, x: l.barX, y: l.gridY, height: l.barHeight, title: "probability", font: font, bold: bold)
        for (i, line) in legend.enumerated() {
            canvas.text(line, x: m, y: l.legendY + i * 18, size: 12, color: Palette.secondaryText, font: font)
        }
        return canvas
    }
}
