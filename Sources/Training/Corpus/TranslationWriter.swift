// A toy translation language presented as "French": its own small lexicon, gendered determiners
// and colours, and adjectives after the noun.
//   French: le chien voit la balle bleue = English: the dog sees the blue ball
// For each noun one colour is held out: (noun, colour) pairs with (noun + 3 × colour) mod 8 = 0
// never appear together in training lines, attributively or after "est"; evaluation lines always
// contain one.

struct FrenchNoun {
    let french: String
    let english: String
    let feminine: Bool
}

struct FrenchColour {
    let masculine: String
    let feminine: String
    let english: String
}

enum TranslationWriter {
    static let nouns: [FrenchNoun] = [
        ("chat", "cat", false), ("chien", "dog", false), ("canard", "duck", false), ("poisson", "fish", false),
        ("lapin", "rabbit", false), ("cheval", "horse", false), ("livre", "book", false), ("bateau", "boat", false),
        ("chapeau", "hat", false), ("gateau", "cake", false), ("balle", "ball", true), ("maison", "house", true),
        ("fleur", "flower", true), ("voiture", "car", true), ("pomme", "apple", true), ("table", "table", true),
        ("boite", "box", true), ("souris", "mouse", true)
    ].map { FrenchNoun(french: $0.0, english: $0.1, feminine: $0.2) }

    static let colours: [FrenchColour] = [
        ("rouge", "rouge", "red"), ("bleu", "bleue", "blue"), ("vert", "verte", "green"), ("jaune", "jaune", "yellow"),
        ("noir", "noire", "black"), ("blanc", "blanche", "white"), ("gris", "grise", "grey"), ("rose", "rose", "pink")
    ].map { FrenchColour(masculine: $0.0, feminine: $0.1, english: $0.2) }

    static let verbs: [(french: String, english: String)] = [
        ("voit", "sees"), ("mange", "eats"), ("aime", "likes"), ("prend", "takes"),
        ("trouve", "finds"), ("suit", "follows"), ("tient", "holds"), ("pousse", "pushes")
    ]

    static let prepositions: [(french: String, english: String)] = [
        ("sous", "under"), ("sur", "on"), ("dans", "in"), ("derriere", "behind")
    ]

    static func isReserved(noun: Int, colour: Int) -> Bool { (noun + 3 * colour) % 8 == 0 }

    /// A French sentence, its English translation, and whether it uses a held-out (noun, colour) pair.
    struct Sentence {
        var french: [String] = []
        var english: [String] = []
        var usesReservedPair = false

        var line: String { "French: \(french.joined(separator: " ")) = English: \(english.joined(separator: " "))" }
        var query: String { "French: \(french.joined(separator: " ")) = English:" }
        var answer: String { " " + english.joined(separator: " ") }
    }

    private static func nounPhrase(
        into sentence: inout Sentence, definite: Bool? = nil, colourChance: Double = 0.6,
        _ random: inout CorpusRandom
    ) {
        let n = random.below(nouns.count), noun = nouns[n]
        let definite = definite ?? random.chance(0.7)
        let colour: Int? = random.chance(colourChance) ? random.below(colours.count) : nil
        sentence.french.append(definite ? (noun.feminine ? "la" : "le") : (noun.feminine ? "une" : "un"))
        sentence.french.append(noun.french)
        var english: [String] = []
        if let colour {
            sentence.french.append(noun.feminine ? colours[colour].feminine : colours[colour].masculine)
            english.append(colours[colour].english)
            if isReserved(noun: n, colour: colour) { sentence.usesReservedPair = true }
        }
        english.append(noun.english)
        let startsWithVowel = english[0].first.map { "aeiou".contains($0) } ?? false
        sentence.english.append(definite ? "the" : (startsWithVowel ? "an" : "a"))
        sentence.english += english
    }

    private static func draft(_ random: inout CorpusRandom) -> Sentence {
        var s = Sentence()
        switch random.below(11) {
        case 0, 1:  // le chat rouge = the red cat
            nounPhrase(into: &s, colourChance: 0.9, &random)
        case 2, 3, 4, 5:  // le chien voit la balle bleue = the dog sees the blue ball
            nounPhrase(into: &s, &random)
            let verb = random.pick(verbs)
            s.french.append(verb.french); s.english.append(verb.english)
            nounPhrase(into: &s, &random)
        case 6, 7:  // la balle est rouge = the ball is red
            nounPhrase(into: &s, definite: true, colourChance: 0, &random)
            let n = nouns.firstIndex { $0.french == s.french[1] }!, c = random.below(colours.count)
            s.french += ["est", nouns[n].feminine ? colours[c].feminine : colours[c].masculine]
            s.english += ["is", colours[c].english]
            if isReserved(noun: n, colour: c) { s.usesReservedPair = true }
        case 8, 9:  // le chat est sous la table = the cat is under the table
            nounPhrase(into: &s, &random)
            let preposition = random.pick(prepositions)
            s.french += ["est", preposition.french]; s.english += ["is", preposition.english]
            nounPhrase(into: &s, &random)
        default:  // le chien voit le chat et la souris = the dog sees the cat and the mouse
            nounPhrase(into: &s, &random)
            let verb = random.pick(verbs)
            s.french.append(verb.french); s.english.append(verb.english)
            nounPhrase(into: &s, &random)
            s.french.append("et"); s.english.append("and")
            nounPhrase(into: &s, &random)
        }
        return s
    }

    /// A sentence that uses a held-out pair exactly when `split` is held-out.
    static func sentence(split: CorpusSplit, _ random: inout CorpusRandom) -> Sentence {
        while true {
            let s = draft(&random)
            if s.usesReservedPair == (split == .heldOut) { return s }
        }
    }

    /// A training document: four to eight translation lines.
    static func document(_ random: inout CorpusRandom) -> String {
        (0..<random.int(in: 4...8)).map { _ in sentence(split: .training, &random).line }.joined(separator: "\n")
    }
}
