import Foundation
import Generation
import Tensors
import Transformer

/// How an ablated component is replaced.
public enum AblationMode: String, Sendable, Codable, CaseIterable {
    /// Its output set to zero.
    case zero
    /// Its output set to its mean over the text's positions (what it writes on average, without
    /// what it writes at each position).
    case mean
}

/// Switches components off and measures what changes: per position, the log-probability of the
/// token that actually comes next, with and without them; the mean loss; the greedy continuation.
/// Heads are ablated at their output before the output projection (`attn.z`, TransformerLens's
/// `hook_z`), MLPs at their output (`mlp.out`), at every position of the text and of the
/// continuation.
public struct Ablation: Sendable, Codable {
    public var tokens: [Int]
    public var heads: [Intervention.Head]
    public var mlps: [Int]
    public var mode: AblationMode
    /// `[N − 1]`: `logprob[i] = log P(token i+1 | tokens ≤ i)`.
    public var baselineLogprob: [Float]
    public var ablatedLogprob: [Float]
    /// The mean of −logprob over the text (nats per token).
    public var baselineLoss: Float { Self.loss(baselineLogprob, from: 0) }
    public var ablatedLoss: Float { Self.loss(ablatedLogprob, from: 0) }

    /// The mean of −logprob over the predictions made at positions `from` and later (the second
    /// copy of a repeated text, say).
    public static func loss(_ logprob: [Float], from: Int) -> Float {
        let scored = logprob.dropFirst(min(from, logprob.count))
        return scored.isEmpty ? 0 : -scored.reduce(0, +) / Float(scored.count)
    }
    /// The greedy tokens after the text, without and with the ablation.
    public var baselineContinuation: [Int]
    public var ablatedContinuation: [Int]

    /// Runs `tokens` through `model` with and without the chosen components; `continuation`
    /// greedy tokens follow the text both ways.
    public static func run(
        model: any LanguageModel, tokens: [Int], heads: [Intervention.Head], mlps: [Int] = [], mode: AblationMode,
        continuation: Int = 8
    ) throws -> Ablation {
        let config = model.config
        guard config.isCausal, !config.isEncoderDecoder else { throw AblationError.notADecoder }
        guard tokens.count >= 2 else { throw AblationError.tooShort(tokens.count) }
        guard tokens.count + continuation <= config.contextLength else {
            throw GenerationError.promptTooLong(tokens: tokens.count + continuation, context: config.contextLength)
        }
        if let bad = tokens.first(where: { $0 < 0 || $0 >= config.vocabularySize }) {
            throw GenerationError.tokenOutOfRange(bad, vocabulary: config.vocabularySize)
        }
        for h in heads where !(0..<config.layers).contains(h.layer) || !(0..<config.heads).contains(h.head) {
            throw AblationError.noSuchHead(h, layers: config.layers, heads: config.heads)
        }
        for l in mlps where !(0..<config.layers).contains(l) { throw AblationError.noSuchLayer(l, layers: config.layers) }
        guard !heads.isEmpty || !mlps.isEmpty else { throw AblationError.nothingChosen }

        let intervention = try Self.intervention(model: model, tokens: tokens, heads: heads, mlps: mlps, mode: mode)
        var ablatedSpec = CaptureSpec.nothing
        ablatedSpec.intervention = intervention
        let (baseLogprob, baseContinuation) = Self.measure(model, tokens, spec: .nothing, continuation: continuation)
        let (ablatedLogprob, ablatedContinuation) = Self.measure(model, tokens, spec: ablatedSpec, continuation: continuation)
        return Ablation(
            tokens: tokens, heads: heads.sorted(), mlps: mlps.sorted(), mode: mode, baselineLogprob: baseLogprob,
            ablatedLogprob: ablatedLogprob, baselineContinuation: baseContinuation, ablatedContinuation: ablatedContinuation)
    }

