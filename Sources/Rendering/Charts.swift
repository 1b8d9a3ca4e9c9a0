import Foundation

// Small charts for learners: columns of labelled horizontal bars sharing one value axis, and a
// line chart with labelled axes and a legend. Every size is in pixels; text is at least 11 px.

// MARK: - Colours

/// The colours charts use, so tests and legends can name them.
public enum ChartPalette {
    /// An ordinary bar.
    public static let bar = RGB(66, 113, 196)
    /// The token that was chosen.
    public static let chosen = RGB(230, 124, 20)
    /// A candidate cut by a filter (top-k, top-p): grey, never mistaken for a kept one.
    public static let cut = RGB(205, 205, 205)
    public static let cutText = RGB(140, 140, 140)
    /// The band behind the chosen token's row.
    public static let highlight = RGB(255, 243, 214)
    public static let grid = RGB(228, 228, 228)
    public static let axis = RGB(60, 60, 60)
    /// Line colours for up to four series (colour-blind-safe Okabe–Ito hues).
    public static let series = [RGB(0, 114, 178), RGB(213, 94, 0), RGB(0, 158, 115), RGB(204, 121, 167)]
}

// MARK: - Bars

/// One labelled bar.
public struct BarRow: Sendable, Equatable {
    public var label: String
    public var value: Float
    public var color: RGB
    /// Printed at the bar's end ("0.412", "cut").
    public var valueText: String
    /// The chosen row: bold label with a ▶ marker on a highlighted band.
    public var highlighted: Bool

    public init(label: String, value: Float, color: RGB = ChartPalette.bar, valueText: String, highlighted: Bool = false) {
        self.label = label; self.value = value; self.color = color; self.valueText = valueText; self.highlighted = highlighted
    }
}

/// A column of horizontal bars over a shared value axis from 0 to `maxValue`, with an optional
/// two-line heading above and the axis (ticks, numbers, name) below.
public struct BarPanel: Sendable {
    public var heading: String?
    public var headingDetail: String?
    public var rows: [BarRow]
    public var maxValue: Float
    public var axisName: String
    public var labelWidth: Int
    public var plotWidth: Int

    public static let rowHeight = 22, barHeight = 16, labelSize = 12, valueWidth = 56

    public init(
        heading: String? = nil, headingDetail: String? = nil, rows: [BarRow], maxValue: Float, axisName: String,
        labelWidth: Int, plotWidth: Int = 360
    ) {
        self.heading = heading; self.headingDetail = headingDetail; self.rows = rows
        self.maxValue = maxValue > 0 ? maxValue : 1; self.axisName = axisName
        self.labelWidth = labelWidth; self.plotWidth = plotWidth
    }

    var headingHeight: Int { heading == nil ? 0 : (headingDetail == nil ? 24 : 42) }
    public var width: Int { labelWidth + 8 + plotWidth + Self.valueWidth }
    public var height: Int { headingHeight + rows.count * Self.rowHeight + 4 + 44 }

    /// The bar's length in pixels: proportional to its value, `plotWidth` at `maxValue`.
    public func barLength(_ value: Float) -> Int {
        guard value.isFinite, value > 0 else { return 0 }
        return Int((min(value / maxValue, 1) * Float(plotWidth)).rounded())
    }

    /// The bar of `row` when the panel's top-left corner is at (x, y).
    public func barRect(row: Int, x: Int, y: Int) -> (x: Int, y: Int, width: Int, height: Int) {
        let top = y + headingHeight + row * Self.rowHeight
        return (x + labelWidth + 8, top + (Self.rowHeight - Self.barHeight) / 2, barLength(rows[row].value), Self.barHeight)
    }

    /// Five evenly spaced ticks from 0 to `maxValue`.
    public var ticks: [Float] { (0...4).map { maxValue * Float($0) / 4 } }

