import Foundation
import Generation
import Tensors
import Transformer

/// What the residual stream holds along a decoder's text: how large it is after the embeddings
/// and after each block (‖x‖₂ per position), and, for one position and one token, how much of that
/// token's logit each component wrote directly — the embeddings, every head, every attention
/// output bias and every MLP (direct logit attribution, TransformerLens `logit_attrs`).
public struct ResidualStream: Sendable, Codable {
    /// The sequence read.
    public var tokens: [Int]
    /// `[L + 1][N]`: the stream's L2 norm after the embeddings (row 0) and after each block,
    /// before the final norm.
    public var norms: [[Float]]
    public var attribution: DirectLogitAttribution

    public init(tokens: [Int], norms: [[Float]], attribution: DirectLogitAttribution) {
        self.tokens = tokens
        self.norms = norms
        self.attribution = attribution
    }

    /// Records a pass must keep: the embeddings, each block's head outputs (`attn.z`), attention
    /// and MLP outputs and residual stream leaving it.
    public static let capture = CaptureSpec(kinds: [.embed, .posEmbed, .z, .attnOut, .mlpOut, .residPost])

    /// Reads `records` (every position of a forward pass over `tokens`, or an assembled trace):
    /// the attribution is of `token` (default: the model's likeliest) at `position` (0-based,
    /// default: the last).
    public init(
        records: [String: Tensor], tokens: [Int], model: any LanguageModel, position: Int? = nil, token: Int? = nil,
        source: String = "the records"
    ) throws {
        let config = model.config, N = tokens.count, C = config.width, L = config.layers
        let NH = config.heads, hs = config.headSize
        guard let readout = model.logitReadout, config.isCausal, !config.isEncoderDecoder else {
            throw ResidualStreamError.notADecoder
        }
        guard N > 0 else { throw ResidualStreamError.noTokens }
        let position = position ?? N - 1
        guard (0..<N).contains(position) else { throw ResidualStreamError.positionOutOfRange(position, count: N) }
        // Every record missing, named at once (one at a time took a rerun each).
        let required =
            ["embed"] + (config.hasLearnedPositions ? ["pos_embed"] : [])
            + (0..<L).flatMap { l in [RecordKind.z, .attnOut, .mlpOut, .residPost].map { $0.name(layer: l) } }
        let missing = required.filter { records[$0] == nil }
        if !missing.isEmpty {
            throw ResidualStreamError.missingRecords(missing, learnedPositions: config.hasLearnedPositions, source: source)
        }
        func record(_ name: String, _ shape: [Int]) throws -> Tensor {
            guard let tensor = records[name] else {
                throw ResidualStreamError.missingRecords([name], learnedPositions: config.hasLearnedPositions, source: source)
            }
            guard tensor.shape == shape else {
                throw ResidualStreamError.shapeMismatch(name, found: tensor.shape, expected: shape, source: source)
            }
            return tensor
        }

        // The writes into the stream, in order: embeddings, then per block every head, the
        // attention output's bias (what attn.out holds beyond the heads' sum) and the MLP.
        var start = try record("embed", [N, C])
        var writes: [(DirectLogitAttribution.Part, ArraySlice<Float>)] = [(.tokenEmbedding, start.row(position))]
        if config.hasLearnedPositions {
            let positions = try record("pos_embed", [N, C])
            writes.append((.positionEmbedding, positions.row(position)))
            for i in 0..<start.count { start.scalars[i] += positions.scalars[i] }
        }
        var norms = [Self.rowNorms(start)]
        for l in 0..<L {
            let z = try record(RecordKind.z.name(layer: l), [NH, N, hs])
            let attentionOut = try record(RecordKind.attnOut.name(layer: l), [N, C])
            let mlpOut = try record(RecordKind.mlpOut.name(layer: l), [N, C])
            norms.append(Self.rowNorms(try record(RecordKind.residPost.name(layer: l), [N, C])))
            guard let projection = model.attentionOutputProjection(layer: l)?.floats() else { throw ResidualStreamError.notADecoder }
            var bias = Array(attentionOut.row(position))
            for h in 0..<NH {
                var write = [Float](repeating: 0, count: C)
                let zRow = (h * N + position) * hs
                for c in 0..<C {
                    var sum: Float = 0
                    for i in 0..<hs { sum += projection[c * NH * hs + h * hs + i] * z.scalars[zRow + i] }
                    write[c] = sum
                    bias[c] -= sum
                }
                writes.append((.head(layer: l, head: h), write[...]))
            }
            writes.append((.attentionBias(layer: l), bias[...]))
            writes.append((.mlp(layer: l), mlpOut.row(position)))
        }

        // The final residual, from the last block's record, sets the norm's frozen scale.
        let final = try record(RecordKind.residPost.name(layer: L - 1), [N, C])
        let logits = model.unembedResidual(Tensor(shape: [1, C], scalars: Array(final.row(position)))).scalars
        let token = token ?? logits.indices.max { logits[$0] < logits[$1] }!
        guard (0..<config.vocabularySize).contains(token) else {
            throw GenerationError.tokenOutOfRange(token, vocabulary: config.vocabularySize)
        }
        let reader = readout.reader(token: token, residual: Array(final.row(position)))
        self.tokens = tokens
        self.norms = norms
        self.attribution = DirectLogitAttribution(
            position: position, token: token, logit: logits[token], constant: reader.constant,
            shares: writes.map { .init(part: $0.0, logit: reader.logit(of: $0.1)) })
        let probabilities = softmax(logits)
        attribution.probability = probabilities[token]
        attribution.rank = 1 + logits.reduce(0) { $1 > logits[token] ? $0 + 1 : $0 }
        attribution.likeliest = logits.indices.max { logits[$0] < logits[$1] }!
        attribution.likeliestProbability = probabilities[attribution.likeliest]
    }

