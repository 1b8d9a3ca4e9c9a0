// Few-shot sentiment lines: `Review: The soup was warm and tasty. Sentiment: positive`.
// Reviews are built from subjects and opinion words; negation ("was not good") and contrast
// ("was cold, but the tea was lovely": the second clause decides) make the label depend on more
// than one word. A review's key is its subject and its first opinion word; about one key in seven
// is held out for evaluation and never written into training text.

public enum SentimentLabel: String, CaseIterable, Sendable, Codable {
    case positive, negative

    var opposite: SentimentLabel { self == .positive ? .negative : .positive }
}

struct Review {
    let text: String
    let label: SentimentLabel

    var line: String { "Review: \(text) Sentiment: \(label.rawValue)" }
}

enum SentimentWriter {
    static let subjects = ["soup", "cake", "pizza", "movie", "book", "song", "game", "room",
                           "bus", "show", "lesson", "park", "bread", "tea", "music", "food"]
    static let positiveWords = ["good", "great", "nice", "lovely", "fun", "wonderful", "beautiful",
                                "perfect", "fresh", "friendly", "tasty", "sweet", "clean", "pleasant"]
    static let negativeWords = ["bad", "terrible", "boring", "dull", "dirty", "cold", "stale",
                                "rude", "noisy", "ugly", "horrible", "slow", "sour", "poor"]
    static let likeVerbs = ["loved", "liked", "enjoyed"]
    static let dislikeVerbs = ["hated", "disliked"]

    static func words(_ label: SentimentLabel) -> [String] { label == .positive ? positiveWords : negativeWords }

    static func isReserved(subject: String, opinion: String) -> Bool {
        stableHash("review|\(subject)|\(opinion)") % 7 == 0
    }

    /// A review with the given label whose key is reserved exactly when `split` is held-out.
    static func review(_ label: SentimentLabel, split: CorpusSplit, _ random: inout CorpusRandom) -> Review {
        while true {
            let (text, subject, opinion) = draft(label, &random)
            if isReserved(subject: subject, opinion: opinion) == (split == .heldOut) {
                return Review(text: text, label: label)
            }
        }
    }

    private static func draft(_ label: SentimentLabel, _ random: inout CorpusRandom) -> (String, String, String) {
        let s = random.pick(subjects)
        let word = random.pick(words(label)), opposite = random.pick(words(label.opposite))
        switch random.below(8) {
        case 0:
            return ("The \(s) was \(word).", s, word)
        case 1:
            var second = random.pick(words(label))
            while second == word { second = random.pick(words(label)) }
            return ("The \(s) was \(word) and \(second).", s, word)
        case 2:
            return ("The \(s) was very \(word).", s, word)
        case 3:
            let verb = random.pick(label == .positive ? likeVerbs : dislikeVerbs)
            return ("I \(verb) the \(s).", s, verb)
        case 4:
            return ("What a \(word) \(s)!", s, word)
        case 5:
            return ("The \(s) was not \(opposite).", s, opposite)
        case 6:
            var other = random.pick(subjects)
            while other == s { other = random.pick(subjects) }
            return ("The \(s) was \(opposite), but the \(other) was \(word).", s, opposite)
        default:
            let again = random.pick(["come back", "go again"])
            let will = label == .positive ? "I would \(again)." : "I would not \(again)."
            return ("The \(s) was \(word). \(will)", s, word)
        }
    }

    /// A training document: four to eight review lines with mixed labels.
    static func document(_ random: inout CorpusRandom) -> String {
        (0..<random.int(in: 4...8)).map { _ in
            review(random.chance(0.5) ? .positive : .negative, split: .training, &random).line
        }.joined(separator: "\n")
    }
}
