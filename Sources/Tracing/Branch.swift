import Foundation
import Generation
import Tensors
import Tokenizers
import Transformer

// Counterfactual branching: generate from a prompt, then go back to generated token n, put a
// different token there and let the model carry on with the same settings. Both continuations are
// kept with the probability of every token, so a learner sees how one choice changes the rest.
//
// The branch is a fresh `GenerationSession` that samples the same first n tokens as the main line
// (same seed, same draws), takes the forced token without a random draw, then samples on. So its
// token n+1 uses the draw the main line spent on token n; a seed replays both lines exactly.

/// One generated token of a line.
public struct BranchToken: Sendable, Codable, Equatable {
    public var id: Int
    /// Display form of the piece (spaces as ␣).
    public var piece: String
    /// The chosen probability, as `SamplingStep.chosenProbability` defines it: in the distribution
    /// it was drawn from (after temperature and cuts), or the model's own softmax for greedy and forced steps.
    public var probability: Float
    /// 1-based rank by raw logit.
    public var rank: Int
    public var forced: Bool
}

/// One continuation: its tokens, its text (a stop string and what follows removed) and why it ended.
public struct BranchLine: Sendable, Codable, Equatable {
    public var tokens: [BranchToken]
    public var text: String
    public var stopReason: StopReason

    public var ids: [Int] { tokens.map(\.id) }
}

/// The choice at the fork, seen in the distribution both lines share there.
public struct BranchFork: Sendable, Codable, Equatable {
    /// Index of the forced token among the generated ones (0 = the first generated token).
    public var at: Int
    public var forcedId: Int
    public var forcedPiece: String
    /// The forced token's probability under the original distribution (the model's softmax, temperature 1).
    public var forcedProbability: Float
    /// Its 1-based rank by logit there.
    public var forcedRank: Int
    /// Whether the sampling settings could have picked it at all (it survives top-k and top-p).
    public var forcedWithinFilters: Bool
    /// What the main line took there, with its probability in the model's softmax (temperature 1).
    public var originalId: Int
    public var originalPiece: String
    public var originalProbability: Float
    public var originalRank: Int
}

/// How to pick the token forced at the fork.
public enum BranchChoice: Sendable, Equatable {
    /// This token id.
    case token(Int)
    /// The k-th most likely token of the original distribution there (1 = the most likely).
    case candidate(Int)
    /// The one token this text encodes to (a SentencePiece `<s>` in front is ignored; when the text
    /// is several tokens only because of a leading space the tokenizer adds itself, that space is dropped).
    case text(String)

    /// The token id this choice names, given the distribution `logits` at the fork.
    func resolve(logits: [Float], tokenizer: any Tokenizer) throws -> Int {
        switch self {
        case .token(let id):
            guard (0..<logits.count).contains(id) else { throw GenerationError.tokenOutOfRange(id, vocabulary: logits.count) }
            return id
        case .candidate(let k):
            guard (1...logits.count).contains(k) else { throw BranchError.candidateOutOfRange(k, vocabulary: logits.count) }
            return BranchRecord.rankedIds(logits)[k - 1]
        case .text(let text):
            func encoded(_ text: String) -> [Int] {
                var ids = tokenizer.encode(text)
                if ids.count > 1, ids.first == tokenizer.beginningOfText { ids.removeFirst() }
                return ids
            }
            var ids = encoded(text)
            if ids.count != 1, text.hasPrefix(" "), encoded(String(text.dropFirst())).count == 1 { ids = encoded(String(text.dropFirst())) }
            guard ids.count == 1, (0..<logits.count).contains(ids[0]) else {
                throw BranchError.notOneToken(text, pieces: ids.map { tokenizer.displayPiece($0) })
            }
            return ids[0]
        }
    }
}

/// Both continuations of a fork, saved as `branch.json`.
public struct BranchRecord: Sendable, Codable {
    public static let formatName = "lantern-branch"
    public static let currentVersion = 1

    public var format = BranchRecord.formatName
    public var version = BranchRecord.currentVersion
    /// Where the model came from, as the user named it.
    public var model: String
    public var prompt: String
    public var promptIds: [Int]
    public var sampling: SamplingSettings
    public var maxNewTokens: Int
    public var stopStrings: [String]
    public var fork: BranchFork
    public var main: BranchLine
    public var branch: BranchLine

