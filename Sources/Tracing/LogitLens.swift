import Foundation
import Generation
import Tensors
import Transformer

// The logit lens (nostalgebraist, 2020): read the residual stream part-way through the model as if
// it were the last layer's output — apply the final norm and the unembedding — and see which
// tokens the model "has in mind" at each depth. Here "layer −1" is the stream entering block 0
// (`embed`, plus `pos_embed` for GPT-2) and layer L is `blocks.L.resid_post`; at the last layer the
// lens gives exactly the model's own logits.
// Letters: N positions, C width, V vocabulary, L layers.

/// One token and its probability in the lens's softmax (temperature 1).
public struct LensPrediction: Sendable, Codable, Equatable {
    public var id: Int
    public var probability: Float

    public init(id: Int, probability: Float) {
        self.id = id; self.probability = probability
    }
}

/// What the lens reads at one layer and position.
public struct LensCell: Sendable, Codable, Equatable {
    /// The most likely tokens, most likely first.
    public var top: [LensPrediction]
    /// Probability of the actual token: the one that comes next in the sequence for a decoder
    /// (nil at the last position), the one at this position for an encoder.
    public var nextTokenProbability: Float?
    /// 1-based rank of that token among all V (nil at the last position).
    public var nextTokenRank: Int?
}

/// One row of the lens: a residual stream read at every position.
public struct LensLayer: Sendable, Codable, Equatable {
    /// −1 for the embeddings (the stream entering block 0), else the block whose output was read.
    public var layer: Int
    /// The record read: `embed` or `blocks.L.resid_post`.
    public var record: String
    /// One cell per position `[N]`.
    public var cells: [LensCell]
}

/// The logit lens over a whole sequence: `layers[0]` is the embeddings (layer −1), then one entry
/// per block in order; each holds N cells.
public struct LogitLens: Sendable, Codable {
    /// The sequence read (prompt and any generated tokens).
    public var tokens: [Int]
    /// How many predictions each cell keeps.
    public var top: Int
    /// What a cell's "actual token" is: the next one (decoders predict it) or the one at the
    /// cell's own position (an encoder's MLM head reconstructs the token it reads, or the one a
    /// [MASK] hides).
    public var predictsNextToken = true
    public var layers: [LensLayer]

    /// The record names the lens needs for a model with `layers` blocks (and `pos_embed` where
    /// learned positions are added to the embedding; `embed_ln` where the sum is normalised).
    public static func requiredRecords(config: TransformerConfig) -> [String] {
        (config.normalizesEmbeddings ? ["embed_ln"] : ["embed"] + (config.hasLearnedPositions ? ["pos_embed"] : []))
            + (0..<config.layers).map { "blocks.\($0).resid_post" }
    }

    /// The capture a forward pass needs so the lens can be read from its records.
    public static let capture = CaptureSpec(kinds: [.embed, .posEmbed, .embedNorm, .residPost])

    // MARK: - Building the lens

    /// From whole-sequence records `[N, C]` (a forward pass over the sequence, or an assembled trace):
    /// `embed` (+ `pos_embed` for GPT-2) and `blocks.L.resid_post` for every layer. `model` supplies
    /// the final norm and unembedding.
    public init(
        records: [String: Tensor], tokens: [Int], model: any LanguageModel, top: Int = 5,
        source: String = "the records"
    ) throws {
        let config = model.config
        let N = tokens.count, C = config.width
        guard config.head != .none else { throw LogitLensError.noOutputHead }
        guard top >= 1 else { throw LogitLensError.badTop(top) }
        guard N > 0 else { throw LogitLensError.noTokens }
        func stream(_ name: String) throws -> Tensor {
            guard let tensor = records[name] else { throw LogitLensError.missingRecord(name, source: source) }
            guard tensor.shape == [N, C] else {
                throw LogitLensError.shapeMismatch(name, found: tensor.shape, expected: [N, C], source: source)
            }
            return tensor
        }
        var embedded = try stream(config.normalizesEmbeddings ? "embed_ln" : "embed")
        if config.hasLearnedPositions && !config.normalizesEmbeddings {
            // The stream starts as token embedding + learned position embedding (GPT-2).
            let positions = try stream("pos_embed")
            for i in 0..<embedded.count { embedded.scalars[i] += positions.scalars[i] }
        }
        var streams: [(layer: Int, record: String, rows: Tensor)] = [
            (-1, config.normalizesEmbeddings ? "embed_ln" : "embed", embedded)
        ]
        for l in 0..<config.layers {
            let name = "blocks.\(l).resid_post"
            streams.append((l, name, try stream(name)))
        }
        self.tokens = tokens
        self.top = top
        self.predictsNextToken = config.isCausal
        let offset = config.isCausal ? 1 : 0
        self.layers = streams.map { layer, record, rows in
            let logits = model.unembedResidual(rows)
            return LensLayer(layer: layer, record: record, cells: Self.read(logits: logits, tokens: tokens, top: top, targetOffset: offset))
        }
    }

