// Few-shot tweet sentiment in the format of the course's prompt-engineering example:
//
//     For each tweet, classify the sentiment:
//     Tweet: "I hate spinach"
//     Sentiment: negative
//     ###
//     Tweet: "I had pasta for lunch"
//     Sentiment: neutral
//
// Three labels (positive, negative, neutral), each from its own templates. A tweet's whole text is
// its key: about one in six is held out for evaluation and never written into training text, and
// so is the course's own query, "Eating watermelon in the summer brings me immense joy", so the
// lesson asks the model about a tweet it has never seen.

public enum TweetLabel: String, CaseIterable, Sendable, Codable {
    case positive, negative, neutral
}

struct Tweet {
    let text: String
    let label: TweetLabel

    /// The two lines a document writes for it: the tweet in quotes, then its label.
    var lines: String { "Tweet: \"\(text)\"\nSentiment: \(label.rawValue)" }
}

enum TweetWriter {
    static let header = "For each tweet, classify the sentiment:"
    static let separator = "###"
    /// The course's query: held out of training, asked in lesson 11.
    static let courseQuery = "Eating watermelon in the summer brings me immense joy"

    static let foods = [
        "spinach", "watermelon", "pizza", "soup", "cake", "broccoli", "pasta", "apples",
        "strawberries", "pancakes", "cheese", "carrots", "ice cream", "chocolate"
    ]
    static let seasons = ["summer", "winter", "spring", "autumn"]
    static let amounts = ["immense", "so much", "great", "pure"]
    static let activities = [
        "Swimming", "Dancing", "Reading", "Walking the dog", "Playing football", "Cooking",
        "Singing", "Painting"
    ]
    static let places = ["beach", "park", "library", "office", "gym", "zoo", "market", "station"]
    static let things = ["phone", "bike", "laptop", "shoes", "car", "umbrella", "watch", "chair"]
    // (Words that take "a", not "an": the templates write "What a … day".)
    static let goodWords = ["great", "wonderful", "beautiful", "perfect", "fantastic", "lovely"]
    static let badWords = ["terrible", "horrible", "boring", "dreadful", "miserable", "rotten"]
    static let days = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    static let times = ["nine", "ten", "noon", "six", "eight"]
    static let colours = ["red", "blue", "green", "black", "white", "grey"]

    static func isReserved(_ text: String) -> Bool {
        text == courseQuery || stableHash("tweet|\(text)") % 6 == 0
    }

    /// A tweet with the given label that is held out exactly when `split` is held-out.
    static func tweet(_ label: TweetLabel, split: CorpusSplit, _ random: inout CorpusRandom) -> Tweet {
        while true {
            let text = draft(label, &random)
            if isReserved(text) == (split == .heldOut) { return Tweet(text: text, label: label) }
        }
    }

    private static func draft(_ label: TweetLabel, _ r: inout CorpusRandom) -> String {
        switch label {
        case .positive:
            switch r.below(7) {
            case 0: return "I love \(r.pick(foods))"
            case 1: return "Eating \(r.pick(foods)) in the \(r.pick(seasons)) brings me \(r.pick(amounts)) joy"
            case 2: return "\(r.pick(activities)) with my friends makes me so happy"
            case 3: return "What a \(r.pick(goodWords)) day at the \(r.pick(places))"
            case 4: return "My new \(r.pick(things)) is \(r.pick(goodWords))"
            case 5: return "I can't wait to go to the \(r.pick(places)) again"
            default: return "\(r.pick(activities)) in the \(r.pick(seasons)) is \(r.pick(goodWords))"
            }
        case .negative:
            switch r.below(7) {
            case 0: return "I hate \(r.pick(foods))"
            case 1: return "Eating \(r.pick(foods)) in the \(r.pick(seasons)) makes me feel sick"
            case 2: return "\(r.pick(activities)) in the rain makes me so sad"
            case 3: return "What a \(r.pick(badWords)) day at the \(r.pick(places))"
            case 4: return "My \(r.pick(things)) broke again"
            case 5: return "I never want to go to the \(r.pick(places)) again"
            default: return "\(r.pick(activities)) in the \(r.pick(seasons)) is \(r.pick(badWords))"
            }
        case .neutral:
            switch r.below(6) {
            case 0: return "I had \(r.pick(foods)) for lunch"
            case 1: return "The bus to the \(r.pick(places)) comes at \(r.pick(times))"
            case 2: return "I am going to the \(r.pick(places)) on \(r.pick(days))"
            case 3: return "My \(r.pick(things)) is \(r.pick(colours))"
            case 4: return "\(r.pick(activities)) class starts on \(r.pick(days))"
            default: return "We are buying \(r.pick(foods)) at the \(r.pick(places))"
            }
        }
    }

    /// A training document: sometimes the instruction line, then three to eight tweets with their
    /// labels, separated by `###` lines (sometimes one after the last as well).
    static func document(_ random: inout CorpusRandom) -> String {
        let items = (0..<random.int(in: 3...8)).map { _ in
            tweet(random.pick(TweetLabel.allCases), split: .training, &random).lines
        }
        var text = random.chance(0.7) ? header + "\n" : ""
        text += items.joined(separator: "\n\(separator)\n")
        if random.chance(0.5) { text += "\n" + separator }
        return text
    }
}
