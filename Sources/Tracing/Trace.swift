import Foundation
import Generation
import Tensors
import Tokenizers
import Transformer

/// The sizes of the model a trace came from (enough to draw and replay without loading it).
public struct TraceModel: Codable, Sendable, Equatable {
    public var source: String
    public var family: String
    public var layers: Int, heads: Int, kvHeads: Int, width: Int, headSize: Int
    public var feedForwardWidth: Int, vocabularySize: Int, contextLength: Int
    public var positional: String
    /// Encoder–decoders: the encoder's blocks (`layers` counts the decoder's); nil otherwise.
    public var encoderLayers: Int?
    /// Per layer, a local attention layer's sliding window (nil: global); nil when every layer is global.
    public var attentionWindows: [Int?]?

    public init(source: String, config c: TransformerConfig) {
        self.source = source
        family = c.family.rawValue
        layers = c.layers; heads = c.heads; kvHeads = c.kvHeads; width = c.width; headSize = c.headSize
        feedForwardWidth = c.feedForwardWidth; vocabularySize = c.vocabularySize; contextLength = c.contextLength
        positional = c.positional.description
        encoderLayers = c.isEncoderDecoder ? c.encoderLayers : nil
        attentionWindows = c.attentionWindows.isEmpty ? nil : c.attentionWindows
    }

    /// Whether the traced model was an encoder–decoder (its records are the decoder's, its
    /// `encoder.` ones the encoder's).
    public var isEncoderDecoder: Bool { ModelFamily(rawValue: family)?.isEncoderDecoder ?? false }
}

/// One tensor of a trace folder: its record name, shape and file.
public struct TraceTensorEntry: Codable, Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var dtype: String
    public var file: String
    /// The name of each axis (`["head", "query", "key"]`) and what the record holds, so a trace
    /// explains itself. Absent in traces written before they existed.
    public var axes: [String]?
    public var meaning: String?

    /// The entry of record `name`, its axes and meaning from the record vocabulary.
    public init(name: String, shape: [Int]) {
        self.name = name
        self.shape = shape
        dtype = "float32"
        file = name + ".npy"
        let kind = RecordKind(recordName: name)
        axes = kind.map(\.axisNames).flatMap { $0.count == shape.count ? $0 : nil }
        meaning = kind?.meaning
    }
}

/// Heads and MLPs switched off during a traced run: `[layer, head]` pairs, layers, and how
/// ("zero", or "mean": each one's mean output over the prompt).
public struct TraceAblation: Codable, Sendable, Equatable {
    public var heads: [[Int]]
    public var mlps: [Int]
    public var mode: String

    public init(heads: [Intervention.Head], mlps: [Int], mode: AblationMode) {
        self.heads = heads.sorted().map { [$0.layer, $0.head] }
        self.mlps = mlps.sorted()
        self.mode = mode.rawValue
    }

    /// The intervention the run used: zeros, or the means over `promptIds` (recomputed exactly).
    public func intervention(model: any LanguageModel, promptIds: [Int]) throws -> Intervention {
        guard let mode = AblationMode(rawValue: mode), heads.allSatisfy({ $0.count == 2 }) else {
            throw TraceError.malformedIntervention(entry: "ablation", problem: "mode \"\(mode)\", heads as [layer, head]")
        }
        return try Ablation.intervention(
            model: model, tokens: promptIds, heads: heads.map { Intervention.Head(layer: $0[0], head: $0[1]) }, mlps: mlps, mode: mode)
    }
}

/// One switch of heads during a run: from generated token `step` on, `headsOff` were zeroed.
public struct TraceHeadSwitch: Codable, Sendable, Equatable {
    public var step: Int
    public var headsOff: [[Int]]

    /// The intervention it stands for (zeroed heads), each head checked against `config`: a
    /// trace file is input, and a head outside the model would be written outside its buffer.
    public func intervention(config: TransformerConfig) throws -> Intervention {
        var intervention = Intervention()
        for pair in headsOff {
            guard pair.count == 2, (0..<config.layers).contains(pair[0]), (0..<config.heads).contains(pair[1]) else {
                throw TraceError.malformedIntervention(entry: "head_switches", problem: "head \(pair) is not [layer, head] of this model")
            }
            intervention.heads[Intervention.Head(layer: pair[0], head: pair[1])] = [Float](repeating: 0, count: config.headSize)
        }
        return intervention
    }
}

