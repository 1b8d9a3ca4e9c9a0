import Foundation
import Tensors
import Tracing

// Attention pictures: one head as a labelled heatmap, or every head of a layer as a grid of
// small maps sharing one colour bar. A pattern is `[H, N, K]` (`[head, query, key]`): row i
// holds how much query token i attends to each key token (each row sums to 1). Self-attention
// is square (K = N; a decoder's row i sees keys 0…i); cross-attention's rows are the tokens an
// encoder–decoder writes and its keys the source tokens it reads.
// Letters: H heads, N query tokens, K key tokens.

/// Which attention of a model a picture shows.
public enum AttentionPart: String, Sendable, CaseIterable {
    /// A decoder's or an encoder's own (for an encoder–decoder: its decoder's).
    case selfAttention = "self"
    /// An encoder–decoder's encoder reading the source.
    case encoder
    /// An encoder–decoder's decoder over what it has written (masked, as any decoder's).
    case decoder
    /// An encoder–decoder's decoder looking at the source while it writes.
    case cross
}

/// What an attention picture shows and where it came from.
public struct AttentionSource: Sendable {
    /// `[H, N, K]` attention weights of one layer.
    public var pattern: Tensor
    /// Every query token's display piece (spaces as ␣), N of them.
    public var pieces: [String]
    /// The key tokens' pieces when they are not the queries' (cross-attention: the source), K of them.
    public var keyPieces: [String]?
    public var part: AttentionPart = .selfAttention
    public var layer: Int
    /// The model's name or path, for the title.
    public var model: String
    public var prompt: String
    /// How many of the tokens are the prompt's (the rest were generated), when known.
    public var promptTokens: Int?
    /// Whether a query saw only the keys up to itself (decoders) or every key (encoders).
    public var causal: Bool

    public init(
        pattern: Tensor, pieces: [String], layer: Int, model: String, prompt: String, promptTokens: Int? = nil, causal: Bool = true
    ) {
        precondition(pattern.shape.count == 3 && pattern.shape[1] == pattern.shape[2], "self-attention must be [head, query, key], square")
        precondition(pieces.count == pattern.shape[1], "one piece per token")
        self.pattern = pattern
        self.pieces = pieces
        self.layer = layer
        self.model = model
        self.prompt = prompt
        self.promptTokens = promptTokens
        self.causal = causal
    }

    /// Cross-attention `[H, N, K]`: rows are the `written` tokens, keys the `source` tokens.
    public init(crossPattern pattern: Tensor, written: [String], source: [String], layer: Int, model: String, prompt: String) {
        precondition(
            pattern.shape.count == 3 && pattern.shape[1] == written.count && pattern.shape[2] == source.count,
            "cross-attention must be [head, written, source]")
        self.pattern = pattern
        self.pieces = written
        self.keyPieces = source
        self.part = .cross
        self.layer = layer
        self.model = model
        self.prompt = prompt
        self.causal = false
    }

    /// A local attention layer's sliding window (GPT-Neo): a query sees only the latest `window`
    /// positions, itself included; nil for a global layer.
    public var window: Int?

    /// Whether query `q` cannot see key `k`: a later key (causal), or one past the window.
    public func isMasked(query q: Int, key k: Int) -> Bool {
        (causal && k > q) || (window.map { k <= q - $0 } ?? false)
    }

    /// What the legend says about masked cells: the causal mask, or that there is none.
    var maskLegend: String {
        if part == .cross { return Self.crossNote }
        if let window, causal {
            return "masked: later tokens, and (a local layer) tokens more than \(window - 1) back: each sees only the latest \(window)"
        }
        return causal ? "masked: a token cannot look at later tokens (key after query)" : Self.noMaskNote
    }

    static let crossNote = "no mask: while writing each word the decoder may look at every source word"
    /// "Attention", "Encoder attention" or "Cross-attention", for titles.
    var kindTitle: String {
        switch part {
        case .selfAttention: "Attention"
        case .encoder: "Encoder self-attention"
        case .decoder: "Decoder self-attention"
        case .cross: "Cross-attention"
        }
    }

    static let noMaskNote = "no mask: an encoder's tokens look both ways, at every token"

