import Foundation
import Generation
import Tensors
import Transformer

/// Activation patching: run a corrupted prompt with one piece of a clean run's activations put
/// back, and see how much of the clean answer returns. The prompts must have the same number of
/// tokens (position p of one stands for position p of the other: "Mia gave the ball to" against
/// "Tom gave the ball to").
public struct Patching: Sendable {
    /// What is taken from the clean run.
    public enum Site: Sendable, Equatable {
        /// The residual stream leaving block `layer` at `position` (`blocks.L.resid_post`).
        case residual(layer: Int, position: Int)
        /// A head's output (`attn.z`) at every position.
        case head(layer: Int, head: Int)
    }

    /// The token whose probability is measured at the last position: the clean run's answer.
    public var answer: Int
    /// Its probability in the clean run, the corrupted run, and the corrupted run patched.
    public var clean: Float, corrupt: Float

    /// The share of the way back: (patched − corrupt) / (clean − corrupt); 1 = fully restored.
    public func restored(_ patched: Float) -> Float { abs(clean - corrupt) > 1e-9 ? (patched - corrupt) / (clean - corrupt) : 0 }

    let model: any LanguageModel
    let cleanTokens: [Int], corruptTokens: [Int]
    /// The clean run's records of every layer: `resid_post` `[N, C]` and `attn.z` `[NH, N, hs]`.
    let cleanRecords: [String: Tensor]

    /// Prepares patching from `clean` into `corrupt` for `answer` (default: the clean run's likeliest next token).
    public init(model: any LanguageModel, clean: [Int], corrupt: [Int], answer: Int? = nil) throws {
        let c = model.config
        guard c.isCausal, !c.isEncoderDecoder else { throw PatchingError.notADecoder }
        guard !clean.isEmpty, clean.count == corrupt.count else {
            throw PatchingError.lengthsDiffer(clean: clean.count, corrupt: corrupt.count)
        }
        guard clean.count <= c.contextLength else { throw GenerationError.promptTooLong(tokens: clean.count, context: c.contextLength) }
        for token in clean + corrupt where !(0..<c.vocabularySize).contains(token) {
            throw GenerationError.tokenOutOfRange(token, vocabulary: c.vocabularySize)
        }
        var cache = model.makeCache()
        let run = model.forward(clean, cache: &cache, capture: CaptureSpec(kinds: [.residPost, .z]), allLogits: false)
        let cleanProbabilities = softmax(run.logits.scalars)
        let answer = answer ?? cleanProbabilities.indices.max { cleanProbabilities[$0] < cleanProbabilities[$1] }!
        guard (0..<c.vocabularySize).contains(answer) else { throw GenerationError.tokenOutOfRange(answer, vocabulary: c.vocabularySize) }
        self.model = model
        cleanTokens = clean
        corruptTokens = corrupt
        cleanRecords = run.records
        self.answer = answer
        self.clean = cleanProbabilities[answer]
        self.corrupt = 0
        self.corrupt = probability(with: Intervention())
    }

    /// The answer's probability at the corrupted prompt's last position with `site` patched in.
    public func patched(_ site: Site) throws -> Float {
        let c = model.config, N = cleanTokens.count, hs = c.headSize, C = c.width
        var intervention = Intervention()
        switch site {
        case .residual(let layer, let position):
            guard (0..<c.layers).contains(layer) else { throw PatchingError.noSuchLayer(layer, layers: c.layers) }
            guard (0..<N).contains(position) else { throw PatchingError.noSuchPosition(position, count: N) }
            let rows = cleanRecords[RecordKind.residPost.name(layer: layer)]!
            intervention.residualAt[layer] = [position: Array(rows.scalars[(position * C)..<((position + 1) * C)])]
        case .head(let layer, let head):
            guard (0..<c.layers).contains(layer), (0..<c.heads).contains(head) else {
                throw PatchingError.noSuchHead(layer: layer, head: head, layers: c.layers, heads: c.heads)
            }
            let z = cleanRecords[RecordKind.z.name(layer: layer)]!
            var byPosition: [Int: [Float]] = [:]
            for p in 0..<N { byPosition[p] = Array(z.scalars[((head * N + p) * hs)..<((head * N + p + 1) * hs)]) }
            intervention.headsAt[Intervention.Head(layer: layer, head: head)] = byPosition
        }
        return probability(with: intervention)
    }

    func probability(with intervention: Intervention) -> Float {
        var spec = CaptureSpec.nothing
        spec.intervention = intervention
        var cache = model.makeCache()
        return softmax(model.forward(corruptTokens, cache: &cache, capture: spec, allLogits: false).logits.scalars)[answer]
    }

    /// The share restored by each layer's residual stream at each position, `[layers][positions]`.
    public func residualSweep() throws -> [[Float]] {
        try (0..<model.config.layers).map { l in
            try (0..<cleanTokens.count).map { restored(try patched(.residual(layer: l, position: $0))) }
        }
    }

    /// The share restored by each head's output (every position), `[layers][heads]`.
    public func headSweep() throws -> [[Float]] {
        try (0..<model.config.layers).map { l in try (0..<model.config.heads).map { restored(try patched(.head(layer: l, head: $0))) } }
    }
}

public enum PatchingError: Error, CustomStringConvertible, LocalizedError {
    case notADecoder
    case lengthsDiffer(clean: Int, corrupt: Int)
    case noSuchLayer(Int, layers: Int)
    case noSuchPosition(Int, count: Int)
    case noSuchHead(layer: Int, head: Int, layers: Int, heads: Int)

    public var description: String {
        switch self {
        case .notADecoder:
            return
                "patching measures a decoder's next-token probability; this model is an encoder or encoder–decoder: use a GPT-2 or Llama model"
        case .lengthsDiffer(let clean, let corrupt):
            return "the clean prompt has \(clean) tokens and the corrupted one \(corrupt): patching pairs position p with position p, "
                + "so they need the same number (change a word for one that is one token too, e.g. a name for a name)"
        case .noSuchLayer(let l, let layers): return "there is no layer \(l): the model has layers 0 to \(layers - 1)"
        case .noSuchPosition(let p, let count): return "there is no position \(p): the prompts have positions 0 to \(count - 1)"
        case .noSuchHead(let l, let h, let layers, let heads):
            return "there is no head \(l).\(h): the model has layers 0 to \(layers - 1) and heads 0 to \(heads - 1)"
        }
    }

    public var errorDescription: String? { description }
}
