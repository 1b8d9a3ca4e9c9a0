import Foundation
import Tensors
import Tokenizers
import Transformer

/// What a training run learns: the next token (a GPT-2 decoder), masked tokens (a BERT encoder)
/// or a pair's target from its source (a BART encoder–decoder).
public enum TrainingObjectiveKind: String, Sendable, CaseIterable {
    case nextToken = "next-token"
    case mlm
    case seq2seq

    /// Objectives whose tokenizer is a WordPiece vocabulary built from the text.
    public var usesWordPiece: Bool { self != .nextToken }

    /// The objective a checkpoint of `family` was trained for.
    public init(trainedFamily family: ModelFamily) {
        self = family == .bert ? .mlm : family == .bart ? .seq2seq : .nextToken
    }
}

/// A new model's shape: blocks, heads, width and context.
public struct ModelShape: Sendable, Equatable {
    public var layers: Int, heads: Int, width: Int, context: Int

    public init(layers: Int, heads: Int, width: Int, context: Int) {
        self.layers = layers; self.heads = heads; self.width = width; self.context = context
    }
}

/// The decisions `lantern train` makes before a run starts, in the order it makes them: the
/// objective (a checkpoint's own wins), the corpus as tokens, the shape (a checkpoint's wins),
/// and the run itself, fresh or resumed. Each refusal names the setting to change.
public enum TrainingPlan {
    /// A resumed or fine-tuned run keeps its checkpoint's objective; one asked for must agree.
    public static func objective(
        checkpoint: TransformerConfig?, asked: TrainingObjectiveKind?, source: String
    ) throws(TrainingPlanError) -> TrainingObjectiveKind {
        guard let checkpoint else { return asked ?? .nextToken }
        let kept = TrainingObjectiveKind(trainedFamily: checkpoint.family)
        if let asked, asked != kept { throw .objectiveDiffers(asked: asked, kept: kept, source: source) }
        return kept
    }

    /// A shape value given with a checkpoint must be the checkpoint's: it would be ignored silently.
    public static func checkShape(
        _ given: (layers: Int?, heads: Int?, width: Int?, context: Int?), checkpoint: TransformerConfig, source: String
    ) throws(TrainingPlanError) {
        for (setting, value, actual) in [
            (UserSetting.layerCount, given.layers, checkpoint.layers), (.headCount, given.heads, checkpoint.heads),
            (.width, given.width, checkpoint.width), (.context, given.context, checkpoint.contextLength)
        ] {
            if let value, value != actual { throw .shapeDiffers(setting, given: value, kept: actual, source: source) }
        }
    }

    /// The corpus as the objective reads it: an encoder's text as WordPiece ids, a translator's
    /// pairs joined as its format says, a decoder's text with its unscored spans (`scored`).
    public static func tokens(
        markedText: String, objective: TrainingObjectiveKind, tokenizer: any Tokenizer
    ) throws -> (ids: [Int32], scored: [Bool]?) {
        switch objective {
        case .mlm:
            guard let wordPiece = tokenizer as? WordPieceTokenizer else { throw TrainingPlanError.needsWordPiece(objective) }
            return (MaskedLanguageSetup.tokens(of: UnscoredSpans.strip(markedText), tokenizer: wordPiece), nil)
        case .seq2seq:
            guard let wordPiece = tokenizer as? WordPieceTokenizer else { throw TrainingPlanError.needsWordPiece(objective) }
            let pairs = try SequenceToSequenceSetup.pairs(of: UnscoredSpans.strip(markedText))
            return (
                SequenceToSequenceSetup.tokens(of: pairs, tokenizer: wordPiece, format: SequenceToSequenceSetup.format(for: wordPiece)), nil
            )
        case .nextToken:
            return try UnscoredSpans.tokens(of: markedText, tokenizer: tokenizer)
        }
    }

    /// Every id must have a row in the model.
    public static func checkVocabulary(_ ids: [Int32], vocabulary: Int) throws(TrainingPlanError) {
        if let bad = ids.first(where: { Int($0) >= vocabulary }) { throw .idOutsideVocabulary(Int(bad), vocabulary: vocabulary) }
    }

