import Foundation
import Tensors

/// The record vocabulary (TransformerLens-style names). Shapes are per forward call, where
/// T = the rows (tokens) this call processes and K = every key position so far (cached + new).
public enum RecordKind: String, Sendable, CaseIterable, Codable {
    case embed = "embed"  // [T, C] token embeddings
    case posEmbed = "pos_embed"  // [T, C] learned position embeddings (GPT-2, BERT)
    case embedNorm = "embed_ln"  // [T, C] the embeddings' sum after its LayerNorm (BERT): the stream entering block 0
    case ln1 = "ln1"  // [T, C] input to attention, after the first norm (pre-LN families; BERT normalises after, into resid_mid)
    case q = "attn.q"  // [NH, T, hs] queries (after RoPE for Llama)
    case k = "attn.k"  // [NKV, T, hs] keys of the new rows (after RoPE)
    case v = "attn.v"  // [NKV, T, hs] values of the new rows
    case scores = "attn.scores"  // [NH, T, K] scaled scores, causal mask as -inf (encoders: no mask)
    case pattern = "attn.pattern"  // [NH, T, K] softmax of the scores, masked cells 0
    case z = "attn.z"  // [NH, T, hs] each head's output (pattern · values), before the output projection
    case attnOut = "attn.out"  // [T, C] attention output after the output projection
    case residMid = "resid_mid"  // [T, C] residual stream after attention is added
    // Encoder–decoders: each decoder block's cross-attention, from its rows to the encoder's output (S source positions).
    case lnCross = "ln_cross"  // [T, C] input to cross-attention, after its norm (pre-LN: T5)
    case crossQ = "cross_attn.q"  // [NH, T, hs] the decoder rows' queries
    case crossK = "cross_attn.k"  // [NH, S, hs] keys of the encoder's output (recorded once, when the source is encoded)
    case crossV = "cross_attn.v"  // [NH, S, hs] values of the encoder's output (likewise)
    case crossScores = "cross_attn.scores"  // [NH, T, S] scaled scores (no mask: every source position is visible)
    case crossPattern = "cross_attn.pattern"  // [NH, T, S] softmax of the scores: where each target row looks in the source
    case crossZ = "cross_attn.z"  // [NH, T, hs] each head's output
    case crossOut = "cross_attn.out"  // [T, C] after the output projection
    case residCross = "resid_cross"  // [T, C] residual stream after cross-attention is added
    case ln2 = "ln2"  // [T, C] input to the MLP, after the second norm
    case mlpHidden = "mlp.hidden"  // [T, FF] MLP activations after GELU / SwiGLU
    case mlpOut = "mlp.out"  // [T, C] MLP output
    case residPost = "resid_post"  // [T, C] residual stream leaving the block
    case lnFinal = "ln_final"  // [T, C] after the final norm
    case logits = "logits"  // [T, V] unembedded scores

    /// Whether the record exists once per layer (`blocks.L.<name>`).
    public var isPerLayer: Bool {
        switch self {
        case .embed, .posEmbed, .embedNorm, .lnFinal, .logits: return false
        default: return true
        }
    }

    /// How a record's axes are laid out, for code that joins or checks records along positions.
    public enum Axes: Sendable {
        case positionRows  // [position, width]
        case headPositions  // [head, position, hs]
        case headQueryKey  // [head, query, key]
    }

    public var axes: Axes {
        switch self {
        case .q, .k, .v, .z, .crossQ, .crossK, .crossV, .crossZ: return .headPositions
        case .scores, .pattern, .crossScores, .crossPattern: return .headQueryKey
        default: return .positionRows
        }
    }

    /// The names of a whole-sequence record's axes, as a trace stores it (`[head, query, key]`).
    public var axisNames: [String] {
        switch self {
        case .q, .z, .crossQ, .crossZ: return ["head", "position", "head_dim"]
        case .k, .v: return ["kv_head", "position", "head_dim"]
        case .crossK, .crossV: return ["head", "source", "head_dim"]
        case .scores, .pattern: return ["head", "query", "key"]
        case .crossScores, .crossPattern: return ["head", "row", "source"]
        case .mlpHidden: return ["position", "hidden"]
        case .logits: return ["position", "vocabulary"]
        default: return ["position", "channel"]
        }
    }

