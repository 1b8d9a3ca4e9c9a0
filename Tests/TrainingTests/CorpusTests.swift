import Foundation
@testable import Training
import XCTest

/// The teaching corpus: determinism, mix, grammar, held-out split, pronouns and answers.
final class CorpusTests: XCTestCase {
    /// One small corpus shared by the tests that read training text (about 0.6 MB).
    static let corpus = TeachingCorpus(seed: 1, targetBytes: 600_000)
    static let documents = corpus.documents()
    static let text = TeachingCorpus.render(documents)
    /// Every word (lower-cased letters) of the stories in `documents`.
    static let storyWords = Set(documents.filter { $0.kind == .story }.flatMap { words(of: $0.text) })

    static func words(of text: String) -> [String] {
        text.lowercased().split { !$0.isLetter }.map(String.init)
    }

    // MARK: - Determinism

    func testSameSeedGivesIdenticalBytes() {
        let first = TeachingCorpus(seed: 42, targetBytes: 200_000).generate().text
        let second = TeachingCorpus(seed: 42, targetBytes: 200_000).generate().text
        XCTAssertEqual(first.utf8.count, second.utf8.count)
        XCTAssertTrue(first == second, "the same seed must give the same bytes")
        XCTAssertEqual(CorpusTests.text, TeachingCorpus.render(TeachingCorpus(seed: 1, targetBytes: 600_000).documents()))
    }

    /// A fingerprint of seed 1's first 200 kB, recorded once: it changes only when the templates,
    /// word lists or generators change (then record the new value), never from one machine to another.
    func testSeedOneFingerprintIsStable() {
        let text = TeachingCorpus(seed: 1, targetBytes: 200_000).generate().text
        let fingerprint = String(stableHash(text), radix: 16)
        XCTAssertEqual(
            fingerprint, CorpusTests.recordedFingerprint,
            "seed 1 now gives different text; if the corpus changed on purpose, record \(fingerprint)")
    }

    static let recordedFingerprint = "37b1193352f84f63"

    func testDifferentSeedsDiffer() {
        let one = TeachingCorpus(seed: 1, targetBytes: 50_000).generate().text
        let two = TeachingCorpus(seed: 2, targetBytes: 50_000).generate().text
        XCTAssertNotEqual(one, two)
        XCTAssertNotEqual(one.prefix(500), two.prefix(500))
    }

    // MARK: - Mix and format

    func testEveryKindAppearsInItsShare() throws {
        let documents = CorpusTests.documents, text = CorpusTests.text
        let summary = TeachingCorpus.summarise(documents, text: text)
        XCTAssertGreaterThanOrEqual(summary.bytes, 600_000)
        XCTAssertLessThan(summary.bytes, 603_000)
        let mix = CorpusMix()
        XCTAssertEqual(mix.unfamiliar, 0, "the default mix is the one lantern-tiny's first five phases trained on")
        for kind in CorpusDocumentKind.allCases where mix[kind] > 0 {
            let share = Double(summary.bytes(of: kind)) / Double(summary.bytes)
            XCTAssertEqual(share, mix.share(of: kind), accuracy: 0.01, "\(kind) takes \(share) of the bytes")
            XCTAssertGreaterThan(summary.documents(of: kind), 20, "\(kind)")
        }
        XCTAssertGreaterThan(summary.distinctWords, 200)
        XCTAssertLessThan(summary.distinctWords, 700, "the vocabulary should stay small")

        // The text is the documents, each followed by a line <|endoftext|>, and each document's
        // kind can be told from its text alone.
        let pieces = text.components(separatedBy: "\n<|endoftext|>\n")
        XCTAssertEqual(pieces.last, "")
        XCTAssertEqual(pieces.count - 1, documents.count)
        for (piece, document) in zip(pieces, documents) {
            XCTAssertEqual(piece, document.text)
            XCTAssertEqual(CorpusTests.kind(of: piece), document.kind, piece)
        }
    }