    public func draw(into canvas: inout Canvas, x: Int, y: Int, font: Font, bold: Font) {
        if let heading {
            canvas.text(heading, x: x + labelWidth + 8, y: y + 15, size: 13, color: Palette.text, font: bold)
            if let headingDetail {
                canvas.text(headingDetail, x: x + labelWidth + 8, y: y + 33, size: 12, color: Palette.secondaryText, font: font)
            }
        }
        let plotX = x + labelWidth + 8
        let top = y + headingHeight, bottom = top + rows.count * Self.rowHeight
        // Vertical grid lines at the ticks, behind the bars.
        for tick in ticks.dropFirst() {
            let gx = plotX + barLength(tick) - (tick == maxValue ? 1 : 0)
            canvas.fillRect(x: gx, y: top, width: 1, height: bottom - top, ChartPalette.grid)
        }
        canvas.fillRect(x: plotX, y: top, width: 1, height: bottom + 4 - top, ChartPalette.axis)
        for (i, row) in rows.enumerated() {
            let rowTop = top + i * Self.rowHeight
            if row.highlighted {
                canvas.fillRect(x: x, y: rowTop, width: width, height: Self.rowHeight, ChartPalette.highlight)
            }
            let bar = barRect(row: i, x: x, y: y)
            canvas.fillRect(x: bar.x, y: bar.y, width: bar.width, height: bar.height, row.color)
            let baseline = rowTop + 16
            let isCut = row.color == ChartPalette.cut
            let label = shortened(
                (row.highlighted ? "▶ " : "") + row.label, maxWidth: labelWidth, size: Self.labelSize,
                font: row.highlighted ? bold : font)
            canvas.text(
                label, x: x + labelWidth, y: baseline, size: Self.labelSize,
                color: isCut ? ChartPalette.cutText : Palette.text, font: row.highlighted ? bold : font, anchor: .right)
            canvas.text(
                row.valueText, x: bar.x + bar.width + 5, y: baseline, size: Self.labelSize,
                color: isCut ? ChartPalette.cutText : Palette.text, font: row.highlighted ? bold : font)
        }
        // The value axis: a line, ticks with numbers, and its name.
        let axisY = bottom + 4
        canvas.fillRect(x: plotX, y: axisY, width: plotWidth, height: 1, ChartPalette.axis)
        for tick in ticks {
            let tx = plotX + barLength(tick) - (tick == maxValue ? 1 : 0)
            canvas.fillRect(x: tx, y: axisY, width: 1, height: 5, ChartPalette.axis)
            canvas.text(
                Self.tickLabel(tick, maxValue: maxValue), x: tx, y: axisY + 18, size: 11, color: Palette.secondaryText,
                font: font, anchor: .center)
        }
        canvas.text(axisName, x: plotX + plotWidth / 2, y: axisY + 38, size: 12, color: Palette.text, font: bold, anchor: .center)
    }

    static func tickLabel(_ value: Float, maxValue: Float) -> String {
        maxValue >= 0.2 ? String(format: "%.2f", value) : String(format: "%.3f", value)
    }

    /// A round upper end for an axis showing values up to `value` (0.1, 0.2, 0.25, 0.5, 1, …).
    public static func niceMaximum(_ value: Float) -> Float {
        guard value.isFinite, value > 0 else { return 1 }
        let magnitude = powf(10, floorf(log10f(value)))
        for step: Float in [1, 2, 2.5, 5, 10] where step * magnitude >= value * 0.9999 { return step * magnitude }
        return 10 * magnitude
    }
}

/// A whole picture of one bar panel: title, subtitle lines, the bars, notes underneath.
public struct BarChart: Sendable {
    public var title: String
    public var subtitles: [String]
    public var panel: BarPanel
    public var notes: [String]

    public static let margin = 16

    public init(title: String, subtitles: [String] = [], panel: BarPanel, notes: [String] = []) {
        self.title = title; self.subtitles = subtitles; self.panel = panel; self.notes = notes
    }

    /// Top-left corner of the panel on the picture.
    public var panelOrigin: (x: Int, y: Int) { (Self.margin, Self.margin + 22 + subtitles.count * 18 + 14) }

    public func render() throws -> Canvas {
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let m = Self.margin
        let origin = panelOrigin
        let textWidth =
            ([bold.width(title, size: 16)] + subtitles.map { font.width($0, size: 12) }
            + notes.map { font.width($0, size: 12) }).max() ?? 0
        let width = max(origin.x + panel.width + m, textWidth + 2 * m)
        let height = origin.y + panel.height + notes.count * 18 + m
        var canvas = Canvas(width: width, height: height, background: Palette.background)
        canvas.text(title, x: m, y: m + 16, size: 16, color: Palette.text, font: bold)
        for (i, line) in subtitles.enumerated() {
            canvas.text(line, x: m, y: m + 22 + (i + 1) * 18 - 2, size: 12, color: Palette.secondaryText, font: font)
        }
        panel.draw(into: &canvas, x: origin.x, y: origin.y, font: font, bold: bold)
        for (i, note) in notes.enumerated() {
            canvas.text(note, x: m, y: origin.y + panel.height + (i + 1) * 18 - 4, size: 12, color: Palette.secondaryText, font: font)
        }
        return canvas
    }
}

// MARK: - Lines

