import Tensors

/// The record vocabulary (TransformerLens-style names). Shapes are per forward call, where
/// T = the rows (tokens) this call processes and K = every key position so far (cached + new).
public enum RecordKind: String, Sendable, CaseIterable, Codable {
    case embed = "embed"                    // [T, C] token embeddings
    case posEmbed = "pos_embed"             // [T, C] learned position embeddings (GPT-2 only)
    case ln1 = "ln1"                        // [T, C] input to attention, after the first norm
    case q = "attn.q"                       // [NH, T, hs] queries (after RoPE for Llama)
    case k = "attn.k"                       // [NKV, T, hs] keys of the new rows (after RoPE)
    case v = "attn.v"                       // [NKV, T, hs] values of the new rows
    case scores = "attn.scores"             // [NH, T, K] scaled scores, causal mask as -inf
    case pattern = "attn.pattern"           // [NH, T, K] softmax of the scores, masked cells 0
    case z = "attn.z"                       // [NH, T, hs] each head's output (pattern · values), before the output projection
    case attnOut = "attn.out"               // [T, C] attention output after the output projection
    case residMid = "resid_mid"             // [T, C] residual stream after attention is added
    case ln2 = "ln2"                        // [T, C] input to the MLP, after the second norm
    case mlpHidden = "mlp.hidden"           // [T, FF] MLP activations after GELU / SwiGLU
    case mlpOut = "mlp.out"                 // [T, C] MLP output
    case residPost = "resid_post"           // [T, C] residual stream leaving the block
    case lnFinal = "ln_final"               // [T, C] after the final norm
    case logits = "logits"                  // [T, V] unembedded scores

    /// Whether the record exists once per layer (`blocks.L.<name>`).
    public var isPerLayer: Bool {
        switch self {
        case .embed, .posEmbed, .lnFinal, .logits: return false
        default: return true
        }
    }

    /// How a record's axes are laid out, for code that joins or checks records along positions.
    public enum Axes: Sendable {
        case positionRows        // [position, width]
        case headPositions       // [head, position, hs]
        case headQueryKey        // [head, query, key]
    }

    public var axes: Axes {
        switch self {
        case .q, .k, .v, .z: return .headPositions
        case .scores, .pattern: return .headQueryKey
        default: return .positionRows
        }
    }

    /// The kind of a full record name (`blocks.3.attn.z` → `.z`, `ln_final` → `.lnFinal`).
    public init?(recordName name: String) {
        let parts = name.split(separator: ".", maxSplits: 2)
        if parts.count == 3, parts[0] == "blocks", Int(parts[1]) != nil {
            self.init(rawValue: String(parts[2]))
        } else {
            self.init(rawValue: name)
        }
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

    public init(kinds: Set<RecordKind> = [], layers: Set<Int>? = nil, lastRowOnly: Bool = false) {
        self.kinds = kinds; self.layers = layers; self.lastRowOnly = lastRowOnly
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
struct Recorder {
    let spec: CaptureSpec
    /// Rows of this call (T) and the first row kept (T−1 when only the last row is kept).
    let rows: Int
    var records: [String: Tensor] = [:]

    init(spec: CaptureSpec, rows: Int) {
        self.spec = spec
        self.rows = rows
    }

    var firstRow: Int { spec.lastRowOnly ? rows - 1 : 0 }
    var keptRows: Int { rows - firstRow }

    /// Keeps rows of a `[T, width]` buffer.
    mutating func rowMajor(_ kind: RecordKind, layer: Int? = nil, _ buffer: UnsafePointer<Float>, width: Int) {
        guard spec.wants(kind, layer: layer) else { return }
        let start = buffer + firstRow * width
        records[kind.name(layer: layer)] = Tensor(shape: [keptRows, width], scalars: RecordStorage.make(count: keptRows * width) {
            $0.baseAddress!.initialize(from: start, count: keptRows * width)
        })
    }

    /// Keeps per-head slices of a `[T, stride]` buffer whose head `h` sits at column `offset + h·hs`,
    /// as `[heads, T, hs]`.
    mutating func perHead(_ kind: RecordKind, layer: Int, _ buffer: UnsafePointer<Float>,
                          stride: Int, offset: Int, heads: Int, headSize hs: Int) {
        guard spec.wants(kind, layer: layer) else { return }
        let kept = keptRows, first = firstRow
        let out = RecordStorage.make(count: heads * kept * hs) { target in
            for h in 0..<heads {
                for r in 0..<kept {
                    (target.baseAddress! + (h * kept + r) * hs)
                        .initialize(from: buffer + (first + r) * stride + offset + h * hs, count: hs)
                }
            }
        }
        records[kind.name(layer: layer)] = Tensor(shape: [heads, kept, hs], scalars: out)
    }

    /// Keeps the query rows of a `[heads, T, K]` buffer (attention scores or pattern, keys last)
    /// as `[heads, kept rows, K]`. With `masked`, the cells a causal row may not see (key after
    /// the row's position, `K − T + row`) are set to it: training's kernel leaves them 0.
    mutating func perHeadRows(_ kind: RecordKind, layer: Int, _ buffer: UnsafePointer<Float>, heads: Int, keys K: Int,
                              masked: Float? = nil) {
        guard spec.wants(kind, layer: layer) else { return }
        let T = rows, kept = keptRows, first = firstRow
        let out = RecordStorage.make(count: heads * kept * K) { target in
            for h in 0..<heads {
                let source = buffer + (h * T + first) * K, destination = target.baseAddress! + h * kept * K
                destination.initialize(from: source, count: kept * K)
                guard let masked else { continue }
                for r in 0..<kept {
                    let position = K - T + first + r
                    for j in (position + 1)..<max(K, position + 1) { destination[r * K + j] = masked }
                }
            }
        }
        records[kind.name(layer: layer)] = Tensor(shape: [heads, kept, K], scalars: out)
    }
}
