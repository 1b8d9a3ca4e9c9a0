// Repeated passages, so that copying ("induction") heads have something to learn: a passage, then
// the same passage again (sometimes a third time). Nothing but copying predicts the second copy of
// a random list, so these documents are where a model learns to look back for "what came after
// this token last time".
//
// A model learns only the copying its data asks for. The first recipe (word lists of the story
// world, each copy on its own line, at the start of a document) gave lantern-tiny a head that
// copies such lists almost perfectly (97 % of tokens) and nothing else: the same list after a
// space, or random tokens, were not copied at all. So the passages vary in every way a copy can:
//   - what is copied: lists of story words, runs of story sentences, made-up words whose pieces
//     are the tokenizer's rarer sub-word tokens, and "token soup" — words, bits of words, numbers
//     and marks in no order at all, as `lantern heads`' random tokens are (copying must depend on
//     neither meaning nor format);
//   - what separates the copies: a new line, or only a space (the copy follows straight on);
//   - where the first copy starts: at the beginning of the document, or after a story sentence —
//     but only for passages of real words. Made-up words and soup always open their document (right
//     after `<|endoftext|>`): a model that saw them follow a story sentence learns that a story can
//     turn into letter soup, and does so when sampling (lantern-tiny version 1 did, in about a third
//     of its samples). Opening a document, they are a mode no prompt of ordinary text leads into.
//   - the first copy of made-up words and soup is an unscored span (`UnscoredSpans`): with
//     `lantern corpus --mark-unscored` a model learns to copy it, not to write noise of its own.

enum RepetitionWriter {
    /// Content words of the story world, for the random word lists.
    static let words: [String] =
        StoryLexicon.characters.map(\.name) + StoryLexicon.objects + StoryLexicon.colours
        + StoryLexicon.places + WordClass.pet.words + WordClass.food.words + WordClass.thing.words

    static func document(_ random: inout CorpusRandom) -> String {
        let passage: String
        let kind = random.below(10)
        let isRealWords = kind < 5
        if kind < 3 {
            passage = (0..<random.int(in: 8...24)).map { _ in random.pick(words) }.joined(separator: " ")
        } else if kind < 5 {
            let sentences = StoryWriter.write(split: .training, &random).sentences
            let length = min(sentences.count, random.int(in: 2...3))
            let start = random.below(sentences.count - length + 1)
            passage = sentences[start..<(start + length)].joined(separator: " ")
        } else if kind < 7 {
            passage = (0..<random.int(in: 6...16)).map { _ in madeUpWord(&random) }.joined(separator: " ")
        } else {
            passage = tokenSoup(&random)
        }
        let copies = random.chance(0.2) ? 3 : 2
        let separator = random.chance(0.5) ? "\n" : " "
        // The first copy of made-up words or soup is noise nothing predicts: marked, so that a
        // model trained with the marks learns to copy it but never to write it unprompted.
        let first = isRealWords ? passage : UnscoredSpans.mark(passage)
        let repeated = ([first] + Array(repeating: passage, count: copies - 1)).joined(separator: separator)
        guard isRealWords, random.chance(0.5) else { return repeated }
        let lead = StoryWriter.write(split: .training, &random).sentences
        return random.pick(lead) + " " + repeated
    }

    static let letters = Array("abcdefghijklmnopqrstuvwxyz")
    static let marks = [".", ",", "!", "?", ":", ";", "-", "\"", "'", "(", ")"]

    /// A random string of 2 to 7 letters (sometimes capitalised), a number, or a punctuation mark.
    static func madeUpWord(_ random: inout CorpusRandom) -> String {
        let roll = random.below(20)
        if roll < 2 { return String(random.int(in: 0...999)) }
        if roll < 4 { return random.pick(marks) }
        let word = String((0..<random.int(in: 2...7)).map { _ in random.pick(letters) })
        return roll < 7 ? word.prefix(1).uppercased() + word.dropFirst() : word
    }

    /// 12 to 30 pieces in no order: words of a story and bits of them, a few random letters, numbers
    /// and marks, each after a space or straight after the last. Only an earlier copy predicts the
    /// next piece, so a model that copies these must look back by token, not by sense.
    static func tokenSoup(_ random: inout CorpusRandom) -> String {
        let storyWords = StoryWriter.write(split: .training, &random).sentences
            .flatMap { $0.split(separator: " ").map(String.init) }
        var soup = ""
        for index in 0..<random.int(in: 12...30) {
            if index > 0, random.chance(0.5) { soup += " " }
            switch random.below(10) {
            case 0..<4:
                soup += random.pick(storyWords)
            case 4..<7:
                let word = Array(random.pick(storyWords))
                let length = random.int(in: 1...min(3, word.count))
                let start = random.below(word.count - length + 1)
                soup += String(word[start..<(start + length)])
            case 7:
                soup += String((0..<random.int(in: 1...3)).map { _ in random.pick(letters) })
            case 8:
                soup += String(random.int(in: 0...99))
            default:
                soup += random.pick(marks)
            }
        }
        return soup
    }
}