    /// The replacements: zeros, or each component's mean output over `tokens` (one recording pass).
    public static func intervention(
        model: any LanguageModel, tokens: [Int], heads: [Intervention.Head], mlps: [Int], mode: AblationMode
    ) throws -> Intervention {
        let c = model.config, hs = c.headSize, C = c.width, N = tokens.count
        // Also reached from trace files: every component is checked before a driver writes it.
        for h in heads where !(0..<c.layers).contains(h.layer) || !(0..<c.heads).contains(h.head) {
            throw AblationError.noSuchHead(h, layers: c.layers, heads: c.heads)
        }
        for l in mlps where !(0..<c.layers).contains(l) { throw AblationError.noSuchLayer(l, layers: c.layers) }
        guard N > 0 else { throw AblationError.tooShort(N) }
        var intervention = Intervention()
        guard mode == .mean else {
            for h in heads { intervention.heads[h] = [Float](repeating: 0, count: hs) }
            for l in mlps { intervention.mlps[l] = [Float](repeating: 0, count: C) }
            return intervention
        }
        var cache = model.makeCache()
        let records = model.forward(
            tokens, cache: &cache, capture: CaptureSpec(kinds: [.z, .mlpOut], layers: Set(heads.map(\.layer) + mlps)), allLogits: false
        ).records
        for h in heads {
            let z = records[RecordKind.z.name(layer: h.layer)]!  // [NH, N, hs]
            var mean = [Float](repeating: 0, count: hs)
            for p in 0..<N { for i in 0..<hs { mean[i] += z.scalars[(h.head * N + p) * hs + i] / Float(N) } }
            intervention.heads[h] = mean
        }
        for l in mlps {
            let out = records[RecordKind.mlpOut.name(layer: l)]!  // [N, C]
            var mean = [Float](repeating: 0, count: C)
            for p in 0..<N { for i in 0..<C { mean[i] += out.scalars[p * C + i] / Float(N) } }
            intervention.mlps[l] = mean
        }
        return intervention
    }

    /// Log-probabilities of each next token, then `continuation` greedy tokens, under `spec`.
    static func measure(_ model: any LanguageModel, _ tokens: [Int], spec: CaptureSpec, continuation: Int) -> ([Float], [Int]) {
        var cache = model.makeCache()
        let logits = model.forward(tokens, cache: &cache, capture: spec, allLogits: true).logits  // [N, V]
        let V = logits.shape[1]
        var logprob: [Float] = []
        for i in 0..<(tokens.count - 1) {
            logprob.append(Self.logSoftmax(Array(logits.scalars[(i * V)..<((i + 1) * V)]), at: tokens[i + 1]))
        }
        var next = Array(logits.scalars[((tokens.count - 1) * V)...])
        var continued: [Int] = []
        for _ in 0..<continuation {
            let token = next.indices.max { next[$0] < next[$1] }!
            continued.append(token)
            next = model.forward([token], cache: &cache, capture: spec, allLogits: false).logits.scalars
        }
        return (logprob, continued)
    }

    static func logSoftmax(_ row: [Float], at index: Int) -> Float {
        let top = row.max() ?? 0
        let sum = row.reduce(0.0) { $0 + exp(Double($1 - top)) }
        return Float(Double(row[index] - top) - log(sum))
    }

    /// Every head ablated in turn: the change in loss (ablated − baseline) over the predictions
    /// made from position `from` on, `[layers][heads]`.
    public static func eachHead(model: any LanguageModel, tokens: [Int], mode: AblationMode, from: Int = 0) throws -> [[Float]] {
        let c = model.config
        return try (0..<c.layers).map { l in
            try (0..<c.heads).map { h in
                let result = try run(model: model, tokens: tokens, heads: [.init(layer: l, head: h)], mode: mode, continuation: 0)
                return loss(result.ablatedLogprob, from: from) - loss(result.baselineLogprob, from: from)
            }
        }
    }
}

public enum AblationError: Error, CustomStringConvertible, LocalizedError {
    case notADecoder
    case tooShort(Int)
    case noSuchHead(Intervention.Head, layers: Int, heads: Int)
    case noSuchLayer(Int, layers: Int)
    case nothingChosen

    public var description: String {
        switch self {
        case .notADecoder:
            return
                "ablation measures how well a decoder predicts each next token; this model is an encoder or encoder–decoder: use a GPT-2 or Llama model"
        case .tooShort(let n):
            return "the text has \(n) token\(n == 1 ? "" : "s"): at least 2 are needed (one to predict the next)"
        case .noSuchHead(let h, let layers, let heads):
            return "there is no head \(h.layer).\(h.head): the model has layers 0 to \(layers - 1) and heads 0 to \(heads - 1)"
        case .noSuchLayer(let l, let layers):
            return "there is no layer \(l): the model has layers 0 to \(layers - 1)"
        case .nothingChosen:
            return "nothing to ablate: name heads (LAYER.HEAD) or MLPs (a layer)"
        }
    }

    public var errorDescription: String? { description }
}