/// `trace.json`: everything about a run except the tensors themselves.
public struct TraceMetadata: Codable, Sendable {
    public static let formatName = "lantern-trace"
    public static let currentVersion = 1

    public var format = TraceMetadata.formatName
    public var version = TraceMetadata.currentVersion
    public var model: TraceModel
    public var prompt: String
    public var promptIds: [Int]
    public var generatedIds: [Int]
    /// Display form of every token's piece, prompt first (spaces as ␣).
    public var pieces: [String]
    /// The raw text each token stands for, prompt first: its bytes read as UTF-8 (a token that
    /// holds part of a character shows U+FFFD for it). Absent in traces written before it existed.
    public var texts: [String]?
    public var sampling: SamplingSettings
    /// The sampling funnel of every generated token, in order.
    public var steps: [SamplingStep]
    public var stopReason: String?
    /// Encoder–decoders: the decoder's rows (its start token, then every generated token), whose
    /// records the decoder's tensors hold, and their display pieces; the prompt is the source the
    /// encoder read (`encoder.` tensors, `[…, S, …]`). A pass that generated nothing holds the
    /// rows its decoder read instead (an NLI classifier's: its start token, then the pair's ids
    /// but the last). nil for other models.
    public var decoderIds: [Int]?
    public var decoderPieces: [String]?
    /// Components switched off during the run (`generate --ablate`), so replay switches them
    /// off too; nil for an ordinary run.
    public var ablation: TraceAblation?
    /// Heads switched off or on mid-run (the stepper's `off L.H`): before generated token `step`
    /// (from 0) the heads in `heads_off` (`[layer, head]`, outputs zeroed) were off. Replay repeats
    /// each switch at its step. nil when none.
    public var headSwitches: [TraceHeadSwitch]?
    /// Record kinds captured, and the layers (nil: all).
    public var capture: [String]
    public var layers: [Int]?
    public var tensors: [TraceTensorEntry]

    /// Positions of generated tokens the learner chose instead of the sampler (for replay).
    public var forcedSteps: [Int] { steps.indices.filter { steps[$0].forced } }
    public var tokens: [Int] { promptIds + generatedIds }
}

/// A recorded run: metadata plus tensors by record name, shapes as in `RecordKind` but over the
/// whole sequence: `[head, query, key]` for attention, `[position, width]` for the residual stream.
public struct Trace: Sendable {
    public var metadata: TraceMetadata
    public var tensors: [String: Tensor]

    public init(metadata: TraceMetadata, tensors: [String: Tensor]) {
        self.metadata = metadata
        self.tensors = tensors
    }

    /// Builds a trace from a finished (or paused) session.
    public init(
        session: GenerationSession, prompt: String, source: String, request: CaptureRequest,
        stopReason: StopReason? = nil
    ) {
        let config = session.model.config
        // An encoder–decoder's decoder records cover its own rows; the encoder's ran once, whole.
        var tensors = TraceAssembler.assemble(session.forwardRecords, positions: session.decoderTokens.count)
        tensors.merge(session.encoderRecords) { first, _ in first }
        let pieces = session.tokens.map { session.tokenizer.displayPiece($0) }
        let texts = session.tokens.map { String(decoding: session.tokenizer.bytes(of: $0), as: UTF8.self) }
        let entries = tensors.keys.sorted().map { name in
            TraceTensorEntry(name: name, shape: tensors[name]!.shape)
        }
        metadata = TraceMetadata(
            model: TraceModel(source: source, config: config), prompt: prompt, promptIds: session.promptIds,
            generatedIds: session.generatedIds, pieces: pieces, texts: texts, sampling: session.settings, steps: session.steps,
            stopReason: stopReason?.rawValue, capture: request.recordedKinds(config: config).map(\.rawValue),
            layers: request.layers.map { $0.sorted() }, tensors: entries)
        if !session.interventionChanges.isEmpty {
            metadata.headSwitches = session.interventionChanges.map { change in
                TraceHeadSwitch(step: change.step, headsOff: change.intervention.heads.keys.sorted().map { [$0.layer, $0.head] })
            }
        }
        if config.isEncoderDecoder {
            metadata.decoderIds = session.decoderTokens
            metadata.decoderPieces = session.decoderTokens.map { session.tokenizer.displayPiece($0) }
        }
        self.tensors = tensors
    }

