import Foundation
import Generation

// Pictures of one sampling step (a `SamplingStep`): the next-token distribution as labelled bars,
// and the sampling funnel — after temperature, after top-k, after top-p (renormalised) — with cut
// candidates grey, the random draw marked on the cumulative scale and the chosen token orange.

/// One recorded step with what is needed to label it.
public struct ProbabilitySource: Sendable {
    public var step: SamplingStep
    /// 0 is the first generated token (shown as step 1, as everywhere).
    public var index: Int
    /// The step's number as people count: 1 is the first generated token.
    public var number: Int { index + 1 }
    /// Display piece (spaces as ␣) of a token id.
    public var pieces: [Int: String]
    public var model: String
    /// The text before this step (prompt plus what was generated before it).
    public var context: String
    public var vocabularySize: Int?

    public init(
        step: SamplingStep, index: Int, pieces: [Int: String], model: String, context: String,
        vocabularySize: Int? = nil
    ) {
        self.step = step; self.index = index; self.pieces = pieces; self.model = model
        self.context = context; self.vocabularySize = vocabularySize
    }

    public func piece(_ id: Int) -> String { pieces[id] ?? "#\(id)" }

    var modelName: String { URL(fileURLWithPath: model).lastPathComponent }

    /// The text before the step, shortened from the left for a subtitle, in quotes.
    var contextExcerpt: String {
        let flat = context.replacingOccurrences(of: "\n", with: " ")
        return "“" + (flat.count > 60 ? "…" + String(flat.suffix(59)) : flat) + "”"
    }

    var settingsLine: String {
        let s = step.settings
        if s.isGreedy { return "greedy (temperature 0): the most likely token is always taken" }
        return "temperature \(format(s.temperature)) · top-k \(s.topK == 0 ? "off" : String(s.topK)) · top-p "
            + "\(s.topP >= 1 ? "off" : format(s.topP)) · seed \(s.seed)"
    }
}

/// Three decimals; a probability too small to show there reads "<0.001", never "0.000".
public func probabilityText(_ p: Float) -> String {
    p > 0 && p < 0.0005 ? "<0.001" : String(format: "%.3f", p)
}

func format(_ value: Float) -> String {
    value == value.rounded() ? String(format: "%.1f", value) : String(format: "%g", value)
}

public enum ProbabilityPicture {
    /// Pixels for the token column of the bars.
    static func labelWidth(_ labels: [String], font: Font, bold: Font) -> Int {
        min(170, max(60, (labels.map { bold.width("▶ " + $0, size: BarPanel.labelSize) }.max() ?? 0) + 4))
    }

    /// The model's own next-token distribution (softmax at temperature 1) over the `top` most
    /// likely tokens, as a bar chart with the probability printed at each bar's end.
    public static func distribution(_ source: ProbabilitySource, top: Int) throws -> BarChart {
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let step = source.step
        let candidates = Array(step.topLogits.prefix(top))
        let maxValue = BarPanel.niceMaximum(candidates.map(\.probability).max() ?? 1)
        let rows = listed(step.topLogits, top: top, step: step).map { c, rank in
            BarRow(
                label: source.piece(c.id) + (rank >= top ? " (rank \(rank + 1))" : ""), value: c.probability.isFinite ? c.probability : 0,
                color: c.id == step.chosen ? ChartPalette.chosen : ChartPalette.bar,
                valueText: c.probability.isFinite ? probabilityText(c.probability) : "not listed", highlighted: c.id == step.chosen)
        }
        let panel = BarPanel(
            rows: rows, maxValue: maxValue, axisName: "probability of being the next token (0 to 1)",
            labelWidth: labelWidth(rows.map(\.label), font: font, bold: bold), plotWidth: 400)
        let shown = candidates.reduce(Float(0)) { $0 + $1.probability }
        let others = source.vocabularySize.map { "the other \($0 - candidates.count) of \($0) tokens" } ?? "the other tokens"
        var notes = [
            String(
                format: "These %d tokens hold %.1f%% of the probability; %@ share the remaining %.1f%%.",
                candidates.count, shown * 100, others, max(0, 1 - shown) * 100)
        ]
        let chosen = source.piece(step.chosen)
        if candidates.contains(where: { $0.id == step.chosen }) {
            notes.append("▶ orange: the token taken at this step, \(chosen) (rank \(step.chosenRank)).")
        } else {
            notes.append("▶ orange, below the others: the token taken at this step, \(chosen) (rank \(step.chosenRank)).")
        }
        return BarChart(
            title: "Next-token probabilities · step \(source.number) · \(source.modelName)",
            subtitles: [
                "After \(source.contextExcerpt): the model's softmax (temperature 1), top \(candidates.count) tokens; ␣ is a space"
            ],
            panel: panel, notes: notes)
    }

