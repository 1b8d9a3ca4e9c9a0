import Transformer

/// What a trace keeps, as the user names it with `--capture`, and its memory estimate.
///
/// The default is what a learner looks at first: every layer's attention pattern (and an
/// encoder–decoder's cross-attention pattern) and the token (and position) embeddings; the
/// sampling funnel is always kept. `--capture` adds or
/// removes record kinds: `resid_post` or `+resid_post` adds, `-pos_embed` removes, `all` takes
/// everything, `none` starts from nothing. Names are those of `RecordKind` (`attn.scores`,
/// `mlp.hidden`, `logits`, …).
public struct CaptureRequest: Sendable, Equatable {
    public static let defaultKinds: Set<RecordKind> = [.embed, .posEmbed, .pattern, .crossPattern]

    public var kinds: Set<RecordKind>
    /// Layers to record; nil means all.
    public var layers: Set<Int>?

    public init(kinds: Set<RecordKind> = CaptureRequest.defaultKinds, layers: Set<Int>? = nil) {
        self.kinds = kinds
        self.layers = layers
    }

    /// Parses `--capture` items such as `["+resid_post", "-pos_embed"]` or `["all"]`.
    public static func parse(_ items: [String], layers: Set<Int>? = nil) throws -> CaptureRequest {
        var kinds = defaultKinds
        for item in items.flatMap({ $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }) where !item.isEmpty
        {
            switch item {
            case "all": kinds = Set(RecordKind.allCases)
            case "none": kinds = []
            default:
                let removing = item.hasPrefix("-")
                let name = item.hasPrefix("-") || item.hasPrefix("+") ? String(item.dropFirst()) : item
                guard let kind = RecordKind(rawValue: name) else {
                    throw TraceError.unknownRecord(name, known: RecordKind.allCases.map(\.rawValue))
                }
                if removing { kinds.remove(kind) } else { kinds.insert(kind) }
            }
        }
        return CaptureRequest(kinds: kinds, layers: layers)
    }

    public var spec: CaptureSpec { CaptureSpec(kinds: kinds, layers: layers) }

    /// The asked-for kinds this model records, sorted by name: cross-attention only on an
    /// encoder–decoder, the position table only where positions are learned vectors. What
    /// trace.json lists as captured (a GPT-2 trace no longer lists `cross_attn.pattern`, which
    /// the default asks for but only an encoder–decoder has).
    public func recordedKinds(config: TransformerConfig) -> [RecordKind] {
        kinds.filter { kind in
            switch kind {
            case .crossQ, .crossK, .crossV, .crossZ, .crossScores, .crossPattern, .lnCross, .crossOut, .residCross:
                return config.isEncoderDecoder
            case .posEmbed: return config.hasLearnedPositions
            default: return true
            }
        }.sorted { $0.rawValue < $1.rawValue }
    }

    /// Bytes the assembled trace tensors take for a sequence of `positions` tokens. Counted in
    /// floating point and capped at `Int.max`: a model may declare a context of 10^12 positions,
    /// whose attention squared overflows any integer (and must still be refused, not trap).
    public func estimatedBytes(config c: TransformerConfig, positions: Int) -> Int {
        let layerCount = Double(layers.map { $0.filter { (0..<c.layers).contains($0) }.count } ?? c.layers)
        let n = Double(positions)
        var floats = 0.0
        for kind in kinds {
            let perLayer: Double
            switch kind {
            case .embed, .lnFinal, .embedNorm: floats += n * Double(c.width); continue
            case .posEmbed: floats += c.hasLearnedPositions ? n * Double(c.width) : 0; continue
            case .logits: floats += n * Double(c.vocabularySize); continue
            case .q, .z: perLayer = Double(c.heads) * n * Double(c.headSize)
            case .k, .v: perLayer = Double(c.kvHeads) * n * Double(c.headSize)
            case .scores, .pattern: perLayer = Double(c.heads) * n * n
            case .mlpHidden: perLayer = n * Double(c.feedForwardWidth)
            case .ln1, .ln2, .attnOut, .residMid, .mlpOut, .residPost: perLayer = n * Double(c.width)
            // Cross-attention (encoder–decoders only), counting the source as long as the target.
            case .crossQ, .crossK, .crossV, .crossZ: perLayer = c.isEncoderDecoder ? Double(c.heads) * n * Double(c.headSize) : 0
            case .crossScores, .crossPattern: perLayer = c.isEncoderDecoder ? Double(c.heads) * n * n : 0
            case .lnCross, .crossOut, .residCross: perLayer = c.isEncoderDecoder ? n * Double(c.width) : 0
            }
            floats += perLayer * layerCount
        }
        let bytes = floats * Double(MemoryLayout<Float>.size)
        return bytes >= Double(Int.max) ? Int.max : Int(bytes)
    }

    /// Refuses, before any work, a capture that would not fit in `budget` bytes.
    public func checkBudget(config: TransformerConfig, positions: Int, budget: Int) throws {
        let estimate = estimatedBytes(config: config, positions: positions)
        guard estimate <= budget else {
            throw TraceError.overBudget(
                estimate: estimate, budget: budget, positions: positions,
                largest: largestKinds(config: config, positions: positions))
        }
    }

    /// The record kinds that cost the most, for the over-budget hint.
    private func largestKinds(config: TransformerConfig, positions: Int) -> [String] {
        kinds.map { kind in (kind, CaptureRequest(kinds: [kind], layers: layers).estimatedBytes(config: config, positions: positions)) }
            .sorted { $0.1 > $1.1 }.prefix(3).map(\.0.rawValue)
    }
}