    /// A fresh run: from `start`'s weights (fine-tuning), or a new model of `shape` for the objective.
    public static func freshRun(
        objective: TrainingObjectiveKind, tokenizer: any Tokenizer, shape: ModelShape, settings: TrainingSettings,
        stream: TokenStream, startingFrom start: GPT2TrainingModel? = nil
    ) throws -> TrainingRun {
        if let start { return try TrainingRun(startingFrom: start, settings: settings, stream: stream) }
        var settings = settings
        switch objective {
        case .nextToken:
            return try TrainingRun(
                config: .gpt2(
                    layers: shape.layers, heads: shape.heads, width: shape.width, vocabularySize: tokenizer.vocabularySize,
                    contextLength: shape.context),
                settings: settings, stream: stream)
        case .mlm:
            guard let wordPiece = tokenizer as? WordPieceTokenizer else { throw TrainingPlanError.needsWordPiece(objective) }
            settings.objective = .maskedLanguage(try MaskedLanguageSetup.policy(for: wordPiece))
            return try TrainingRun(
                config: MaskedLanguageSetup.config(
                    layers: shape.layers, heads: shape.heads, width: shape.width, context: shape.context,
                    vocabulary: wordPiece.vocabularySize, padding: wordPiece.padding),
                settings: settings, stream: stream)
        case .seq2seq:
            guard let wordPiece = tokenizer as? WordPieceTokenizer else { throw TrainingPlanError.needsWordPiece(objective) }
            let format = SequenceToSequenceSetup.format(for: wordPiece)
            settings.objective = .sequenceToSequence(format)
            return try TrainingRun(
                config: SequenceToSequenceSetup.config(
                    layers: shape.layers, heads: shape.heads, width: shape.width, context: shape.context,
                    vocabulary: wordPiece.vocabularySize, format: format, padding: wordPiece.padding),
                settings: settings, stream: stream)
        }
    }

    /// The run saved in `folder`, its plan extended to `steps` when given (which must be more than
    /// the steps done), its products in `precision` when given; a finished run cannot go on
    /// without a longer plan.
    public static func resume(
        from folder: URL, stream: TokenStream, steps: Int?, precision: ProductPrecision? = nil
    ) throws
        -> TrainingRun
    {
        let run = try TrainingRun.resume(from: folder, stream: stream)
        if let precision { try run.setPrecision(precision) }
        if let steps, steps != run.settings.steps {
            guard steps > run.stepsDone else {
                throw TrainingPlanError.stepsNotMore(steps, done: run.stepsDone, plan: run.settings.steps, folder: folder.path)
            }
            try run.setTotalSteps(steps)
        }
        guard !run.isFinished else { throw TrainingPlanError.alreadyFinished(plan: run.settings.steps, folder: folder.path) }
        return run
    }
}

public enum TrainingPlanError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case objectiveDiffers(asked: TrainingObjectiveKind, kept: TrainingObjectiveKind, source: String)
    case shapeDiffers(UserSetting, given: Int, kept: Int, source: String)
    case idOutsideVocabulary(Int, vocabulary: Int)
    case needsWordPiece(TrainingObjectiveKind)
    case stepsNotMore(Int, done: Int, plan: Int, folder: String)
    case alreadyFinished(plan: Int, folder: String)
    case noRunToResume(folder: String)
    case runExists(folder: String)
    case cannotCreate(folder: String, reason: String)
    case notTheRunsTokenizer(given: String, folder: String)
    /// What should hold the tokenizer ("the run in …", "the tokenizer …") holds no WordPiece one.
    case noWordPiece(String)

    public var description: String {
        switch self {
        case .objectiveDiffers(let asked, let kept, let source):
            return "\(UserSetting.objective) \(asked.rawValue) differs from \(source) (\(kept.rawValue)); leave it out"
        case .shapeDiffers(let setting, let given, let kept, let source):
            let noun = [UserSetting.layerCount: "layers", .headCount: "heads", .width: "width", .context: "context"][setting] ?? ""
            return "\(setting) \(given) differs from \(source) (\(noun) \(kept)): its shape is kept; leave out \(setting)"
        case .idOutsideVocabulary(let id, let vocabulary):
            return "the tokenizer produced id \(id), outside the model's vocabulary of \(vocabulary): "
                + "use a tokenizer with at most \(vocabulary) entries, or a larger \(UserSetting.vocabularySize)"
        case .needsWordPiece(let objective):
            return "the \(objective.rawValue) objective needs a WordPiece tokenizer (one built from the text)"
        case .stepsNotMore(let steps, let done, let plan, let folder):
            return "\(UserSetting.steps) \(steps) is not more than the \(done) steps the run in \(folder) has done: "
                + "give a larger \(UserSetting.steps), or leave it out to keep the plan of \(plan)"
        case .alreadyFinished(let plan, let folder):
            return "the run in \(folder) already finished its \(plan) steps; pass a larger \(UserSetting.steps) to continue it"
        case .noRunToResume(let folder):
            return "\(UserSetting.resume): \(folder) holds no training run (no training.json); start one without \(UserSetting.resume)"
        case .runExists(let folder):
            return
                "\(folder) already holds a training run: pass \(UserSetting.resume) to continue it, or choose another \(UserSetting.output)"
        case .cannotCreate(let folder, let reason):
            return "cannot create \(folder): \(reason); choose another \(UserSetting.output)"
        case .notTheRunsTokenizer(let given, let folder):
            return "\(UserSetting.tokenizer) \(given) is not the tokenizer the run in \(folder) was trained with; "
                + "leave \(UserSetting.tokenizer) out when resuming"
        case .noWordPiece(let what):
            return "\(what) holds no WordPiece tokenizer (tokenizer.json or vocab.txt), which \(UserSetting.objective) mlm and seq2seq need"
        }
    }

    public var errorDescription: String? { description }
}
