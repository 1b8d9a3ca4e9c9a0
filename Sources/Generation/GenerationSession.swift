import Foundation
import Tensors
import Tokenizers
import Transformer

/// The records of one forward call: which positions it processed and what was captured.
public struct ForwardRecord: Sendable {
    /// First position processed (0 for the prompt's prefill).
    public var start: Int
    /// Number of positions processed.
    public var rows: Int
    /// Record name → tensor, shapes as documented on `RecordKind` (rows = the rows kept).
    public var records: [String: Tensor]
}

/// One sequence being generated step by step: the state that `generate`, the interactive
/// stepper and traces share. Prefill runs the prompt as one pass; each accepted token then
/// runs one cached pass. Every step can be undone, and the settings can change between steps.
///
/// An encoder–decoder reads the prompt with its encoder (once) and writes with its decoder,
/// which starts from the model's decoder start token: `promptIds` are the encoder's input,
/// `decoderTokens` the decoder's sequence (start token, then what was generated).
public final class GenerationSession {
    public let model: any LanguageModel
    public let tokenizer: any Tokenizer
    public let promptIds: [Int]
    /// What the decoder starts from before anything is generated: empty for a decoder-only model
    /// (its prompt is its start), the decoder start token for an encoder–decoder.
    public let decoderPrefix: [Int]
    /// Encoder–decoders: the encoder's records (`encoder.…`) and the cross-attention keys and
    /// values of the source (`blocks.L.cross_attn.k/v`), from its one pass over the prompt.
    public private(set) var encoderRecords: [String: Tensor] = [:]
    public private(set) var capture: CaptureSpec
    /// When the intervention changed during the run (the stepper's `off L.H`): before the
    /// generated token `step` (counted from 0) it became `intervention`. Replay repeats them.
    public private(set) var interventionChanges: [(step: Int, intervention: Intervention)] = []
    public private(set) var generatedIds: [Int] = []
    /// The sampling funnel of each generated token (forced tokens included, marked `forced`).
    public private(set) var steps: [SamplingStep] = []
    /// Next-token logits `[V]` for the position after the last token.
    public private(set) var logits: [Float]
    /// Records of every forward call, in order (empty when `capture` is empty).
    public private(set) var forwardRecords: [ForwardRecord] = []
    public private(set) var prefillSeconds: Double = 0
    public private(set) var decodeSeconds: Double = 0

    private var cache: KVCache
    private var sampler: Sampler
    /// What `undo` restores: the logits and random state before each accepted token.
    private var history: [(logits: [Float], random: RandomSource)] = []
    /// The random state before the latest `sample()`, so undoing a sampled token also undoes its draw.
    private var randomBeforeSample: RandomSource?

    /// The settings for the next draws. A new seed restarts the random sequence.
    public var settings: SamplingSettings {
        get { sampler.settings }
        set {
            let reseed = newValue.seed != sampler.settings.seed
            sampler.settings = newValue
            if reseed { sampler.random = RandomSource(seed: newValue.seed) }
        }
    }

    public init(
        model: any LanguageModel, tokenizer: any Tokenizer, promptIds: [Int],
        settings: SamplingSettings, capture: CaptureSpec = .nothing
    ) throws {
        guard model.config.isCausal else { throw GenerationError.encoderDoesNotGenerate(family: model.config.family.displayName) }
        try settings.validate()
        let context = model.config.contextLength
        guard !promptIds.isEmpty else { throw GenerationError.promptTooLong(tokens: 0, context: context) }
        guard promptIds.count <= context else { throw GenerationError.promptTooLong(tokens: promptIds.count, context: context) }
        if let bad = promptIds.first(where: { $0 < 0 || $0 >= model.config.vocabularySize }) {
            throw GenerationError.tokenOutOfRange(bad, vocabulary: model.config.vocabularySize)
        }
        self.model = model
        self.tokenizer = tokenizer
        self.promptIds = promptIds
        self.capture = capture
        self.sampler = Sampler(settings: settings)
        let start = Date()
        if model.config.isEncoderDecoder {
            guard let first = model.config.decoderStartTokenId ?? model.config.bosTokenId,
                let encoded = model.encode(source: promptIds, capture: capture)
            else { throw GenerationError.noDecoderStart(family: model.config.family.displayName) }
            cache = encoded.cache
            encoderRecords = encoded.records
            decoderPrefix = [first]
        } else {
            cache = model.makeCache()
            decoderPrefix = []
        }
        let firstIds = decoderPrefix.isEmpty ? promptIds : decoderPrefix
        let result = model.forward(firstIds, cache: &cache, capture: capture, allLogits: false)
        prefillSeconds = Date().timeIntervalSince(start)
        logits = result.logits.scalars
        if !capture.isEmpty { forwardRecords.append(ForwardRecord(start: 0, rows: firstIds.count, records: result.records)) }
    }

