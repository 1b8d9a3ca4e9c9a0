import Foundation
import Tensors
import Tokenizers
import Transformer

/// Zero-shot classification with a model that only continues text (a decoder such as GPT-2 or
/// the built-in models), which has no entailment class to ask: each label is scored by how likely
/// the model finds it where the template puts it. The prompt is the text and the template's words
/// before `{}` ("Mia lost her ball. She felt"); a label's score is the sum of the log-probabilities
/// of its tokens and of the template's rest (" sad."), and the scores are a softmax over the
/// labels of those sums. Longer labels pay for every token, so similar-length labels compare best.
public struct LikelihoodClassifier {
    public let generator: Generator
    public static let defaultTemplate = "{}"

    public init(generator: Generator) { self.generator = generator }

    /// One label: its continuation and the log-probability the model gives it.
    public struct Scored: Sendable, Encodable {
        public var label: String
        public var continuation: String
        public var logProbability: Double
        public var tokens: Int
        /// The run's ids: the prompt's, then the continuation's (the last `tokens` of them).
        public var ids: [Int] = []
        /// How many of `ids` are the prompt's.
        public var promptTokens: Int { ids.count - tokens }
        /// What the run recorded, when `classify` was asked to capture.
        public var records: [String: Tensor] = [:]

        enum CodingKeys: String, CodingKey { case label, continuation, logProbability, tokens }
    }

    public struct Result: Sendable, Encodable {
        public var sequence: String
        public var prompt: String
        public var labels: [String]
        public var scores: [Double]
        public var scored: [Scored]
    }

    /// Scores `labels` after `sequence` where `template` puts them; each label's run records what
    /// `capture` asks.
    public func classify(
        _ sequence: String, labels: [String], template: String = defaultTemplate, capture: CaptureSpec = .nothing
    ) throws -> Result {
        let candidates = try ZeroShotClassifier.candidates(labels)
        guard let slot = template.range(of: "{}") else { throw ZeroShotError.templateWithoutPlaceholder(template) }
        // An encoder–decoder writes from a source, not after a text: its likelihood of a label
        // would need the text as the source, which this method does not ask.
        guard !generator.model.config.isEncoderDecoder else {
            throw ZeroShotError.noLikelihoodForEncoderDecoder(family: generator.model.config.family.displayName)
        }
        let before = template[..<slot.lowerBound].trimmingCharacters(in: .whitespaces), after = String(template[slot.upperBound...])
        // "{}" alone continues the text after a space; "She felt {}." puts the label after "felt".
        let text = sequence.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        let prompt = before.isEmpty ? text : text + " " + before
        let promptIds = try generator.encodePrompt(prompt)
        let model = generator.model, tokenizer = generator.tokenizer
        var scored: [Scored] = []
        for label in candidates {
            let continuation = " " + label + after
            let ids = tokenizer.encodeContinuation(continuation)
            let all = promptIds + ids
            guard all.count <= model.config.contextLength else {
                throw ZeroShotError.tooLong(tokens: all.count, limit: model.config.contextLength)
            }
            var cache = model.makeCache()
            let pass = model.forward(all, cache: &cache, capture: capture, allLogits: true)
            let logits = pass.logits
            var sum = 0.0
            for t in (promptIds.count - 1)..<(all.count - 1) {
                let row = logits.row(t)
                let top = row.max() ?? 0
                let logSum = log(row.reduce(0.0) { $0 + exp(Double($1 - top)) }) + Double(top)
                sum += Double(row[row.startIndex + all[t + 1]]) - logSum
            }
            scored.append(
                Scored(label: label, continuation: continuation, logProbability: sum, tokens: ids.count, ids: all, records: pass.records))
        }
        let scores = ZeroShotClassifier.softmax(scored.map(\.logProbability))
        let order = scores.indices.sorted { scores[$0] != scores[$1] ? scores[$0] > scores[$1] : $0 < $1 }
        return Result(
            sequence: sequence, prompt: prompt, labels: order.map { candidates[$0] }, scores: order.map { scores[$0] }, scored: scored)
    }
}
