import Foundation

/// Pictures laid out as panels in a grid under one title: rows of `columns` panels, a thin
/// line between neighbours (the position tables side by side; the head scores two by two).
public enum PanelGrid {
    public static func compose(_ pictures: [Canvas], columns: Int, title: String, subtitle: String) throws -> Canvas {
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let m = Heatmap.margin, gap = 24, top = m + 50
        let columns = max(1, min(columns, pictures.count))
        let rows = stride(from: 0, to: pictures.count, by: columns).map { Array(pictures[$0..<min(pictures.count, $0 + columns)]) }
        let rowWidths = rows.map { row in row.reduce(0) { $0 + $1.width } + gap * max(0, row.count - 1) }
        let rowHeights = rows.map { row in row.map(\.height).max() ?? 0 }
        let width = max((rowWidths.max() ?? 0) + 2 * m, bold.width(title, size: 18) + 2 * m, font.width(subtitle, size: 12) + 2 * m)
        let height = top + rowHeights.reduce(0, +) + gap * max(0, rows.count - 1) + m
        var canvas = Canvas(width: width, height: height, background: Palette.background)
        canvas.text(title, x: m, y: m + 18, size: 18, color: Palette.text, font: bold)
        canvas.text(subtitle, x: m, y: m + 40, size: 12, color: Palette.secondaryText, font: font)
        var y = top
        for (row, height) in zip(rows, rowHeights) {
            var x = m
            for (index, picture) in row.enumerated() {
                canvas.draw(picture, x: x, y: y)
                x += picture.width + gap
                if index + 1 < row.count { canvas.fillRect(x: x - gap / 2, y: y, width: 1, height: height, ChartPalette.grid) }
            }
            y += height + gap
        }
        return canvas
    }
}

/// A rows × positions map (layers down, the text's tokens across) drawn in bands of at most
/// `most` positions at one cell size, one under the other: a long text in one map shrank its
/// rows to a few pixels. `grid[row][position]`; `configure` sets the axes, colour bar and marks
/// of each band's map, given the positions it covers.
public enum PositionBands {
    public static func render(
        _ grid: [[Float]], rowLabels: [String], pieces: [String], title: String, subtitle: String?, scale: ColorScale,
        most: Int = 64, configure: (inout Heatmap, Range<Int>) -> Void
    ) throws -> [Canvas] {
        let N = pieces.count
        let bands = max(1, (N + most - 1) / most)
        let perBand = (N + bands - 1) / bands
        return try (0..<bands).map { band -> Canvas in
            let range = (band * perBand)..<min(N, (band + 1) * perBand)
            var map = Heatmap(
                values: grid.flatMap { $0[range] }, rows: grid.count, cols: range.count, rowLabels: rowLabels,
                columnLabels: range.map { bands > 1 ? "\($0) \(pieces[$0])" : pieces[$0] },
                title: band == 0 ? title : "positions \(range.lowerBound)–\(range.upperBound - 1)",
                subtitle: band == 0 ? subtitle : nil, scale: scale)
            map.maskLegend = ""
            if bands > 1 { map.fixedCell = 14 }
            configure(&map, range)
            return try map.render()
        }
    }
}