    /// Tells a document's kind from its text.
    static func kind(of text: String) -> CorpusDocumentKind {
        let lines = text.split(separator: "\n").map(String.init)
        if lines.allSatisfy({ $0.hasPrefix("Review: ") && ($0.hasSuffix(" Sentiment: positive") || $0.hasSuffix(" Sentiment: negative")) })
        {
            return .sentiment
        }
        if symbolLabels(lines) != nil { return .sentiment }
        if lines.first == TweetWriter.header || lines.first?.hasPrefix("Tweet: \"") == true { return .tweet }
        if lines.allSatisfy({ $0.hasPrefix("French: ") && $0.contains(" = English: ") }) { return .translation }
        if lines.contains(where: { $0.hasPrefix("Q: ") }) { return .questionAnswer }
        if repeatedPassage(in: text) != nil { return .repetition }
        return .story
    }

    /// A symbol review document read back: every line `Review: … CUE: WORD` with one cue and two
    /// label words that follow the reviews' sentiment. Nil if `lines` are not one.
    static func symbolLabels(_ lines: [String]) -> (cue: String, words: Set<String>)? {
        var cue: String?, words = Set<String>()
        for line in lines {
            guard line.hasPrefix("Review: "), let colon = line.range(of: ": ", options: .backwards) else { return nil }
            let before = line[..<colon.lowerBound]
            guard let space = before.lastIndex(of: " ") else { return nil }
            let lineCue = String(before[before.index(after: space)...])
            guard SentimentWriter.symbolCues.contains(lineCue), cue == nil || cue == lineCue else { return nil }
            cue = lineCue
            words.insert(String(line[colon.upperBound...]))
        }
        guard let cue, (1...2).contains(words.count), !words.contains("positive"), !words.contains("negative") else { return nil }
        return (cue, words)
    }

    /// A repetition document read back: an optional lead sentence and a space, then a passage
    /// written 2 or 3 times, the copies joined by a new line or by a space. Nil if `text` is not one.
    static func repeatedPassage(in text: String) -> (lead: String, passage: String, separator: String, copies: Int)? {
        let characters = Array(text)
        for copies in [3, 2] {
            for separator in ["\n", " "] {
                var length = 1
                while copies * length + (copies - 1) * separator.count <= characters.count {
                    let start = characters.count - copies * length - (copies - 1) * separator.count
                    let passage = String(characters[start..<(start + length)])
                    let repeated = Array(repeating: passage, count: copies).joined(separator: separator)
                    if !passage.contains("\n"), String(characters[start...]) == repeated,
                        start == 0 || characters[start - 1] == " "
                    {
                        let lead = start == 0 ? "" : String(characters[..<(start - 1)])
                        if !lead.contains("\n") { return (lead, passage, separator, copies) }
                    }
                    length += 1
                }
            }
        }
        return nil
    }

