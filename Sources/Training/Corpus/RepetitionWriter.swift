// Repeated passages, so that copying ("induction") heads have something to learn: a passage, then
// the same passage again on the next line (sometimes a third time). Half are random word lists
// (nothing but copying predicts the second half), half are runs of story sentences.

enum RepetitionWriter {
    /// Content words of the story world, for the random word lists.
    static let words: [String] = StoryLexicon.characters.map(\.name) + StoryLexicon.objects + StoryLexicon.colours
        + StoryLexicon.places + WordClass.pet.words + WordClass.food.words + WordClass.thing.words

    static func document(_ random: inout CorpusRandom) -> String {
        let passage: String
        if random.chance(0.5) {
            passage = (0..<random.int(in: 8...24)).map { _ in random.pick(words) }.joined(separator: " ")
        } else {
            let sentences = StoryWriter.write(split: .training, &random).sentences
            let length = min(sentences.count, random.int(in: 2...3))
            let start = random.below(sentences.count - length + 1)
            passage = sentences[start..<(start + length)].joined(separator: " ")
        }
        let copies = random.chance(0.2) ? 3 : 2
        return Array(repeating: passage, count: copies).joined(separator: "\n")
    }
}
