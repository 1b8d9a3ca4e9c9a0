import Foundation
import Tensors
import Tracing

// The whole-model attention overview: one small map per (layer, head) in a grid, rows = layers,
// columns = heads, one colour bar for all of them. Maps are filled pixel by pixel in one pass
// (no text inside the grid), so GPT-2 small (12 × 12 heads, 64 tokens) draws in milliseconds.
// Letters: L layers, H heads, N tokens.

public enum OverviewPicture {
    /// Where everything sits, in pixels (tests read it to find a cell).
    public struct Layout: Sendable, Equatable {
        public var width: Int, height: Int
        /// A map's side in pixels (the same at any length), and whole pixels per token (0 when a
        /// pixel covers several tokens).
        public var cell: Int, side: Int
        /// Tokens per map side.
        public var tokens: Int
        /// The top-left corner of the first map and the distance between maps.
        public var gridX: Int, gridY: Int
        public var pitchX: Int, pitchY: Int
        public var barX: Int, barY: Int, barHeight: Int
        public var legendY: Int

        /// The rectangle of token cell (query, key) in the map of grid row `row` (a layer) and `head`.
        public func cellRect(row: Int, head: Int, query: Int, key: Int) -> (x: Int, y: Int, width: Int, height: Int) {
            let x = OverviewPicture.pixelSpan(key, tokens: tokens, side: side),
                y = OverviewPicture.pixelSpan(query, tokens: tokens, side: side)
            return (gridX + head * pitchX + x.lowerBound, gridY + row * pitchY + y.lowerBound, x.count, y.count)
        }
    }

    static let labelSize = 12
    /// Every map is this many pixels a side: token cells grow to fill it up to 96 tokens; beyond,
    /// each pixel shows the largest weight among the tokens it covers (so a sparse diagonal
    /// stays visible instead of the map growing to thousands of pixels).
    public static let mapSide = 96

    /// The pixels of token `index` along a side of `side` pixels covering `tokens` tokens.
    static func pixelSpan(_ index: Int, tokens: Int, side: Int) -> Range<Int> {
        (index * side / tokens)..<max(index * side / tokens + 1, (index + 1) * side / tokens)
    }

    /// The tokens pixel `p` covers along a side of `side` pixels covering `tokens` tokens.
    static func tokenSpan(_ p: Int, tokens: Int, side: Int) -> Range<Int> {
        (p * tokens / side)..<max(p * tokens / side + 1, (p + 1) * tokens / side)
    }

    /// The layout for `layers` pictures of `heads` heads over `tokens` tokens.
    public static func layout(layers: Int, heads: Int, tokens: Int, titleWidth: Int = 0) throws -> Layout {
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let N = max(tokens, 1)
        let side = mapSide, cell = side / N
        let m = Heatmap.margin, gap = 8
        let rowLabelWidth = bold.width("layer \(max(layers - 1, 0))", size: labelSize) + 10
        let headLabelWidth = bold.width("head \(max(heads - 1, 0))", size: labelSize) + 4
        let pitchX = max(side, headLabelWidth) + gap
        let pitchY = side + gap
        let headerHeight = m + 3 * 20 + 10
        let gridX = m + rowLabelWidth, gridY = headerHeight + 20
        let gridWidth = heads * pitchX - gap, gridHeight = layers * pitchY - gap
        let barX = gridX + gridWidth + 30
        let barHeight = max(120, min(gridHeight, 360))
        let legendY = gridY + max(gridHeight, barHeight) + 28
        let legendWidth = 20 + font.width("masked: a token cannot look at later tokens (key after query)", size: 12)
        let width = max(barX + 140 + m, 2 * m + max(titleWidth, legendWidth))
        return Layout(
            width: width, height: legendY + 12 + m, cell: cell, side: side, tokens: N, gridX: gridX, gridY: gridY,
            pitchX: pitchX, pitchY: pitchY, barX: barX, barY: gridY, barHeight: barHeight, legendY: legendY)
    }

