import Foundation
import Tensors
import Tokenizers
import Transformer

/// Why generation ended.
public enum StopReason: String, Sendable, Codable {
    case maxTokens = "max_tokens"
    case endOfText = "eos"
    case stopString = "stop_string"
    case contextFull = "context_full"
}

public struct GenerationTiming: Sendable, Codable {
    public var loadSeconds: Double = 0
    public var prefillSeconds: Double = 0
    public var prefillTokensPerSecond: Double = 0
    public var decodeSeconds: Double = 0
    public var decodeTokensPerSecond: Double = 0
}

public struct GenerationResult: Sendable {
    public var promptIds: [Int]
    public var generatedIds: [Int]
    /// The generated text as printed (a stop string and everything after it removed).
    public var text: String
    public var stopReason: StopReason
    public var timing: GenerationTiming
    /// The sampling funnel of every generated token.
    public var steps: [SamplingStep]
}

public enum GenerationError: Error, CustomStringConvertible, LocalizedError {
    case promptTooLong(tokens: Int, context: Int)
    case badMaxNewTokens(Int)
    case tokenOutOfRange(Int, vocabulary: Int)
    case contextFull(Int)
    case nonFiniteLogits(position: Int, value: Float)
    /// Generation asked of an encoder (BERT), which reads a whole text and does not write one.
    case encoderDoesNotGenerate(family: String)
    /// An encoder–decoder whose config names no token for its decoder to start from.
    case noDecoderStart(family: String)
    /// Generation asked of a sequence classifier (an NLI model), which scores classes, not tokens.
    case classifierDoesNotGenerate(classes: [String])
    /// Switching heads off mid-run, asked of an encoder–decoder (its drivers do not apply interventions).
    case interventionNeedsDecoder

    public var description: String {
        switch self {
        case .interventionNeedsDecoder:
            return "switching heads off works on decoders (GPT-2, GPT-Neo, Llama); this model is an encoder–decoder"
        case .noDecoderStart(let family):
            return
                "this \(family) model's config.json names no decoder_start_token_id (nor a bos_token_id), so its decoder has nothing to start from; add the checkpoint's decoder_start_token_id to config.json"
        case .encoderDoesNotGenerate(let family):
            return
                "this model is an encoder (\(family)): it reads a whole text at once, every word attending to the words before and after it, and does not write text; fill in a blank with `lantern fill \"The cat sat on the [MASK].\"` (models with a masked-language head) or compare sentences with `lantern embed \"one sentence\" \"another\"`; attention, heads, lens and embeddings work on encoders too"
        case .classifierDoesNotGenerate(let classes):
            return
                "this model is a sequence classifier (classes: \(classes.joined(separator: ", "))): it scores a whole text, it does not write one; run it with `lantern classify \"text\" --labels a,b,c`"
        case .nonFiniteLogits(let position, let value):
            return
                "the model computed \(value) among the logits for position \(position): its weights or activations hold NaN or infinity (a damaged or mis-converted checkpoint), so no token can be chosen; check the weights file"
        case .promptTooLong(let tokens, let context):
            return "the prompt is \(tokens) tokens but the model's context holds \(context); shorten the prompt"
        case .badMaxNewTokens(let n):
            return "\(n) new tokens is out of range: generate 1 or more"
        case .tokenOutOfRange(let id, let vocabulary):
            return "token id \(id) is outside the vocabulary (0..<\(vocabulary)); the tokenizer does not belong to this model"
        case .contextFull(let context):
            return "the context window of \(context) tokens is full; undo a step or start again with a shorter prompt"
        }
    }
    public var errorDescription: String? { description }
}

/// Turns a prompt into the ids a model starts from.
public enum PromptEncoder {
    /// The tokenizer's own encoding (llama2.c's includes BOS `<s>`, as its reference does);
    /// an empty prompt starts from the beginning-of-text token (GPT-2: `<|endoftext|>`).
    public static func ids(for prompt: String, tokenizer: any Tokenizer) -> [Int] {
        let ids = tokenizer.encode(prompt)
        return ids.isEmpty ? [tokenizer.beginningOfText] : ids
    }
}

/// Generates text token by token: prefill the prompt as one matrix–matrix pass, then for each
/// new token sample from the logits, stream its text, and feed it back through the KV cache.
public final class Generator {
    public let model: any LanguageModel
    public let tokenizer: any Tokenizer

