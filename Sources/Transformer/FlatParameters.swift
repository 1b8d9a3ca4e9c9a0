import Tensors

// Training keeps every parameter of a model in one flat buffer (llm.c's layout), with named
// views: the family lists its tensors in order (a `ParameterTensorKind`), and the layout says
// where each lies. The same layout holds the gradients and the optimiser's moments.

/// A family's parameter tensors, in the order they lie in the flat buffer. Per-layer tensors
/// have a leading `L` in their shape.
public protocol ParameterTensorKind: CaseIterable, Hashable, Sendable where AllCases == [Self] {
    /// Position in the buffer's order (0, 1, …).
    var index: Int { get }
    /// Full shape, with the leading `L` for per-layer tensors.
    func shape(_ config: TransformerConfig) -> [Int]
    var isPerLayer: Bool { get }
    /// How many layers a per-layer tensor has (its leading `L`): `config.layers` unless the family
    /// has stacks of different depths (an encoder–decoder's encoder tensors).
    func layerCount(_ config: TransformerConfig) -> Int
    /// Whether weight decay applies (embeddings and linear weights; not biases or norm gains).
    var isMatrix: Bool { get }
    /// Why `config` cannot be laid out with these tensors, or nil when it can.
    static func unsupported(_ config: TransformerConfig) -> String?
}

extension ParameterTensorKind where Self: RawRepresentable, RawValue == Int {
    public var index: Int { rawValue }
}

extension ParameterTensorKind {
    public func layerCount(_ config: TransformerConfig) -> Int { config.layers }
}

/// Where each tensor lies in the flat buffer.
public struct ParameterLayout<Kind: ParameterTensorKind>: Sendable, Equatable {
    public let config: TransformerConfig
    /// Start of each tensor, indexed by `Kind.index`.
    public let offsets: [Int]
    /// Element count of each tensor (all layers together).
    public let counts: [Int]
    /// Total number of parameters.
    public let count: Int

    public init(config: TransformerConfig) {
        if let problem = Kind.unsupported(config) { preconditionFailure("ParameterLayout: \(problem)") }
        self.config = config
        counts = Kind.allCases.map { $0.shape(config).reduce(1, *) }
        var running = 0
        offsets = counts.map { count in
            defer { running += count }; return running
        }
        count = running
    }

    public func range(_ tensor: Kind) -> Range<Int> {
        offsets[tensor.index]..<(offsets[tensor.index] + counts[tensor.index])
    }

    /// Offset of layer `l`'s slice of a per-layer tensor (or of the whole tensor).
    public func offset(_ tensor: Kind, layer l: Int = 0) -> Int {
        offsets[tensor.index] + (tensor.isPerLayer ? l * counts[tensor.index] / tensor.layerCount(config) : 0)
    }
}

/// One flat buffer of parameters (or of their gradients, or of optimiser moments) with named views.
public struct FlatParameters<Kind: ParameterTensorKind>: Sendable, Equatable {
    public let layout: ParameterLayout<Kind>
    public var values: [Float]

    /// All zeros: a gradient buffer.
    public init(zerosFor config: TransformerConfig) {
        layout = ParameterLayout(config: config)
        values = [Float](repeating: 0, count: layout.count)
    }

    /// A copy of one tensor's values.
    public subscript(tensor: Kind) -> [Float] {
        get { Array(values[layout.range(tensor)]) }
        set {
            precondition(
                newValue.count == layout.counts[tensor.index], "FlatParameters: \(tensor) needs \(layout.counts[tensor.index]) values")
            values.replaceSubrange(layout.range(tensor), with: newValue)
        }
    }

    public mutating func zero() {
        for i in values.indices { values[i] = 0 }
    }
}