    /// Every head of every layer in `layers` (one `AttentionSource` per layer, same tokens) in one picture.
    public static func render(_ layers: [AttentionSource]) throws -> Canvas {
        precondition(!layers.isEmpty, "an overview needs at least one layer")
        let font = try Font.shared(), bold = try Font.shared(.bold)
        let first = layers[0]
        // Cross-attention maps are N written rows by K source columns; self-attention's are square.
        let H = layers.map(\.heads).max() ?? 1, N = first.tokens, K = first.keys
        precondition(layers.allSatisfy { $0.tokens == N && $0.keys == K }, "every layer must have the same tokens")
        let lines: [(String, Font, Int, RGB)] = [
            (
                "\(first.kindTitle) overview · \(layers.count) layer\(layers.count == 1 ? "" : "s") × \(H) heads · \(first.modelName)",
                bold, 16,
                Palette.text
            ),
            ("\(first.promptExcerpt) — \(first.tokenCount)", font, 12, Palette.secondaryText),
            (
                first.part == .cross
                    ? "Each map: rows = word being written ↓, columns = source word → (word 0 at the top left); one colour scale for all maps"
                        + (max(N, K) > mapSide ? "; a pixel: the largest weight of the tokens it covers" : "")
                    : "Each map: rows = query token ↓, columns = key token → (token 0 at the top left); one colour scale for all maps"
                        + (max(N, K) > mapSide ? "; a pixel: the largest weight of the tokens it covers" : ""),
                font, 12, Palette.text
            )
        ]
        let titleWidth = lines.map { $0.1.width($0.0, size: $0.2) }.max() ?? 0
        let l = try layout(layers: layers.count, heads: H, tokens: max(N, K), titleWidth: titleWidth)
        var canvas = Canvas(width: l.width, height: l.height, background: Palette.background)
        let m = Heatmap.margin
        var y = m
        for (text, face, size, color) in lines {
            y += 20
            canvas.text(text, x: m, y: y - 4, size: size, color: color, font: face)
        }
        let emphasis = layers.first?.emphasis ?? .linear
        let scale = ColorScale.attention(emphasis)

        // Labels: "head H" above each column, "layer L" left of each row.
        for h in 0..<H {
            canvas.text(
                "head \(h)", x: l.gridX + h * l.pitchX + l.side / 2, y: l.gridY - 6, size: labelSize,
                color: Palette.text, font: bold, anchor: .center)
        }
        let ascent = font.lineMetrics(size: labelSize).ascent
        for (row, source) in layers.enumerated() {
            canvas.text(
                "layer \(source.layer)", x: l.gridX - 8, y: l.gridY + row * l.pitchY + l.side / 2 + ascent / 2,
                size: labelSize, color: Palette.text, font: bold, anchor: .right)
        }

        // The maps: one pass over every pixel of every map, straight into the pixel buffer. A pixel
        // covers a block of queries × keys (one token, or several on long inputs): it shows the
        // block's largest visible weight, or the mask when every cell of the block is masked.
        let table = ColormapTables.viridis
        let width = canvas.width, side = l.side
        let maskFill = Palette.maskFill, hatch = Palette.maskHatch, causal = layers.first?.causal ?? true
        let rowSpans = (0..<side).map { tokenSpan($0, tokens: N, side: side) }
        let columnSpans = (0..<side).map { tokenSpan($0, tokens: K, side: side) }
        canvas.pixels.withUnsafeMutableBufferPointer { pixels in
            for (row, source) in layers.enumerated() {
                source.drawnWeights.withUnsafeBufferPointer { weights in
                    for h in 0..<source.heads {
                        let x0 = l.gridX + h * l.pitchX, y0 = l.gridY + row * l.pitchY
                        for py in 0..<side {
                            let queries = rowSpans[py]
                            var offset = ((y0 + py) * width + x0) * 4
                            for px in 0..<side {
                                let keys = columnSpans[px]
                                var strongest: Float = -1
                                for q in queries {
                                    let base = (h * N + q) * K
                                    for k in keys where !source.isMasked(query: q, key: k) { strongest = max(strongest, weights[base + k]) }
                                }
                                let c: (UInt8, UInt8, UInt8)
                                if strongest < 0 {
                                    let mask = (x0 + px + y0 + py) % 6 == 0 ? hatch : maskFill
                                    c = (mask.r, mask.g, mask.b)
                                } else {
                                    c = table[index(scale.fraction(strongest), high: 1)]
                                }
                                pixels[offset] = c.0; pixels[offset + 1] = c.1; pixels[offset + 2] = c.2
                                offset += 4
                            }
                        }
                    }
                }
            }
        }
        for row in 0..<layers.count {
            for h in 0..<layers[row].heads {
                canvas.strokeRect(
                    x: l.gridX + h * l.pitchX - 1, y: l.gridY + row * l.pitchY - 1, width: l.side + 2,
                    height: l.side + 2, Palette.frame)
            }
        }
        canvas.colorBar(scale, x: l.barX, y: l.barY, height: l.barHeight, title: emphasis.barTitle, font: font, bold: bold)
        if causal {
            canvas.maskedCell(x: m, y: l.legendY - 12, width: 14, height: 14)
            canvas.strokeRect(x: m, y: l.legendY - 12, width: 14, height: 14, Palette.frame)
        }
        canvas.text(
            layers.first?.maskLegend ?? "", x: causal ? m + 20 : m, y: l.legendY, size: 12, color: Palette.secondaryText, font: font)
        return canvas
    }

    /// The viridis table index of `value` on 0…high, as `Colormap.color` computes it.
    @inline(__always)
    static func index(_ value: Float, high: Float) -> Int {
        var t = high > 0 ? value / high : 0.5
        if !t.isFinite { t = value.isNaN ? 0 : (value > 0 ? 1 : 0) }
        return Int((min(max(t, 0), 1) * 255).rounded())
    }
}

extension OverviewPicture {
    /// For `lantern bench`: seconds to draw the whole-model attention overview of seeded random causal patterns
    /// (`layers` × `[heads, tokens, tokens]`, each row a softmax) and encode it as PNG, best of 3.
    public static func renderSeconds(layers: Int, heads: Int, tokens N: Int) throws -> Double {
        var random = SplitMix64(seed: 11)
        let sources = (0..<layers).map { layer -> AttentionSource in
            var weights = [Float](repeating: 0, count: heads * N * N)
            for h in 0..<heads {
                for q in 0..<N {
                    var sum: Float = 0
                    for k in 0...q {
                        let w = Float(exp(Double(random.next() % 1000) / 250))
                        weights[(h * N + q) * N + k] = w
                        sum += w
                    }
                    for k in 0...q { weights[(h * N + q) * N + k] /= sum }
                }
            }
            return AttentionSource(
                pattern: Tensor(shape: [heads, N, N], scalars: weights), pieces: (0..<N).map { "t\($0)" },
                layer: layer, model: "bench", prompt: "random patterns")
        }
        var best = Double.infinity
        for _ in 0..<3 {
            let start = Date()
            let data = try PNGWriter.encode(try render(sources))
            best = min(best, Date().timeIntervalSince(start))
            withExtendedLifetime(data) {}
        }
        return best
    }
}
