// Repeated passages, so that copying ("induction") heads have something to learn: a passage, then
// the same passage again on the next line (sometimes a third time). Nothing but copying predicts a
// repeat, and the first kind below can only be copied token by token:
//  - invented words built from random syllables ("Zorvi tep", BPE cuts them into arbitrary pieces,
//    which is what `lantern heads` measures induction on: random tokens repeated),
//  - random lists of the story world's content words,
//  - runs of story sentences (copying inside ordinary text).

enum RepetitionWriter {
    /// Content words of the story world, for the random word lists.
    static let words: [String] = StoryLexicon.characters.map(\.name) + StoryLexicon.objects + StoryLexicon.colours
        + StoryLexicon.places + WordClass.pet.words + WordClass.food.words + WordClass.thing.words

    static let onsets = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "st", "tr", "pl"]
    static let vowels = ["a", "e", "i", "o", "u", "ai", "ou"]
    static let codas = ["", "", "", "n", "r", "s", "k", "m"]

    /// A made-up word of one to three syllables, capitalised now and then.
    static func inventedWord(_ random: inout CorpusRandom) -> String {
        var word = ""
        for _ in 0..<random.int(in: 1...3) {
            word += random.pick(onsets) + random.pick(vowels) + random.pick(codas)
        }
        return random.chance(0.2) ? word.prefix(1).uppercased() + word.dropFirst() : word
    }

    static func document(_ random: inout CorpusRandom) -> String {
        let passage: String
        let kind = random.below(10)
        if kind < 4 {
            passage = (0..<random.int(in: 4...14)).map { _ in inventedWord(&random) }.joined(separator: " ")
        } else if kind < 7 {
            passage = (0..<random.int(in: 5...16)).map { _ in random.pick(words) }.joined(separator: " ")
        } else {
            let sentences = StoryWriter.write(split: .training, &random).sentences
            let length = min(sentences.count, random.int(in: 1...3))
            let start = random.below(sentences.count - length + 1)
            passage = sentences[start..<(start + length)].joined(separator: " ")
        }
        let copies = random.chance(0.3) ? 3 : 2
        return Array(repeating: passage, count: copies).joined(separator: "\n")
    }
}