    /// "17 tokens (5 prompt + 12 generated)", or "13 tokens"; cross-attention: "7 written, 9 source tokens".
    var tokenCount: String {
        if part == .cross { return "\(tokens) written, \(keys) source tokens" }
        guard let p = promptTokens, p < tokens else { return tokens == 1 ? "1 token" : "\(tokens) tokens" }
        return "\(tokens) tokens (\(p) prompt + \(tokens - p) generated)"
    }

    public var heads: Int { pattern.shape[0] }
    public var tokens: Int { pattern.shape[1] }
    public var keys: Int { pattern.shape[2] }
    var columnPieces: [String] { keyPieces ?? pieces }

    /// The `[N, K]` weights of `head`, row-major.
    public func weights(head h: Int) -> [Float] {
        let N = tokens, K = keys
        return Array(pattern.scalars[(h * N * K)..<((h + 1) * N * K)])
    }

    /// The mean over heads, as a one-head source (titled as such by `meanOfHeads`).
    public var meanOverHeads: AttentionSource {
        let H = heads, size = tokens * keys
        var mean = [Float](repeating: 0, count: size)
        for h in 0..<H { for i in 0..<size { mean[i] += pattern.scalars[h * size + i] / Float(H) } }
        var copy = self
        copy.pattern = Tensor(shape: [1, tokens, keys], scalars: mean)
        copy.meanOf = H
        return copy
    }

    /// Self-attention cut to the tokens `0...last` (queries and keys).
    func upTo(_ last: Int) -> AttentionSource {
        let H = heads, N = tokens, K = keys, n = last + 1
        var scalars: [Float] = []
        scalars.reserveCapacity(H * n * n)
        for h in 0..<H { for q in 0..<n { scalars += pattern.scalars[((h * N + q) * K)..<((h * N + q) * K + n)] } }
        var copy = self
        copy.pattern = Tensor(shape: [H, n, n], scalars: scalars)
        copy.pieces = Array(pieces.prefix(n))
        if let p = promptTokens { copy.promptTokens = min(p, n) }
        return copy
    }

    /// How many heads this one-head source averages (nil: a real head).
    public var meanOf: Int?

    /// How the pictures emphasise weights on their fixed 0…1 scale (linear unless asked).
    public var emphasis: AttentionEmphasis = .linear
    /// The colour scale every attention picture of this source uses.
    public var scale: ColorScale { .attention(emphasis) }
    /// `[H, N, K]` weights as drawn (each row divided by its largest under `.row` emphasis).
    public var drawnWeights: [Float] { emphasis.prepared(pattern.scalars, rowLength: keys) }

    /// The prompt shortened for a subtitle, in quotes.
    var promptExcerpt: String {
        let flat = prompt.replacingOccurrences(of: "\n", with: " ")
        return "“" + (flat.count > 70 ? String(flat.prefix(69)) + "…" : flat) + "”"
    }

    var modelName: String { URL(fileURLWithPath: model).lastPathComponent }
}

public enum AttentionPicture {
    /// The mean attention on the first token above which a head is called an attention sink.
    public static let sinkThreshold: Float = 0.5
    public static let sinkNote = "most attention is on the first token: an attention sink"

    /// One head: a heatmap with token labels, the causal mask, and the sink note when it applies.
    public static func head(_ source: AttentionSource, head h: Int) throws -> Canvas {
        try heatmap(source, head: h).render()
    }

    /// The heatmap of one head, before rendering (tests read its layout).
    public static func heatmap(_ source: AttentionSource, head h: Int) throws -> Heatmap {
        precondition((0..<source.heads).contains(h), "head \(h) out of range")
        let N = source.tokens
        let weights = source.emphasis.prepared(source.weights(head: h), rowLength: source.keys)
        let headName = source.meanOf.map { "mean of \($0) heads" } ?? "head \(h)"
        var map = Heatmap(
            values: weights, rows: N, cols: source.keys, rowLabels: source.pieces, columnLabels: source.columnPieces,
            title: "\(source.kindTitle) · layer \(source.layer), \(headName) · \(source.modelName)",
            subtitle: source.part == .cross
                ? "\(source.promptExcerpt) — each row: a word being written, and where in the source it looked (sums to 1)"
                : "\(source.promptExcerpt) — \(source.tokenCount); each row shows where that token looks (sums to 1)",
            scale: source.scale)
        map.colorBarTitle = source.emphasis.barTitle
        if source.part == .cross {
            map.rowAxis = "word being written ↓"
            map.columnAxis = "source word →"
            map.notes.append(AttentionSource.crossNote)
            return map
        }
        map.causalMask = source.causal
        map.window = source.window
        if source.window != nil { map.maskLegend = source.maskLegend }
        if !source.causal { map.notes.append(AttentionSource.noMaskNote) }
        let sink = AttentionMetrics.firstToken(source.pattern, head: h)
        if N > 1 && sink > sinkThreshold {
            map.notes.append(sinkNote + String(format: " (%.0f%% on average)", sink * 100))
        }
        return map
    }

