import Foundation
import Generation
import Tokenizers
import Transformer

/// One line typed at the stepper (`lantern step`), parsed. The command is the first word; its
/// argument is everything after the first space, kept as typed (so `t  dragon` types a token
/// with its leading space).
public enum StepperCommand: Equatable, Sendable {
    case take  // Enter or s: the sampled token
    case pick(Int)  // 1 … N: candidate N of the list
    case type(String)  // t TEXT
    case set(StepperSetting, String)  // temp X, topk N, topp X, seed N
    case undo  // u
    case attention(String)  // a L H
    case off(String)  // off L.H: switch a head off (its output zeroed) from here on
    case on(String)  // on L.H: switch it back on; on alone: every head
    case save(String)  // save DIR (a default folder when empty)
    case help  // ?
    case quit  // q
    case unknown(String)

    public static let defaultTraceFolder = "output/step-trace"

    public init(_ line: String) {
        let command = String(line.prefix { $0 != " " }).lowercased()
        let argument = line.count > command.count ? String(line.dropFirst(command.count + 1)) : ""
        switch command {
        case "", "s": self = .take
        case "q", "quit", "exit": self = .quit
        case "?", "h", "help": self = .help
        case "u", "undo": self = .undo
        case "t", "type": self = .type(argument)
        case "a", "attention": self = .attention(argument)
        case "off": self = .off(argument)
        case "on": self = .on(argument)
        case "save": self = .save(argument.isEmpty ? Self.defaultTraceFolder : argument)
        default:
            if let setting = StepperSetting(word: command) {
                self = .set(setting, argument)
            } else if let number = Int(command) {
                self = .pick(number)
            } else {
                self = .unknown(line)
            }
        }
    }
}

/// A sampling setting the stepper can change between steps.
public enum StepperSetting: Sendable, Equatable {
    case temperature, topK, topP, seed

    init?(word: String) {
        switch word {
        case "temp", "temperature": self = .temperature
        case "topk", "top-k": self = .topK
        case "topp", "top-p": self = .topP
        case "seed": self = .seed
        default: return nil
        }
    }

    /// `settings` with this setting set to `value`, or an error naming the form it takes.
    public func applied(_ value: String, to settings: SamplingSettings) throws -> SamplingSettings {
        var changed = settings
        switch self {
        case .temperature:
            guard let v = Float(value) else { throw StepperError.needsNumber("temp", example: "temp 0.7") }
            changed.temperature = v
            changed.greedy = false
        case .topK:
            guard let v = Int(value) else { throw StepperError.needsNumber("topk", example: "topk 40 (0 = off)", whole: true) }
            changed.topK = v
        case .topP:
            guard let v = Float(value) else { throw StepperError.needsNumber("topp", example: "topp 0.9 (1 = off)") }
            changed.topP = v
        case .seed:
            guard let v = UInt64(value) else { throw StepperError.needsNumber("seed", example: "seed 7", whole: true) }
            changed.seed = v
        }
        do { try changed.validate() } catch let error as SamplingError {
            throw StepperError.invalidSetting(
                error.description { setting in
                    switch setting {
                    case .temperature: "temp"
                    case .topK: "topk"
                    case .topP: "topp"
                    }
                })
        }
        return changed
    }
}

public enum StepperError: Error, CustomStringConvertible, Equatable {
    case limitReached(Int)
    case notListed(Int, listed: Int)
    case needsNumber(String, example: String, whole: Bool = false)
    /// A value the sampler cannot use, named as the stepper's commands name it.
    case invalidSetting(String)
    case attentionUsage(layers: Int, heads: Int)
    case headUsage(layers: Int, heads: Int)
    case noAttentionYet
    case emptyText
    case noTokens(String)

    public var description: String {
        switch self {
        case .limitReached(let limit):
            return "the limit of \(limit) new token\(limit == 1 ? "" : "s") is reached: u undoes a step, q quits"
        case .notListed(let number, let listed): return "candidate \(number) is not listed: pick 1 to \(listed)"
        case .needsNumber(let name, let example, let whole): return "\(name) needs a \(whole ? "whole " : "")number, e.g. \(example)"
        case .invalidSetting(let message): return message
        case .attentionUsage(let layers, let heads):
            return "usage: a LAYER HEAD, with LAYER 0-\(layers - 1) and HEAD 0-\(heads - 1)"
        case .headUsage(let layers, let heads):
            return "usage: off L.H / on L.H / on (every head), layers 0-\(layers - 1), heads 0-\(heads - 1), e.g. off 4.0"
        case .noAttentionYet: return "no attention recorded yet"
        case .emptyText: return "type some text after t, e.g. t  dragon"
        case .noTokens(let text): return "\"\(text)\" gives no tokens"
        }
    }
}

