import Foundation
import Generation
import Tokenizers
import Transformer

/// Zero-shot classification on the teaching model's own world, measured: how a character feels
/// after an event of a held-out story ("Then, Anna lost her blue book." → sad; "…and found her
/// blue book!" → happy), asked as `lantern classify` asks a decoder — the model's likelihood of
/// " sad" against " happy" after the event and "Anna felt". The story then says the feeling with
/// any of its class's words (upset, worried… / glad, excited…); only the two labels are offered.
public enum ZeroShotEvaluation {
    public static let labels = ["sad", "happy"]

    public struct Item: Sendable, Equatable {
        /// The event sentence, the character's name, and the class the story gives (sad or happy).
        public var event: String, name: String, expected: String
    }

    /// Items from `count` held-out stories: every sentence that says how the hero feels, with the
    /// sentence before it as the event (when that one names no feeling itself).
    public static func feelingItems(count: Int, seed: UInt64) -> [Item] {
        let sad = Set(WordClass.sadFeeling.words), happy = Set(WordClass.happyFeeling.words)
        var items: [Item] = []
        for story in TeachingCorpus.heldOutStories(count: count, seed: seed) {
            let name = story.hero.name
            for (index, sentence) in story.sentences.enumerated() where index > 0 {
                let words = Set(CorpusGrammar.words(in: sentence))
                // The hero's own feeling: "Anna felt …", "Poor Anna felt so …", "Now Anna was so …"
                // (not "Anna saw that Ben was sad", nor "The cat was happy and followed Anna").
                let subject = ["", "Poor ", "Now "].flatMap { ["\($0)\(name) felt ", "\($0)\(name) was "] }
                guard subject.contains(where: sentence.hasPrefix) else { continue }
                let isSad = !words.isDisjoint(with: sad), isHappy = !words.isDisjoint(with: happy)
                guard isSad != isHappy else { continue }
                let event = story.sentences[index - 1]
                let eventWords = Set(CorpusGrammar.words(in: event))
                guard eventWords.isDisjoint(with: sad), eventWords.isDisjoint(with: happy), !event.contains("\"") else { continue }
                items.append(Item(event: event, name: name, expected: isSad ? "sad" : "happy"))
            }
        }
        return items
    }

    /// The share of the items that fit the model's context whose expected label the classifier
    /// ranks first, overall and per class, and how many were asked (nil shares when none fit).
    public static func accuracy(
        _ items: [Item], classifier: LikelihoodClassifier
    ) throws -> (
        all: Double?, byClass: [String: Double], asked: Int
    ) {
        var right: [String: Int] = [:], asked: [String: Int] = [:]
        for item in items {
            let result: LikelihoodClassifier.Result
            do {
                result = try classifier.classify(item.event, labels: labels, template: "\(item.name) felt {}.")
            } catch ZeroShotError.tooLong, GenerationError.promptTooLong {
                continue  // does not fit this model's context: not asked, as the other tasks leave such items out
            }
            asked[item.expected, default: 0] += 1
            if result.labels.first == item.expected { right[item.expected, default: 0] += 1 }
        }
        let total = asked.values.reduce(0, +)
        let byClass = asked.mapValues { _ in 0.0 }.merging(asked.map { ($0.key, Double(right[$0.key] ?? 0) / Double($0.value)) }) {
            $1
        }
        return (total == 0 ? nil : Double(right.values.reduce(0, +)) / Double(total), byClass, total)
    }
}