    func testDocumentFormats() throws {
        var random = CorpusRandom(seed: 5)
        var symbolDocuments = 0
        for _ in 0..<50 {
            let sentiment = SentimentWriter.document(&random).split(separator: "\n").map(String.init)
            if let symbols = CorpusTests.symbolLabels(sentiment) {
                // Label words drawn afresh per document: the same kind of review always gets the
                // same word within a document.
                symbolDocuments += 1
                XCTAssertTrue((4...12).contains(sentiment.count))
                XCTAssertTrue(symbols.words.isSubset(of: Set(LabelWords.pool)), "\(symbols.words)")
            } else {
                XCTAssertTrue((4...8).contains(sentiment.count))
            }
            let tweets = TweetWriter.document(&random).components(separatedBy: "\n###\n")
            XCTAssertTrue((3...8).contains(tweets.count), "\(tweets)")
            for tweet in tweets {
                let lines = tweet.split(separator: "\n").filter { $0 != "###" && $0 != TweetWriter.header[...] }
                XCTAssertEqual(lines.count, 2, tweet)
                XCTAssertTrue(lines[0].hasPrefix("Tweet: \"") && lines[0].hasSuffix("\""), tweet)
                XCTAssertTrue(TweetLabel.allCases.map { "Sentiment: \($0.rawValue)" }.contains(String(lines[1])), tweet)
            }
            let translation = TranslationWriter.document(&random).split(separator: "\n")
            XCTAssertTrue((4...8).contains(translation.count))
            for line in translation {
                let halves = line.components(separatedBy: " = English: ")
                XCTAssertEqual(halves.count, 2, String(line))
                // Adjectives follow the noun in French and precede it in English.
                if halves[0].hasSuffix(" rouge"), halves[0].split(separator: " ").count == 4 {
                    XCTAssertTrue(halves[1].contains("red"), String(line))
                }
            }
        }
        // Repeated passages vary in what is copied, what separates the copies and where they start,
        // so that copying is learnt as copying, not as "line 2 repeats line 1".
        var separators: [String: Int] = [:], leads = 0, threeCopies = 0, madeUp = 0, soup = 0
        for _ in 0..<200 {
            let text = UnscoredSpans.strip(RepetitionWriter.document(&random))
            guard let read = CorpusTests.repeatedPassage(in: text) else { XCTFail("not a repeated passage: «\(text)»"); continue }
            separators[read.separator, default: 0] += 1
            if !read.lead.isEmpty { leads += 1 }
            if read.copies == 3 { threeCopies += 1 }
            let unknown = CorpusTests.words(of: read.passage).filter { !CorpusTests.storyWords.contains($0) }
            if unknown.count >= 3 { madeUp += 1 }
            // Token soup: story words mixed with bits of words, glued or spaced, in no order.
            let known = CorpusTests.words(of: read.passage).filter { CorpusTests.storyWords.contains($0) }
            if known.count >= 2, unknown.count >= 2 { soup += 1 }
            // Noise never follows a story sentence: sampling from a story must not learn to turn
            // into letter soup.
            if unknown.count >= 2 { XCTAssertTrue(read.lead.isEmpty, "noise after a story sentence: «\(text)»") }
        }
        XCTAssertGreaterThan(separators["\n", default: 0], 60)
        XCTAssertGreaterThan(separators[" ", default: 0], 60)
        XCTAssertGreaterThan(leads, 30)
        XCTAssertGreaterThan(threeCopies, 15)
        XCTAssertGreaterThan(symbolDocuments, 20)
        XCTAssertGreaterThan(madeUp, 30)
        XCTAssertGreaterThan(soup, 30)
        XCTAssertEqual(TranslationWriter.nouns.count + TranslationWriter.colours.count * 2 + TranslationWriter.verbs.count, 18 + 16 + 8)
    }

    func testMixParsing() throws {
        let mix = try CorpusMix(parsing: "story=1, repeat=1,sentiment=0")
        XCTAssertEqual(mix.share(of: .sentiment), 0)
        XCTAssertEqual(mix.share(of: .story) / mix.share(of: .repetition), 1, accuracy: 1e-12)
        XCTAssertEqual(
            mix.share(of: .translation),
            CorpusMix().translation / (2 + CorpusMix().tweet + CorpusMix().translation + CorpusMix().questionAnswer), accuracy: 1e-12)
        XCTAssertThrowsError(try CorpusMix(parsing: "story")) { XCTAssertEqual($0 as? CorpusMixError, .malformed("story")) }
        XCTAssertThrowsError(try CorpusMix(parsing: "poems=0.2")) { XCTAssertEqual($0 as? CorpusMixError, .unknownKind("poems")) }
        XCTAssertThrowsError(try CorpusMix(parsing: "qa=-1")) { XCTAssertEqual($0 as? CorpusMixError, .badShare(kind: "qa", value: "-1")) }
        XCTAssertThrowsError(try CorpusMix(parsing: "story=0,sentiment=0,tweet=0,translation=0,qa=0,repeat=0")) {
            XCTAssertEqual($0 as? CorpusMixError, .allZero)
        }
        // A mix without repeats writes none.
        let documents = TeachingCorpus(seed: 3, targetBytes: 30_000, mix: try CorpusMix(parsing: "repeat=0")).documents()
        XCTAssertFalse(documents.contains { $0.kind == .repetition })
    }

