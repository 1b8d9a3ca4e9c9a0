// Sentence templates: the one definition of the story grammar. The story writer renders them and
// CorpusGrammar accepts exactly the sentences they can produce, so the two cannot drift.
//
// Template syntax:
//   words and punctuation (. , ! ? ")  literal tokens
//   {A} {B}                            the hero's and the friend's names
//   {a.he} {a.He} {a.his} {a.His} {a.him} {a.kid}   the hero's pronouns and girl/boy (b. for the friend)
//   {obj} {col} {place} …              a word of a WordClass (StoryLexicon.swift), by its slot name
//   [one|two words|]                   a choice between token sequences (an empty one is allowed)

/// The two characters a story sentence can name.
enum StoryRole: Int, CaseIterable { case hero, friend }

enum PronounForm { case subject, possessive, object, child }

enum TemplateSlot: Hashable {
    case name(StoryRole)
    case pronoun(StoryRole, PronounForm, capitalised: Bool)
    case word(WordClass)
}

enum TemplateToken: Hashable {
    case literal(String)
    case slot(TemplateSlot)
}

enum TemplatePiece {
    case token(TemplateToken)
    case choice([[TemplateToken]])
}

struct SentenceTemplate {
    let source: String
    let pieces: [TemplatePiece]

    init(_ source: String) {
        self.source = source
        var pieces: [TemplatePiece] = []
        var rest = Substring(source)
        while let open = rest.firstIndex(of: "[") {
            pieces += SentenceTemplate.tokens(rest[..<open], in: source).map(TemplatePiece.token)
            guard let close = rest[open...].firstIndex(of: "]") else { preconditionFailure("unclosed [ in template «\(source)»") }
            let options = rest[rest.index(after: open)..<close].split(separator: "|", omittingEmptySubsequences: false)
            pieces.append(.choice(options.map { SentenceTemplate.tokens($0, in: source) }))
            rest = rest[rest.index(after: close)...]
        }
        pieces += SentenceTemplate.tokens(rest, in: source).map(TemplatePiece.token)
        self.pieces = pieces
    }

    /// Every token sequence the template stands for (the product of its choices).
    var expansions: [[TemplateToken]] {
        var result: [[TemplateToken]] = [[]]
        for piece in pieces {
            switch piece {
            case .token(let token): result = result.map { $0 + [token] }
            case .choice(let options): result = result.flatMap { prefix in options.map { prefix + $0 } }
            }
        }
        return result
    }

    private static func tokens(_ text: Substring, in source: String) -> [TemplateToken] {
        var tokens: [TemplateToken] = []
        var word = ""
        var index = text.startIndex
        func flush() {
            if !word.isEmpty { tokens.append(.literal(word)); word = "" }
        }
        while index < text.endIndex {
            let character = text[index]
            if character == "{" {
                flush()
                guard let close = text[index...].firstIndex(of: "}") else { preconditionFailure("unclosed { in template «\(source)»") }
                tokens.append(.slot(slot(named: String(text[text.index(after: index)..<close]), in: source)))
                index = text.index(after: close)
                continue
            }
            if character.isLetter {
                word.append(character)
            } else if character == " " {
                flush()
            } else if CorpusGrammar.punctuation.contains(character) {
                flush()
                tokens.append(.literal(String(character)))
            } else {
                preconditionFailure("unexpected «\(character)» in template «\(source)»")
            }
            index = text.index(after: index)
        }
        flush()
        return tokens
    }

    private static func slot(named name: String, in source: String) -> TemplateSlot {
        switch name {
        case "A": return .name(.hero)
        case "B": return .name(.friend)
        default: break
        }
        let parts = name.split(separator: ".")
        if parts.count == 2, let role = ["a": StoryRole.hero, "b": .friend][String(parts[0])] {
            switch parts[1] {
            case "he": return .pronoun(role, .subject, capitalised: false)
            case "He": return .pronoun(role, .subject, capitalised: true)
            case "his": return .pronoun(role, .possessive, capitalised: false)
            case "His": return .pronoun(role, .possessive, capitalised: true)
            case "him": return .pronoun(role, .object, capitalised: false)
            case "kid": return .pronoun(role, .child, capitalised: false)
            default: break
            }
        }
        guard let wordClass = WordClass.allCases.first(where: { $0.slotName == name }) else {
            preconditionFailure("unknown slot {\(name)} in template «\(source)»")
        }
        return .word(wordClass)
    }
}

extension CorpusGender {
    func word(_ form: PronounForm, capitalised: Bool) -> String {
        let word: String
        switch form {
        case .subject: word = subject
        case .possessive: word = possessive
        case .object: word = object
        case .child: word = child
        }
        return capitalised ? word.prefix(1).uppercased() + word.dropFirst() : word
    }
}

/// Joins tokens into text: no space before . , ! ? or a closing quote, none after an opening quote.
func joinTokens(_ tokens: [String]) -> String {
    var text = ""
    var insideQuote = false
    var afterOpeningQuote = false
    for (index, token) in tokens.enumerated() {
        let isQuote = token == "\""
        let closing = isQuote && insideQuote
        let attachesLeft = closing || token == "." || token == "," || token == "!" || token == "?"
        if index > 0 && !attachesLeft && !afterOpeningQuote { text += " " }
        text += token
        afterOpeningQuote = isQuote && !insideQuote
        if isQuote { insideQuote.toggle() }
    }
    return text
}
