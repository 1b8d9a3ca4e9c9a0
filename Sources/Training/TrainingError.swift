import Tensors
import Foundation

/// Problems with a training run's inputs, shapes or checkpoints, each saying what to do instead.
public enum TrainingError: Error, CustomStringConvertible, LocalizedError, Equatable {
    case unsupportedModel(folder: String, problem: String)
    /// The tokenised corpus cannot fill one training window and one validation window.
    case corpusTooSmall(tokens: Int, needed: Int, context: Int)
    /// A model shape that cannot be built (e.g. width not divisible by heads).
    case impossibleShape(String)
    /// A setting outside its range (named as `UserSetting` says: the command line names its flag).
    case badSetting(UserSetting, value: String, expected: String)
    /// `--resume` pointed at a checkpoint made for another shape or tokenizer.
    case incompatibleCheckpoint(folder: String, problem: String)
    /// A checkpoint folder that is missing a file or holds an unreadable one.
    case unreadableCheckpoint(folder: String, problem: String)
    /// A checkpoint could not be saved (the previous one is left whole).
    case unwritableCheckpoint(folder: String, problem: String)
    /// A line of a sequence-to-sequence corpus that is not `source<TAB>target`.
    case badPairs(line: Int, text: String)
    /// An unscored-span mark (U+E000 … U+E001, `UnscoredSpans`) out of place, at this byte of the text.
    case unbalancedUnscoredMark(byteOffset: Int)
    /// A product precision the run's family has not been built for (bf16 for an encoder–decoder).
    case precisionNotBuilt(ProductPrecision, objective: TrainingObjectiveKind)

    public var description: String {
        switch self {
        case .unsupportedModel(let folder, let problem):
            return
                "\(folder): cannot train this model: \(problem); training supports GPT-2 with tied embeddings, BERT with its masked-language head and BART"
        case .corpusTooSmall(let tokens, let needed, let context):
            return "the corpus is too small: \(tokens) tokens, but a context of \(context) needs at least \(needed) "
                + "(one training and one validation window); add text or lower \(UserSetting.context)"
        case .impossibleShape(let problem):
            return "impossible model shape: \(problem)"
        case .badSetting(let setting, let value, let expected):
            return "\(setting) \(value) is out of range: expected \(expected)"
        case .incompatibleCheckpoint(let folder, let problem):
            return
                "cannot resume from \(folder): \(problem); start a new run in another folder (set \(UserSetting.output)), or resume with the same settings"
        case .unreadableCheckpoint(let folder, let problem):
            return "cannot read the checkpoint in \(folder): \(problem)"
        case .badPairs(let line, let text):
            return
                "line \(line) (\"\(text)\") is not a pair: a sequence-to-sequence corpus has one source and one target per line, separated by a tab (`lantern corpus` writes the toy translation's pairs)"
        case .unbalancedUnscoredMark(let offset):
            return
                "the training text has an unscored-span mark out of place at byte \(offset): spans a model reads but is not trained to write open with U+E000 and close with U+E001, in pairs and never nested (the teaching corpus writes them where it is asked to mark unscored spans); fix or remove the marks"
        case .precisionNotBuilt(let precision, let objective):
            return
                "\(UserSetting.precision) \(precision.rawValue) is built for next-token and mlm runs so far; this is a \(objective.rawValue) run: use \(UserSetting.precision) f32, or leave it out"
        case .unwritableCheckpoint(let folder, let problem):
            return
                "cannot save a checkpoint in \(folder): \(problem); the previous checkpoint there is unchanged (free space, or set \(UserSetting.output) to another folder)"
        }
    }

    public var errorDescription: String? { description }
}