    /// The `unfamiliar` kind: ordinary stories in which the object (or the pet) is always, and the
    /// colour, place, thing or pet sometimes, an everyday word from outside the story world, the
    /// same word at every mention; none of them is a word of the fluency check's prompts.
    func testUnfamiliarStoriesSwapStoryWordsForEverydayOnes() throws {
        let documents = TeachingCorpus(
            seed: 4, targetBytes: 60_000,
            mix: try CorpusMix(parsing: "story=0,sentiment=0,tweet=0,translation=0,qa=0,repeat=0,unfamiliar=1")
        ).documents()
        XCTAssertGreaterThan(documents.count, 100)
        let outside = UnfamiliarWordsWriter.allWords
        var swappedColours = 0, swappedPlaces = 0
        for document in documents {
            XCTAssertEqual(document.kind, .unfamiliar)
            XCTAssertEqual(CorpusTests.kind(of: document.text), .story, document.text)
            let words = Set(CorpusTests.words(of: document.text))
            XCTAssertTrue(words.isDisjoint(with: StoryLexicon.objects), "an object was left: \(document.text)")
            if words.isDisjoint(with: StoryLexicon.colours) { swappedColours += 1 }
            if words.isDisjoint(with: StoryLexicon.places) { swappedPlaces += 1 }
        }
        // The first mention of each unfamiliar word (with its leading space) is an unscored span;
        // later mentions are scored, so a model learns to copy the word, not to invent one.
        for document in documents {
            let runs = try UnscoredSpans.runs(of: document.markedText)
            var before = ""
            for run in runs {
                if !run.scored {
                    XCTAssertTrue(run.text.hasPrefix(" "), "'\(run.text)'")
                    let word = run.text.dropFirst().lowercased()
                    XCTAssertTrue(outside.contains(word), word)
                    XCTAssertFalse(CorpusTests.words(of: before).contains(word), "\(word) was named before its marked mention")
                }
                before += run.text
            }
            XCTAssertTrue(runs.contains { !$0.scored })
        }
        XCTAssertGreaterThan(swappedColours, documents.count / 4)
        XCTAssertGreaterThan(swappedPlaces, documents.count / 5)
        // Every mention is swapped, capitalised ones too.
        XCTAssertEqual(
            UnfamiliarWordsWriter.replacingWord("kite", with: "pebble", in: "Kite! Her kite, kites and the kite."),
            "Pebble! Her pebble, kites and the pebble.")

        let promptWords = Set(FluencyCheck.prompts.flatMap { CorpusTests.words(of: $0) })
        XCTAssertTrue(promptWords.isDisjoint(with: outside), "\(promptWords.intersection(outside)) would teach the fluency check's answer")
        XCTAssertTrue(
            outside.isDisjoint(with: CorpusTests.storyWords), "\(outside.intersection(CorpusTests.storyWords)) are story-world words")
    }

    /// With the marks (`--mark-unscored`) the text is the same once they are removed; the first
    /// copy of made-up words and soup is marked, passages of real words are not.
    func testMarkedTextIsThePlainTextWithTheFirstCopiesOfNoiseMarked() throws {
        let documents = CorpusTests.documents
        XCTAssertEqual(UnscoredSpans.strip(TeachingCorpus.render(documents, markUnscored: true)), CorpusTests.text)
        var noise = 0
        for document in documents where document.kind != .unfamiliar {
            let runs = try UnscoredSpans.runs(of: document.markedText)
            guard runs.contains(where: { !$0.scored }) else { continue }
            noise += 1
            XCTAssertEqual(document.kind, .repetition)
            // The document opens with the marked first copy; the copies after it are scored.
            XCTAssertEqual(runs.count, 2, document.markedText)
            XCTAssertEqual(runs.first?.scored, false)
            let first = String(runs[0].text)
            let copies = [2, 3].flatMap { n in ["\n", " "].map { Array(repeating: first, count: n).joined(separator: $0) } }
            XCTAssertTrue(copies.contains(document.text), "noise opens its document: «\(document.text)»")
        }
        let repeats = documents.filter { $0.kind == .repetition }.count
        XCTAssertGreaterThan(noise, repeats * 4 / 10, "made-up words and soup are half the repeats")
        XCTAssertLessThan(noise, repeats * 6 / 10)
    }