    /// A trace of one forward pass over a whole input, nothing generated: what an encoder
    /// (`lantern fill --trace`) records. `records` are the pass's, every row kept.
    public init(
        forward tokens: [Int], records: [String: Tensor], tokenizer: any Tokenizer, config: TransformerConfig, prompt: String,
        source: String, request: CaptureRequest
    ) {
        let entries = records.keys.sorted().map { name in
            TraceTensorEntry(name: name, shape: records[name]!.shape)
        }
        metadata = TraceMetadata(
            model: TraceModel(source: source, config: config), prompt: prompt, promptIds: tokens, generatedIds: [],
            pieces: tokens.map { tokenizer.displayPiece($0) },
            texts: tokens.map { String(decoding: tokenizer.bytes(of: $0), as: UTF8.self) }, sampling: SamplingSettings(), steps: [],
            stopReason: nil, capture: request.recordedKinds(config: config).map(\.rawValue), layers: request.layers.map { $0.sorted() },
            tensors: entries)
        self.tensors = records
    }

    /// The tensor `name`, or an error saying how to capture it.
    public func tensor(_ name: String, folder: String = "this trace") throws -> Tensor {
        guard let tensor = tensors[name] else { throw TraceError.missingTensor(name, folder: folder) }
        return tensor
    }
}

/// Joins the records of successive forward calls (the prompt's prefill, then one call per
/// decoded token) into whole-sequence tensors.
public enum TraceAssembler {
    public static func assemble(_ calls: [ForwardRecord], positions N: Int) -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        let names = Set(calls.flatMap { $0.records.keys })
        for name in names {
            let kind = RecordKind(recordName: name)
            let parts = calls.compactMap { call in call.records[name].map { (call, $0) } }
            guard let first = parts.first?.1 else { continue }
            switch kind?.axes ?? .positionRows {
            case .headQueryKey:
                // [H, rows kept, K] → [H, N, N]; rows kept are the call's last ones. Cross-attention
                // keys are the source's S positions in every call: [H, N, S].
                let H = first.shape[0]
                let isCross = kind == .crossPattern || kind == .crossScores
                let width = isCross ? first.shape[2] : N
                let fill: Float = kind == .scores ? -.infinity : 0
                var full = [Float](repeating: fill, count: H * N * width)
                for (call, tensor) in parts {
                    let kept = tensor.shape[1], K = tensor.shape[2]
                    let firstQuery = call.start + call.rows - kept
                    for h in 0..<H {
                        for r in 0..<kept {
                            let source = (h * kept + r) * K, target = (h * N + firstQuery + r) * width
                            for j in 0..<K { full[target + j] = tensor.scalars[source + j] }
                        }
                    }
                }
                out[name] = Tensor(shape: [H, N, width], scalars: full)
            case .headPositions:
                // [H, rows kept, hs] → [H, N, hs]
                let H = first.shape[0], hs = first.shape[2]
                var full = [Float](repeating: 0, count: H * N * hs)
                for (call, tensor) in parts {
                    let kept = tensor.shape[1], firstRow = call.start + call.rows - kept
                    for h in 0..<H {
                        for r in 0..<kept {
                            for i in 0..<hs { full[(h * N + firstRow + r) * hs + i] = tensor.scalars[(h * kept + r) * hs + i] }
                        }
                    }
                }
                out[name] = Tensor(shape: [H, N, hs], scalars: full)
            case .positionRows:
                // [rows kept, W] → [N, W]
                let W = first.shape[1]
                var full = [Float](repeating: 0, count: N * W)
                for (call, tensor) in parts {
                    let kept = tensor.shape[0], firstRow = call.start + call.rows - kept
                    for r in 0..<kept {
                        for i in 0..<W { full[(firstRow + r) * W + i] = tensor.scalars[r * W + i] }
                    }
                }
                out[name] = Tensor(shape: [N, W], scalars: full)
            }
        }
        return out
    }
}
