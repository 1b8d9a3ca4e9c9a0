// Stories: a cast (hero and friend), one value per bound word class, and a plot that walks through
// beats. Every sentence comes from a template (StoryTemplates.swift); pronouns come from the
// character they refer to, so "she" always means a she-character of the cast.

/// A question about a story with the answer the story determines.
public struct CorpusQuestion: Sendable, Hashable, Codable {
    public let question: String
    public let answer: String

    /// The line as it appears in the corpus: `Q: Who found the ball? A: Tom`.
    public var line: String { "Q: \(question) A: \(answer)" }
}

/// A pronoun the writer put in a story and the character it refers to.
public struct CorpusPronounUse: Sendable, Hashable {
    public let word: String
    public let character: CorpusCharacter
}

/// One generated story with the facts it states.
public struct CorpusStory: Sendable {
    public enum Plot: String, CaseIterable, Sendable, Codable {
        case lostAndFound = "lost-and-found", brokenToy = "broken-toy", sharing, animal, present, rain
    }

    public let plot: Plot
    public let hero: CorpusCharacter
    public let friend: CorpusCharacter
    /// The hero's object and its colour ("ball", "red").
    public let object: String
    public let colour: String
    public let place: String
    /// The story's text: paragraphs separated by newlines, no trailing newline.
    public let text: String
    /// The story's sentences in order.
    public let sentences: [String]
    /// Questions the story answers (lost-and-found and animal plots; empty for the others).
    public let questions: [CorpusQuestion]
    /// Every pronoun in the text, in order, with the character it refers to.
    public let pronouns: [CorpusPronounUse]
}

/// Renders templates for one story and records what it wrote.
struct StoryRenderer {
    let cast: [CorpusCharacter]  // indexed by StoryRole.rawValue
    let bound: [String]  // indexed by WordClass.rawValue (bound classes only)
    var paragraphs: [[String]] = [[]]
    var pronouns: [CorpusPronounUse] = []

    /// Says one of `beat`'s templates, preferring one this story has not used yet.
    mutating func say(_ beat: StoryBeat, _ random: inout CorpusRandom) {
        let templates = beat.compiledTemplates
        // When hero and friend share a gender, a sentence that opens with "He"/"She"/"His"/"Her"
        // could mean either of them: prefer a template that opens with a name.
        let ambiguous = cast[0].gender == cast[1].gender
        let all = Array(templates.indices)
        let clear = all.filter {
            guard ambiguous, case .token(.slot(.pronoun(_, _, capitalised: true))) = templates[$0].pieces.first else { return true }
            return false
        }
        let fresh = clear.filter { !used.contains(TemplateIndex(beat: beat.rawValue, template: $0)) }
        let index = random.pick(!fresh.isEmpty ? fresh : !clear.isEmpty ? clear : all)
        used.append(TemplateIndex(beat: beat.rawValue, template: index))
        say(templates[index], &random)
    }

    struct TemplateIndex: Equatable {
        let beat: Int
        let template: Int
    }

    var used: [TemplateIndex] = []

    /// Says `beat` with probability `p`.
    mutating func maybe(_ p: Double, _ beat: StoryBeat, _ random: inout CorpusRandom) {
        if random.chance(p) { say(beat, &random) }
    }

    mutating func say(_ template: SentenceTemplate, _ random: inout CorpusRandom) {
        var words: [String] = []
        func append(_ token: TemplateToken) {
            switch token {
            case .literal(let word):
                words.append(word)
            case .slot(.name(let role)):
                words.append(cast[role.rawValue].name)
            case .slot(.pronoun(let role, let form, let capitalised)):
                let character = cast[role.rawValue]
                let word = character.gender.word(form, capitalised: capitalised)
                words.append(word)
                if form != .child { pronouns.append(CorpusPronounUse(word: word, character: character)) }
            case .slot(.word(let wordClass)):
                words.append(wordClass.isBound ? bound[wordClass.rawValue] : random.pick(wordClass.words))
            }
        }
        for piece in template.pieces {
            switch piece {
            case .token(let token): append(token)
            case .choice(let options): for token in random.pick(options) { append(token) }
            }
        }
        paragraphs[paragraphs.count - 1].append(joinTokens(words))
    }

    mutating func newParagraph() {
        if !(paragraphs.last?.isEmpty ?? true) { paragraphs.append([]) }
    }

    var sentences: [String] { paragraphs.flatMap { $0 } }
    var text: String { paragraphs.filter { !$0.isEmpty }.map { $0.joined(separator: " ") }.joined(separator: "\n") }

    func word(_ wordClass: WordClass) -> String { bound[wordClass.rawValue] }
}

enum StoryWriter {
    /// Plot weights for ordinary stories (lost-and-found, broken toy, sharing, animal, present, rain).
    static let plotWeights: [(CorpusStory.Plot, Int)] = [
        (.lostAndFound, 30), (.brokenToy, 15), (.sharing, 15), (.animal, 15), (.present, 12), (.rain, 13)
    ]

    static func randomPlot(_ random: inout CorpusRandom) -> CorpusStory.Plot {
        var ticket = random.below(plotWeights.reduce(0) { $0 + $1.1 })
        for (plot, weight) in plotWeights {
            if ticket < weight { return plot }
            ticket -= weight
        }
        return .lostAndFound
    }

