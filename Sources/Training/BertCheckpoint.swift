import Foundation
import Tensors
import Transformer

// Conversion between BERT's training layout and a Hugging Face BertForMaskedLM folder
// (`config.json` + `model.safetensors`), the format the engine loads. Checkpoint names appear in
// this file only. nn.Linear weights are `[out, in]` in both; query, key and value are stacked
// into one `[3C, C]` product in the training layout and stored as three matrices.

extension BertParameters {
    /// The checkpoint tensors one training tensor of layer `l` is stored as: names, and for
    /// query/key/value the row ranges each takes of the stacked tensor.
    private static func checkpointNames(_ tensor: BertParameterTensor, layer l: Int) -> [String] {
        let layer = "bert.encoder.layer.\(l).", embeddings = "bert.embeddings.", head = "cls.predictions."
        let stacked = ["query", "key", "value"].map { layer + "attention.self." + $0 }
        switch tensor {
        case .wte: return [embeddings + "word_embeddings.weight"]
        case .wpe: return [embeddings + "position_embeddings.weight"]
        case .wtt: return [embeddings + "token_type_embeddings.weight"]
        case .embLnw: return [embeddings + "LayerNorm.weight"]
        case .embLnb: return [embeddings + "LayerNorm.bias"]
        case .qkvw: return stacked.map { $0 + ".weight" }
        case .qkvb: return stacked.map { $0 + ".bias" }
        case .attprojw: return [layer + "attention.output.dense.weight"]
        case .attprojb: return [layer + "attention.output.dense.bias"]
        case .attLnw: return [layer + "attention.output.LayerNorm.weight"]
        case .attLnb: return [layer + "attention.output.LayerNorm.bias"]
        case .fcw: return [layer + "intermediate.dense.weight"]
        case .fcb: return [layer + "intermediate.dense.bias"]
        case .fcprojw: return [layer + "output.dense.weight"]
        case .fcprojb: return [layer + "output.dense.bias"]
        case .mlpLnw: return [layer + "output.LayerNorm.weight"]
        case .mlpLnb: return [layer + "output.LayerNorm.bias"]
        case .headw: return [head + "transform.dense.weight"]
        case .headb: return [head + "transform.dense.bias"]
        case .headLnw: return [head + "transform.LayerNorm.weight"]
        case .headLnb: return [head + "transform.LayerNorm.bias"]
        case .headBias: return [head + "bias"]
        }
    }

    /// Calls `body` with each checkpoint tensor's name, shape and where its values start.
    private static func forEachCheckpointTensor(
        _ layout: ParameterLayout<BertParameterTensor>, _ body: (_ name: String, _ shape: [Int], _ start: Int) throws -> Void
    ) rethrows {
        let config = layout.config
        for tensor in BertParameterTensor.allCases {
            let full = tensor.shape(config)
            var shape = tensor.isPerLayer ? Array(full.dropFirst()) : full
            for l in 0..<(tensor.isPerLayer ? config.layers : 1) {
                let names = checkpointNames(tensor, layer: l)
                // Stacked query/key/value: each a third of the rows.
                if names.count == 3 { shape[0] = (tensor.isPerLayer ? full[1] : full[0]) / 3 }
                let size = shape.reduce(1, *)
                for (part, name) in names.enumerated() { try body(name, shape, layout.offset(tensor, layer: l) + part * size) }
            }
        }
    }

    /// Every tensor under its Hugging Face name (BertForMaskedLM), in the flat buffer's order.
    /// Works for gradients and optimiser moments as well as weights.
    public func huggingFaceTensors() -> [(name: String, shape: [Int], values: [Float])] {
        var tensors: [(name: String, shape: [Int], values: [Float])] = []
        Self.forEachCheckpointTensor(layout) { name, shape, start in
            tensors.append((name, shape, Array(self.values[start..<(start + shape.reduce(1, *))])))
        }
        return tensors
    }

    /// Reads every tensor from a store of Hugging Face names (the inverse of `huggingFaceTensors`);
    /// the store may strip the `bert.` prefix.
    public init(config: TransformerConfig, store: WeightStore) throws {
        self.init(zerosFor: config)
        var values = self.values
        try Self.forEachCheckpointTensor(layout) { name, shape, start in
            let canonical = store.contains(name) ? name : String(name.dropFirst(name.hasPrefix("bert.") ? 5 : 0))
            let read = try store.tensor(canonical, shape: shape)
            values.replaceSubrange(start..<(start + read.count), with: read)
        }
        self.values = values
    }
}

extension BertTrainingModel {
    /// The `config.json` BertForMaskedLM needs for this configuration.
    public func huggingFaceConfig() -> [String: Any] {
        var json: [String: Any] = [
            "architectures": ["BertForMaskedLM"], "model_type": "bert",
            "hidden_size": config.width, "num_attention_heads": config.heads, "num_hidden_layers": config.layers,
            "intermediate_size": config.feedForwardWidth, "max_position_embeddings": config.contextLength,
            "vocab_size": config.vocabularySize, "type_vocab_size": config.tokenTypes,
            "layer_norm_eps": Double(config.normEpsilon), "hidden_act": "gelu", "position_embedding_type": "absolute",
            "tie_word_embeddings": true, "initializer_range": 0.02,
            // No dropout at inference; training here has none either.
            "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0
        ]
        if let pad = config.paddingTokenId { json["pad_token_id"] = pad }
        return json
    }

    /// Writes `config.json` and `model.safetensors` into `folder` (created if needed), each atomically.
    public func exportHuggingFace(to folder: URL, metadata: [String: String] = ["format": "pt"]) throws {
        try writeHuggingFaceFolder(folder, config: huggingFaceConfig(), tensors: parameters.huggingFaceTensors(), metadata: metadata)
    }

    /// Loads a Hugging Face BertForMaskedLM folder into the training layout.
    public init(huggingFaceFolder folder: URL) throws {
        let config = try HuggingFaceConfig.load(folder.appendingPathComponent("config.json"))
        if let problem = BertParameterTensor.unsupported(config) {
            throw TrainingError.unsupportedModel(folder: folder.path, problem: problem)
        }
        let store = try WeightStore.open(folder: folder, strippingPrefixes: ["bert."])
        self.init(config: config, parameters: try BertParameters(config: config, store: store))
    }
}