    // MARK: - Generating both lines

    /// Generates the main line from `prompt`, then the branch that forces `choice` at generated
    /// token `at` (0-based) and continues with the same settings, stop strings and token budget.
    public static func generate(
        generator: Generator, prompt: String, settings: SamplingSettings, maxNewTokens: Int,
        stopStrings: [String] = [], at: Int, choice: BranchChoice,
        source: String
    ) throws -> BranchRecord {
        guard at >= 0, at < maxNewTokens else { throw BranchError.forkOutOfRange(at, maxNewTokens: maxNewTokens) }
        let tokenizer = generator.tokenizer, model = generator.model
        let (result, _) = try generator.generate(
            prompt: prompt, maxNewTokens: maxNewTokens, settings: settings,
            stopStrings: stopStrings)
        // The main line must have reached decision `at` (its steps include a final end-of-text step).
        guard result.steps.count > at else {
            throw BranchError.mainLineEndedEarly(generated: result.generatedIds.count, reason: result.stopReason, at: at)
        }
        let main = BranchLine(
            tokens: zip(result.generatedIds, result.steps).map { id, step in
                BranchToken(
                    id: id, piece: tokenizer.displayPiece(id), probability: step.chosenProbability,
                    rank: step.chosenRank, forced: step.forced)
            }, text: result.text, stopReason: result.stopReason)

        // The branch: the same first `at` tokens, drawn again from the same seed.
        let session = try GenerationSession(model: model, tokenizer: tokenizer, promptIds: result.promptIds, settings: settings)
        var decoder = StreamingDecoder(tokenizer: tokenizer, skipSpecialTokens: true, following: session.promptIds.last)
        var filter = StopStringFilter(stops: stopStrings)
        var text = ""
        /// Feeds one kept token to the text; true when a stop string appeared.
        func emit(_ id: Int) -> Bool {
            let (release, stopped) = filter.append(decoder.push(id))
            text += release
            return stopped
        }
        for index in 0..<at {
            let step = session.sample()
            guard step.chosen == result.generatedIds[index] else {
                throw BranchError.notReproducible(index: index, main: result.generatedIds[index], again: step.chosen)
            }
            try session.accept(step)
            _ = emit(step.chosen)
        }

        // The fork, in the distribution both lines share there.
        let forcedId = try choice.resolve(logits: session.logits, tokenizer: tokenizer)
        let forcedStep = session.forcedStep(forcedId)
        let original = result.steps[at]
        let originalStep = session.forcedStep(original.chosen)
        let fork = BranchFork(
            at: at, forcedId: forcedId, forcedPiece: tokenizer.displayPiece(forcedId),
            forcedProbability: forcedStep.chosenProbability, forcedRank: forcedStep.chosenRank,
            forcedWithinFilters: forcedStep.chosenRank <= original.countAfterTopP,
            originalId: original.chosen, originalPiece: tokenizer.displayPiece(original.chosen),
            originalProbability: originalStep.chosenProbability, originalRank: originalStep.chosenRank)

        // Then carry on as `Generator` does: end-of-text, a full context, a stop string or the budget ends it.
        var stopReason = StopReason.maxTokens
        var step = forcedStep
        while true {
            if generator.isEndOfText(step.chosen) { session.recordFinalStep(step); stopReason = .endOfText; break }
            if session.isContextFull { stopReason = .contextFull; break }
            try session.accept(step)
            if emit(step.chosen) { stopReason = .stopString; break }
            if session.generatedIds.count >= maxNewTokens { stopReason = .maxTokens; break }
            step = session.sample()
        }
        if stopReason != .stopString {
            let (release, stopped) = filter.append(decoder.finish())
            text += release
            if !stopped { text += filter.finish() }
        }
        let branch = BranchLine(
            tokens: zip(session.generatedIds, session.steps).map { id, step in
                BranchToken(
                    id: id, piece: tokenizer.displayPiece(id), probability: step.chosenProbability,
                    rank: step.chosenRank, forced: step.forced)
            }, text: text, stopReason: stopReason)

        return BranchRecord(
            model: source, prompt: prompt, promptIds: result.promptIds, sampling: settings,
            maxNewTokens: maxNewTokens, stopStrings: stopStrings, fork: fork, main: main, branch: branch)
    }