    // MARK: - Grammar

    func testEveryStorySentenceOfTheTrainingTextIsAccepted() {
        let grammar = CorpusGrammar.shared
        var checked = 0
        for document in CorpusTests.documents where document.kind == .story || document.kind == .questionAnswer {
            let story = document.text.split(separator: "\n").filter { !$0.hasPrefix("Q: ") }.joined(separator: "\n")
            for sentence in CorpusGrammar.sentences(in: story) {
                XCTAssertTrue(grammar.accepts(sentence), "rejected: «\(sentence)»")
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 3_000)
        let acceptance = grammar.acceptance(of: CorpusTests.documents.first { $0.kind == .story }!.text)
        XCTAssertEqual(acceptance.share, 1)
    }

    func testTheSplitterFindsTheWriterSentences() {
        for seed in 0..<300 as Range<UInt64> {
            let story = TeachingCorpus.story(seed: seed)
            XCTAssertEqual(CorpusGrammar.sentences(in: story.text), story.sentences, story.text)
        }
        XCTAssertEqual(
            CorpusGrammar.sentences(in: "\"Here it is!\" said Tom. Mia smiled.\n<|endoftext|>\nTom said, \"Run, Mia!\" They ran"),
            ["\"Here it is!\" said Tom.", "Mia smiled.", "Tom said, \"Run, Mia!\"", "They ran"])
    }

    func testScrambledAndWrongSentencesAreRejected() {
        let grammar = CorpusGrammar.shared
        for sentence in [
            "Mia had a red ball.", "\"Can you help me find my kite?\" asked Tom.",
            "At last, Ben found the blue drum under the bed.", "She was very sad.",
            "Once upon a time, there was a little girl named Lily."
        ] {
            XCTAssertTrue(grammar.accepts(sentence), sentence)
        }
        for sentence in [
            "Mia lost his red ball.",  // Mia is a she
            "Once upon a time, there was a little boy named Lily.",
            "Mia had a red zebra.",  // unknown word
            "Mia had a red ball",  // no full stop
            "mia had a red ball.",  // names are capitalised
            "Mia and Mia looked everywhere.",  // hero and friend are two people
            "Mia had a red ball and a blue kite.",  // no such template
            "The red ball was broken, and the blue ball was fine."
        ] {
            XCTAssertFalse(grammar.accepts(sentence), sentence)
        }
        // Every accepted training sentence, with its words shuffled, is rejected (unless the
        // shuffle happens to give an accepted sentence back, which is checked to be rare).
        var random = CorpusRandom(seed: 9)
        var scrambledAccepted = 0, scrambled = 0
        for document in CorpusTests.documents.prefix(400) where document.kind == .story {
            for sentence in CorpusGrammar.sentences(in: document.text) {
                var words = CorpusGrammar.words(in: sentence)
                let original = words
                random.shuffle(&words)
                guard words != original else { continue }
                scrambled += 1
                if grammar.accepts(words.joined(separator: " ")) {
                    // Only a swap of the two names may still be a sentence ("Ben hugged Max.").
                    let isName = { (word: String) in StoryLexicon.characterByName[word] != nil }
                    let fixed = zip(original, words).allSatisfy { isName($0) ? isName($1) : $0 == $1 }
                    XCTAssertTrue(fixed, "accepted after shuffling: «\(sentence)» → «\(words.joined(separator: " "))»")
                    scrambledAccepted += 1
                }
                // One word replaced by a word from outside the story world.
                var unknown = original
                unknown[random.below(unknown.count)] = "zebra"
                XCTAssertFalse(grammar.accepts(unknown.joined(separator: " ")), unknown.joined(separator: " "))
            }
        }
        XCTAssertGreaterThan(scrambled, 1_000)
        XCTAssertLessThan(scrambledAccepted, scrambled / 100)
    }

    // MARK: - Held-out split

    func testEvaluationItemsNeverOccurInTrainingText() {
        // Exact lines and documents of the training text, looked up in sets (fast even in debug builds).
        let lines = Set(CorpusTests.text.split(separator: "\n").map(String.init))
        let documents = Set(CorpusTests.documents.map(\.text))
        let stories = Set(
            CorpusTests.documents.filter { $0.kind == .story || $0.kind == .questionAnswer }.map {
                $0.text.components(separatedBy: "\nQ: ")[0]
            })
        for shots in [0, 1, 4] {
            let items = TeachingCorpus.sentimentEvaluation(count: 100, seed: 3, shots: shots)
            XCTAssertEqual(items.filter { $0.expected == " positive" }.count, 50)
            for item in items {
                XCTAssertEqual(item.shots, shots)
                XCTAssertTrue(item.prompt.hasSuffix(item.query) && item.query.hasSuffix(" Sentiment:"))
                XCTAssertEqual(item.prompt.split(separator: "\n").count, shots + 1)
                for label in [" positive", " negative"] {
                    XCTAssertFalse(lines.contains(item.query + label), "held-out review in training text: \(item.query)")
                }
            }
        }
        // The same queries for 0, 1 and 4 shots; the 1-shot prompt's shot is the 4-shot prompt's first.
        let zero = TeachingCorpus.sentimentEvaluation(count: 20, seed: 3, shots: 0)
        let one = TeachingCorpus.sentimentEvaluation(count: 20, seed: 3, shots: 1)
        let four = TeachingCorpus.sentimentEvaluation(count: 20, seed: 3, shots: 4)
        XCTAssertEqual(zero.map(\.query), four.map(\.query))
        for (a, b) in zip(one, four) { XCTAssertEqual(a.prompt.split(separator: "\n")[0], b.prompt.split(separator: "\n")[0]) }

        // Per-prompt label words: balanced, the right word is the query label's, the shots use the
        // item's own two words, and the same queries and words at every number of shots.
        let eight = TeachingCorpus.labelWordEvaluation(count: 40, seed: 3, shots: 8)
        let none = TeachingCorpus.labelWordEvaluation(count: 40, seed: 3, shots: 0)
        XCTAssertEqual(eight.map(\.item.query), none.map(\.item.query))
        XCTAssertEqual(eight.map(\.words), none.map(\.words))
        XCTAssertEqual(Set(eight.map(\.words)).count > 20, true, "label words are drawn per item")
        for (i, (item, words)) in eight.enumerated() {
            XCTAssertEqual(item.expected, " " + (i % 2 == 0 ? words.positive : words.negative))
            let shotWords = Set(item.prompt.split(separator: "\n").dropLast().map { String($0.split(separator: " ").last!) })
            XCTAssertEqual(shotWords, [words.positive, words.negative], item.prompt)
            XCTAssertTrue(item.query.hasSuffix(" Label:"))
            XCTAssertFalse(lines.contains { $0.hasPrefix(item.query.dropLast("Label:".count)) }, "held-out review in training text")
        }
        // Tweets: the course's header, three shots with one of each label, a held-out query.
        let tweetItems = TeachingCorpus.tweetEvaluation(count: 60, seed: 3)
        XCTAssertEqual(Set(tweetItems.map(\.expected)), [" positive", " negative", " neutral"])
        for item in tweetItems {
            XCTAssertTrue(item.prompt.hasPrefix(TweetWriter.header + "\nTweet: \""))
            XCTAssertEqual(item.prompt.components(separatedBy: "\nSentiment: ").count, 4)
            XCTAssertFalse(lines.contains(String(item.query.split(separator: "\n")[0])), "held-out tweet in training text: \(item.query)")
        }
        XCTAssertTrue(TweetWriter.isReserved(TweetWriter.courseQuery))
        XCTAssertFalse(lines.contains("Tweet: \"\(TweetWriter.courseQuery)\""))

        for item in TeachingCorpus.translationEvaluation(count: 200, seed: 3) {
            XCTAssertTrue(item.query.hasPrefix("French: ") && item.query.hasSuffix(" = English:"))
            XCTAssertEqual(item.prompt.split(separator: "\n").count, 4)
            XCTAssertFalse(lines.contains(item.answerLine), "held-out translation in training text: \(item.answerLine)")
            XCTAssertFalse(lines.contains { $0.hasPrefix(item.query) })
        }
        for item in TeachingCorpus.questionAnswerEvaluation(count: 100, seed: 3) {
            let story = item.prompt.components(separatedBy: "\nQ: ")[0]
            XCTAssertFalse(stories.contains(story), "held-out story in training text: \(story)")
            // The first paragraph names the hero and the (reserved) object: never a training line.
            XCTAssertFalse(lines.contains(String(story.split(separator: "\n")[0])), story)
        }
        for story in TeachingCorpus.heldOutStories(count: 100, seed: 3) {
            XCTAssertFalse(documents.contains(story.text) || stories.contains(story.text))
            XCTAssertTrue(StoryLexicon.isReservedStoryPair(hero: story.hero.name, object: story.object))
        }
    }

    func testTrainingNeverUsesHeldOutCombinations() {
        for seed in 0..<1_000 as Range<UInt64> {
            let story = TeachingCorpus.story(seed: seed)
            XCTAssertFalse(StoryLexicon.isReservedStoryPair(hero: story.hero.name, object: story.object))
        }
        var random = CorpusRandom(seed: 11)
        for _ in 0..<2_000 {
            XCTAssertFalse(TranslationWriter.sentence(split: .training, &random).usesReservedPair)
        }
        // Every noun keeps most of its colours for training, and every pair is decided the same way.
        for noun in TranslationWriter.nouns.indices {
            XCTAssertEqual(TranslationWriter.colours.indices.filter { TranslationWriter.isReserved(noun: noun, colour: $0) }.count, 1)
        }
        // No training translation line names a reserved noun–colour pair in French.
        for line in CorpusTests.text.split(separator: "\n") where line.hasPrefix("French: ") {
            let french = line.dropFirst("French: ".count).components(separatedBy: " = ")[0].split(separator: " ").map(String.init)
            for (i, word) in french.enumerated() {
                guard let n = TranslationWriter.nouns.firstIndex(where: { $0.french == word }) else { continue }
                let next = i + 1 < french.count ? (french[i + 1] == "est" && i + 2 < french.count ? french[i + 2] : french[i + 1]) : ""
                if let c = TranslationWriter.colours.firstIndex(where: { $0.masculine == next || $0.feminine == next }) {
                    XCTAssertFalse(TranslationWriter.isReserved(noun: n, colour: c), String(line))
                }
            }
        }
    }

    // MARK: - Stories: pronouns and answers

    func testPronounsAgreeWithTheirCharacter() {
        let pronouns: Set<String> = ["he", "she", "his", "her", "him"]
        var sameGender = 0
        for seed in 0..<500 as Range<UInt64> {
            let story = TeachingCorpus.story(seed: seed)
            for use in story.pronouns {
                XCTAssertTrue(
                    [use.character.gender.subject, use.character.gender.possessive, use.character.gender.object]
                        .contains(use.word.lowercased()), "«\(use.word)» for \(use.character.name) in\n\(story.text)")
            }
            // Every pronoun in the text is one the writer chose for a character.
            let words = CorpusGrammar.words(in: story.text).map { $0.lowercased() }.filter { pronouns.contains($0) }
            XCTAssertEqual(words.count, story.pronouns.count, story.text)
            // With a cast of one gender, the other gender's pronouns never appear.
            if story.hero.gender == story.friend.gender {
                sameGender += 1
                let other: Set<String> = story.hero.gender == .female ? ["he", "his", "him"] : ["she", "her"]
                XCTAssertTrue(words.allSatisfy { !other.contains($0) }, story.text)
                // …and no sentence opens with a pronoun that could mean either character.
                for sentence in story.sentences {
                    XCTAssertFalse(["He", "She", "His", "Her"].contains(CorpusGrammar.words(in: sentence)[0]), sentence)
                }
            }
        }
        XCTAssertGreaterThan(sameGender, 50)
    }

    func testQuestionAnswersAreStatedByTheirStory() throws {
        var asked = 0
        for seed in 0..<400 as Range<UInt64> {
            let story = TeachingCorpus.story(seed: seed, plot: seed % 3 == 0 ? .animal : .lostAndFound)
            let text = story.text
            XCTAssertFalse(story.questions.isEmpty)
            for qa in story.questions {
                asked += 1
                let q = qa.question, a = qa.answer
                if q.hasPrefix("Who found") || q.hasPrefix("Where was the") {
                    let found = story.sentences.filter { $0.contains(" found ") }
                    XCTAssertEqual(found.count, 1, text)
                    XCTAssertTrue(found[0].contains(a), "\(qa.line)\n\(text)")
                    if q.hasPrefix("Who found") {
                        let other = a == story.hero.name ? story.friend.name : story.hero.name
                        XCTAssertFalse(found[0].contains(other), "\(qa.line)\n\(text)")
                    }
                } else if q.hasPrefix("What colour") {
                    XCTAssertTrue(text.contains("\(a) \(story.object)"), "\(qa.line)\n\(text)")
                } else if q.hasPrefix("What did \(story.hero.name) lose") {
                    XCTAssertEqual(a, "\(story.hero.gender.possessive) \(story.colour) \(story.object)")
                    XCTAssertTrue(text.contains("\(story.colour) \(story.object)"))
                } else if q.hasPrefix("How did \(story.hero.name) feel at the end") {
                    XCTAssertTrue(text.split(separator: "\n").last!.contains(a), "\(qa.line)\n\(text)")
                    XCTAssertTrue(WordClass.happyFeeling.words.contains(a))
                } else if q.hasPrefix("How did") {
                    XCTAssertTrue(WordClass.sadFeeling.words.contains(a))
                    XCTAssertTrue(text.contains(" \(a)"), "\(qa.line)\n\(text)")
                } else if q.hasPrefix("Who") {
                    XCTAssertEqual(a, story.friend.name)
                    XCTAssertTrue(text.contains(a))
                } else if q.hasPrefix("Where") {
                    XCTAssertEqual(a, "in the \(story.place)")
                    XCTAssertTrue(text.contains("the \(story.place)"), "\(qa.line)\n\(text)")
                } else if q.hasPrefix("What did \(story.hero.name) see") {
                    XCTAssertTrue(text.contains(String(a.dropFirst(2))) && text.contains("the \(story.place)"), "\(qa.line)\n\(text)")
                } else if q.hasPrefix("What did the") {
                    XCTAssertTrue(WordClass.food.words.contains(a) && text.contains("some \(a)"), "\(qa.line)\n\(text)")
                } else {
                    XCTFail("no check for \(qa.line)")
                }
            }
        }
        XCTAssertGreaterThan(asked, 2_000)
        // Evaluation items ask one of their story's questions, and the answer is the story's.
        for item in TeachingCorpus.questionAnswerEvaluation(count: 50, seed: 8, shots: 1) {
            XCTAssertEqual(item.shots, 1)
            XCTAssertTrue(item.prompt.hasSuffix("\n" + item.query))
            XCTAssertTrue(item.query.hasPrefix("Q: ") && item.query.hasSuffix(" A:"))
            XCTAssertTrue(item.expected.hasPrefix(" "))
        }
    }
}
