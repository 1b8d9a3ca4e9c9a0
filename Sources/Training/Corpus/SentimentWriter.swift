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
    /// What is reviewed, in groups that share their own opinion words (a soup is tasty, a movie
    /// is funny, a room is clean); the general words (good, terrible, …) go with every group.
    struct Group {
        let subjects: [String]
        let positive: [String]
        let negative: [String]
    }

    static let groups: [Group] = [
        Group(
            subjects: ["soup", "cake", "pizza", "bread", "tea", "food"],
            positive: ["tasty", "fresh", "sweet", "warm"], negative: ["stale", "sour", "cold", "salty"]),
        Group(
            subjects: ["movie", "book", "song", "show", "music", "game", "lesson"],
            positive: ["funny", "clever", "lovely", "gripping"], negative: ["boring", "dull", "slow", "silly"]),
        Group(
            subjects: ["room", "bus", "park", "shop", "hotel"],
            positive: ["clean", "quiet", "bright", "cozy"], negative: ["dirty", "noisy", "crowded", "smelly"])
    ]
    static let generalPositive = ["good", "great", "nice", "wonderful", "perfect"]
    static let generalNegative = ["bad", "terrible", "horrible", "poor", "nasty"]
    static let likeVerbs = ["loved", "liked", "enjoyed"]
    static let dislikeVerbs = ["hated", "disliked"]

    static var subjects: [String] { groups.flatMap(\.subjects) }

    /// The opinion words of `label` that fit `group`.
    static func words(_ label: SentimentLabel, _ group: Group) -> [String] {
        label == .positive ? group.positive + generalPositive : group.negative + generalNegative
    }

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
        let group = random.pick(groups)
        let s = random.pick(group.subjects)
        let word = random.pick(words(label, group)), opposite = random.pick(words(label.opposite, group))
        switch random.below(8) {
        case 0:
            return ("The \(s) was \(word).", s, word)
        case 1:
            var second = random.pick(words(label, group))
            while second == word { second = random.pick(words(label, group)) }
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
            let otherGroup = random.pick(groups)
            var other = random.pick(otherGroup.subjects)
            while other == s { other = random.pick(otherGroup.subjects) }
            let second = random.pick(words(label, otherGroup))
            return ("The \(s) was \(opposite), but the \(other) was \(second).", s, opposite)
        default:
            let again = random.pick(["come back", "go again"])
            let will = label == .positive ? "I would \(again)." : "I would not \(again)."
            return ("The \(s) was \(word). \(will)", s, word)
        }
    }

    /// A training document. About a third are review lines labelled `positive` / `negative`;
    /// the rest are *symbol* documents: two ordinary words drawn afresh for the document stand for
    /// the two labels, either way round (`Sentiment: kite` for a good review, `Sentiment: frog`
    /// for a bad one), so only the document's own earlier lines tell which word goes with which
    /// kind of review. That is what makes a small model learn to read examples in its prompt (as
    /// in "symbol tuning" and MetaICL) instead of only recalling a memorised format.
    static func document(_ random: inout CorpusRandom) -> String {
        guard random.chance(0.65) else {
            return (0..<random.int(in: 4...8)).map { _ in
                review(random.chance(0.5) ? .positive : .negative, split: .training, &random).line
            }.joined(separator: "\n")
        }
        let words = LabelWords.draw(&random)
        let cue = random.pick(symbolCues)
        return (0..<random.int(in: 4...12)).map { _ in
            let label: SentimentLabel = random.chance(0.5) ? .positive : .negative
            let text = review(label, split: .training, &random).text
            return "Review: \(text) \(cue): \(words.word(for: label))"
        }.joined(separator: "\n")
    }

    /// The answer cues of symbol documents: the usual one, and two that carry no meaning.
    static let symbolCues = ["Sentiment", "Label", "Answer"]
}

/// Two ordinary words standing for the two sentiment labels in one prompt.
public struct LabelWords: Sendable, Hashable, Codable {
    public let positive: String
    public let negative: String

    public init(positive: String, negative: String) {
        self.positive = positive
        self.negative = negative
    }

    public func word(for label: SentimentLabel) -> String { label == .positive ? positive : negative }

    /// Everyday words with no sentiment of their own: colours, animals, things, places.
    static let pool = [
        "blue", "red", "green", "yellow", "pink", "purple", "brown", "white", "black", "orange",
        "cat", "dog", "bird", "frog", "duck", "fish", "horse", "cow", "bee", "fox",
        "ball", "kite", "hat", "book", "cup", "box", "key", "drum", "boat", "shoe",
        "tree", "rock", "door", "lamp", "chair", "spoon", "river", "hill", "moon", "star",
        "one", "two", "left", "right", "up", "down", "north", "south", "apple", "pear"
    ]

    /// Two different words from the pool, assigned to the labels at random.
    static func draw(_ random: inout CorpusRandom) -> LabelWords {
        let picked = random.distinct(2, below: pool.count)
        return LabelWords(positive: pool[picked[0]], negative: pool[picked[1]])
    }
}
