import Foundation
import Tensors
import Transformer

// Conversion between the training layout and a Hugging Face GPT-2 folder (`config.json` +
// `model.safetensors`), the format the engine loads with `ModelLoader.loadHuggingFace`.
// Checkpoint names (`h.3.attn.c_attn.weight`, `n_embd`, …) appear in this file only.
// Hugging Face's GPT-2 uses Conv1D, whose weights are `[in, out]`: the transpose of the training
// layout's `[out, in]`.

extension GPT2Parameters {
    /// A tensor's Hugging Face name for layer `l`, and whether it is a Conv1D weight stored transposed.
    private static func checkpointName(_ tensor: GPT2ParameterTensor, layer l: Int) -> (name: String, conv1D: Bool) {
        let h = "h.\(l)."
        switch tensor {
        case .wte: return ("wte.weight", false)
        case .wpe: return ("wpe.weight", false)
        case .ln1w: return (h + "ln_1.weight", false)
        case .ln1b: return (h + "ln_1.bias", false)
        case .qkvw: return (h + "attn.c_attn.weight", true)
        case .qkvb: return (h + "attn.c_attn.bias", false)
        case .attprojw: return (h + "attn.c_proj.weight", true)
        case .attprojb: return (h + "attn.c_proj.bias", false)
        case .ln2w: return (h + "ln_2.weight", false)
        case .ln2b: return (h + "ln_2.bias", false)
        case .fcw: return (h + "mlp.c_fc.weight", true)
        case .fcb: return (h + "mlp.c_fc.bias", false)
        case .fcprojw: return (h + "mlp.c_proj.weight", true)
        case .fcprojb: return (h + "mlp.c_proj.bias", false)
        case .lnfw: return ("ln_f.weight", false)
        case .lnfb: return ("ln_f.bias", false)
        }
    }

    /// Calls `body` with each checkpoint tensor's name, its shape in the training layout, whether it
    /// is stored transposed (Conv1D) and where its values start in the flat buffer.
    private static func forEachCheckpointTensor(
        _ layout: GPT2ParameterLayout,
        _ body: (_ name: String, _ shape: [Int], _ conv1D: Bool, _ start: Int) throws -> Void
    ) rethrows {
        let config = layout.config
        for tensor in GPT2ParameterTensor.allCases {
            let shape = tensor.shape(config)
            let layerShape = tensor.isPerLayer ? Array(shape.dropFirst()) : shape
            for l in 0..<(tensor.isPerLayer ? config.layers : 1) {
                let (name, conv1D) = checkpointName(tensor, layer: l)
                try body(name, layerShape, conv1D, layout.offset(tensor, layer: l))
            }
        }
    }

    /// Every tensor under its Hugging Face name with its stored shape (Conv1D weights `[in, out]`),
    /// in the flat buffer's order. Works for gradients and optimiser moments as well as weights.
    public func huggingFaceTensors() -> [(name: String, shape: [Int], values: [Float])] {
        var tensors: [(name: String, shape: [Int], values: [Float])] = []
        Self.forEachCheckpointTensor(layout) { name, shape, conv1D, start in
            let values = Array(self.values[start..<(start + shape.reduce(1, *))])
            if conv1D {
                tensors.append((name, [shape[1], shape[0]], transpose(values, rows: shape[0], cols: shape[1])))
            } else {
                tensors.append((name, shape, values))
            }
        }
        return tensors
    }

    /// Reads every tensor of `config` from a store of Hugging Face GPT-2 names (the inverse of
    /// `huggingFaceTensors`).
    public init(config: TransformerConfig, store: WeightStore) throws {
        self.init(zerosFor: config)
        var values = self.values
        try Self.forEachCheckpointTensor(layout) { name, shape, conv1D, start in
            let read =
                conv1D
                ? transpose(try store.tensor(name, shape: [shape[1], shape[0]]), rows: shape[1], cols: shape[0])
                : try store.tensor(name, shape: shape)
            values.replaceSubrange(start..<(start + read.count), with: read)
        }
        self.values = values
    }
}

extension GPT2TrainingModel {
    /// The `config.json` GPT2LMHeadModel needs for this configuration.
    public func huggingFaceConfig() -> [String: Any] {
        var json: [String: Any] = [
            "architectures": ["GPT2LMHeadModel"], "model_type": "gpt2",
            "n_embd": config.width, "n_head": config.heads, "n_layer": config.layers,
            "n_positions": config.contextLength, "n_ctx": config.contextLength, "n_inner": config.feedForwardWidth,
            "vocab_size": config.vocabularySize, "layer_norm_epsilon": Double(config.normEpsilon),
            "activation_function": "gelu_new", "tie_word_embeddings": true,
            // No dropout at inference; training here has none either.
            "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attn_pdrop": 0.0
        ]
        if let bos = config.bosTokenId { json["bos_token_id"] = bos }
        if let eos = config.eosTokenId { json["eos_token_id"] = eos }
        return json
    }

    /// Writes `config.json` and `model.safetensors` into `folder` (created if needed), each atomically.
    public func exportHuggingFace(to folder: URL, metadata: [String: String] = ["format": "pt"]) throws {
        try writeHuggingFaceFolder(folder, config: huggingFaceConfig(), tensors: parameters.huggingFaceTensors(), metadata: metadata)
    }

    /// Loads a Hugging Face GPT-2 folder into the training layout (to fine-tune it, or to check an export).
    public init(huggingFaceFolder folder: URL) throws {
        let config = try HuggingFaceConfig.load(folder.appendingPathComponent("config.json"))
        guard config.family == .gpt2 else {
            throw TrainingError.unsupportedModel(folder: folder.path, problem: "it is a \(config.family.rawValue) model")
        }
        guard config.tiedEmbeddings, config.heads * config.headSize == config.width else {
            throw TrainingError.unsupportedModel(folder: folder.path, problem: "its unembedding is not tied to the token embedding")
        }
        let store = try WeightStore.open(folder: folder, strippingPrefixes: ["transformer."])
        self.init(config: config, parameters: try GPT2Parameters(config: config, store: store))
    }
}

/// Writes a Hugging Face model folder: `config.json` and `model.safetensors` (created if needed),
/// each atomically. Shared by every family's export.
func writeHuggingFaceFolder(
    _ folder: URL, config: [String: Any], tensors: [(name: String, shape: [Int], values: [Float])], metadata: [String: String]
) throws {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let json = try JSONSerialization.data(withJSONObject: config, options: [.prettyPrinted, .sortedKeys])
    try AtomicFile.write(json, to: folder.appendingPathComponent("config.json"))
    try SafetensorsFile.write(tensors, metadata: metadata, to: folder.appendingPathComponent("model.safetensors"))
}

/// Transposes a row-major `[rows, cols]` matrix.
func transpose(_ m: [Float], rows: Int, cols: Int) -> [Float] {
    var out = [Float](repeating: 0, count: m.count)
    for r in 0..<rows { for c in 0..<cols { out[c * rows + r] = m[r * cols + c] } }
    return out
}