    /// The candidates a picture lists: the `top` most likely in `ranked`, and the chosen token
    /// after them when it ranks lower (its probability is unknown, NaN, when it ranks past the
    /// `SamplingStep.listed` the step keeps). Each with its 0-based rank.
    static func listed(_ ranked: [Candidate], top: Int, step: SamplingStep) -> [(candidate: Candidate, rank: Int)] {
        var rows = ranked.prefix(top).enumerated().map { ($1, $0) }
        if !rows.contains(where: { $0.0.id == step.chosen }) {
            let known = ranked.firstIndex { $0.id == step.chosen }
            rows.append(
                (known.map { ranked[$0] } ?? Candidate(id: step.chosen, logit: .nan, probability: .nan), known ?? step.chosenRank - 1))
        }
        return rows.map { (candidate: $0.0, rank: $0.1) }
    }

    /// The three panels of the funnel over the same candidates (the `top` most likely after
    /// temperature, and the chosen token below them when it ranks lower).
    public static func funnelPanels(_ source: ProbabilitySource, top: Int, labelWidth: Int) -> [BarPanel] {
        let step = source.step
        let s = step.settings
        let candidates = listed(step.afterTemperature, top: top, step: step)
        let renormalised = Dictionary(uniqueKeysWithValues: step.renormalised.map { ($0.id, $0.probability) })
        let maxValue = BarPanel.niceMaximum(
            max(
                candidates.map(\.candidate.probability).filter(\.isFinite).max() ?? 0,
                step.renormalised.map(\.probability).max() ?? 0))
        func row(_ c: Candidate, rank: Int, value: Float, kept: Bool) -> BarRow {
            let chosen = c.id == step.chosen
            let label = source.piece(c.id) + (rank >= top ? " (rank \(rank + 1))" : "")
            return BarRow(
                label: label, value: value.isFinite ? value : 0,
                color: !kept ? ChartPalette.cut : chosen ? ChartPalette.chosen : ChartPalette.bar,
                valueText: !kept ? "cut" : value.isFinite ? probabilityText(value) : "not listed", highlighted: chosen)
        }
        let axis = "probability"
        let kept2 = "\(step.countAfterTopK) candidate\(step.countAfterTopK == 1 ? "" : "s") kept"
        let headings: [(String, String)]
        if s.isGreedy {
            headings = [
                ("1 · the model's softmax", "greedy: no temperature is applied"),
                ("2 · greedy keeps only the top token", kept2),
                ("3 · renormalised", "the top token gets probability 1")
            ]
        } else {
            headings = [
                ("1 · after temperature \(format(s.temperature))", "softmax(logits ÷ \(format(s.temperature)))"),
                ("2 · after top-k (\(s.topK == 0 ? "off" : String(s.topK)))", kept2),
                (
                    "3 · after top-p (\(s.topP >= 1 ? "off" : format(s.topP))), renormalised",
                    "\(step.countAfterTopP) kept, rescaled to sum to 1"
                )
            ]
        }
        // A forced token may sit anywhere; it is kept in every panel (the learner chose it).
        func survives(_ c: Candidate, rank: Int) -> Bool { step.forced && c.id == step.chosen || rank < step.countAfterTopK }
        let first = BarPanel(
            heading: headings[0].0, headingDetail: headings[0].1,
            rows: candidates.map { row($0.candidate, rank: $0.rank, value: $0.candidate.probability, kept: true) },
            maxValue: maxValue, axisName: axis, labelWidth: labelWidth, plotWidth: 260)
        let second = BarPanel(
            heading: headings[1].0, headingDetail: headings[1].1,
            rows: candidates.map {
                row($0.candidate, rank: $0.rank, value: $0.candidate.probability, kept: survives($0.candidate, rank: $0.rank))
            },
            maxValue: maxValue, axisName: axis, labelWidth: labelWidth, plotWidth: 260)
        let third = BarPanel(
            heading: headings[2].0, headingDetail: headings[2].1,
            rows: candidates.map { c, rank in
                if let p = renormalised[c.id] { return row(c, rank: rank, value: p, kept: true) }
                if c.id == step.chosen && !step.forced { return row(c, rank: rank, value: step.chosenProbability, kept: true) }
                return row(c, rank: rank, value: c.probability, kept: false)
            },
            maxValue: maxValue, axisName: axis, labelWidth: labelWidth, plotWidth: 260)
        return [first, second, third]
    }

