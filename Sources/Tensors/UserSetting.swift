import Foundation

/// A setting that a library message may tell the user to change, and how messages name it.
///
/// The library cannot know how its caller exposes a setting: the command line has `--capture`,
/// a program using the library has a `CaptureRequest`. So messages name settings through this
/// table — plain words by default ("the capture list") — and `lantern` installs its flag names
/// once at start (`UserSetting.install`), so that the same error reads "--capture" there. Write
/// hints so that both read well: "set \(UserSetting.output) to another folder", "add x to \(UserSetting.capture)".
public enum UserSetting: String, Sendable, CaseIterable {
    case capture = "the capture list"
    case layers = "the recorded layers"
    case captureBudget = "the capture budget"
    case maxNewTokens = "the number of new tokens"
    case model = "the model"
    case tokenizer = "the tokenizer file"
    case output = "the output path"
    case traceFolder = "the trace folder"
    case weightFormat = "the weight format"
    case context = "the context length"
    case graphFormat = "the output format"
    case scatterWords = "the list of words for the scatter"
    case positions = "the number of positions"
    case positionScheme = "the position scheme"
    case layerCount = "the number of layers"
    case headCount = "the number of heads"
    case width = "the width"
    case objective = "the objective"
    case vocabularySize = "the vocabulary size"
    case steps = "the number of steps"
    case resume = "resuming"
    case batchSize = "the batch size"
    case learningRate = "the learning rate"
    case minimumLearningRate = "the minimum learning rate"
    case warmupSteps = "the warm-up steps"
    case weightDecay = "the weight decay"
    case gradientClip = "the gradient clip"
    case evaluationInterval = "the evaluation interval"
    case evaluationBatches = "the evaluation batches"
    case precision = "the product precision"

    private static let lock = NSLock()
    nonisolated(unsafe) private static var names: [UserSetting: String] = [:]

    /// Names settings from now on as `table` says (the others keep their plain words). Called
    /// once, before any work starts.
    public static func install(_ table: [UserSetting: String]) {
        lock.withLock { names = table }
    }

    /// How messages name this setting now.
    public var name: String { Self.lock.withLock { Self.names[self] } ?? rawValue }
}

extension UserSetting: CustomStringConvertible {
    public var description: String { name }
}