/// A line chart of one or more series over x = 0, 1, 2, … with labelled axes and a legend.
public struct LineChart: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var values: [Float]
        public var color: RGB
        /// A dot on every point (for sparse series such as validation losses).
        public var markers: Bool
        /// `values` may hold NaN where a series has no point; lines join the points either side.
        public init(name: String, values: [Float], color: RGB, markers: Bool = false) {
            self.name = name; self.values = values; self.color = color; self.markers = markers
        }
    }

    public var title: String
    public var subtitles: [String]
    public var series: [Series]
    public var xAxis: String
    public var yAxis: String
    public var yRange: (low: Float, high: Float)
    public var notes: [String] = []
    /// What one x step stands for in the tick labels (e.g. 10 when each point is every 10th step).
    public var xUnit: Int = 1
    /// What the first point stands for in the tick labels (label = xStart + x · xUnit).
    public var xStart: Int = 0

    public static let margin = 16, plotWidth = 600, plotHeight = 300

    public init(
        title: String, subtitles: [String] = [], series: [Series], xAxis: String, yAxis: String,
        yRange: (low: Float, high: Float) = (-1, 1)
    ) {
        self.title = title; self.subtitles = subtitles; self.series = series
        self.xAxis = xAxis; self.yAxis = yAxis; self.yRange = yRange
    }

    var xCount: Int { max(2, series.map(\.values.count).max() ?? 2) }

    /// The plot area's top-left corner.
    public var plotOrigin: (x: Int, y: Int) { (Self.margin + 70, Self.margin + 22 + subtitles.count * 18 + 20) }

    /// The chart as it is, or — with more than `most` points — in bands of at most `most` points,
    /// one under the other under one title ("steps 101–200", with `name` "steps"); the notes
    /// go under the last band. (496 points in one 600-pixel plot were a solid block of lines.)
    public func renderInBands(ofAtMost most: Int, naming name: String) throws -> Canvas {
        let count = xCount
        guard count > most else { return try render() }
        let bands = (count + most - 1) / most
        let perBand = (count + bands - 1) / bands
        let pictures = try (0..<bands).map { band -> Canvas in
            let range = (band * perBand)..<min(count, (band + 1) * perBand)
            var part = self
            part.title = "\(name) \(xStart + range.lowerBound * xUnit)–\(xStart + (range.upperBound - 1) * xUnit)"
            part.subtitles = []
            part.series = series.map { series in
                var cut = series
                cut.values = Array(series.values[range.clamped(to: 0..<series.values.count)])
                return cut
            }
            part.xStart = xStart + range.lowerBound * xUnit
            part.notes = band == bands - 1 ? notes : []
            return try part.render()
        }
        return try PanelGrid.compose(pictures, columns: 1, title: title, subtitle: subtitles.joined(separator: " "))
    }

    /// Pixel position of the point (x, value).
    public func point(x: Int, value: Float) -> (x: Int, y: Int) {
        let o = plotOrigin
        let px = o.x + Int((Float(x) / Float(xCount - 1) * Float(Self.plotWidth - 1)).rounded())
        let t = (min(max(value, yRange.low), yRange.high) - yRange.low) / (yRange.high - yRange.low)
        return (px, o.y + Int(((1 - t) * Float(Self.plotHeight - 1)).rounded()))
    }

    /// Round values for an axis from `low` to `high`: the multiples of a step of 1, 2 or 5 × 10^k
    /// (and at least `minimumStep`) that lie in the range, for the smallest such step that gives
    /// at most `most` of them; and the decimals their labels need. (1.19 … 7.7 gives 2, 3, …, 7;
    /// -1 … 1 gives -1, -0.5, …, 1; an axis of whole numbers such as steps passes minimumStep 1.)
    public static func roundTicks(low: Double, high: Double, most: Int, minimumStep: Double = 0) -> (values: [Double], decimals: Int) {
        guard high > low, most >= 2 else { return ([low], 0) }
        // Ends that are round up to Float rounding (0.3 stored as 0.30000001) still get their tick.
        let slack = (high - low) * 1e-6
        func ticks(_ step: Double) -> [Double] {
            var values: [Double] = []
            var index = ((low - slack) / step).rounded(.up)
            while index * step <= high + slack {
                values.append(index * step == 0 ? 0 : index * step)
                index += 1
            }
            return values
        }
        // Candidates from a tenth of the even spacing upwards; the first that fits wins.
        let exponent = Int(floor(log10((high - low) / Double(most - 1)))) - 1
        let candidates = (exponent...(exponent + 2)).flatMap { k in [1.0, 2, 5].map { $0 * pow(10, Double(k)) } }
            .filter { $0 >= minimumStep }
        let step = candidates.first { ticks($0).count <= most } ?? max(minimumStep, pow(10, Double(exponent + 3)))
        return (ticks(step), max(0, -Int(floor(log10(step) + 1e-9))))
    }

    public func render() throws -> Canvas {
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let m = Self.margin, o = plotOrigin, W = Self.plotWidth, H = Self.plotHeight
        let legendY = o.y + H + 62
        let textWidth =
            ([bold.width(title, size: 16)] + subtitles.map { font.width($0, size: 12) }
            + notes.map { font.width($0, size: 12) }).max() ?? 0
        let width = max(o.x + W + 30 + m, textWidth + 2 * m)
        let height = legendY + series.count * 20 + notes.count * 18 + m
        var canvas = Canvas(width: width, height: height, background: Palette.background)
        canvas.text(title, x: m, y: m + 16, size: 16, color: Palette.text, font: bold)
        for (i, line) in subtitles.enumerated() {
            canvas.text(line, x: m, y: m + 22 + (i + 1) * 18 - 2, size: 12, color: Palette.secondaryText, font: font)
        }

        // Horizontal grid and y ticks at round values, the zero line darker.
        let yTicks = Self.roundTicks(low: Double(yRange.low), high: Double(yRange.high), most: 8)
        for value in yTicks.values.map(Float.init) {
            let y = point(x: 0, value: value).y
            canvas.fillRect(x: o.x, y: y, width: W, height: 1, value == 0 ? RGB(170, 170, 170) : ChartPalette.grid)
            canvas.fillRect(x: o.x - 5, y: y, width: 5, height: 1, ChartPalette.axis)
            canvas.text(
                String(format: "%.\(yTicks.decimals)f", value), x: o.x - 8, y: y + 4, size: 11, color: Palette.secondaryText,
                font: font, anchor: .right)
        }
        // X ticks at round labels (steps, distances), wherever they fall between the points.
        let lastLabel = xStart + (xCount - 1) * xUnit
        for label in Self.roundTicks(low: Double(xStart), high: Double(lastLabel), most: 11, minimumStep: 1).values {
            let px = o.x + Int(((label - Double(xStart)) / Double(lastLabel - xStart) * Double(W - 1)).rounded())
            canvas.fillRect(x: px, y: o.y, width: 1, height: H, px == o.x ? ChartPalette.axis : ChartPalette.grid)
            canvas.fillRect(x: px, y: o.y + H, width: 1, height: 5, ChartPalette.axis)
            canvas.text(
                "\(Int(label.rounded()))", x: px, y: o.y + H + 18, size: 11, color: Palette.secondaryText, font: font, anchor: .center)
        }
        canvas.strokeRect(x: o.x - 1, y: o.y - 1, width: W + 2, height: H + 2, ChartPalette.axis)
        canvas.text(xAxis, x: o.x + W / 2, y: o.y + H + 40, size: 12, color: Palette.text, font: bold, anchor: .center)
        canvas.verticalText(yAxis, x: m + 14, y: o.y + H / 2, size: 12, color: Palette.text, font: bold, anchor: .center)

        // The lines, two pixels thick, anti-aliased.
        for s in series {
            let present = s.values.indices.filter { !s.values[$0].isNaN }
            for (x0, x1) in zip(present, present.dropFirst()) {
                let a = point(x: x0, value: s.values[x0]), b = point(x: x1, value: s.values[x1])
                canvas.smoothLine(from: (Double(a.x), Double(a.y) + 0.5), to: (Double(b.x), Double(b.y) + 0.5), s.color, width: 2)
            }
            if s.markers {
                for x in present {
                    let p = point(x: x, value: s.values[x])
                    canvas.fillRect(x: p.x - 2, y: p.y - 2, width: 5, height: 5, s.color)
                }
            }
        }
        // Legend: a swatch and the name of each series, then notes.
        for (i, s) in series.enumerated() {
            let y = legendY + i * 20
            canvas.fillRect(x: o.x, y: y - 6, width: 24, height: 3, s.color)
            canvas.text(s.name, x: o.x + 32, y: y, size: 12, color: Palette.text, font: font)
        }
        for (i, note) in notes.enumerated() {
            canvas.text(note, x: m, y: legendY + series.count * 20 + i * 18 + 2, size: 12, color: Palette.secondaryText, font: font)
        }
        return canvas
    }
}

// MARK: - Composition

extension Canvas {
    /// Copies `other` onto this canvas with its top-left corner at (x, y), clipped.
    public mutating func draw(_ other: Canvas, x: Int, y: Int) {
        for row in 0..<other.height {
            for column in 0..<other.width {
                set(x + column, y + row, other.pixel(column, row))
            }
        }
    }
}