    /// Where the funnel's pieces go.
    public struct FunnelLayout: Sendable {
        public var width: Int, height: Int
        public var panelX: [Int]
        public var panelY: Int
        /// The cumulative strip: left edge, top, width, height.
        public var stripX: Int, stripY: Int, stripWidth: Int, stripHeight: Int
        public var notesY: Int
    }

    static let panelGap = 24, stripWidth = 640, stripHeight = 26

    static func funnelTitle(_ source: ProbabilitySource) -> [String] {
        [
            "Sampling funnel · step \(source.number) · \(source.modelName)",
            "After \(source.contextExcerpt) — \(source.settingsLine)",
            "Left to right: the filters in the order they apply; grey bars were cut; ▶ orange is the chosen token; ␣ is a space"
        ]
    }

    public static func funnelLayout(_ source: ProbabilitySource, panels: [BarPanel], notes: Int) throws -> FunnelLayout {
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let m = BarChart.margin
        let lines = funnelTitle(source)
        let panelY = m + 22 + (lines.count - 1) * 18 + 16
        var xs: [Int] = [], x = m
        for panel in panels { xs.append(x); x += panel.width + panelGap }
        let panelsWidth = x - panelGap - m
        let stripY = panelY + (panels.map(\.height).max() ?? 0) + 46
        let notesY = stripY + stripHeight + 62
        let textWidth = ([bold.width(lines[0], size: 16)] + lines.dropFirst().map { font.width($0, size: 12) }).max() ?? 0
        let width = max(panelsWidth, stripWidth + 40, textWidth) + 2 * m
        return FunnelLayout(
            width: width, height: notesY + notes * 18 + m, panelX: xs, panelY: panelY,
            stripX: m + 20, stripY: stripY, stripWidth: stripWidth, stripHeight: stripHeight, notesY: notesY)
    }

    /// Pixels for the token column of the funnel's panels.
    public static func funnelLabelWidth(_ source: ProbabilitySource, top: Int) throws -> Int {
        labelWidth(
            listed(source.step.afterTemperature, top: top, step: source.step).map {
                source.piece($0.candidate.id) + ($0.rank >= top ? " (rank \($0.rank + 1))" : "")
            }, font: try Font.shared(), bold: try Font.shared(.bold))
    }

    /// The funnel as one picture.
    public static func funnel(_ source: ProbabilitySource, top: Int) throws -> Canvas {
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let step = source.step
        let labels = step.afterTemperature.prefix(top).map { source.piece($0.id) }
        let panels = funnelPanels(source, top: top, labelWidth: try funnelLabelWidth(source, top: top))
        let chosen = source.piece(step.chosen)
        var notes: [String] = []
        if let draw = step.randomDraw {
            notes.append(
                String(
                    format: "The random draw %.4f falls in the segment of %@ (p %@ after renormalising, rank %d by logit).",
                    draw, chosen, probabilityText(step.chosenProbability), step.chosenRank))
        } else if step.forced {
            notes.append("This token was chosen by the learner, not sampled: \(chosen).")
        } else {
            notes.append(
                String(
                    format: "Greedy: no random draw; %@ is taken (%.2f logits ahead of the runner-up).",
                    chosen, step.marginToRunnerUp ?? 0))
        }
        if !step.afterTemperature.prefix(top).contains(where: { $0.id == step.chosen }) {
            notes.append("The chosen token \(chosen) ranks \(step.chosenRank): it is listed below the \(labels.count) most likely.")
        }
        let l = try funnelLayout(source, panels: panels, notes: notes.count)
        var canvas = Canvas(width: l.width, height: l.height, background: Palette.background)
        let m = BarChart.margin
        let lines = funnelTitle(source)
        canvas.text(lines[0], x: m, y: m + 16, size: 16, color: Palette.text, font: bold)
        for (i, line) in lines.dropFirst().enumerated() {
            canvas.text(line, x: m, y: m + 22 + (i + 1) * 18 - 2, size: 12, color: Palette.secondaryText, font: font)
        }
        for (panel, x) in zip(panels, l.panelX) {
            panel.draw(into: &canvas, x: x, y: l.panelY, font: font, bold: bold)
        }
        drawCumulativeStrip(&canvas, source, layout: l, font: font, bold: bold)
        for (i, note) in notes.enumerated() {
            canvas.text(note, x: m, y: l.notesY + i * 18, size: 12, color: Palette.text, font: font)
        }
        return canvas
    }

