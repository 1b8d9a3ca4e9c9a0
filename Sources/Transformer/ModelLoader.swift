import Foundation
import Tensors

/// Loads a model from disk into its family's forward driver.
public enum ModelLoader {
    /// A Hugging Face model folder: `config.json` + `model.safetensors` (or sharded).
    /// Weight matrices are kept in `format` (f32: the checkpoint's values exactly).
    public static func loadHuggingFace(folder: URL, format: WeightFormat = .f32) throws -> any LanguageModel {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isDirectory) else {
            throw ModelLoadError.missingPath(
                folder.path,
                hint:
                    "give a Hugging Face model folder (config.json + model.safetensors), a llama2.c .bin file, or a model name (see `lantern models`)"
            )
        }
        guard isDirectory.boolValue else {
            throw ModelLoadError.missingPath(folder.path, hint: "expected a folder holding config.json and model.safetensors")
        }
        let config = try HuggingFaceConfig.load(folder.appendingPathComponent("config.json"))
        switch config.family {
        case .gpt2, .gptNeo:
            let store = try WeightStore.open(folder: folder, strippingPrefixes: ["transformer."])
            return try GPT2Model(config: config, store: store, format: format)
        case .llama:
            let store = try WeightStore.open(folder: folder, strippingPrefixes: [])
            return try LlamaModel(config: config, store: store, format: format)
        case .bert:
            let store = try WeightStore.open(folder: folder, strippingPrefixes: ["bert."])
            return try BertModel(config: config, store: store, format: format)
        case .t5:
            return try EncoderDecoderModel.loadT5(
                config: config, store: try WeightStore.open(folder: folder, strippingPrefixes: []), format: format)
        case .bart:
            let store = try WeightStore.open(folder: folder, strippingPrefixes: ["model."])
            return try EncoderDecoderModel.loadBART(config: config, store: store, format: format)
        }
    }
}