    /// Every id, highest logit first; ties go to the lower id (the sampler's order).
    static func rankedIds(_ logits: [Float]) -> [Int] {
        logits.indices.sorted { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
    }

    // MARK: - branch.json

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    /// The record as JSON (snake_case keys, sorted).
    public func jsonData() throws -> Data {
        try Self.encoder.encode(self)
    }

    /// Writes the record to `url` whole or not at all (`AtomicFile`); missing folders are created.
    public func write(to url: URL) throws {
        do { try AtomicFile.write(try jsonData(), to: url) } catch let error as AtomicFile.Failure {
            throw BranchError.unwritable(error.path, problem: error.reason)
        }
    }

    /// Reads a `branch.json`.
    public static func read(from url: URL) throws -> BranchRecord {
        guard let data = try? Data(contentsOf: url) else { throw BranchError.notABranch(url.path, problem: "it cannot be read") }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let record: BranchRecord
        do { record = try decoder.decode(BranchRecord.self, from: data) } catch {
            throw BranchError.notABranch(url.path, problem: "it is malformed: \(PlainError.decoding(error, in: data, snakeCaseKeys: true))")
        }
        guard record.format == formatName, record.version <= currentVersion else {
            throw BranchError.notABranch(
                url.path, problem: "format \(record.format) version \(record.version) is not one this Lantern reads")
        }
        return record
    }
}

/// A branch setting, named as people say it; an interface names it its own way (the command
/// line by its flags: --at, --candidate, --token, --max-new-tokens, --out).
public enum BranchSetting: String, Sendable {
    case fork = "the fork point"
    case candidate = "the candidate"
    case token = "the forced token"
    case maxNewTokens = "the number of new tokens"
    case output = "the branch record's file"
}

public enum BranchError: Error, CustomStringConvertible, LocalizedError {
    case forkOutOfRange(Int, maxNewTokens: Int)
    case mainLineEndedEarly(generated: Int, reason: StopReason, at: Int)
    case candidateOutOfRange(Int, vocabulary: Int)
    case notOneToken(String, pieces: [String])
    case notReproducible(index: Int, main: Int, again: Int)
    case unwritable(String, problem: String)
    case notABranch(String, problem: String)

    /// The message with each setting named by `name` (e.g. its command-line flag).
    public func description(naming name: (BranchSetting) -> String) -> String {
        switch self {
        case .forkOutOfRange(let at, let maxNewTokens):
            return "\(name(.fork)) \(at) is out of range: it counts the generated tokens kept before the fork (0 forces the first one), "
                + "so use 0 to \(maxNewTokens - 1), or raise \(name(.maxNewTokens))"
        case .mainLineEndedEarly(let generated, let reason, let at):
            return "the main line ended after \(generated) generated token\(generated == 1 ? "" : "s") (\(reason.rawValue)), "
                + "before token \(at) could be forced; fork earlier (\(name(.fork)) \(max(0, generated - 1)) or less) or change the seed"
        case .candidateOutOfRange(let k, let vocabulary):
            return "\(name(.candidate)) \(k) is out of range: use 1 (the most likely token) to \(vocabulary)"
        case .notOneToken(let text, let pieces):
            return "\(name(.token)) \"\(text)\" is \(pieces.count) tokens (\(pieces.joined(separator: " | "))), not one; "
                + "give a single token (`lantern tokenize` shows how text splits), or choose a candidate by rank"
        case .notReproducible(let index, let main, let again):
            return
                "generating again from the same seed gave token \(again) instead of \(main) at step \(index); the engine is not deterministic here"
        case .unwritable(let path, let problem):
            return "cannot write \(path): \(problem); choose another place for \(name(.output))"
        case .notABranch(let path, let problem):
            return "\(path) is not a Lantern branch record: \(problem); branch records are written by `lantern branch`"
        }
    }

    public var description: String { description(naming: \.rawValue) }
    public var errorDescription: String? { description }
}