    /// The whole text so far: the prompt, then what was generated (for an encoder–decoder, the
    /// source, then the target without its start token).
    public var tokens: [Int] { promptIds + generatedIds }
    /// The sequence the decoder has run: `tokens` for a decoder-only model; the decoder start
    /// token, then what was generated, for an encoder–decoder. Its records' rows are these.
    public var decoderTokens: [Int] { decoderPrefix.isEmpty ? tokens : decoderPrefix + generatedIds }
    public var contextLength: Int { model.config.contextLength }
    /// True when no further token fits in the context window (the decoder's, for an encoder–decoder).
    public var isContextFull: Bool { decoderTokens.count >= contextLength }
    public var canUndo: Bool { !history.isEmpty }
    /// Ids never drawn (e.g. end-of-text, for `--ignore-eos`); the funnel shows them at probability 0.
    public var suppressedTokens: Set<Int> = []

    /// Draws the next token from the current logits (advancing the random generator) without
    /// taking it; pass the step to `accept` to take it.
    public func sample() -> SamplingStep {
        randomBeforeSample = sampler.random
        return sampler.sample(logits: samplableLogits)
    }

    /// The logits with every id the tokenizer has no piece for set to −∞: a model's vocabulary may
    /// be padded past its tokenizer's (e.g. 50,304 rows for GPT-2's 50,257 tokens), and an id with
    /// no text must never be chosen.
    var samplableLogits: [Float] {
        let pieces = tokenizer.vocabularySize
        guard pieces < logits.count || !suppressedTokens.isEmpty else { return logits }
        var masked = logits
        for id in min(pieces, logits.count)..<logits.count { masked[id] = -.infinity }
        for id in suppressedTokens where masked.indices.contains(id) { masked[id] = -.infinity }
        return masked
    }

    /// What `sample()` would draw now, without advancing the random generator (the stepper shows
    /// this proposal, and the learner may still change the settings before taking it).
    public func preview() -> SamplingStep {
        var copy = sampler
        return copy.sample(logits: samplableLogits)
    }

    /// A step for a token the learner chose (a listed candidate or a typed token): the funnel of
    /// the current distribution with that token marked as chosen, no random draw.
    public func forcedStep(_ token: Int) -> SamplingStep {
        var greedy = Sampler(settings: SamplingSettings(greedy: true))
        var step = greedy.sample(logits: logits)
        let probabilities = softmax(logits)
        step.settings = settings
        step.chosen = token
        step.chosenProbability = probabilities[token]
        step.chosenRank = logits.reduce(1) { $1 > logits[token] ? $0 + 1 : $0 }
        step.marginToRunnerUp = nil
        step.forced = true
        return step
    }

    /// Takes `step.chosen` as the next token and runs it through the model.
    public func accept(_ step: SamplingStep) throws {
        guard !isContextFull else { throw GenerationError.contextFull(contextLength) }
        guard (0..<model.config.vocabularySize).contains(step.chosen) else {
            throw GenerationError.tokenOutOfRange(step.chosen, vocabulary: model.config.vocabularySize)
        }
        history.append((logits, step.forced ? sampler.random : (randomBeforeSample ?? sampler.random)))
        randomBeforeSample = nil
        steps.append(step)
        generatedIds.append(step.chosen)
        let start = Date()
        let position = cache.count
        let result = model.forward([step.chosen], cache: &cache, capture: capture, allLogits: false)
        decodeSeconds += Date().timeIntervalSince(start)
        logits = result.logits.scalars
        if !capture.isEmpty { forwardRecords.append(ForwardRecord(start: position, rows: 1, records: result.records)) }
    }

    /// Switches components off (or back on) from here on. The whole sequence so far is run again
    /// under the new intervention, so the next choice already reflects it (and the records are
    /// those of the re-run); undo cannot go back past this point. Decoders only.
    public func setIntervention(_ intervention: Intervention) throws {
        guard !model.config.isEncoderDecoder else { throw GenerationError.interventionNeedsDecoder }
        capture.intervention = intervention
        var fresh = model.makeCache()
        let rows = decoderTokens
        let result = model.forward(rows, cache: &fresh, capture: capture, allLogits: false)
        cache = fresh
        logits = result.logits.scalars
        forwardRecords = capture.isEmpty ? [] : [ForwardRecord(start: 0, rows: rows.count, records: result.records)]
        history.removeAll()
        randomBeforeSample = nil
        interventionChanges.append((generatedIds.count, intervention))
    }

    /// Records a step that ended generation without being fed back (the end-of-text token).
    public func recordFinalStep(_ step: SamplingStep) {
        steps.append(step)
    }

    /// Takes back the last accepted token: its cache entries, records, funnel and random draw.
    @discardableResult
    public func undo() -> Bool {
        guard let previous = history.popLast() else { return false }
        // Drop a trailing end-of-text step too, which was never fed back.
        if steps.count > generatedIds.count { steps.removeLast() }
        steps.removeLast()
        generatedIds.removeLast()
        cache.truncate(to: cache.count - 1)
        if !capture.isEmpty { forwardRecords.removeLast() }
        logits = previous.logits
        sampler.random = previous.random
        return true
    }
}
