import Foundation
import Tensors
import Transformer

// Conversion between the sequence-to-sequence training layout and a Hugging Face
// BartForConditionalGeneration folder (`config.json` + `model.safetensors`), the format the
// engine loads. Checkpoint names appear in this file only; nn.Linear weights are `[out, in]` in both.

extension Seq2SeqParameters {
    /// The checkpoint name of one training tensor of layer `l`.
    private static func checkpointName(_ tensor: Seq2SeqParameterTensor, layer l: Int) -> String {
        let encoder = "model.encoder.layers.\(l).", decoder = "model.decoder.layers.\(l)."
        switch tensor {
        case .wte: return "model.shared.weight"
        case .encWpe: return "model.encoder.embed_positions.weight"
        case .encEmbLnw: return "model.encoder.layernorm_embedding.weight"
        case .encEmbLnb: return "model.encoder.layernorm_embedding.bias"
        case .encQw: return encoder + "self_attn.q_proj.weight"
        case .encKw: return encoder + "self_attn.k_proj.weight"
        case .encVw: return encoder + "self_attn.v_proj.weight"
        case .encQb: return encoder + "self_attn.q_proj.bias"
        case .encKb: return encoder + "self_attn.k_proj.bias"
        case .encVb: return encoder + "self_attn.v_proj.bias"
        case .encOw: return encoder + "self_attn.out_proj.weight"
        case .encOb: return encoder + "self_attn.out_proj.bias"
        case .encAttLnw: return encoder + "self_attn_layer_norm.weight"
        case .encAttLnb: return encoder + "self_attn_layer_norm.bias"
        case .encFc1w: return encoder + "fc1.weight"
        case .encFc1b: return encoder + "fc1.bias"
        case .encFc2w: return encoder + "fc2.weight"
        case .encFc2b: return encoder + "fc2.bias"
        case .encFfLnw: return encoder + "final_layer_norm.weight"
        case .encFfLnb: return encoder + "final_layer_norm.bias"
        case .decWpe: return "model.decoder.embed_positions.weight"
        case .decEmbLnw: return "model.decoder.layernorm_embedding.weight"
        case .decEmbLnb: return "model.decoder.layernorm_embedding.bias"
        case .decQw: return decoder + "self_attn.q_proj.weight"
        case .decKw: return decoder + "self_attn.k_proj.weight"
        case .decVw: return decoder + "self_attn.v_proj.weight"
        case .decQb: return decoder + "self_attn.q_proj.bias"
        case .decKb: return decoder + "self_attn.k_proj.bias"
        case .decVb: return decoder + "self_attn.v_proj.bias"
        case .decOw: return decoder + "self_attn.out_proj.weight"
        case .decOb: return decoder + "self_attn.out_proj.bias"
        case .decAttLnw: return decoder + "self_attn_layer_norm.weight"
        case .decAttLnb: return decoder + "self_attn_layer_norm.bias"
        case .crossQw: return decoder + "encoder_attn.q_proj.weight"
        case .crossKw: return decoder + "encoder_attn.k_proj.weight"
        case .crossVw: return decoder + "encoder_attn.v_proj.weight"
        case .crossQb: return decoder + "encoder_attn.q_proj.bias"
        case .crossKb: return decoder + "encoder_attn.k_proj.bias"
        case .crossVb: return decoder + "encoder_attn.v_proj.bias"
        case .crossOw: return decoder + "encoder_attn.out_proj.weight"
        case .crossOb: return decoder + "encoder_attn.out_proj.bias"
        case .crossLnw: return decoder + "encoder_attn_layer_norm.weight"
        case .crossLnb: return decoder + "encoder_attn_layer_norm.bias"
        case .decFc1w: return decoder + "fc1.weight"
        case .decFc1b: return decoder + "fc1.bias"
        case .decFc2w: return decoder + "fc2.weight"
        case .decFc2b: return decoder + "fc2.bias"
        case .decFfLnw: return decoder + "final_layer_norm.weight"
        case .decFfLnb: return decoder + "final_layer_norm.bias"
        case .logitsBias: return "final_logits_bias"
        }
    }

