import Foundation

/// Decides whether an English sentence is one the story grammar can produce, built from the same
/// templates the story writer renders (StoryTemplates.swift), so the two cannot drift apart.
///
/// A sentence is split into words and punctuation marks; it is accepted when some expansion of a
/// template matches it token by token: literals exactly (case included), slots with a word of their
/// class. Within the sentence, a character's name and pronouns must agree (no "Mia lost his ball"),
/// the hero and the friend must be different people, and a bound class (the story's object, colour,
/// place, …) must use the same word each time it appears.
///
///     CorpusGrammar.shared.accepts("Mia had a red ball.")          // true
///     CorpusGrammar.shared.accepts("Mia lost his red ball.")       // false: Mia is a she
///     CorpusGrammar.shared.accepts("ball red a had Mia.")          // false
public struct CorpusGrammar: Sendable {
    /// The punctuation marks that are tokens of their own.
    static let punctuation: Set<Character> = [".", ",", "!", "?", "\""]

    /// Template expansions by length in tokens (looked up, never iterated).
    private let expansionsByLength: [Int: [[TemplateToken]]]
    /// The words of each class, by `WordClass.rawValue`.
    private let classWords: [Set<String>]

    public static let shared = CorpusGrammar()

    public init() {
        var table: [Int: [[TemplateToken]]] = [:]
        for beat in StoryBeat.allCases {
            for template in beat.compiledTemplates {
                for expansion in template.expansions { table[expansion.count, default: []].append(expansion) }
            }
        }
        expansionsByLength = table
        classWords = WordClass.allCases.map { Set($0.words) }
    }

    /// How many distinct token sequences the grammar accepts, ignoring slot fillers.
    var expansionCount: Int { StoryBeat.allCases.reduce(0) { $0 + $1.compiledTemplates.reduce(0) { $0 + $1.expansions.count } } }

    /// Whether the story grammar can produce `sentence` (one sentence, surrounding spaces ignored).
    public func accepts(_ sentence: String) -> Bool {
        let words = CorpusGrammar.words(in: sentence)
        guard let candidates = expansionsByLength[words.count] else { return false }
        return candidates.contains { matches($0, words) }
    }

    private func matches(_ pattern: [TemplateToken], _ words: [String]) -> Bool {
        var names: [String?] = [nil, nil]  // by StoryRole.rawValue
        var genders: [CorpusGender?] = [nil, nil]
        var bound = [String?](repeating: nil, count: WordClass.allCases.count)
        func agree(_ role: StoryRole, _ gender: CorpusGender) -> Bool {
            if let known = genders[role.rawValue], known != gender { return false }
            genders[role.rawValue] = gender
            return true
        }
        for (token, word) in zip(pattern, words) {
            switch token {
            case .literal(let literal):
                guard literal == word else { return false }
            case .slot(.name(let role)):
                guard let character = StoryLexicon.characterByName[word] else { return false }
                if let known = names[role.rawValue], known != word { return false }
                if names[1 - role.rawValue] == word { return false }
                names[role.rawValue] = word
                guard agree(role, character.gender) else { return false }
            case .slot(.pronoun(let role, let form, let capitalised)):
                if word == CorpusGender.female.word(form, capitalised: capitalised) {
                    guard agree(role, .female) else { return false }
                } else if word == CorpusGender.male.word(form, capitalised: capitalised) {
                    guard agree(role, .male) else { return false }
                } else {
                    return false
                }
            case .slot(.word(let wordClass)):
                guard classWords[wordClass.rawValue].contains(word) else { return false }
                if wordClass.isBound {
                    if let known = bound[wordClass.rawValue], known != word { return false }
                    bound[wordClass.rawValue] = word
                }
            }
        }
        return true
    }

    /// Splits a sentence into words (runs of letters and digits) and single punctuation marks.
    public static func words(in sentence: String) -> [String] {
        var tokens: [String] = []
        var word = ""
        for character in sentence {
            if character.isLetter || character.isNumber {
                word.append(character)
                continue
            }
            if !word.isEmpty { tokens.append(word); word = "" }
            if !character.isWhitespace { tokens.append(String(character)) }
        }
        if !word.isEmpty { tokens.append(word) }
        return tokens
    }

    /// Splits text into sentences: at line breaks and `<|endoftext|>`, and after . ! or ? outside
    /// quotes. A closing quote after . ! or ? ends the sentence unless a lowercase word follows
    /// (`"Here it is!" said Tom.` is one sentence). The last sentence may be unfinished.
    public static func sentences(in text: String) -> [String] {
        var result: [String] = []
        for line in text.components(separatedBy: TeachingCorpus.endOfText).joined(separator: "\n").split(separator: "\n") {
            let characters = Array(line)
            var current = ""
            var insideQuote = false
            func finish() {
                let sentence = current.trimmingCharacters(in: .whitespaces)
                if !sentence.isEmpty { result.append(sentence) }
                current = ""
            }
            for (i, character) in characters.enumerated() {
                current.append(character)
                if character == "\"" {
                    if insideQuote {
                        insideQuote = false
                        var next = i + 1
                        while next < characters.count && characters[next] == " " { next += 1 }
                        let endsSpeech = i > 0 && ".!?".contains(characters[i - 1])
                        if endsSpeech && (next == characters.count || !characters[next].isLowercase) { finish() }
                    } else {
                        insideQuote = true
                    }
                } else if !insideQuote && (character == "." || character == "!" || character == "?") {
                    finish()
                }
            }
            finish()
        }
        return result
    }

    /// How much of a text the grammar accepts.
    public struct Acceptance: Sendable {
        /// Finished sentences looked at.
        public let sentences: Int
        public let accepted: Int
        /// The sentences the grammar rejected, in order.
        public let rejected: [String]
        /// accepted ÷ sentences (0 when there are none).
        public var share: Double { sentences == 0 ? 0 : Double(accepted) / Double(sentences) }
    }

    /// The share of `text`'s sentences the grammar accepts. A last sentence without final
    /// punctuation (generation stopped mid-sentence) is left out.
    public func acceptance(of text: String) -> Acceptance {
        var sentences = CorpusGrammar.sentences(in: text)
        if let last = sentences.last, let end = last.last, !".!?\"".contains(end) { sentences.removeLast() }
        let rejected = sentences.filter { !accepts($0) }
        return Acceptance(sentences: sentences.count, accepted: sentences.count - rejected.count, rejected: rejected)
    }
}
