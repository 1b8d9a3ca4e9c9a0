import Foundation
import Generation
import Tensors
import Tracing
import Transformer

/// Where attention pictures get their patterns: a saved trace, or one forward pass of a prompt
/// that records only the layers drawn.
public enum AttentionSources {
    /// Layer `layer`'s pattern as a trace recorded it (for an encoder–decoder's trace, `part`).
    public static func layer(_ layer: Int, trace folder: URL, part: AttentionPart = .selfAttention) throws -> AttentionSource {
        let metadata = try TraceFile.readMetadata(folder)
        let layers = part == .encoder ? metadata.model.encoderLayers ?? 0 : metadata.model.layers
        guard layer < layers else {
            throw AttentionSourceError.layerOutOfRange(
                layer, layers: layers, of: part == .encoder ? "the traced model's encoder" : "the traced model")
        }
        if let layers = metadata.layers, !layers.contains(layer) {
            throw AttentionSourceError.layerNotTraced(layer, trace: folder.path, recorded: layers)
        }
        let name = tensorName(part, layer: layer)
        let loaded = try TraceFile.read(folder, metadata: metadata, names: [name])
        return try source(part, layer: layer, pattern: loaded.tensor(name, folder: folder.path), metadata: metadata)
    }

    /// The record a part of the model keeps its pattern in.
    static func tensorName(_ part: AttentionPart, layer: Int) -> String {
        switch part {
        case .selfAttention, .decoder: RecordKind.pattern.name(layer: layer)
        case .encoder: RecordKind.encoderScope + RecordKind.pattern.name(layer: layer)
        case .cross: RecordKind.crossPattern.name(layer: layer)
        }
    }

    /// A traced pattern with the pieces of its rows and keys. An encoder–decoder's decoder rows
    /// are its start token then each generated one; a cross-attention row is labelled with the
    /// token it chose (the last row's: the end token, or "(next)" when the length limit stopped it).
    static func source(_ part: AttentionPart, layer: Int, pattern: Tensor, metadata m: TraceMetadata) throws -> AttentionSource {
        let causal = ModelFamily(rawValue: m.model.family)?.isCausal ?? true
        guard m.model.isEncoderDecoder, let decoderPieces = m.decoderPieces else {
            var source = AttentionSource(
                pattern: pattern, pieces: m.pieces, layer: layer, model: m.model.source, prompt: m.prompt,
                promptTokens: m.promptIds.count, causal: causal)
            source.window = m.model.attentionWindows.flatMap { layer < $0.count ? $0[layer] : nil }
            return source
        }
        let sourcePieces = Array(m.pieces.prefix(m.promptIds.count))
        // A trace file is input: its pattern must have the rows and keys its metadata lists.
        let (rows, keys) =
            part == .encoder
            ? (sourcePieces.count, sourcePieces.count) : (decoderPieces.count, part == .cross ? sourcePieces.count : decoderPieces.count)
        guard pattern.rank == 3, pattern.shape[1] == rows, pattern.shape[2] == keys else {
            throw AttentionSourceError.mismatchedPattern(
                tensorName(part, layer: layer), found: pattern.shape, expected: [pattern.shape.first ?? 0, rows, keys])
        }
        switch part {
        case .encoder:
            var source = AttentionSource(
                pattern: pattern, pieces: sourcePieces, layer: layer, model: m.model.source, prompt: m.prompt, causal: false)
            source.part = .encoder
            return source
        case .cross:
            // A pass that generated nothing read its decoder rows as given (a classifier's): each
            // row is labelled with the row it was followed by.
            let forced = m.generatedIds.isEmpty && decoderPieces.count > 1
            let written =
                forced
                ? Array(decoderPieces.dropFirst()) + ["(next)"]
                : Array(m.pieces.dropFirst(m.promptIds.count)) + [m.stopReason == "eos" ? "(end)" : "(next)"]
            return AttentionSource(
                crossPattern: pattern, written: written, source: sourcePieces, layer: layer, model: m.model.source, prompt: m.prompt)
        case .selfAttention, .decoder:
            var source = AttentionSource(
                pattern: pattern, pieces: decoderPieces, layer: layer, model: m.model.source, prompt: m.prompt, causal: true)
            source.part = .decoder
            return source
        }
    }

    /// Layer `layer`'s pattern over `prompt`, from one forward pass of `bundle`'s model (for an
    /// encoder–decoder, `part` of it while it translates `prompt`).
    public static func layer(
        _ layer: Int, prompt: String, bundle: ModelBundle, part: AttentionPart = .selfAttention
    ) throws -> AttentionSource {
        let config = bundle.model.config
        let layers = part == .encoder ? config.encoderLayers : config.layers
        guard layer < layers else {
            throw AttentionSourceError.layerOutOfRange(layer, layers: layers, of: part == .encoder ? "this model's encoder" : "this model")
        }
        if config.isEncoderDecoder { return try translation(prompt, bundle: bundle, part: part, layers: [layer])[0] }
        return try run(prompt, bundle: bundle, layers: [layer])[0]
    }