    /// Calls `body` with each checkpoint tensor's name, shape and where its values start.
    private static func forEachCheckpointTensor(
        _ layout: ParameterLayout<Seq2SeqParameterTensor>, _ body: (_ name: String, _ shape: [Int], _ start: Int) throws -> Void
    ) rethrows {
        let config = layout.config
        for tensor in Seq2SeqParameterTensor.allCases {
            let full = tensor.shape(config)
            // final_logits_bias is stored as [1, V], as BART registers it.
            let shape = tensor == .logitsBias ? [1] + full : tensor.isPerLayer ? Array(full.dropFirst()) : full
            for l in 0..<(tensor.isPerLayer ? tensor.layerCount(config) : 1) {
                try body(checkpointName(tensor, layer: l), shape, layout.offset(tensor, layer: l))
            }
        }
    }

    /// Every tensor under its Hugging Face name (BartForConditionalGeneration), in the flat
    /// buffer's order. Works for gradients and optimiser moments as well as weights.
    public func huggingFaceTensors() -> [(name: String, shape: [Int], values: [Float])] {
        var tensors: [(name: String, shape: [Int], values: [Float])] = []
        Self.forEachCheckpointTensor(layout) { name, shape, start in
            tensors.append((name, shape, Array(self.values[start..<(start + shape.reduce(1, *))])))
        }
        return tensors
    }

    /// Reads every tensor from a store of Hugging Face names (the inverse of `huggingFaceTensors`).
    public init(config: TransformerConfig, store: WeightStore) throws {
        self.init(zerosFor: config)
        var values = self.values
        try Self.forEachCheckpointTensor(layout) { name, shape, start in
            let read = try store.tensor(name, shape: shape)
            values.replaceSubrange(start..<(start + read.count), with: read)
        }
        self.values = values
    }
}

extension Seq2SeqTrainingModel {
    /// The `config.json` BartForConditionalGeneration needs for this configuration.
    public func huggingFaceConfig() -> [String: Any] {
        var json: [String: Any] = [
            "architectures": ["BartForConditionalGeneration"], "model_type": "bart", "d_model": config.width,
            "encoder_layers": config.encoderLayers, "decoder_layers": config.layers, "encoder_attention_heads": config.heads,
            "decoder_attention_heads": config.heads, "encoder_ffn_dim": config.feedForwardWidth, "decoder_ffn_dim": config.feedForwardWidth,
            "max_position_embeddings": config.contextLength, "vocab_size": config.vocabularySize, "activation_function": "gelu",
            "scale_embedding": config.scalesEmbeddings, "tie_word_embeddings": true, "is_encoder_decoder": true, "init_std": 0.02,
            // No dropout at inference; training here has none either.
            "dropout": 0.0, "attention_dropout": 0.0, "activation_dropout": 0.0
        ]
        if let start = config.decoderStartTokenId { json["decoder_start_token_id"] = start }
        if let bos = config.bosTokenId { json["bos_token_id"] = bos }
        if let eos = config.eosTokenId { json["eos_token_id"] = eos }
        if let pad = config.paddingTokenId { json["pad_token_id"] = pad }
        return json
    }

    /// Writes `config.json` and `model.safetensors` into `folder` (created if needed), each atomically.
    public func exportHuggingFace(to folder: URL, metadata: [String: String] = ["format": "pt"]) throws {
        try writeHuggingFaceFolder(folder, config: huggingFaceConfig(), tensors: parameters.huggingFaceTensors(), metadata: metadata)
    }

    /// Loads a Hugging Face BartForConditionalGeneration folder into the training layout.
    public init(huggingFaceFolder folder: URL) throws {
        let config = try HuggingFaceConfig.load(folder.appendingPathComponent("config.json"))
        if let problem = Seq2SeqParameterTensor.unsupported(config) {
            throw TrainingError.unsupportedModel(folder: folder.path, problem: problem)
        }
        let store = try WeightStore.open(folder: folder, strippingPrefixes: [])
        self.init(config: config, parameters: try Seq2SeqParameters(config: config, store: store))
    }
}