    /// One forward pass over `tokens`, keeping what the analysis reads.
    public static func run(model: any LanguageModel, tokens: [Int], position: Int? = nil, token: Int? = nil) throws -> ResidualStream {
        guard model.logitReadout != nil, model.config.isCausal, !model.config.isEncoderDecoder else {
            throw ResidualStreamError.notADecoder
        }
        guard !tokens.isEmpty else { throw ResidualStreamError.noTokens }
        let context = model.config.contextLength
        guard tokens.count <= context else { throw GenerationError.promptTooLong(tokens: tokens.count, context: context) }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= model.config.vocabularySize }) {
            throw GenerationError.tokenOutOfRange(bad, vocabulary: model.config.vocabularySize)
        }
        var cache = model.makeCache()
        let result = model.forward(tokens, cache: &cache, capture: capture, allLogits: false)
        return try ResidualStream(
            records: result.records, tokens: tokens, model: model, position: position, token: token, source: "the forward pass")
    }

    /// From a saved trace captured with `+attn.z,+attn.out,+mlp.out,+resid_post`; the model it came
    /// from supplies the projections, final norm and unembedding.
    public init(trace: Trace, model: any LanguageModel, position: Int? = nil, token: Int? = nil, folder: String = "this trace") throws {
        let m = trace.metadata.model, c = model.config
        guard m.width == c.width, m.layers == c.layers, m.vocabularySize == c.vocabularySize, m.family == c.family.rawValue else {
            throw ResidualStreamError.modelMismatch(
                trace: "\(m.family), \(m.layers) layers, width \(m.width), vocabulary \(m.vocabularySize)",
                model: "\(c.family.rawValue), \(c.layers) layers, width \(c.width), vocabulary \(c.vocabularySize)")
        }
        try self.init(
            records: trace.tensors, tokens: trace.metadata.tokens, model: model, position: position, token: token,
            source: "trace \(folder)")
    }

    /// The L2 norm of every row of `[N, C]`.
    static func rowNorms(_ rows: Tensor) -> [Float] {
        (0..<rows.shape[0]).map { n in Float(rows.row(n).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()) }
    }
}

/// One token's logit at one position, split into what each component wrote into the residual
/// stream, read through the final norm with its scale frozen: the shares and `constant` sum to `logit`.
public struct DirectLogitAttribution: Sendable, Codable {
    public enum Part: Sendable, Codable, Hashable {
        case tokenEmbedding, positionEmbedding
        case head(layer: Int, head: Int)
        case attentionBias(layer: Int)
        case mlp(layer: Int)

        /// `embed`, `pos_embed`, `blocks.L.head.H`, `blocks.L.attn_bias`, `blocks.L.mlp`.
        public var name: String {
            switch self {
            case .tokenEmbedding: return "embed"
            case .positionEmbedding: return "pos_embed"
            case .head(let l, let h): return "blocks.\(l).head.\(h)"
            case .attentionBias(let l): return "blocks.\(l).attn_bias"
            case .mlp(let l): return "blocks.\(l).mlp"
            }
        }

        public var isHead: Bool { if case .head = self { true } else { false } }
        public var isAttentionBias: Bool { if case .attentionBias = self { true } else { false } }
        public var isMLP: Bool { if case .mlp = self { true } else { false } }
    }