    /// An encoder–decoder's attention while it translates `prompt` (greedily, up to its end
    /// token or 48 tokens): the encoder's over the source, the decoder's over what it wrote
    /// (rows: the start token, then each written token), or cross-attention (rows: each written
    /// token, while it was being chosen; keys: the source).
    public static func translation(_ prompt: String, bundle: ModelBundle, part: AttentionPart, layers: [Int]) throws -> [AttentionSource] {
        let model = bundle.model, tokenizer = bundle.tokenizer, config = model.config
        let generator = Generator(model: model, tokenizer: tokenizer)
        let (result, session) = try generator.generate(
            prompt: prompt, maxNewTokens: min(48, config.contextLength - 1), settings: SamplingSettings(greedy: true))
        let sourceIds = session.promptIds
        let capture = CaptureSpec(kinds: [.pattern, .crossPattern], layers: Set(layers))
        guard let encoded = model.encode(source: sourceIds, capture: capture) else { throw AttentionSourceError.notEncoderDecoder }
        let sourcePieces = sourceIds.map { tokenizer.displayPiece($0) }
        if part == .encoder {
            return layers.map { layer in
                var source = AttentionSource(
                    pattern: encoded.records[RecordKind.encoderScope + RecordKind.pattern.name(layer: layer)]!, pieces: sourcePieces,
                    layer: layer, model: bundle.source, prompt: prompt, causal: false)
                source.part = .encoder
                return source
            }
        }
        // Rows that chose each written token: the start token, then all but the last written one.
        let written = result.generatedIds.isEmpty ? [] : result.generatedIds
        let rows = session.decoderPrefix + written.dropLast()
        guard !rows.isEmpty, !written.isEmpty else { throw AttentionSourceError.nothingWritten(prompt: prompt) }
        var cache = encoded.cache
        let records = model.forward(rows, cache: &cache, capture: capture, allLogits: false).records
        let writtenPieces = written.map { tokenizer.displayPiece($0) }
        return layers.map { layer in
            if part == .cross {
                return AttentionSource(
                    crossPattern: records[RecordKind.crossPattern.name(layer: layer)]!, written: writtenPieces, source: sourcePieces,
                    layer: layer, model: bundle.source, prompt: prompt)
            }
            var source = AttentionSource(
                pattern: records[RecordKind.pattern.name(layer: layer)]!, pieces: rows.map { tokenizer.displayPiece($0) }, layer: layer,
                model: bundle.source, prompt: prompt, causal: true)
            source.part = .decoder
            return source
        }
    }

    /// Every layer a trace recorded (for the overview), in layer order.
    public static func everyLayer(trace folder: URL, part: AttentionPart = .selfAttention) throws -> [AttentionSource] {
        try everyLayer(trace: folder, metadata: TraceFile.readMetadata(folder), part: part)
    }

    /// The same, from metadata already read (for an encoder–decoder's trace, `part`).
    public static func everyLayer(
        trace folder: URL, metadata: TraceMetadata, part: AttentionPart = .selfAttention
    ) throws -> [AttentionSource] {
        let count = part == .encoder ? metadata.model.encoderLayers ?? 0 : metadata.model.layers
        let layers = (metadata.layers ?? Array(0..<count)).filter { $0 < count }.sorted()
        let present = Set(metadata.tensors.map(\.name))
        let found = layers.map { ($0, tensorName(part, layer: $0)) }.filter { present.contains($0.1) }
        guard !found.isEmpty else { throw AttentionSourceError.noPatterns(trace: folder.path) }
        let loaded = try TraceFile.read(folder, metadata: metadata, names: Set(found.map(\.1)))
        return try found.map { layer, name in
            try source(part, layer: layer, pattern: loaded.tensor(name, folder: folder.path), metadata: metadata)
        }
    }

    /// Every layer's pattern over `prompt`, from one forward pass (an encoder–decoder's `part`).
    public static func everyLayer(prompt: String, bundle: ModelBundle, part: AttentionPart = .selfAttention) throws -> [AttentionSource] {
        let config = bundle.model.config
        if config.isEncoderDecoder {
            return try translation(
                prompt, bundle: bundle, part: part, layers: Array(0..<(part == .encoder ? config.encoderLayers : config.layers)))
        }
        return try run(prompt, bundle: bundle, layers: Array(0..<config.layers))
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
            var source = AttentionSource(
                pattern: pattern, pieces: pieces, layer: layer, model: bundle.source, prompt: prompt, causal: config.isCausal)
            source.window = config.attentionWindow(layer: layer)
            return source
        }
    }
}

/// Descriptions name no command-line flag; the command adds its own.
public enum AttentionSourceError: Error, CustomStringConvertible, Equatable {
    case layerOutOfRange(Int, layers: Int, of: String)
    case layerNotTraced(Int, trace: String, recorded: [Int])
    case noPatterns(trace: String)
    case notEncoderDecoder
    case nothingWritten(prompt: String)
    /// A trace whose pattern does not have the rows and keys its trace.json lists.
    case mismatchedPattern(String, found: [Int], expected: [Int])

    public var description: String {
        switch self {
        case .layerOutOfRange(let layer, let layers, let owner):
            return "layer \(layer) is out of range: \(owner) has layers 0 to \(layers - 1)"
        case .layerNotTraced(_, let trace, let recorded):
            return "trace \(trace) recorded only layer\(recorded.count == 1 ? "" : "s") "
                + "\(recorded.map(String.init).joined(separator: ", "))"
        case .noPatterns(let trace):
            return "trace \(trace) holds no attention patterns (record them: add +attn.pattern to \(UserSetting.capture))"
        case .mismatchedPattern(let name, let found, let expected):
            return
                "the trace's \(name) has shape \(found) but its trace.json lists \(expected) (rows, keys): a damaged or edited trace; record it again"
        case .notEncoderDecoder:
            return "only an encoder–decoder (T5, BART, lantern-tiny-translate) has an encoder part and cross-attention"
        case .nothingWritten(let prompt):
            return "the model wrote nothing for “\(prompt)” (its first token was its end token), so there is no cross-attention to draw"
        }
    }
}
