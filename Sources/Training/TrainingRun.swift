import Foundation
import Tensors
import Transformer

/// How a run trains: optimiser, schedule, batches and how often it evaluates and saves.
public struct TrainingSettings: Codable, Sendable, Equatable {
    /// Optimiser updates in the whole run.
    public var steps: Int = 2000
    /// Windows per batch.
    public var batchSize: Int = 16
    /// Peak learning rate, reached after `warmupSteps`; cosine decay to `minLearningRate` at `steps`.
    public var learningRate: Float = 1e-3
    public var minLearningRate: Float = 1e-4
    public var warmupSteps: Int = 100
    public var weightDecay: Float = 0.1
    /// Gradients are scaled down to this global norm when larger.
    public var gradientClip: Float = 1
    /// Validation loss every this many steps (and at the end).
    public var evaluationInterval: Int = 100
    /// Validation batches averaged for one validation loss.
    public var evaluationBatches: Int = 8
    /// Seed of the initial weights and of the batch order.
    public var seed: UInt64 = 1337
    /// What the run teaches; nil (files from before encoders) means the next token.
    public var objective: TrainingObjective? = nil
    /// Training's matrix products, linear layers and attention (`ProductPrecision`). Saved only
    /// when not f32: nil is f32, so files from before this setting read unchanged.
    public var precision: ProductPrecision? = nil

    public init() {}

    /// Checks every value; the first problem is thrown.
    public func validate() throws {
        func check(_ ok: Bool, _ setting: UserSetting, _ value: Any, _ expected: String) throws {
            if !ok { throw TrainingError.badSetting(setting, value: "\(value)", expected: expected) }
        }
        try check(steps >= 1 && steps <= 10_000_000, .steps, steps, "1 to 10,000,000")
        try check(batchSize >= 1 && batchSize <= 4096, .batchSize, batchSize, "1 to 4,096")
        try check(learningRate > 0 && learningRate <= 1 && learningRate.isFinite, .learningRate, learningRate, "a number in (0, 1]")
        try check(minLearningRate >= 0 && minLearningRate <= learningRate, .minimumLearningRate, minLearningRate, "0 … the learning rate")
        try check(warmupSteps >= 0, .warmupSteps, warmupSteps, "0 or more")
        try check(weightDecay >= 0 && weightDecay < 1, .weightDecay, weightDecay, "0 ≤ decay < 1")
        try check(gradientClip > 0, .gradientClip, gradientClip, "a positive number")
        try check(evaluationInterval >= 1, .evaluationInterval, evaluationInterval, "1 or more")
        try check(evaluationBatches >= 1, .evaluationBatches, evaluationBatches, "1 or more")
    }

    /// The schedule these settings describe (warm-up shortened on runs too short for it).
    public var schedule: LearningRateSchedule {
        LearningRateSchedule(
            maxRate: learningRate, minRate: minLearningRate,
            warmupSteps: min(warmupSteps, steps - 1), totalSteps: steps)
    }
}

/// One line of a run's log.
public struct TrainingLogEntry: Codable, Sendable, Equatable {
    /// The update this entry describes, counting from 1.
    public var step: Int
    /// Mean cross-entropy of the step's batch (nats per token), before the update.
    public var loss: Float
    public var learningRate: Float
    /// Global gradient norm before clipping.
    public var gradientNorm: Float
    /// Training tokens per second over this step.
    public var tokensPerSecond: Double
    /// Validation loss, on the steps that evaluate.
    public var validationLoss: Float?
}

/// A training run in memory: the model, the optimiser, the data and the log, with the buffers for
/// one batch allocated once. `step()` trains one batch; `save(to:)` and `resume(from:)` make it
/// survive interruptions. A GPT-2 learns the next token; a BERT, masked tokens (`objective`).
public final class TrainingRun {
    public let config: TransformerConfig
    public private(set) var settings: TrainingSettings
    public private(set) var log: [TrainingLogEntry] = []
    /// Seconds spent training, over every session of this run.
    public private(set) var trainingSeconds: Double = 0
    public let stream: TokenStream
    private let trainer: any TrainingDriver

    /// Updates made so far.
    public var stepsDone: Int { trainer.updates }
    public var isFinished: Bool { stepsDone >= settings.steps }
    /// Tokens per batch.
    public var tokensPerStep: Int { settings.batchSize * config.contextLength }
    public var objective: TrainingObjective { settings.objective ?? .nextToken }
    /// Every parameter, in the family's flat layout.
    public var parameterValues: [Float] { trainer.parameterValues }

    /// The parameters in `kind`'s layout (the run's family).
    public func parameters<Kind: ParameterTensorKind>(_ kind: Kind.Type) -> FlatParameters<Kind> {
        var parameters = FlatParameters<Kind>(zerosFor: config)
        parameters.values = trainer.parameterValues
        return parameters
    }