    public struct Share: Sendable, Codable {
        public var part: Part
        public var logit: Float

        public init(part: Part, logit: Float) {
            self.part = part
            self.logit = logit
        }
    }

    /// 0-based.
    public var position: Int
    public var token: Int
    /// The model's logit for `token` at `position`.
    public var logit: Float
    /// The final LayerNorm's shift read by the token's unembedding row (0 for RMSNorm).
    public var constant: Float
    public var shares: [Share]
    /// The token's probability and rank (1 = likeliest) at the position, and the likeliest token.
    public var probability: Float = .nan
    public var rank = 0
    public var likeliest = 0
    public var likeliestProbability: Float = .nan

    public init(position: Int, token: Int, logit: Float, constant: Float, shares: [Share]) {
        self.position = position
        self.token = token
        self.logit = logit
        self.constant = constant
        self.shares = shares
    }

    /// The share of `part`, 0 when the model has no such part.
    public func logit(of part: Part) -> Float { shares.first { $0.part == part }?.logit ?? 0 }

    /// The total of the shares matching `isIncluded` (e.g. every head).
    public func total(_ isIncluded: (Part) -> Bool) -> Float { shares.filter { isIncluded($0.part) }.reduce(0) { $0 + $1.logit } }

    /// Whether the attention outputs have biases that write anything (GPT-2's do, Llama has none).
    public var hasAttentionBiases: Bool { shares.contains { $0.part.isAttentionBias && abs($0.logit) > 1e-6 } }

    /// The sum in words: "logit 3.96 = token embedding 0.52 + position embedding −0.10 + heads 1.20
    /// + attention biases 0.08 + MLPs 2.10 + final-norm shift 0.14".
    public var breakdown: String {
        func signed(_ value: Float) -> String { (value < 0 ? "−" : "") + String(format: "%.2f", abs(value)) }
        var parts: [(name: String, value: Float)] = [("token embedding", logit(of: .tokenEmbedding))]
        if shares.contains(where: { $0.part == .positionEmbedding }) { parts.append(("position embedding", logit(of: .positionEmbedding))) }
        parts.append(("heads", total(\.isHead)))
        if hasAttentionBiases { parts.append(("attention biases", total(\.isAttentionBias))) }
        parts.append(("MLPs", total(\.isMLP)))
        if constant != 0 { parts.append(("final-norm shift", constant)) }
        var line = "logit \(signed(logit)) = \(parts[0].name) \(signed(parts[0].value))"
        for part in parts.dropFirst() { line += " \(part.value < 0 ? "−" : "+") \(part.name) " + String(format: "%.2f", abs(part.value)) }
        return line
    }
}

public enum ResidualStreamError: Error, CustomStringConvertible, LocalizedError {
    case notADecoder
    case noTokens
    case positionOutOfRange(Int, count: Int)
    case missingRecords([String], learnedPositions: Bool, source: String)
    case shapeMismatch(String, found: [Int], expected: [Int], source: String)
    case modelMismatch(trace: String, model: String)

    public var description: String {
        switch self {
        case .notADecoder:
            return
                "direct logit attribution reads a decoder's logits as a linear read of its final norm; this model is an encoder "
                + "or encoder–decoder (its output is not such a read): use a GPT-2 or Llama model"
        case .noTokens: return "there are no tokens to read"
        case .positionOutOfRange(let position, let count):
            return "position \(position) is outside the text: it has \(count) token\(count == 1 ? "" : "s"), so choose 0 to \(count - 1)"
        case .missingRecords(let names, let learnedPositions, let source):
            let shown =
                names.count > 6 ? names.prefix(5).joined(separator: ", ") + " and \(names.count - 5) more" : names.joined(separator: ", ")
            return "\(source) lacks \(shown): the residual view reads embed\(learnedPositions ? ", pos_embed" : "") and every layer's "
                + "attn.z, attn.out, mlp.out and resid_post; record them with \(UserSetting.capture) +attn.z,+attn.out,+mlp.out,+resid_post "
                + "(keeping embed\(learnedPositions ? " and pos_embed" : "") and every layer)"
        case .shapeMismatch(let name, let found, let expected, let source):
            return "\(name) in \(source) has shape \(found), the residual view expects \(expected) (every position and head)"
        case .modelMismatch(let trace, let model):
            return
                "the trace was recorded with a different model (\(trace)) than the one given (\(model)); set \(UserSetting.model) to the trace's model"
        }
    }

    public var errorDescription: String? { description }
}
