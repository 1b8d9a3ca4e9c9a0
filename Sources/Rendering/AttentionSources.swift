import Foundation
import Generation
import Tensors
import Tracing
import Transformer

/// Where attention pictures get their patterns: a saved trace, or one forward pass of a prompt
/// that records only the layers drawn.
public enum AttentionSources {
    /// Layer `layer`'s pattern as a trace recorded it.
    public static func layer(_ layer: Int, trace folder: URL) throws -> AttentionSource {
        let metadata = try TraceFile.readMetadata(folder)
        guard layer < metadata.model.layers else {
            throw AttentionSourceError.layerOutOfRange(layer, layers: metadata.model.layers, of: "the traced model")
        }
        if let layers = metadata.layers, !layers.contains(layer) {
            throw AttentionSourceError.layerNotTraced(layer, trace: folder.path, recorded: layers)
        }
        let name = RecordKind.pattern.name(layer: layer)
        let loaded = try TraceFile.read(folder, metadata: metadata, names: [name])
        return AttentionSource(
            pattern: try loaded.tensor(name, folder: folder.path), pieces: metadata.pieces, layer: layer,
            model: metadata.model.source, prompt: metadata.prompt, promptTokens: metadata.promptIds.count,
            causal: ModelFamily(rawValue: metadata.model.family)?.isCausal ?? true)
    }

    /// Layer `layer`'s pattern over `prompt`, from one forward pass of `bundle`'s model.
    public static func layer(_ layer: Int, prompt: String, bundle: ModelBundle) throws -> AttentionSource {
        let layers = bundle.model.config.layers
        guard layer < layers else { throw AttentionSourceError.layerOutOfRange(layer, layers: layers, of: "this model") }
        return try run(prompt, bundle: bundle, layers: [layer])[0]
    }

    /// Every layer a trace recorded (for the overview), in layer order.
    public static func everyLayer(trace folder: URL) throws -> [AttentionSource] {
        try everyLayer(trace: folder, metadata: TraceFile.readMetadata(folder))
    }

    /// The same, from metadata already read.
    public static func everyLayer(trace folder: URL, metadata: TraceMetadata) throws -> [AttentionSource] {
        let layers = (metadata.layers ?? Array(0..<metadata.model.layers)).sorted()
        let present = Set(metadata.tensors.map(\.name))
        let found = layers.map { ($0, RecordKind.pattern.name(layer: $0)) }.filter { present.contains($0.1) }
        guard !found.isEmpty else { throw AttentionSourceError.noPatterns(trace: folder.path) }
        let loaded = try TraceFile.read(folder, metadata: metadata, names: Set(found.map(\.1)))
        return try found.map { layer, name in
            AttentionSource(
                pattern: try loaded.tensor(name, folder: folder.path), pieces: metadata.pieces, layer: layer,
                model: metadata.model.source, prompt: metadata.prompt, promptTokens: metadata.promptIds.count,
                causal: ModelFamily(rawValue: metadata.model.family)?.isCausal ?? true)
        }
    }

    /// Every layer's pattern over `prompt`, from one forward pass.
    public static func everyLayer(prompt: String, bundle: ModelBundle) throws -> [AttentionSource] {
        try run(prompt, bundle: bundle, layers: Array(0..<bundle.model.config.layers))
    }

    private static func run(_ prompt: String, bundle: ModelBundle, layers: [Int]) throws -> [AttentionSource] {
        let config = bundle.model.config
        let ids = PromptEncoder.ids(for: prompt, tokenizer: bundle.tokenizer)
        guard ids.count <= config.contextLength else {
            throw GenerationError.promptTooLong(tokens: ids.count, context: config.contextLength)
        }
        var cache = bundle.model.makeCache()
        let result = bundle.model.forward(
            ids, cache: &cache, capture: CaptureSpec(kinds: [.pattern], layers: Set(layers)),
            allLogits: false)
        let pieces = ids.map { bundle.tokenizer.displayPiece($0) }
        return layers.map { layer in
            // The driver records every layer the spec names: a missing one would be a driver bug.
            let pattern = result.records[RecordKind.pattern.name(layer: layer)]!
            return AttentionSource(
                pattern: pattern, pieces: pieces, layer: layer, model: bundle.source, prompt: prompt, causal: config.isCausal)
        }
    }
}

/// Descriptions name no command-line flag; the command adds its own.
public enum AttentionSourceError: Error, CustomStringConvertible, Equatable {
    case layerOutOfRange(Int, layers: Int, of: String)
    case layerNotTraced(Int, trace: String, recorded: [Int])
    case noPatterns(trace: String)

    public var description: String {
        switch self {
        case .layerOutOfRange(let layer, let layers, let owner):
            return "layer \(layer) is out of range: \(owner) has layers 0 to \(layers - 1)"
        case .layerNotTraced(_, let trace, let recorded):
            return "trace \(trace) recorded only layer\(recorded.count == 1 ? "" : "s") "
                + "\(recorded.map(String.init).joined(separator: ", "))"
        case .noPatterns(let trace):
            return "trace \(trace) holds no attention patterns (record them with --capture pattern)"
        }
    }
}