    /// A fresh run: weights initialised as the family does, from `settings.seed`.
    public convenience init(config: TransformerConfig, settings: TrainingSettings, stream: TokenStream) throws {
        try Self.validate(config, objective: settings.objective ?? .nextToken)
        try settings.validate()
        switch config.family {
        case .bert: try self.init(startingFrom: BertTrainingModel(config: config, seed: settings.seed), settings: settings, stream: stream)
        case .bart:
            try self.init(startingFrom: Seq2SeqTrainingModel(config: config, seed: settings.seed), settings: settings, stream: stream)
        default: try self.init(startingFrom: GPT2TrainingModel(config: config, seed: settings.seed), settings: settings, stream: stream)
        }
    }

    /// A fresh run that starts from the weights of `model` (fresh optimiser state, step 0), e.g. a
    /// checkpoint made elsewhere that a comparison must start from exactly.
    public convenience init<Model: TrainableModel>(startingFrom model: Model, settings: TrainingSettings, stream: TokenStream) throws {
        try Self.validate(model.config, objective: settings.objective ?? .nextToken)
        try settings.validate()
        try Self.check(settings.precision ?? .f32, for: model.config)
        let trainer = ModelTrainer(
            model: model, optimizer: AdamW(for: model.parameters, settings: Self.adamW(settings)), B: settings.batchSize,
            T: model.config.contextLength)
        self.init(trainer: trainer, settings: settings, stream: stream, log: [], seconds: 0)
    }

    private init(trainer: any TrainingDriver, settings: TrainingSettings, stream: TokenStream, log: [TrainingLogEntry], seconds: Double) {
        self.config = trainer.config
        self.trainer = trainer; self.settings = settings; self.stream = stream
        self.log = log; self.trainingSeconds = seconds
        trainer.setProducts(settings.precision ?? .f32)
    }

    /// bf16 products are built into GPT-2's and BERT's training so far; the encoder–decoder runs f32
    /// (its pairs run one at a time: products of a few dozen rows, which bf16 would barely speed up).
    static func check(_ precision: ProductPrecision, for config: TransformerConfig) throws {
        guard precision == .f32 || config.family == .gpt2 || config.family == .bert else {
            throw TrainingError.precisionNotBuilt(precision, objective: TrainingObjectiveKind(trainedFamily: config.family))
        }
    }

    /// Runs the rest of the run's products in `precision` (a resumed run may change it: the
    /// weights and the optimiser's state are float32 either way).
    public func setPrecision(_ precision: ProductPrecision) throws {
        try Self.check(precision, for: config)
        settings.precision = precision == .f32 ? nil : precision
        trainer.setProducts(precision)
    }

    static func adamW(_ settings: TrainingSettings) -> AdamWSettings {
        AdamWSettings(beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: settings.weightDecay)
    }

    /// Shapes the trainer can build: GPT-2 learning the next token, or BERT learning masked
    /// tokens; positive sizes, width divisible by heads.
    public static func validate(_ config: TransformerConfig, objective: TrainingObjective = .nextToken) throws {
        switch (config.family, objective) {
        case (.gpt2, .nextToken):
            guard config.tiedEmbeddings else { throw TrainingError.impossibleShape("training builds GPT-2 models with tied embeddings") }
        case (.bert, .maskedLanguage):
            if let problem = BertParameterTensor.unsupported(config) { throw TrainingError.impossibleShape(problem) }
        case (.bart, .sequenceToSequence):
            if let problem = Seq2SeqParameterTensor.unsupported(config) { throw TrainingError.impossibleShape(problem) }
        default:
            throw TrainingError.impossibleShape(
                "training builds GPT-2 decoders learning the next token, BERT encoders learning masked tokens and BART encoder–decoders learning pairs"
            )
        }
        guard config.layers >= 1, config.heads >= 1, config.width >= 1, config.contextLength >= 2, config.vocabularySize >= 2 else {
            throw TrainingError.impossibleShape(
                "layers, heads and width must be at least 1, the context and the vocabulary at least 2 "
                    + "(got \(config.layers) layers, \(config.heads) heads, width \(config.width), context \(config.contextLength), vocabulary \(config.vocabularySize))"
            )
        }
        guard config.width % config.heads == 0 else {
            throw TrainingError.impossibleShape(
                "width \(config.width) is not divisible by \(config.heads) heads; "
                    + "pick a width that is a multiple of the head count, e.g. \(config.heads * max(1, config.width / config.heads))")
        }
    }

    // MARK: Training

