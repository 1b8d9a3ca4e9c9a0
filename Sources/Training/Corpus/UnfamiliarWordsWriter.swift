// Stories with words from outside the story world.
//
// lantern-tiny version 2 knew only its world's few hundred words. Given two words it had never met
// in a story — "Mia found a shiny stone." — it took their pieces for the made-up words that open a
// copying document and answered with letter soup in every sample. Real text is full of words a
// reader meets rarely, so these documents are ordinary stories in which the story's object (and
// sometimes its colour, place, thing or pet) is an everyday English word the world does not have,
// used the way a story uses a word: named, then named again. An unfamiliar word inside a sentence
// then reads as part of the story, and the story goes on. The first mention of each is an
// unscored span (`UnscoredSpans`): nothing predicts it, and a model trained to write it would
// learn to invent words (a first try without the marks wrote "shour", "pamrlb", "bleam"); the
// later mentions are scored, so what is learnt is to copy the word and go on with the story.
//
// None of the fluency check's prompt words is in these lists (a test holds them apart), so the
// check still asks about words the model has never seen. (Invented words in half the swaps —
// "stoomel" — were tried too, so that only copying could bring a word back: on the prompt "Mia
// found a shiny stone." 28 of 60 samples stayed fluent, against 40 of 60 with these lists only.)

enum UnfamiliarWordsWriter {
    /// Things a child could own, lose, find or share; each starts with a consonant (they follow "a").
    static let nouns = [
        "pebble", "feather", "lantern", "marble", "button", "candle", "compass", "crayon", "whistle",
        "ribbon", "puzzle", "pillow", "blanket", "mitten", "scarf", "jar", "bottle", "bucket", "shovel",
        "bowl", "tent", "sled", "wagon", "piano", "flute", "guitar", "trumpet", "violin",
        "coin", "crown", "mask", "map", "gem", "pearl", "crystal", "rope", "net", "pencil", "brush",
        "clock", "mirror", "comb", "helmet", "glove", "boot", "slipper", "teapot", "kettle",
        "parcel", "letter", "ticket", "medal", "trophy", "sticker", "magnet", "rocket", "plane", "train",
        "tractor", "wand", "shield", "flag", "bell", "horn", "leaf", "pinecone", "berry", "lemon",
        "pumpkin", "cookie", "cupcake", "muffin", "sandwich", "banana", "melon", "peach", "plum",
        "teddy", "puppet", "necklace", "bracelet", "scooter", "jigsaw", "notebook", "paintbrush",
        "snowglobe", "seashell", "telescope", "rattle", "pinwheel", "yoyo", "spinner"
    ]
    /// Describing words that can stand where a colour stands ("her ___ kite").
    static let adjectives = [
        "golden", "silver", "sparkly", "glossy", "fluffy", "soft", "smooth", "bumpy", "striped",
        "spotted", "glittery", "dusty", "muddy", "heavy", "round", "square",
        "strange", "special", "magic", "secret", "precious", "wooden", "woolly",
        "velvet", "painted", "pale", "crimson", "tall", "fancy", "lucky",
        "sticky", "shabby", "gleaming", "rusty", "patterned", "polished", "curly", "wobbly", "chunky"
    ]
    /// Places a story can go to ("went to the ___").
    static let places = [
        "lake", "farm", "pond", "museum", "castle", "cave",
        "bakery", "harbour", "orchard", "village", "town", "street", "hallway", "attic",
        "cellar", "porch", "bridge", "tower", "valley", "riverbank", "square", "greenhouse", "campsite", "lighthouse", "workshop",
        "boathouse"
    ]
    /// Things to look under, behind or beside.
    static let things = [
        "stairs", "shelf", "desk", "cupboard", "curtain", "wall", "log", "stump", "hedge", "pillar",
        "ladder", "barrel", "crate", "wardrobe", "rug", "cushion", "sink", "stove", "gate", "wheelbarrow"
    ]
    /// Things the story world puts presents into ("put the kite in a box"): never swapped for a
    /// shelf or a rug.
    static let containers: Set<String> = ["box", "basket"]
    /// Animals a story's pet can be.
    static let animals = [
        "hamster", "pony", "goat", "lamb", "parrot", "goldfish", "penguin", "snail", "beetle",
        "ladybug", "hedgehog", "squirrel", "tortoise", "donkey", "piglet", "chick", "lizard", "badger", "raccoon"
    ]

    /// Every word these stories can bring in, for the fluency check's vocabulary.
    static var allWords: Set<String> { Set(nouns + adjectives + places + things + animals) }

    /// A training story with one to four of its bound words swapped for unfamiliar ones.
    static func document(_ random: inout CorpusRandom) -> String {
        var text = StoryWriter.write(split: .training, &random).text
        // The object, or the pet where the story has none: always swapped, so every document has
        // at least one unfamiliar word.
        if let object = firstWord(of: StoryLexicon.objects, in: text) {
            text = replacingWord(object, with: random.pick(nouns), in: text, markingFirst: true)
        } else if let pet = firstWord(of: WordClass.pet.words, in: text) {
            text = replacingWord(pet, with: random.pick(animals), in: text, markingFirst: true)
        }
        let swaps: [([String], [String], Double)] = [
            (StoryLexicon.colours, adjectives, 0.5), (StoryLexicon.places, places, 0.4),
            (WordClass.thing.words.filter { !containers.contains($0) }, things, 0.3),
            (WordClass.pet.words, animals, 0.3)
        ]
        for (known, unfamiliar, chance) in swaps where random.chance(chance) {
            if let word = firstWord(of: known, in: text) {
                text = replacingWord(word, with: random.pick(unfamiliar), in: text, markingFirst: true)
            }
        }
        return text
    }

    /// The first of `words` that occurs in `text` as a whole word.
    static func firstWord(of words: [String], in text: String) -> String? {
        let present = Set(CorpusGrammar.words(in: text))
        return words.first { present.contains($0) }
    }

    /// `text` with every whole-word `word` (and its capitalised form) replaced by `replacement`;
    /// with `markingFirst`, the first replacement (with the space before it) is an unscored span:
    /// nothing in the story predicts a word from outside its world the first time, only after.
    static func replacingWord(_ word: String, with replacement: String, in text: String, markingFirst: Bool = false) -> String {
        var result = ""
        var current = ""
        var marked = !markingFirst
        func put(_ new: String) {
            guard !marked else { return result += new }
            marked = true
            let space = result.last == " "
            if space { result.removeLast() }
            result += UnscoredSpans.mark((space ? " " : "") + new)
        }
        func flush() {
            if current == word {
                put(replacement)
            } else if current == word.prefix(1).uppercased() + word.dropFirst() {
                put(replacement.prefix(1).uppercased() + replacement.dropFirst())
            } else {
                result += current
            }
            current = ""
        }
        for character in text {
            if character.isLetter {
                current.append(character)
            } else {
                flush()
                result.append(character)
            }
        }
        flush()
        return result
    }
}