    /// Runs `tokens` through `model` in one pass, capturing the residual stream, and reads the lens.
    public static func run(model: any LanguageModel, tokens: [Int], top: Int = 5) throws -> LogitLens {
        let context = model.config.contextLength
        guard !model.config.isEncoderDecoder else { throw LogitLensError.encoderDecoder }
        guard !tokens.isEmpty else { throw LogitLensError.noTokens }
        guard tokens.count <= context else { throw GenerationError.promptTooLong(tokens: tokens.count, context: context) }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= model.config.vocabularySize }) {
            throw GenerationError.tokenOutOfRange(bad, vocabulary: model.config.vocabularySize)
        }
        var cache = model.makeCache()
        let result = model.forward(tokens, cache: &cache, capture: capture, allLogits: false)
        return try LogitLens(records: result.records, tokens: tokens, model: model, top: top, source: "the forward pass")
    }

    /// From a live session whose capture included the residual stream (`LogitLens.capture`),
    /// every row kept. Covers the prompt and every token accepted so far.
    public init(session: GenerationSession, top: Int = 5) throws {
        guard !session.capture.lastRowOnly else { throw LogitLensError.lastRowOnly }
        let records = TraceAssembler.assemble(session.forwardRecords, positions: session.tokens.count)
        try self.init(records: records, tokens: session.tokens, model: session.model, top: top, source: "this session")
    }

    /// From a saved trace captured with `+resid_post` (and the default `embed`, `pos_embed`).
    /// A trace keeps no weights, so the model it came from supplies the final norm and unembedding.
    public init(trace: Trace, model: any LanguageModel, top: Int = 5, folder: String = "this trace") throws {
        let m = trace.metadata.model, c = model.config
        guard !m.isEncoderDecoder else { throw LogitLensError.encoderDecoder }
        guard m.width == c.width, m.layers == c.layers, m.vocabularySize == c.vocabularySize, m.family == c.family.rawValue else {
            throw LogitLensError.modelMismatch(
                trace: "\(m.family), \(m.layers) layers, width \(m.width), vocabulary \(m.vocabularySize)",
                model: "\(c.family.rawValue), \(c.layers) layers, width \(c.width), vocabulary \(c.vocabularySize)")
        }
        try self.init(records: trace.tensors, tokens: trace.metadata.tokens, model: model, top: top, source: "trace \(folder)")
    }

    /// Softmax, top-k and the actual token's probability and rank for every row of `logits[N, V]`:
    /// the token `targetOffset` positions on (1: the next token; 0: the token itself).
    static func read(logits: Tensor, tokens: [Int], top: Int, targetOffset: Int = 1) -> [LensCell] {
        let N = logits.shape[0], V = logits.shape[1]
        var cells: [LensCell] = []
        cells.reserveCapacity(N)
        for position in 0..<N {
            let probabilities = softmax(Array(logits.row(position)))
            let best = topIndices(probabilities, count: min(top, V))
            var cell = LensCell(top: best.map { LensPrediction(id: $0, probability: probabilities[$0]) })
            if position + targetOffset < N {
                let next = tokens[position + targetOffset]
                let p = probabilities[next]
                cell.nextTokenProbability = p
                cell.nextTokenRank = 1 + probabilities.reduce(0) { $1 > p ? $0 + 1 : $0 }
            }
            cells.append(cell)
        }
        return cells
    }

    // MARK: - Reading it

    /// The lens row for `layer` (−1: embeddings).
    public func layer(_ layer: Int) -> LensLayer? {
        layers.first { $0.layer == layer }
    }
}

public enum LogitLensError: Error, CustomStringConvertible, LocalizedError {
    case missingRecord(String, source: String)
    case shapeMismatch(String, found: [Int], expected: [Int], source: String)
    case modelMismatch(trace: String, model: String)
    case badTop(Int)
    case noTokens
    case lastRowOnly
    case noOutputHead
    /// The lens of an encoder–decoder (its decoder's stream over its source) is not built yet.
    case encoderDecoder

    public var description: String {
        switch self {
        case .encoderDecoder:
            return
                "the logit lens is not built for encoder–decoders yet; see what the decoder weighed with `lantern probs` and where it looked with `lantern attention` (its cross-attention part)"
        case .noOutputHead:
            return
                "this encoder has no output head (a sentence encoder): the logit lens reads the stream through the model's head, and there is none to read it with; try a model with a masked-language head"
        case .missingRecord(let name, let source):
            let kind = name.hasPrefix("blocks.") ? "resid_post" : name
            return "\(source) has no \(name): the logit lens reads the residual stream; add +\(kind) to \(UserSetting.capture) "
                + "(and keep embed\(name == "pos_embed" ? ", pos_embed" : "") and every layer)"
        case .shapeMismatch(let name, let found, let expected, let source):
            return "\(name) in \(source) has shape \(found), the lens expects \(expected) (every position, the model's width)"
        case .modelMismatch(let trace, let model):
            return
                "the trace was recorded with a different model (\(trace)) than the one given (\(model)); set \(UserSetting.model) to the trace's model"
        case .badTop(let top):
            return "the number of predictions per cell, \(top), is out of range: use 1 or more"
        case .noTokens:
            return "there are no tokens to read"
        case .lastRowOnly:
            return "the session kept only the newest row of each record; the lens needs every position"
        }
    }

    public var errorDescription: String? { description }
}