    /// Every head of the layer as small maps in a grid, with one colour bar for all of them.
    public static func layer(_ source: AttentionSource) throws -> Canvas {
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let H = source.heads, N = source.tokens, K = source.keys
        let scale = source.scale, drawn = source.drawnWeights
        // Maps are about 180 px a side at any length: whole-pixel cells up to 90 tokens, then
        // each pixel covers several tokens and shows their largest weight (as the overview does).
        let pooled = max(N, K) > 90
        let cell = pooled ? 1 : max(2, min(24, 180 / max(N, K, 1)))
        let side = pooled ? 180 : K * cell, sideDown = pooled ? max(1, 180 * N / max(N, K)) : N * cell
        let pixelsPerToken = Double(side) / Double(max(K, 1))
        let columns = H <= 4 ? H : H <= 9 ? 3 : 4
        let gridRows = (H + columns - 1) / columns
        let m = Heatmap.margin, gap = 22
        // Above each map: the head's name, the sink caption, and a band of key positions;
        // left of it a column of query positions (the numbers of the "tokens:" line).
        let panelTitle = 36 + 14
        let numberWidth = font.width("\(N - 1)", size: 11) + 5
        let step = [1, 2, 5, 10, 20, 50, 100, 200].first { Double($0) * pixelsPerToken >= Double(max(14, numberWidth)) } ?? 500
        // Wide enough for the sink caption under the head's name.
        let panelWidth = numberWidth + max(side, font.width("sink: 100% on first token", size: 11) + 4)

        var lines: [(String, Font, Int, RGB)] = [
            ("\(source.kindTitle) · layer \(source.layer), all \(H) heads · \(source.modelName)", bold, 16, Palette.text),
            ("\(source.promptExcerpt) — \(source.tokenCount)", font, 12, Palette.secondaryText),
            (
                source.part == .cross
                    ? "In each map: rows = word being written ↓, columns = source word →; numbers are positions"
                    : "In each map: rows = query token ↓, columns = key token →; numbers are token positions", font, 12, Palette.text
            )
        ]
        if source.part == .cross {
            lines.append(
                contentsOf: tokenLines(source.columnPieces, maxWidth: 760, font: font, heading: "source:").map {
                    ($0, font, 12, Palette.secondaryText)
                })
            lines.append(
                contentsOf: tokenLines(source.pieces, maxWidth: 760, font: font, heading: "written:").map {
                    ($0, font, 12, Palette.secondaryText)
                })
        } else {
            lines.append(contentsOf: tokenLines(source.pieces, maxWidth: 760, font: font).map { ($0, font, 12, Palette.secondaryText) })
        }
        let headerHeight = m + lines.count * 20 + 10
        let gridWidth = columns * panelWidth + (columns - 1) * gap
        let gridHeight = gridRows * (sideDown + panelTitle) + (gridRows - 1) * gap
        let barX = m + gridWidth + 30
        let barHeight = max(150, min(gridHeight - panelTitle, 300))
        let legendY = headerHeight + max(gridHeight, barHeight + panelTitle) + 24
        let widestLine: Int = lines.map { line in line.1.width(line.0, size: line.2) }.max() ?? 0
        let legendWidth: Int = 20 + font.width(source.maskLegend, size: 12)
        let barTitleWidth = bold.width(source.emphasis.barTitle, size: 12)
        let width = max(barX + max(80, barTitleWidth) + m, 2 * m + 8 + max(widestLine, legendWidth))
        var canvas = Canvas(width: width, height: legendY + 20 + m, background: Palette.background)

        var y = m
        for (text, face, size, color) in lines {
            y += 20
            canvas.text(text, x: m, y: y - 4, size: size, color: color, font: face)
        }

        for h in 0..<H {
            let px = m + (h % columns) * (panelWidth + gap)
            let py = headerHeight + (h / columns) * (sideDown + panelTitle + gap)
            let sink = source.part == .cross ? 0 : AttentionMetrics.firstToken(source.pattern, head: h)
            canvas.text("head \(h)", x: px + numberWidth, y: py + 14, size: 13, color: Palette.text, font: bold)
            let caption = N > 1 && sink > sinkThreshold ? String(format: "sink: %.0f%% on first token", sink * 100) : ""
            canvas.text(caption, x: px + numberWidth, y: py + 29, size: 11, color: Palette.note, font: font)
            let gx = px + numberWidth, gy = py + panelTitle
            // Position numbers at the middle of their token's pixels.
            func middle(_ position: Int, tokens: Int, side: Int) -> Int {
                let span = OverviewPicture.pixelSpan(position, tokens: tokens, side: side)
                return (span.lowerBound + span.upperBound) / 2
            }
            for position in stride(from: 0, to: N, by: step) {
                canvas.text(
                    "\(position)", x: gx - 4, y: gy + middle(position, tokens: N, side: sideDown) + 4, size: 11,
                    color: Palette.secondaryText, font: font, anchor: .right)
            }
            for position in stride(from: 0, to: K, by: step) {
                canvas.text(
                    "\(position)", x: gx + middle(position, tokens: K, side: side), y: gy - 4, size: 11, color: Palette.secondaryText,
                    font: font, anchor: .center)
            }
            if pooled {
                // A pixel covers a block of queries × keys: its largest visible weight, or the mask
                // when every cell of the block is masked.
                for py in 0..<sideDown {
                    let queries = OverviewPicture.tokenSpan(py, tokens: N, side: sideDown)
                    for px in 0..<side {
                        var strongest: Float = -1
                        for q in queries {
                            for k in OverviewPicture.tokenSpan(px, tokens: K, side: side) where !source.isMasked(query: q, key: k) {
                                strongest = max(strongest, drawn[(h * N + q) * K + k])
                            }
                        }
                        if strongest < 0 {
                            canvas.set(gx + px, gy + py, (gx + px + gy + py) % 6 == 0 ? Palette.maskHatch : Palette.maskFill)
                        } else {
                            canvas.set(gx + px, gy + py, scale.color(strongest))
                        }
                    }
                }
            } else {
                for q in 0..<N {
                    for k in 0..<K {
                        if source.isMasked(query: q, key: k) {
                            canvas.maskedCell(x: gx + k * cell, y: gy + q * cell, width: cell, height: cell)
                        } else {
                            canvas.fillRect(
                                x: gx + k * cell, y: gy + q * cell, width: cell, height: cell,
                                scale.color(drawn[(h * N + q) * K + k]))
                        }
                    }
                }
            }
            canvas.strokeRect(x: gx - 1, y: gy - 1, width: side + 2, height: sideDown + 2, Palette.frame)
        }
        canvas.colorBar(
            scale, x: barX, y: headerHeight + panelTitle, height: barHeight, title: source.emphasis.barTitle, font: font, bold: bold)
        if source.causal {
            canvas.maskedCell(x: m, y: legendY - 12, width: 14, height: 14)
            canvas.strokeRect(x: m, y: legendY - 12, width: 14, height: 14, Palette.frame)
        }
        canvas.text(source.maskLegend, x: source.causal ? m + 20 : m, y: legendY, size: 12, color: Palette.secondaryText, font: font)
        return canvas
    }

    /// "tokens: 0 Once  1 ␣upon …", every token, wrapped to lines of at most `maxWidth` pixels.
    static func tokenLines(_ pieces: [String], maxWidth: Int, font: Font, heading: String = "tokens:") -> [String] {
        numberedKey(pieces, heading: heading, maxWidth: maxWidth, size: 12, font: font)
    }
}