    /// The renormalised survivors laid end to end on 0…1, most likely first; the draw is a
    /// black marker, and the segment it lands in (the chosen token) is orange.
    static func drawCumulativeStrip(
        _ canvas: inout Canvas, _ source: ProbabilitySource, layout l: FunnelLayout,
        font: Font, bold: Font
    ) {
        let step = source.step
        let x0 = l.stripX, y0 = l.stripY, W = l.stripWidth, H = l.stripHeight
        canvas.text(
            "4 · the draw: survivors end to end on the cumulative scale, most likely first",
            x: x0 - 12, y: y0 - 30, size: 13, color: Palette.text, font: bold)
        func px(_ value: Float) -> Int { x0 + Int((min(max(value, 0), 1) * Float(W)).rounded()) }
        canvas.fillRect(x: x0, y: y0, width: W, height: H, ChartPalette.cut)  // the tail beyond the listed survivors
        var cumulative: Float = 0
        let shades = [ChartPalette.bar, RGB(120, 160, 225)]
        for (i, candidate) in step.renormalised.enumerated() {
            let start = px(cumulative), end = px(cumulative + candidate.probability)
            cumulative += candidate.probability
            let color = candidate.id == step.chosen ? ChartPalette.chosen : shades[i % 2]
            canvas.fillRect(x: start, y: y0, width: max(1, end - start), height: H, color)
            // The chosen segment is marked ▶ in bold, so a one-character piece (",") still shows.
            let chosen = candidate.id == step.chosen
            let piece = (chosen ? "▶ " : "") + source.piece(candidate.id), face = chosen ? bold : font
            if face.width(piece, size: chosen ? 13 : 11) + 6 <= end - start {
                canvas.text(
                    piece, x: (start + end) / 2, y: y0 + H / 2 + 4, size: chosen ? 13 : 11,
                    color: color.isLight ? RGB(0, 0, 0) : RGB(255, 255, 255), font: face, anchor: .center)
            }
        }
        // The grey tail: survivors past the listed ones (kept, not cut), named when it has room.
        let unlisted = step.countAfterTopP - step.renormalised.count, tailStart = px(cumulative)
        let tailText = "\(unlisted) more kept tokens, not listed"
        if unlisted > 0, font.width(tailText, size: 11) + 8 <= x0 + W - tailStart {
            canvas.text(
                tailText, x: (tailStart + x0 + W) / 2, y: y0 + H / 2 + 4, size: 11, color: Palette.text, font: font, anchor: .center)
        }
        canvas.strokeRect(x: x0 - 1, y: y0 - 1, width: W + 2, height: H + 2, Palette.frame)
        for i in 0...4 {
            let value = Float(i) / 4, tx = px(value) - (i == 4 ? 1 : 0)
            canvas.fillRect(x: tx, y: y0 + H, width: 1, height: 5, ChartPalette.axis)
            canvas.text(
                String(format: "%.2f", value), x: tx, y: y0 + H + 18, size: 11, color: Palette.secondaryText,
                font: font, anchor: .center)
        }
        canvas.text(
            "cumulative probability of the kept tokens (0 to 1)", x: x0 + W / 2, y: y0 + H + 36, size: 12,
            color: Palette.text, font: bold, anchor: .center)
        if let draw = step.randomDraw {
            let dx = px(draw)
            canvas.fillRect(x: dx - 1, y: y0 - 8, width: 3, height: H + 16, RGB(0, 0, 0))
            let label = String(format: "random draw %.3f", draw)
            let anchor: TextAnchor = dx > x0 + W - 80 ? .right : dx < x0 + 80 ? .left : .center
            canvas.text(label, x: dx, y: y0 - 10, size: 12, color: RGB(0, 0, 0), font: bold, anchor: anchor)
        } else {
            canvas.text("greedy: no draw", x: x0 + W, y: y0 - 10, size: 12, color: Palette.secondaryText, font: font, anchor: .right)
        }
    }
}