    /// Trains one batch: forward, backward, clipping, AdamW. Evaluates when the step calls for it.
    @discardableResult
    public func step() -> TrainingLogEntry {
        let started = DispatchTime.now().uptimeNanoseconds
        let index = stepsDone
        let T = config.contextLength, B = settings.batchSize
        let windows = stream.trainingBatch(B: B, T: T, step: index, seed: settings.seed)
        let batch = objective.batch(windows, B: B, T: T, step: index, seed: settings.seed)
        let rate = settings.schedule.rate(at: index)
        let (loss, norm) = trainer.train(inputs: batch.inputs, targets: batch.targets, learningRate: rate, clip: settings.gradientClip)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        trainingSeconds += seconds
        var entry = TrainingLogEntry(
            step: index + 1, loss: loss, learningRate: rate, gradientNorm: norm,
            tokensPerSecond: Double(tokensPerStep) / seconds, validationLoss: nil)
        if entry.step % settings.evaluationInterval == 0 || entry.step == settings.steps {
            entry.validationLoss = validationLoss()
        }
        log.append(entry)
        return entry
    }

    /// Mean loss over the fixed validation batches.
    public func validationLoss() -> Float {
        let B = settings.batchSize, T = config.contextLength
        let batches = stream.validationBatches(B: B, T: T, count: settings.evaluationBatches)
        var total: Float = 0
        for (index, windows) in batches.enumerated() {
            // The same masks every time: validation losses at different steps compare like with like.
            let batch = objective.batch(windows, B: B, T: T, step: -1 - index, seed: settings.seed)
            total += trainer.loss(inputs: batch.inputs, targets: batch.targets)
        }
        return total / Float(batches.count)
    }

    /// Extends (or shortens, not below the steps done) the run; the schedule stretches with it.
    public func setTotalSteps(_ steps: Int) throws {
        var changed = settings
        changed.steps = steps
        try changed.validate()
        guard steps > stepsDone else {
            throw TrainingError.badSetting(.steps, value: "\(steps)", expected: "more than the \(stepsDone) steps already done")
        }
        settings = changed
    }

    /// Attention patterns of `tokens` (at most the context), one `[head, query, key]` tensor per layer.
    public func attentionPatterns(_ tokens: [Int32]) -> [Tensor] {
        let records = trainer.records(of: tokens, capture: CaptureSpec(kinds: [.pattern]))
        // An encoder–decoder shows its encoder reading the tokens.
        let layers = config.isEncoderDecoder ? config.encoderLayers : config.layers
        return (0..<layers).map { records[RecordKind.pattern.name(layer: $0)]! }
    }

    // MARK: Checkpoints

    static let stateFile = "training.json", optimizerFile = "optimizer.safetensors"

    /// What `training.json` holds besides the weights.
    struct State: Codable {
        var format = 1
        /// `bert` for an encoder; absent (files from before encoders) for GPT-2.
        var family: String?
        var step: Int
        var settings: TrainingSettings
        var layers: Int, heads: Int, width: Int, context: Int, vocabularySize: Int
        var trainingSeconds: Double
        var log: [TrainingLogEntry]
    }

    /// Saves the model (`config.json` + `model.safetensors`, loadable with `--model`), the optimiser's
    /// moments and `training.json` into `folder` as one unit (`CheckpointUnit`): however the save
    /// is interrupted, the folder holds a whole checkpoint from one step. The step is also stamped
    /// in every file, so a set mixed by hand is still caught on resume.
    public func save(to folder: URL) throws {
        let stamp = ["format": "pt", "lantern.step": "\(stepsDone)"]
        let moments = trainer.moments
        let state = State(
            family: config.family == .gpt2 ? nil : config.family.rawValue, step: stepsDone, settings: settings, layers: config.layers,
            heads: config.heads, width: config.width,
            context: config.contextLength, vocabularySize: config.vocabularySize,
            trainingSeconds: trainingSeconds, log: log)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try CheckpointUnit.save(into: folder) { staging in
            try SafetensorsFile.write(
                [
                    ("adam.m", [moments.m.count], moments.m),
                    ("adam.v", [moments.v.count], moments.v)
                ],
                metadata: stamp, to: staging.appendingPathComponent(Self.optimizerFile))
            try trainer.export(to: staging, metadata: stamp)
            try encoder.encode(state).write(to: staging.appendingPathComponent(Self.stateFile))
        }
    }

    /// Whether `folder` holds a run to resume.
    /// (A save that was interrupted after its commit is finished first.)
    public static func hasCheckpoint(in folder: URL) -> Bool {
        try? CheckpointUnit.recover(folder)
        return FileManager.default.fileExists(atPath: folder.appendingPathComponent(stateFile).path)
    }

    /// The shape a checkpoint was trained with (for checking a resume against the command line).
    public static func checkpointConfig(in folder: URL) throws -> TransformerConfig {
        let state = try readState(folder)
        if state.family == ModelFamily.bert.rawValue || state.family == ModelFamily.bart.rawValue {
            do { return try HuggingFaceConfig.load(folder.appendingPathComponent("config.json")) } catch {
                throw TrainingError.unreadableCheckpoint(folder: folder.path, problem: "\(error)")
            }
        }
        return .gpt2(
            layers: state.layers, heads: state.heads, width: state.width,
            vocabularySize: state.vocabularySize, contextLength: state.context)
    }

