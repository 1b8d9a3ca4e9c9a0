import Foundation
import Tensors
import Tokenizers
import Transformer

/// Zero-shot classification as Hugging Face's `zero-shot-classification` pipeline computes it
/// with a natural-language-inference model (bart-large-mnli): each candidate label becomes a
/// hypothesis ("This example is travel."), the model reads premise and hypothesis as one pair
/// and scores contradiction / neutral / entailment, and
/// - one label is true (the default): a softmax over the labels of their entailment logits;
/// - several may be (`multiLabel`): for each label on its own, a softmax of its contradiction
///   and entailment logits, the entailment share.
/// Entailment is the class whose name starts with "entail"; contradiction is class 0 (the last
/// class when entailment is class 0), exactly as the pipeline picks them.
public struct ZeroShotClassifier: Sendable {
    public let model: EncoderDecoderModel
    public let tokenizer: GPT2Tokenizer
    public let entailment: Int, contradiction: Int
    public static let defaultTemplate = "This example is {}."

    public init(model: EncoderDecoderModel, tokenizer: GPT2Tokenizer) throws(ZeroShotError) {
        guard model.config.head == .sequenceClassification, let labels = model.config.classLabels else {
            throw .notAnNLIModel
        }
        guard let entailment = labels.firstIndex(where: { $0.lowercased().hasPrefix("entail") }) else {
            throw .noEntailmentClass(labels)
        }
        self.model = model
        self.tokenizer = tokenizer
        self.entailment = entailment
        self.contradiction = entailment == 0 ? labels.count - 1 : 0
    }

    /// One premise–hypothesis pair: its hypothesis, ids and the model's logits (one per class).
    public struct Pair: Sendable, Encodable {
        public var label: String
        public var hypothesis: String
        public var ids: [Int]
        public var logits: [Float]
        /// Where the premise's and the hypothesis's tokens are among `ids` (the rest are the
        /// special tokens around them).
        public var premise: Range<Int>, hypothesisTokens: Range<Int>
        /// What the run recorded, when `classify` was asked to capture (encoder records
        /// `encoder.…` over `ids`, decoder records over `[start] + ids.dropLast()`).
        public var records: [String: Tensor] = [:]

        enum CodingKeys: String, CodingKey { case label, hypothesis, ids, logits }
    }

    /// The pipeline's answer: labels and scores sorted by score (highest first), and each pair
    /// in the order the labels were given.
    public struct Result: Sendable, Encodable {
        public var sequence: String
        public var labels: [String]
        public var scores: [Double]
        public var multiLabel: Bool
        public var pairs: [Pair]
    }

    /// Classifies `sequence` into `labels` with hypotheses from `template` (`{}` stands for the
    /// label); each pair's run records what `capture` asks.
    public func classify(
        _ sequence: String, labels: [String], template: String = defaultTemplate, multiLabel: Bool = false,
        capture: CaptureSpec = .nothing
    ) throws(ZeroShotError) -> Result {
        let candidates = try Self.candidates(labels)
        guard template.contains("{}") else { throw .templateWithoutPlaceholder(template) }
        var pairs: [Pair] = []
        for label in candidates {
            let hypothesis = template.replacingOccurrences(of: "{}", with: label)
            let (ids, premise, hypothesisTokens) = tokenizer.encodePairWithSpans(sequence, hypothesis)
            guard ids.count <= model.config.contextLength else {
                throw .tooLong(tokens: ids.count, limit: model.config.contextLength)
            }
            guard let (logits, records) = model.classScores(ids, capture: capture) else { throw .notAnNLIModel }
            pairs.append(
                Pair(
                    label: label, hypothesis: hypothesis, ids: ids, logits: logits, premise: premise, hypothesisTokens: hypothesisTokens,
                    records: records))
        }
        let scores: [Double]
        // One label alone is scored on its own, as the pipeline does (a softmax over one label is 1).
        let multiLabel = multiLabel || pairs.count == 1
        if multiLabel {
            scores = pairs.map { Self.softmax([Double($0.logits[contradiction]), Double($0.logits[entailment])])[1] }
        } else {
            scores = Self.softmax(pairs.map { Double($0.logits[entailment]) })
        }
        // Highest first; ties keep the later label first, as the pipeline's reversed argsort does.
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 > $1 }
        return Result(
            sequence: sequence, labels: order.map { candidates[$0] }, scores: order.map { scores[$0] }, multiLabel: multiLabel,
            pairs: pairs)
    }

    /// The labels trimmed, each once and none empty.
    public static func candidates(_ labels: [String]) throws(ZeroShotError) -> [String] {
        let candidates = labels.map { $0.trimmingCharacters(in: .whitespaces) }
        guard !candidates.isEmpty, candidates.allSatisfy({ !$0.isEmpty }) else { throw .noLabels }
        var seen = Set<String>()
        for label in candidates where !seen.insert(label).inserted { throw .repeatedLabel(label) }
        return candidates
    }

    static func softmax(_ x: [Double]) -> [Double] {
        let top = x.max() ?? 0
        let e = x.map { exp($0 - top) }
        let sum = e.reduce(0, +)
        return e.map { $0 / sum }
    }
}

public enum ZeroShotError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case notAnNLIModel
    case noEntailmentClass([String])
    case noLabels
    case templateWithoutPlaceholder(String)
    case tooLong(tokens: Int, limit: Int)
    case repeatedLabel(String)
    case noLikelihoodForEncoderDecoder(family: String)

    public var description: String {
        switch self {
        case .notAnNLIModel:
            return
                "this model has no natural-language-inference head (BartForSequenceClassification, e.g. bart-large-mnli) to score a premise against a hypothesis"
        case .noEntailmentClass(let labels):
            return
                "none of the model's classes (\(labels.joined(separator: ", "))) is named entailment…: zero-shot classification needs an NLI model"
        case .noLabels:
            return "give at least one candidate label, none of them empty"
        case .templateWithoutPlaceholder(let template):
            return "the hypothesis template \"\(template)\" has no {} where the label goes, e.g. \"This example is {}.\""
        case .tooLong(let tokens, let limit):
            return
                "the text and a hypothesis make \(tokens) tokens, more than the model's \(limit): shorten the text (the transformers pipeline would cut the text; Lantern refuses rather than classify part of it)"
        case .repeatedLabel(let label):
            return "the label \"\(label)\" is given twice; give each label once"
        case .noLikelihoodForEncoderDecoder(let family):
            return
                "this model is an encoder–decoder (\(family)) without a classification head: label likelihood is measured with a decoder that continues the text (e.g. the built-in lantern-tiny), zero-shot entailment with an NLI model (bart-large-mnli)"
        }
    }

    public var errorDescription: String? { description }
}