    /// What the record holds, in words (stored beside it in trace.json).
    public var meaning: String {
        switch self {
        case .embed: return "token embeddings (BART and T5 as the model scales them)"
        case .posEmbed: return "learned position embeddings, added to the token embeddings"
        case .embedNorm: return "the embeddings' sum after its LayerNorm: the stream entering block 0 (BERT, BART)"
        case .ln1: return "the attention's input after the first norm"
        case .q: return "queries, after rotary positions where the model has them (Llama)"
        case .k: return "keys of each key/value head (grouped-query: fewer than the query heads), after rotary positions"
        case .v: return "values of each key/value head"
        case .scores: return "attention scores q·k scaled by the model's factor (1/√head_dim), plus any position bias; masked cells −inf"
        case .pattern: return "attention weights: the softmax of the scores over the keys, each row sums to 1; masked cells 0"
        case .z: return "each head's output, its pattern times its values, before the output projection"
        case .attnOut: return "the attention's output after the output projection, added to the stream"
        case .residMid: return "the residual stream after the attention is added (after the norm in post-norm models)"
        case .lnCross: return "the cross-attention's input after its norm"
        case .crossQ: return "cross-attention queries of the decoder's rows"
        case .crossK: return "cross-attention keys of the encoder's output (computed once)"
        case .crossV: return "cross-attention values of the encoder's output (computed once)"
        case .crossScores: return "cross-attention scores, scaled; every source position visible"
        case .crossPattern: return "cross-attention weights: where each decoder row looks in the source, each row sums to 1"
        case .crossZ: return "each cross-attention head's output, before the output projection"
        case .crossOut: return "the cross-attention's output after the output projection"
        case .residCross: return "the residual stream after the cross-attention is added"
        case .ln2: return "the MLP's input after the second norm"
        case .mlpHidden: return "the MLP's hidden layer after its activation (GELU, ReLU or the SwiGLU product)"
        case .mlpOut: return "the MLP's output, added to the stream"
        case .residPost: return "the residual stream leaving the block (before the final norm)"
        case .lnFinal: return "the last residual stream after the final norm"
        case .logits: return "unembedded scores over the vocabulary"
        }
    }

    /// The scope of an encoder–decoder's encoder records (`encoder.blocks.0.attn.pattern`,
    /// `encoder.embed`); the decoder's records keep the plain names, as every decoder's do.
    public static let encoderScope = "encoder."

    /// The kind of a full record name (`blocks.3.attn.z` → `.z`, `ln_final` → `.lnFinal`,
    /// `encoder.blocks.0.attn.q` → `.q`).
    public init?(recordName fullName: String) {
        let name = fullName.hasPrefix(Self.encoderScope) ? String(fullName.dropFirst(Self.encoderScope.count)) : fullName
        let parts = name.split(separator: ".", maxSplits: 2)
        if parts.count == 3, parts[0] == "blocks", Int(parts[1]) != nil {
            self.init(rawValue: String(parts[2]))
        } else {
            self.init(rawValue: name)
        }
    }

    /// The layer of a full record name (`blocks.3.attn.z` → 3, `encoder.blocks.0.attn.q` → 0),
    /// nil for records of the whole model (`embed`, `ln_final`).
    public static func layer(ofRecordName fullName: String) -> Int? {
        let name = fullName.hasPrefix(encoderScope) ? fullName.dropFirst(encoderScope.count) : Substring(fullName)
        let parts = name.split(separator: ".", maxSplits: 2)
        return parts.count == 3 && parts[0] == "blocks" ? Int(parts[1]) : nil
    }

    /// The full record name for layer `layer`, e.g. `blocks.3.attn.pattern`.
    public func name(layer: Int?) -> String {
        if isPerLayer, let layer { return "blocks.\(layer).\(rawValue)" }
        return rawValue
    }
}

/// Which records one forward call keeps. The default captures nothing and costs nothing.
public struct CaptureSpec: Sendable, Equatable {
    public var kinds: Set<RecordKind>
    /// Layers to record per-layer kinds for; `nil` means every layer.
    public var layers: Set<Int>?
    /// Which of the call's rows to keep: all of them, or only the newest (while stepping).
    public var lastRowOnly: Bool
    /// Query heads to keep in per-head records (`attn.q`, `attn.z`, scores, pattern; `attn.k`
    /// and `attn.v` keep the key/value heads those heads read); `nil` means every head. Records
    /// list the kept heads in ascending order, as `[kept heads, rows, …]`.
    public var heads: Set<Int>?
    /// Positions (token indices in the whole sequence) whose rows to keep; `nil` means every
    /// row. A call whose rows all fall outside keeps no records.
    public var positions: Range<Int>?
    /// What the pass writes instead of computing: ablated heads and MLPs (empty: nothing).
    public var intervention = Intervention()

    public init(
        kinds: Set<RecordKind> = [], layers: Set<Int>? = nil, lastRowOnly: Bool = false,
        heads: Set<Int>? = nil, positions: Range<Int>? = nil
    ) {
        self.kinds = kinds; self.layers = layers; self.lastRowOnly = lastRowOnly
        self.heads = heads; self.positions = positions
    }

    public static let nothing = CaptureSpec()
    public static let everything = CaptureSpec(kinds: Set(RecordKind.allCases))

    public var isEmpty: Bool { kinds.isEmpty }

