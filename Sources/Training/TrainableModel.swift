import Foundation
import Tensors
import Transformer

/// A family's training model as a run drives it: flat parameters, its activations, the forward
/// pass with its loss and the backward pass (GPT2TrainingModel, BertTrainingModel).
public protocol TrainableModel: Sendable {
    associatedtype Kind: ParameterTensorKind
    associatedtype Activations: AnyObject
    var config: TransformerConfig { get }
    var parameters: FlatParameters<Kind> { get set }
    /// The precision of the linear layers' and attention's products (GPT-2 and BERT so far;
    /// `TrainingRun.check`).
    var products: ProductPrecision { get set }
    init(config: TransformerConfig, seed: UInt64)
    init(huggingFaceFolder: URL) throws
    static func activations(config: TransformerConfig, B: Int, T: Int) -> Activations
    /// A buffer for the activations' gradients: the same layout, without what no backward reads.
    static func activationGradients(config: TransformerConfig, B: Int, T: Int) -> Activations
    func forward(inputs: [Int32], targets: [Int32]?, activations: Activations) -> Float?
    func backward(
        inputs: [Int32], targets: [Int32], activations: Activations, activationGradients: Activations,
        gradients: inout FlatParameters<Kind>)
    func records(of tokens: [Int32], capture: CaptureSpec) -> [String: Tensor]
    func exportHuggingFace(to folder: URL, metadata: [String: String]) throws
}

extension TrainableModel {
    /// Float32 products: the families whose passes take no precision yet (the encoder–decoder).
    public var products: ProductPrecision {
        get { .f32 }
        set { precondition(newValue == .f32, "\(Self.self): bf16 products are built for GPT-2 and BERT training only") }
    }

    /// The same layout as the activations, unless the family leaves something out.
    public static func activationGradients(config: TransformerConfig, B: Int, T: Int) -> Activations {
        activations(config: config, B: B, T: T)
    }
}

extension GPT2TrainingModel: TrainableModel {
    public static func activations(config: TransformerConfig, B: Int, T: Int) -> GPT2Activations {
        GPT2Activations(config: config, B: B, T: T)
    }

    public static func activationGradients(config: TransformerConfig, B: Int, T: Int) -> GPT2Activations {
        GPT2Activations(config: config, B: B, T: T, forGradients: true)
    }
}

extension BertTrainingModel: TrainableModel {
    public static func activations(config: TransformerConfig, B: Int, T: Int) -> BertActivations {
        BertActivations(config: config, B: B, T: T)
    }

    public static func activationGradients(config: TransformerConfig, B: Int, T: Int) -> BertActivations {
        BertActivations(config: config, B: B, T: T, forGradients: true)
    }
}

/// A sequence-to-sequence batch is `[B, P]` rows of sources (`inputs`) and labels (`targets`),
/// −1 padded (`PairFormat.pairs`); the pairs run one at a time through one pair's activations.
extension Seq2SeqTrainingModel: TrainableModel {
    public static func activations(config: TransformerConfig, B: Int, T: Int) -> Seq2SeqActivations {
        Seq2SeqActivations(config: config)
    }

    public func forward(inputs: [Int32], targets: [Int32]?, activations: Seq2SeqActivations) -> Float? {
        forward(inputs: inputs, targets: targets, B: inputs.count / config.contextLength, activations: activations)
    }

    public func backward(
        inputs: [Int32], targets: [Int32], activations: Seq2SeqActivations, activationGradients: Seq2SeqActivations,
        gradients: inout Seq2SeqParameters
    ) {
        backward(
            inputs: inputs, targets: targets, B: inputs.count / config.contextLength, activations: activations,
            activationGradients: activationGradients, gradients: &gradients)
    }

    /// Attention snapshots show the encoder reading `tokens` (its records under the plain names).
    public func records(of tokens: [Int32], capture: CaptureSpec) -> [String: Tensor] {
        let pair = SequencePair(source: tokens.map(Int.init), labels: [config.eosTokenId ?? 0])
        var plain: [String: Tensor] = [:]
        for (name, tensor) in records(of: pair, capture: capture) where name.hasPrefix(RecordKind.encoderScope) {
            plain[String(name.dropFirst(RecordKind.encoderScope.count))] = tensor
        }
        return plain
    }
}

/// What a `TrainingRun` needs of its model and optimiser, whatever the family (so the run itself
/// is not generic): one update, the loss of a batch, records, and the state to save.
protocol TrainingDriver: AnyObject {
    var config: TransformerConfig { get }
    var parameterValues: [Float] { get }
    /// Updates made so far.
    var updates: Int { get }
    var moments: (m: [Float], v: [Float]) { get }
    /// Runs the model's linear layers' products in `products` from now on.
    func setProducts(_ products: ProductPrecision)
    /// Forward, backward, clipping and one AdamW update; returns the batch's loss (before the
    /// update) and the gradient norm before clipping.
    func train(inputs: [Int32], targets: [Int32], learningRate: Float, clip: Float) -> (loss: Float, norm: Float)
    func loss(inputs: [Int32], targets: [Int32]) -> Float
    func records(of tokens: [Int32], capture: CaptureSpec) -> [String: Tensor]
    func export(to folder: URL, metadata: [String: String]) throws
}

/// A model, its optimiser and the buffers of one batch shape, allocated once.
final class ModelTrainer<Model: TrainableModel>: TrainingDriver {
    private(set) var model: Model
    private(set) var optimizer: AdamW<Model.Kind>
    private let activations: Model.Activations, activationGradients: Model.Activations
    private var gradients: FlatParameters<Model.Kind>

    init(model: Model, optimizer: AdamW<Model.Kind>, B: Int, T: Int) {
        self.model = model
        self.optimizer = optimizer
        activations = Model.activations(config: model.config, B: B, T: T)
        activationGradients = Model.activationGradients(config: model.config, B: B, T: T)
        gradients = FlatParameters(zerosFor: model.config)
    }

    var config: TransformerConfig { model.config }
    var parameterValues: [Float] { model.parameters.values }
    var updates: Int { optimizer.step }
    var moments: (m: [Float], v: [Float]) { (optimizer.m.values, optimizer.v.values) }
    func setProducts(_ products: ProductPrecision) { model.products = products }

    func train(inputs: [Int32], targets: [Int32], learningRate: Float, clip: Float) -> (loss: Float, norm: Float) {
        let loss = loss(inputs: inputs, targets: targets)
        gradients.zero()
        model.backward(
            inputs: inputs, targets: targets, activations: activations, activationGradients: activationGradients, gradients: &gradients)
        let norm = clipByGlobalNorm(&gradients.values, maxNorm: clip)
        optimizer.update(&model.parameters, gradients: gradients, learningRate: learningRate)
        return (loss, norm)
    }

    func loss(inputs: [Int32], targets: [Int32]) -> Float {
        // A batch with nothing to score (every masked-language target −1) has no loss: 0.
        model.forward(inputs: inputs, targets: targets, activations: activations) ?? 0
    }

    func records(of tokens: [Int32], capture: CaptureSpec) -> [String: Tensor] { model.records(of: tokens, capture: capture) }

    func export(to folder: URL, metadata: [String: String]) throws { try model.exportHuggingFace(to: folder, metadata: metadata) }
}
