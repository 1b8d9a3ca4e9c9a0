import Foundation
import Tensors
import Tokenizers
import Transformer

/// A model with the tokenizer that belongs to it, loaded from what the user named.
public struct ModelBundle {
    public let model: any LanguageModel
    public let tokenizer: any Tokenizer
    /// Where the weights came from, as shown to the user.
    public let source: String
    /// Stored weight dtypes, e.g. "F16" (converted to float32 at load).
    public let weightDTypes: [String]
    public let loadSeconds: Double

    /// `model` is a Hugging Face folder, or a llama2.c `.bin` checkpoint (with `tokenizer`
    /// naming its `tokenizer.bin`, or one found beside it). Weight matrices are kept in `weights`.
    public static func load(
        model path: String, tokenizer tokenizerPath: String? = nil,
        weights format: WeightFormat = .f32
    ) throws -> ModelBundle {
        let start = Date()
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue {
            let model = try Llama2cCheckpoint.load(url, format: format)
            let tokenizerURL =
                try tokenizerPath.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
                ?? findLlama2cTokenizer(beside: url)
            let tokenizer = try Llama2cTokenizer.load(tokenizerURL, vocabularySize: model.config.vocabularySize)
            try checkVocabulary(model: model, tokenizer: tokenizer, tokenizerFile: tokenizerURL.path)
            return ModelBundle(
                model: model, tokenizer: tokenizer, source: url.path, weightDTypes: ["F32"],
                loadSeconds: Date().timeIntervalSince(start))
        }
        let model = try ModelLoader.loadHuggingFace(folder: url, format: format)
        let folder = tokenizerPath.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) } ?? url
        let tokenizer = try TokenizerLoader.load(folder: folder)
        try checkVocabulary(model: model, tokenizer: tokenizer, tokenizerFile: folder.path)
        let dtypes = (try? WeightStore.open(folder: url, strippingPrefixes: []).dtypes) ?? []
        return ModelBundle(
            model: model, tokenizer: tokenizer, source: url.path, weightDTypes: dtypes,
            loadSeconds: Date().timeIntervalSince(start))
    }

    /// llama2.c keeps its tokenizer in a separate file; look for the usual names beside the checkpoint.
    static func findLlama2cTokenizer(beside checkpoint: URL) throws -> URL {
        let folder = checkpoint.deletingLastPathComponent()
        let names =
            ["tokenizer.bin"]
            + ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? [])
            .filter { $0.hasPrefix("tok") && $0.hasSuffix(".bin") }.sorted()
        for name in names where FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path) {
            return folder.appendingPathComponent(name)
        }
        throw ModelLoadError.missingFile(
            folder.appendingPathComponent("tokenizer.bin").path,
            hint: "a llama2.c checkpoint needs its tokenizer: set \(UserSetting.tokenizer) to its tokenizer.bin")
    }

    /// Every id the tokenizer can produce must have an embedding row.
    static func checkVocabulary(model: any LanguageModel, tokenizer: any Tokenizer, tokenizerFile: String) throws {
        guard tokenizer.vocabularySize <= model.config.vocabularySize else {
            throw ModelLoadError.malformedConfig(
                file: tokenizerFile,
                problem:
                    "the tokenizer has \(tokenizer.vocabularySize) tokens but the model only \(model.config.vocabularySize); they do not belong together"
            )
        }
    }
}