/// The stepper's state and what each command does to it; the command line reads lines and prints.
public struct Stepper {
    public let session: GenerationSession
    public let tokenizer: any Tokenizer
    /// How many candidates the list shows (and `pick` accepts).
    public let listed: Int
    /// The stepper takes no more new tokens than this.
    public let maxNewTokens: Int
    /// End-of-text, or a llama2.c model's `<s>` (see `Generator.isEndOfText`).
    public let isEndOfText: (Int) -> Bool

    public init(
        session: GenerationSession, tokenizer: any Tokenizer, listed: Int, maxNewTokens: Int,
        isEndOfText: @escaping (Int) -> Bool
    ) {
        self.session = session
        self.tokenizer = tokenizer
        self.listed = listed
        self.maxNewTokens = maxNewTokens
        self.isEndOfText = isEndOfText
    }

    /// Takes a step; true when the token is the model's end of text (a natural place to stop).
    @discardableResult
    public func take(_ step: SamplingStep) throws -> Bool {
        guard !session.isContextFull else { throw GenerationError.contextFull(session.contextLength) }
        guard session.generatedIds.count < maxNewTokens else { throw StepperError.limitReached(maxNewTokens) }
        try session.accept(step)
        return isEndOfText(step.chosen)
    }

    /// Candidate `number` (1-based) of the list, forced.
    public func pick(_ number: Int) throws -> SamplingStep {
        let candidates = session.preview().afterTemperature
        let shown = min(listed, candidates.count)
        guard (1...max(1, shown)).contains(number), number <= candidates.count else {
            throw StepperError.notListed(number, listed: shown)
        }
        return session.forcedStep(candidates[number - 1].id)
    }

    /// The tokens `text` continues the text with (`t TEXT`).
    public func tokens(typing text: String) throws -> [Int] {
        guard !text.isEmpty else { throw StepperError.emptyText }
        let ids = tokenizer.encodeContinuation(text)
        guard !ids.isEmpty else { throw StepperError.noTokens(text) }
        return ids
    }

    /// Forces `ids` in turn; true when one of them ended the text.
    public func force(_ ids: [Int]) throws -> Bool {
        var ended = false
        for id in ids { ended = try take(session.forcedStep(id)) || ended }
        return ended
    }

    /// The heads switched off (`off L.H`), zeroed from the moment they were switched off.
    public var headsOff: Set<Intervention.Head> { Set(session.capture.intervention.heads.keys) }

    /// `off L.H` / `on L.H` / `on`: the heads switched off after the change, in order. The
    /// sequence so far is run again, so the next choice already shows the difference.
    @discardableResult
    public func switchHead(_ argument: String, off: Bool) throws -> [Intervention.Head] {
        let config = session.model.config
        var headsOff = self.headsOff
        if !off && argument.trimmingCharacters(in: .whitespaces).isEmpty {
            headsOff = []
        } else {
            guard let chosen = Intervention.Head(parsing: argument), chosen.layer < config.layers, chosen.head < config.heads else {
                throw StepperError.headUsage(layers: config.layers, heads: config.heads)
            }
            if off { headsOff.insert(chosen) } else { headsOff.remove(chosen) }
        }
        var intervention = Intervention()
        for head in headsOff { intervention.heads[head] = [Float](repeating: 0, count: config.headSize) }
        try session.setIntervention(intervention)
        return headsOff.sorted()
    }

    public func set(_ setting: StepperSetting, _ value: String) throws {
        session.settings = try setting.applied(value, to: session.settings)
    }

    /// The newest token's attention weights over every position, from `a L H`.
    public func newestAttention(_ argument: String) throws -> (layer: Int, head: Int, weights: [Float]) {
        let numbers = argument.split(separator: " ").compactMap { Int($0) }
        let config = session.model.config
        guard numbers.count == 2, (0..<config.layers).contains(numbers[0]), (0..<config.heads).contains(numbers[1]) else {
            throw StepperError.attentionUsage(layers: config.layers, heads: config.heads)
        }
        let (layer, head) = (numbers[0], numbers[1])
        guard let record = session.forwardRecords.last?.records[RecordKind.pattern.name(layer: layer)] else {
            throw StepperError.noAttentionYet
        }
        // The newest row: [H, rows, K] → row rows-1 of head `head`.
        let rows = record.shape[1], K = record.shape[2]
        return (layer, head, Array(record.scalars[((head * rows + rows - 1) * K)..<((head * rows + rows) * K)]))
    }

    /// An encoder–decoder's cross-attention of the newest token over the source (`[S]`, what
    /// the decoder read while choosing the next word); nil for other models.
    public func newestCrossAttention(layer: Int, head: Int) -> [Float]? {
        guard let record = session.forwardRecords.last?.records[RecordKind.crossPattern.name(layer: layer)] else { return nil }
        let rows = record.shape[1], S = record.shape[2]
        return Array(record.scalars[((head * rows + rows - 1) * S)..<((head * rows + rows) * S)])
    }
}