    @inline(__always)
    public func wants(_ kind: RecordKind, layer: Int? = nil) -> Bool {
        guard kinds.contains(kind) else { return false }
        guard let layer, let layers else { return true }
        return layers.contains(layer)
    }
}

/// What one forward call returns: the logits asked for and the records captured.
public struct ForwardResult: Sendable {
    /// `[rows, V]`: the last row only, unless every row was asked for.
    public var logits: Tensor
    /// Record name → tensor, shapes as documented on `RecordKind`.
    public var records: [String: Tensor]
}

/// Collects records inside a forward driver. Only drivers create and fill one.
/// What a forward pass writes into records instead of computing them — an intervention is the
/// driver writing a record rather than reading it (TransformerLens's hooks that return a value):
/// chosen heads' outputs (`attn.z`, before the output projection) and chosen MLPs' outputs
/// (`mlp.out`, before they join the stream) replaced at every row of every call.
public struct Intervention: Sendable, Equatable {
    public struct Head: Hashable, Sendable, Comparable, Codable {
        public var layer: Int, head: Int
        public init(layer: Int, head: Int) {
            self.layer = layer
            self.head = head
        }
        /// `LAYER.HEAD` as people type it ("4.0": layer 4, head 0); nil unless both parts are
        /// whole numbers 0 or more. (Whether the model has that head is the caller's check.)
        public init?(parsing text: String) {
            let parts = text.trimmingCharacters(in: .whitespaces).split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 2, let layer = Int(parts[0]), let head = Int(parts[1]), layer >= 0, head >= 0 else { return nil }
            self.init(layer: layer, head: head)
        }
        public static func < (a: Head, b: Head) -> Bool { (a.layer, a.head) < (b.layer, b.head) }
    }

    /// Each chosen head's replacement output `[hs]`: zeros (zero ablation) or its mean over a
    /// text (mean ablation).
    public var heads: [Head: [Float]] = [:]
    /// Each chosen layer's replacement MLP output `[C]`.
    public var mlps: [Int: [Float]] = [:]
    /// Activation patching: a head's output `[hs]` at chosen positions (of the whole sequence),
    /// taken from another run.
    public var headsAt: [Head: [Int: [Float]]] = [:]
    /// Activation patching: the residual stream leaving block L (`resid_post`) `[C]` at chosen
    /// positions, taken from another run.
    public var residualAt: [Int: [Int: [Float]]] = [:]

    public init(heads: [Head: [Float]] = [:], mlps: [Int: [Float]] = [:]) {
        self.heads = heads
        self.mlps = mlps
    }

    public var isEmpty: Bool { heads.isEmpty && mlps.isEmpty && headsAt.isEmpty && residualAt.isEmpty }
}

struct Recorder {
    let spec: CaptureSpec
    /// Rows of this call (T).
    let rows: Int
    /// The rows kept: `firstRow ..< firstRow + keptRows` of the call (the last row only while
    /// stepping; the call's rows inside `spec.positions`).
    let firstRow: Int, keptRows: Int
    var records: [String: Tensor] = [:]
    /// Put before every record name: "" for a decoder or encoder alone, `RecordKind.encoderScope`
    /// for an encoder–decoder's encoder.
    let scope: String
    /// The position of the call's first row.
    let start: Int

    /// `start`: the position of the call's first row (the cache's length before it).
    init(spec: CaptureSpec, rows: Int, start: Int = 0, scope: String = "") {
        self.spec = spec
        self.rows = rows
        self.scope = scope
        self.start = start
        var first = spec.lastRowOnly ? rows - 1 : 0, end = rows
        if let positions = spec.positions {
            first = max(first, positions.lowerBound - start)
            end = min(end, positions.upperBound - start)
        }
        firstRow = min(first, rows)
        keptRows = max(0, end - firstRow)
    }

    /// Whether `kind` is recorded in this call (the spec wants it and some row is kept).
    func records(_ kind: RecordKind, layer: Int? = nil) -> Bool {
        keptRows > 0 && spec.wants(kind, layer: layer)
    }

    /// The heads a per-head record keeps, of `heads` (query heads; or key/value heads each read
    /// by `group` query heads).
    func keptHeads(of heads: Int, group: Int = 1) -> [Int] {
        guard let chosen = spec.heads else { return Array(0..<heads) }
        return Set(chosen.filter { $0 >= 0 && $0 < heads * group }.map { $0 / group }).sorted()
    }

    /// The full name of `kind`'s record at `layer`, in this recorder's scope.
    func name(_ kind: RecordKind, layer: Int?) -> String { scope + kind.name(layer: layer) }