    public init(model: any LanguageModel, tokenizer: any Tokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// The id that ends generation: the checkpoint's own if it names one, else the tokenizer's.
    public var endOfTextId: Int { model.config.eosTokenId ?? tokenizer.endOfText }

    /// End-of-text, or (llama2.c models) a beginning-of-sequence token, which starts a new text.
    public func isEndOfText(_ token: Int) -> Bool {
        token == endOfTextId || (model.config.beginningOfSequenceEndsText && token == model.config.bosTokenId)
    }

    /// The prompt's ids, checked to fit the context and the vocabulary.
    public func encodePrompt(_ prompt: String) throws -> [Int] {
        // First, so that a command refusing an encoder has printed nothing yet.
        guard model.config.isCausal else { throw GenerationError.encoderDoesNotGenerate(family: model.config.family.displayName) }
        guard model.config.head != .sequenceClassification else {
            throw GenerationError.classifierDoesNotGenerate(classes: model.config.classLabels ?? [])
        }
        let promptIds = PromptEncoder.ids(for: prompt, tokenizer: tokenizer)
        let context = model.config.contextLength
        guard promptIds.count <= context else { throw GenerationError.promptTooLong(tokens: promptIds.count, context: context) }
        if let bad = promptIds.first(where: { $0 < 0 || $0 >= model.config.vocabularySize }) {
            throw GenerationError.tokenOutOfRange(bad, vocabulary: model.config.vocabularySize)
        }
        return promptIds
    }

    /// The token the model's generation config forces at this step, if any: BART writes
    /// `forced_bos_token_id` first and `forced_eos_token_id` when the length limit is reached
    /// (as transformers' ForcedBOS/ForcedEOS logits processors do).
    func forcedToken(session: GenerationSession, maxNewTokens: Int) -> Int? {
        let c = model.config
        if session.generatedIds.isEmpty, let first = c.forcedFirstTokenId { return first }
        if session.generatedIds.count == maxNewTokens - 1, let last = c.forcedLastTokenId { return last }
        return nil
    }

    /// Generates up to `maxNewTokens` tokens. With `ignoringEndOfText` the model's end-of-text
    /// token is never drawn (llama.cpp's `--ignore-eos`), so only the limit, a stop string or a
    /// full context window ends the text.
    public func generate(
        prompt: String, maxNewTokens: Int, settings: SamplingSettings, stopStrings: [String] = [],
        ignoringEndOfText: Bool = false, capture: CaptureSpec = .nothing,
        onText: (String) -> Void = { _ in }
    ) throws -> (result: GenerationResult, session: GenerationSession) {
        guard maxNewTokens >= 1 else { throw GenerationError.badMaxNewTokens(maxNewTokens) }
        let session = try GenerationSession(
            model: model, tokenizer: tokenizer, promptIds: try encodePrompt(prompt),
            settings: settings, capture: capture)
        if ignoringEndOfText {
            session.suppressedTokens = [endOfTextId]
            if model.config.beginningOfSequenceEndsText, let bos = model.config.bosTokenId { session.suppressedTokens.insert(bos) }
        }
        // Told the last prompt token, so llama2.c drops the leading space of a piece after <s> as run.c does.
        var decoder = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: true, following: session.decoderTokens.last)
        var filter = StopStringFilter(stops: stopStrings)
        var text = ""
        var stopReason = StopReason.maxTokens
        func emit(_ piece: String) {
            guard !piece.isEmpty else { return }
            text += piece
            onText(piece)
        }

        while true {
            // NaN or infinite logits have no meaningful softmax: say so instead of "sampling"
            // whatever the comparisons happen to pick (often end-of-text).
            if let bad = session.logits.first(where: { !$0.isFinite }) {
                throw GenerationError.nonFiniteLogits(position: session.tokens.count, value: bad)
            }
            let step = forcedToken(session: session, maxNewTokens: maxNewTokens).map(session.forcedStep) ?? session.sample()
            if isEndOfText(step.chosen) { session.recordFinalStep(step); stopReason = .endOfText; break }
            // The sequence never grows past the context.
            if session.isContextFull { stopReason = .contextFull; break }
            // Every kept token is run through the model, so a trace holds its attention row too.
            try session.accept(step)
            let (release, stopped) = filter.append(decoder.push(step.chosen))
            emit(release)
            if stopped { stopReason = .stopString; break }
            if session.generatedIds.count >= maxNewTokens { stopReason = .maxTokens; break }
        }
        if stopReason != .stopString {
            let (release, stopped) = filter.append(decoder.finish())
            emit(release)
            if !stopped { emit(filter.finish()) }
        }
        var timing = GenerationTiming()
        timing.prefillSeconds = session.prefillSeconds
        timing.prefillTokensPerSecond = Double(session.promptIds.count) / max(session.prefillSeconds, 1e-9)
        timing.decodeSeconds = session.decodeSeconds
        let decodeSteps = session.generatedIds.count
        timing.decodeTokensPerSecond = decodeSteps > 0 ? Double(decodeSteps) / max(session.decodeSeconds, 1e-9) : 0
        let result = GenerationResult(
            promptIds: session.promptIds, generatedIds: session.generatedIds,
            text: text, stopReason: stopReason, timing: timing, steps: session.steps)
        return (result, session)
    }
}
