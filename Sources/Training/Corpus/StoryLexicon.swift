// The story world's words: characters with fixed pronouns, and the word classes that fill the
// slots of the sentence templates (StoryTemplates.swift). Every list is an array, never a set or
// a dictionary, so the order of choices is fixed.
//
// Words that follow "a" start with a consonant, so no template needs "an".

/// Grammatical gender of a story character: decides he/she, his/her, him/her, boy/girl.
public enum CorpusGender: String, Sendable, Hashable, Codable {
    case female, male

    public var subject: String { self == .female ? "she" : "he" }
    public var possessive: String { self == .female ? "her" : "his" }
    public var object: String { self == .female ? "her" : "him" }
    public var child: String { self == .female ? "girl" : "boy" }
}

/// A named character of the story world; the name always goes with the same pronoun.
public struct CorpusCharacter: Sendable, Hashable, Codable {
    public let name: String
    public let gender: CorpusGender
}

/// The closed word classes of the story world.
enum WordClass: Int, CaseIterable {
    // Bound per story: chosen once and used for every slot of the class in that story.
    case object, colour, place, preposition, thing, sadFeeling, happyFeeling, pet, food, parent
    // Free: chosen afresh for each slot.
    case size, pastActivity, activity, weather, good

    var isBound: Bool { rawValue <= WordClass.parent.rawValue }

    /// The slot name used in templates, e.g. `{obj}`.
    var slotName: String {
        switch self {
        case .object: return "obj"
        case .colour: return "col"
        case .place: return "place"
        case .preposition: return "prep"
        case .thing: return "thing"
        case .sadFeeling: return "sad"
        case .happyFeeling: return "happy"
        case .pet: return "pet"
        case .food: return "food"
        case .parent: return "parent"
        case .size: return "size"
        case .pastActivity: return "played"
        case .activity: return "play"
        case .weather: return "weather"
        case .good: return "good"
        }
    }

    /// The class's words (cached: `wordList` builds them once).
    var words: [String] { WordClass.lists[rawValue] }

    private static let lists: [[String]] = allCases.map { $0.wordList }

    private var wordList: [String] {
        switch self {
        case .object: return StoryLexicon.objects
        case .colour: return StoryLexicon.colours
        case .place: return StoryLexicon.places
        case .preposition: return ["under", "behind", "near", "beside"]
        case .thing: return ["bed", "tree", "table", "chair", "bush", "rock", "sofa", "bench", "box", "basket", "fence", "door"]
        case .sadFeeling: return ["sad", "upset", "worried", "unhappy"]
        case .happyFeeling: return ["happy", "glad", "excited", "cheerful"]
        case .pet: return ["cat", "dog", "bird", "rabbit", "duck", "frog", "puppy", "kitten", "turtle", "bunny"]
        case .food: return ["milk", "bread", "water", "seeds", "carrots", "cheese"]
        case .parent: return ["mom", "dad"]
        case .size: return ["big", "small", "little", "tiny"]
        case .pastActivity: return ["played", "ran", "jumped", "danced", "sang", "laughed", "skipped", "raced"]
        case .activity: return ["play", "run", "jump", "dance", "sing", "read", "draw", "swim"]
        case .weather: return ["sunny", "warm", "bright", "windy", "cool"]
        case .good: return ["good", "great", "fun", "lovely", "nice"]
        }
    }
}

enum StoryLexicon {
    /// Twenty characters, ten of each gender; stories pick the hero and the friend from them.
    static let characters: [CorpusCharacter] = {
        let girls = ["Mia", "Lily", "Emma", "Anna", "Sara", "Zoe", "Lucy", "Ella", "Nora", "Ruby"]
        let boys = ["Tom", "Ben", "Max", "Sam", "Leo", "Jack", "Finn", "Noah", "Owen", "Jake"]
        return girls.map { CorpusCharacter(name: $0, gender: .female) } + boys.map { CorpusCharacter(name: $0, gender: .male) }
    }()

    static let objects = [
        "ball", "kite", "hat", "book", "doll", "car", "cup", "bag",
        "drum", "boat", "key", "truck", "shell", "ring", "robot", "balloon"
    ]
    static let colours = ["red", "blue", "green", "yellow", "pink", "purple", "brown", "white"]
    static let places = [
        "garden", "park", "forest", "yard", "field", "kitchen",
        "library", "classroom", "shop", "playground", "meadow", "barn"
    ]

    /// Name → character, for the grammar's checks (looked up, never iterated).
    static let characterByName: [String: CorpusCharacter] = {
        var table: [String: CorpusCharacter] = [:]
        for character in characters { table[character.name] = character }
        return table
    }()

    /// Held out for evaluation: stories whose hero owns this object never appear in training text
    /// (about one pair in eight).
    static func isReservedStoryPair(hero: String, object: String) -> Bool {
        stableHash("story|\(hero)|\(object)") % 8 == 0
    }
}