    /// Writes the intervention's replacement heads into layer `layer`'s head outputs, a `[T, stride]`
    /// buffer with head `h` at columns `h·hs ..< (h+1)·hs`, every row.
    func replaceHeads(layer: Int, _ buffer: UnsafeMutablePointer<Float>, stride: Int, headSize hs: Int) {
        for (key, value) in spec.intervention.heads where key.layer == layer {
            precondition((key.head + 1) * hs <= stride, "Intervention: head \(key.head) is outside layer \(layer)'s heads")
            precondition(value.count == hs, "Intervention: head \(key.layer).\(key.head) replacement has \(value.count) values, not \(hs)")
            for r in 0..<rows { (buffer + r * stride + key.head * hs).update(from: value, count: hs) }
        }
        for (key, positions) in spec.intervention.headsAt where key.layer == layer {
            precondition((key.head + 1) * hs <= stride, "Intervention: head \(key.head) is outside layer \(layer)'s heads")
            for (position, value) in positions where (start..<(start + rows)).contains(position) {
                precondition(value.count == hs, "Intervention: patched head \(key.layer).\(key.head) has \(value.count) values, not \(hs)")
                (buffer + (position - start) * stride + key.head * hs).update(from: value, count: hs)
            }
        }
    }

    /// Writes the intervention's patched residual rows into layer `layer`'s `resid_post`, `[T, width]`.
    func replaceResidual(layer: Int, _ buffer: UnsafeMutablePointer<Float>, width: Int) {
        guard let positions = spec.intervention.residualAt[layer] else { return }
        for (position, value) in positions where (start..<(start + rows)).contains(position) {
            precondition(value.count == width, "Intervention: patched residual has \(value.count) values, not \(width)")
            (buffer + (position - start) * width).update(from: value, count: width)
        }
    }

    /// Writes the intervention's replacement MLP output into layer `layer`'s `[T, width]` buffer.
    func replaceMLP(layer: Int, _ buffer: UnsafeMutablePointer<Float>, width: Int) {
        guard let value = spec.intervention.mlps[layer] else { return }
        precondition(value.count == width, "Intervention: MLP \(layer) replacement has \(value.count) values, not \(width)")
        for r in 0..<rows { (buffer + r * width).update(from: value, count: width) }
    }

    /// Keeps rows of a `[T, width]` buffer.
    mutating func rowMajor(_ kind: RecordKind, layer: Int? = nil, _ buffer: UnsafePointer<Float>, width: Int) {
        guard records(kind, layer: layer) else { return }
        let start = buffer + firstRow * width, kept = keptRows
        records[name(kind, layer: layer)] = Tensor(
            shape: [kept, width],
            scalars: RecordStorage.make(count: kept * width) {
                $0.baseAddress!.initialize(from: start, count: kept * width)
            })
    }

    /// Keeps per-head slices of a `[T, stride]` buffer whose head `h` sits at column `offset + h·hs`,
    /// as `[kept heads, rows, hs]`. `group`: each of these heads is read by that many query heads
    /// (keys and values under grouped-query attention).
    mutating func perHead(
        _ kind: RecordKind, layer: Int, _ buffer: UnsafePointer<Float>,
        stride: Int, offset: Int, heads: Int, headSize hs: Int, group: Int = 1
    ) {
        guard records(kind, layer: layer) else { return }
        let kept = keptRows, first = firstRow, chosen = keptHeads(of: heads, group: group)
        let out = RecordStorage.make(count: chosen.count * kept * hs) { target in
            for (slot, h) in chosen.enumerated() {
                for r in 0..<kept {
                    (target.baseAddress! + (slot * kept + r) * hs)
                        .initialize(from: buffer + (first + r) * stride + offset + h * hs, count: hs)
                }
            }
        }
        records[name(kind, layer: layer)] = Tensor(shape: [chosen.count, kept, hs], scalars: out)
    }

    /// Keeps the query rows of a `[heads, T, K]` buffer (attention scores or pattern, keys last)
    /// as `[kept heads, kept rows, K]`. With `masked`, the cells a causal row may not see (key after
    /// the row's position, `K − T + row`) are set to it: training's kernel leaves them 0.
    mutating func perHeadRows(
        _ kind: RecordKind, layer: Int, _ buffer: UnsafePointer<Float>, heads: Int, keys K: Int,
        masked: Float? = nil
    ) {
        guard records(kind, layer: layer) else { return }
        let T = rows, kept = keptRows, first = firstRow, chosen = keptHeads(of: heads)
        let out = RecordStorage.make(count: chosen.count * kept * K) { target in
            for (slot, h) in chosen.enumerated() {
                let source = buffer + (h * T + first) * K, destination = target.baseAddress! + slot * kept * K
                destination.initialize(from: source, count: kept * K)
                guard let masked else { continue }
                for r in 0..<kept {
                    let position = K - T + first + r
                    for j in (position + 1)..<max(K, position + 1) { destination[r * K + j] = masked }
                }
            }
        }
        records[name(kind, layer: layer)] = Tensor(shape: [chosen.count, kept, K], scalars: out)
    }
}