    /// A story of `plot` (random when nil). Training stories never give the hero a reserved object;
    /// held-out stories always do.
    static func write(plot: CorpusStory.Plot? = nil, split: CorpusSplit, _ random: inout CorpusRandom) -> CorpusStory {
        let plot = plot ?? randomPlot(&random)
        let characters = StoryLexicon.characters
        let hero = random.pick(characters)
        // Usually the friend has the other gender, so "he" and "she" tell the two apart.
        let wantOther = random.chance(0.7)
        let candidates = characters.filter { $0 != hero && ($0.gender != hero.gender) == wantOther }
        let friend = random.pick(candidates)
        let objects = StoryLexicon.objects.filter {
            StoryLexicon.isReservedStoryPair(hero: hero.name, object: $0) == (split == .heldOut)
        }
        var bound = WordClass.allCases.map { $0.isBound ? random.pick($0.words) : "" }
        bound[WordClass.object.rawValue] = random.pick(objects)

        var story = StoryRenderer(cast: [hero, friend], bound: bound)
        var questions: [CorpusQuestion] = []
        let r = story
        let obj = r.word(.object), col = r.word(.colour), place = r.word(.place)
        let a = hero.name, b = friend.name

        story.say(.intro, &random)
        if plot != .present { story.say(.toy, &random) }
        switch plot {
        case .lostAndFound:
            story.say(.outing, &random)
            story.maybe(0.5, .play, &random)
            story.newParagraph()
            story.say(.lose, &random)
            story.say(.lostFeeling, &random)
            story.say(.ask, &random)
            story.say(.comfort, &random)
            story.maybe(0.7, .search, &random)
            let friendFinds = random.chance(0.6)
            if friendFinds {
                story.say(.foundByFriend, &random)
                story.maybe(0.5, .shoutFriend, &random)
                story.maybe(0.7, .giveBack, &random)
            } else {
                story.say(.foundByHero, &random)
                story.maybe(0.5, .shoutHero, &random)
            }
            story.newParagraph()
            story.say(.endFeeling, &random)
            story.maybe(0.7, .lostEnd, &random)
            let where_ = "\(r.word(.preposition)) the \(r.word(.thing))"
            questions = [
                CorpusQuestion(question: "Who found the \(obj)?", answer: friendFinds ? b : a),
                CorpusQuestion(question: "What colour was the \(obj)?", answer: col),
                CorpusQuestion(question: "Where was the \(obj)?", answer: where_),
                CorpusQuestion(question: "What did \(a) lose?", answer: "\(hero.gender.possessive) \(col) \(obj)"),
                CorpusQuestion(question: "Where were \(a) and \(b)?", answer: "in the \(place)"),
                CorpusQuestion(question: "How did \(a) feel when \(hero.gender.subject) lost the \(obj)?", answer: r.word(.sadFeeling)),
                CorpusQuestion(question: "How did \(a) feel at the end?", answer: r.word(.happyFeeling)),
                CorpusQuestion(question: "Who helped \(a)?", answer: b)
            ]
        case .brokenToy:
            story.maybe(0.6, .outing, &random)
            story.newParagraph()
            story.maybe(0.4, .ohNo, &random)
            story.say(.breaks, &random)
            story.say(.brokenFeeling, &random)
            story.say(.brokenTalk, &random)
            story.say(.fix, &random)
            story.say(.fixed, &random)
            story.newParagraph()
            story.maybe(0.6, .endFeeling, &random)
            story.say(.brokenEnd, &random)
        case .sharing:
            story.newParagraph()
            story.say(.want, &random)
            story.say(.refuse, &random)
            story.say(.regret, &random)
            story.maybe(0.5, .regret, &random)  // a second, different one
            story.say(.share, &random)
            story.say(.together, &random)
            story.newParagraph()
            story.say(.sharingEnd, &random)
        case .animal:
            story.newParagraph()
            story.say(.meet, &random)
            story.say(.petState, &random)
            story.maybe(0.7, .petTalk, &random)
            story.say(.fetchFood, &random)
            story.say(.feed, &random)
            story.say(.friendComes, &random)
            story.newParagraph()
            story.say(.petEnd, &random)
            story.maybe(0.5, .petEnd, &random)
            let pet = r.word(.pet)
            questions = [
                CorpusQuestion(question: "What did \(a) see in the \(place)?", answer: "a \(pet)"),
                CorpusQuestion(question: "Where did \(a) see the \(pet)?", answer: "in the \(place)"),
                CorpusQuestion(question: "What did the \(pet) get to eat?", answer: r.word(.food)),
                CorpusQuestion(question: "Who came to see the \(pet)?", answer: b),
                CorpusQuestion(question: "What colour was the \(obj)?", answer: col)
            ]
        case .present:
            story.say(.birthday, &random)
            story.say(.plan, &random)
            story.newParagraph()
            story.say(.shop, &random)
            story.maybe(0.7, .wrap, &random)
            story.say(.give, &random)
            story.maybe(0.7, .open, &random)
            story.say(.thanks, &random)
            story.newParagraph()
            story.say(.giftEnd, &random)
        case .rain:
            story.say(.outing, &random)
            story.maybe(0.5, .play, &random)
            story.newParagraph()
            story.say(.rainStarts, &random)
            story.say(.rainTalk, &random)
            story.say(.runHome, &random)
            story.say(.atHome, &random)
            story.newParagraph()
            story.maybe(0.6, .rainbow, &random)
            story.say(.rainEnd, &random)
        }
        return CorpusStory(
            plot: plot, hero: hero, friend: friend, object: obj, colour: col, place: place,
            text: story.text, sentences: story.sentences, questions: questions, pronouns: story.pronouns)
    }
}