    private static func readState(_ folder: URL) throws -> State {
        let url = folder.appendingPathComponent(stateFile)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw TrainingError.unreadableCheckpoint(folder: folder.path, problem: "\(stateFile) is missing")
        }
        let state: State
        do { state = try JSONDecoder().decode(State.self, from: data) } catch {
            throw TrainingError.unreadableCheckpoint(
                folder: folder.path, problem: "\(stateFile) is not a Lantern training state: \(PlainError.decoding(error, in: data))")
        }
        // Its values were never typed as flags: a bad one is the file's fault, named as such.
        do { try state.settings.validate() } catch TrainingError.badSetting(let setting, let value, let expected) {
            throw TrainingError.unreadableCheckpoint(
                folder: folder.path,
                problem: "\(stateFile) holds \(setting.rawValue) \(value), expected \(expected) (an edited or foreign file)")
        }
        guard (0...state.settings.steps).contains(state.step) else {
            throw TrainingError.unreadableCheckpoint(
                folder: folder.path,
                problem: "\(stateFile) says step \(state.step) of a \(state.settings.steps)-step plan")
        }
        return state
    }

    /// Continues the run saved in `folder` on `stream` (which must use the same tokenizer).
    public static func resume(from folder: URL, stream: TokenStream) throws -> TrainingRun {
        try CheckpointUnit.recover(folder)
        let state = try readState(folder)
        switch state.family {
        case nil, ModelFamily.gpt2.rawValue: return try resume(GPT2TrainingModel.self, from: folder, state: state, stream: stream)
        case ModelFamily.bert.rawValue: return try resume(BertTrainingModel.self, from: folder, state: state, stream: stream)
        case ModelFamily.bart.rawValue: return try resume(Seq2SeqTrainingModel.self, from: folder, state: state, stream: stream)
        case let other?:
            throw TrainingError.unreadableCheckpoint(folder: folder.path, problem: "\(stateFile) names the family \"\(other)\"")
        }
    }

    private static func resume<Model: TrainableModel>(
        _ type: Model.Type, from folder: URL, state: State, stream: TokenStream
    ) throws -> TrainingRun {
        let model: Model
        let optimizerFile: SafetensorsFile
        do {
            model = try Model(huggingFaceFolder: folder)
            optimizerFile = try SafetensorsFile(url: folder.appendingPathComponent(Self.optimizerFile))
        } catch let error as TrainingError {
            throw error
        } catch {
            throw TrainingError.unreadableCheckpoint(folder: folder.path, problem: "\(error)")
        }
        let config = model.config
        guard config.layers == state.layers, config.width == state.width, config.heads == state.heads,
            config.contextLength == state.context, config.vocabularySize == state.vocabularySize
        else {
            throw TrainingError.unreadableCheckpoint(folder: folder.path, problem: "config.json and \(stateFile) describe different models")
        }
        let store = WeightStore(files: [optimizerFile], strippingPrefixes: [])
        let stamps = [
            optimizerFile.metadata["lantern.step"],
            try? SafetensorsFile(url: folder.appendingPathComponent("model.safetensors")).metadata["lantern.step"]
        ]
        guard stamps.allSatisfy({ $0 == "\(state.step)" }) else {
            throw TrainingError.unreadableCheckpoint(
                folder: folder.path,
                problem: "its files come from different steps (an interrupted save); delete the folder and start again")
        }
        var m = FlatParameters<Model.Kind>(zerosFor: config), v = m
        do {
            m.values = try store.tensor("adam.m", shape: [m.values.count])
            v.values = try store.tensor("adam.v", shape: [v.values.count])
        } catch {
            throw TrainingError.unreadableCheckpoint(folder: folder.path, problem: "\(Self.optimizerFile): \(error)")
        }
        // Like every saved setting, a precision this family does not run is the file's fault.
        do { try check(state.settings.precision ?? .f32, for: config) } catch {
            throw TrainingError.unreadableCheckpoint(
                folder: folder.path,
                problem:
                    "\(stateFile) asks for \(state.settings.precision?.rawValue ?? "f32") products, which this run's family does not have (an edited or foreign file)"
            )
        }
        let optimizer = AdamW(m: m, v: v, step: state.step, settings: adamW(state.settings))
        let trainer = ModelTrainer(model: model, optimizer: optimizer, B: state.settings.batchSize, T: config.contextLength)
        return TrainingRun(trainer: trainer, settings: state.settings, stream: stream, log: state.log, seconds: state.trainingSeconds)
    }
}
