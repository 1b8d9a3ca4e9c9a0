import ArgumentParser
import Foundation
import Tensors
import Training

/// A default share of the corpus, as the help text shows it ("49%").
private func percent(_ kind: KeyPath<CorpusMix, Double>) -> String {
    "\(Int((CorpusMix()[keyPath: kind] * 100).rounded()))%"
}

/// `lantern corpus`: writes the deterministic teaching corpus (and, with --eval, its held-out sets).
struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus",
        abstract: "Write the teaching corpus: stories, sentiment, tweets, toy translation, questions and repeats, from a seed.",
        discussion: """
            The same seed gives the same bytes on every machine. Each document is followed
            by a line <|endoftext|>. About \(percent(\.story)) of the bytes are stories,
            \(percent(\.sentiment)) few-shot review lines (two thirds of them with two
            label words drawn afresh for each document, so only the examples tell which is
            which), \(percent(\.tweet)) few-shot tweets in the course's format,
            \(percent(\.translation)) toy "French" translation lines,
            \(percent(\.questionAnswer)) stories with questions and answers,
            \(percent(\.repetition)) repeated passages (word lists, sentences, made-up
            words and "token soup", written 2 or 3 times; made-up words and soup only ever
            open a document); --mix changes the shares (e.g. --mix repeat=0.3).
            A seventh kind, unfamiliar (stories in which everyday words from outside
            the story world — "pebble", "golden", "the orchard" — take the place of
            the object, colour, place or pet), is not in the default mix; lantern-tiny's
            last training phase adds it with --mix unfamiliar=0.15.

            --mark-unscored marks what a model should read but never be trained to
            write: the first copy of made-up words and soup (only the copies after it
            are predictable) and the first mention of an unfamiliar word (only its
            later mentions are). `lantern train` keeps those tokens in the context and
            gives them no loss, so the model learns to copy them and go on, not to
            invent noise. Without the flag the text is the same, unmarked.

            Some combinations (hero-object pairs, review phrases, noun-colour pairs) are
            held out: they never appear in the training text and make up the --eval sets,
            written as JSON lines: sentiment.jsonl (0, 1 and 4 shots), label-words.jsonl
            (0, 1, 2, 4 and 8 shots), tweets.jsonl, translation.jsonl, qa.jsonl and
            stories.jsonl.

            --pairs translation writes pairs for an encoder–decoder instead: --pair-count
            lines `french<TAB>english` of the toy translation language (never a held-out
            noun–colour pair), and with --eval a file translation-heldout.tsv of
            --eval-count pairs that each use one.

            Examples:
              lantern corpus
              lantern corpus --seed 7 --size-mb 1 --out corpus.txt --eval eval/
              lantern corpus --seed 2 --mix unfamiliar=0.15 --mark-unscored --out p6.txt
              lantern corpus --pairs translation --out output/pairs/train.tsv \\
                  --eval output/pairs
            """)

    @Option(
        name: .long, parsing: .unconditional, help: "Seed of the corpus, a whole number 0 or more: the same seed writes the same bytes.")
    var seed: UInt64 = 1

    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp(
            "Size of the training text in megabytes (10^6 bytes), more than 0 and at most \(Int(CorpusCommand.maximumMegabytes)).",
            valueName: "megabytes"))
    var sizeMb: Double = Double(TeachingCorpus.defaultTargetBytes) / 1_000_000

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Shares of the document kinds (story, sentiment, tweet, translation, qa, repeat, unfamiliar), e.g. repeat=0.3; kinds not named keep their default share, and all are scaled to sum to 1.",
            valueName: "kind=share,…"))
    var mix: String?

    @Flag(
        name: .long,
        help:
            "Mark the spans a model should read but not be trained to write (the first copy of made-up words and token soup, the first mention of an unfamiliar word) with U+E000 … U+E001; `lantern train` gives their tokens no loss."
    )
    var markUnscored = false

    @Option(name: .long, help: ArgumentHelp("Where to write the training text.", valueName: "file"))
    var out: String = "output/corpus/train.txt"

    @Option(name: .long, help: ArgumentHelp("Also write the held-out evaluation sets (JSON lines) into this folder.", valueName: "folder"))
    var eval: String?

    @Option(name: .long, parsing: .unconditional, help: "How many items each evaluation set has (with --eval).")
    var evalCount: Int = 200

    /// What `--pairs` writes: source–target pairs of one corpus task.
    enum PairTask: String, ExpressibleByArgument {
        case translation
    }

    @Option(
        name: .long,
        help: ArgumentHelp("Write tab-separated source–target pairs of a task (translation) instead of the text.", valueName: "task"))
    var pairs: PairTask?

    @Option(name: .long, parsing: .unconditional, help: "How many pairs --pairs writes.")
    var pairCount = 20_000

    static let maximumMegabytes = 1_000.0

    func validate() throws {
        guard sizeMb.isFinite, sizeMb > 0 else {
            throw ValidationError("--size-mb \(sizeMb) is out of range: use a size above 0, e.g. --size-mb 4")
        }
        guard sizeMb <= CorpusCommand.maximumMegabytes else {
            throw ValidationError("--size-mb \(sizeMb) is too large: use at most \(Int(CorpusCommand.maximumMegabytes)) (the default is 4)")
        }
        guard (1...100_000).contains(evalCount) else {
            throw ValidationError("--eval-count \(evalCount) is out of range: use 1 to 100000")
        }
        guard !out.isEmpty else { throw ValidationError("--out needs a file name") }
        guard (1...10_000_000).contains(pairCount) else {
            throw ValidationError("--pair-count \(pairCount) is out of range: use 1 to 10,000,000")
        }
        _ = try corpusMix()
    }

    func corpusMix() throws -> CorpusMix {
        guard let mix else { return CorpusMix() }
        do { return try CorpusMix(parsing: mix) } catch let error as CorpusMixError {
            throw ValidationError("--mix: \(error)")
        }
    }

    func run() throws {
        let outURL = URL(fileURLWithPath: out)
        try CorpusCommand.prepareFolder(outURL.deletingLastPathComponent(), for: "--out")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: outURL.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ValidationError("cannot write --out \(out): it is a folder; name a file, e.g. \(out)/train.txt")
        }
        let evalURL = eval.map { URL(fileURLWithPath: $0) }
        if let evalURL { try CorpusCommand.prepareFolder(evalURL, for: "--eval") }

        if pairs != nil {
            func tsv(_ rows: [(french: String, english: String)]) -> Data {
                Data(rows.map { "\($0.french)\t\($0.english)\n" }.joined().utf8)
            }
            let training = TeachingCorpus.translationPairs(count: pairCount, seed: seed, split: .training)
            try CorpusCommand.writeAtomically(tsv(training), to: outURL, option: "--out")
            print(outURL.path)
            print("\(training.count) translation pairs (French → English), seed \(seed)")
            if let evalURL {
                let heldOut = TeachingCorpus.translationPairs(count: evalCount, seed: seed, split: .heldOut)
                let url = evalURL.appendingPathComponent("translation-heldout.tsv")
                try CorpusCommand.writeAtomically(tsv(heldOut), to: url, option: "--eval")
                print("\(url.path): \(heldOut.count) held-out pairs (each uses a noun–colour pair never seen in training)")
            }
            return
        }
        let clock = ContinuousClock(), start = clock.now
        let corpus = TeachingCorpus(seed: seed, targetBytes: max(1, Int((sizeMb * 1_000_000).rounded())), mix: try corpusMix())
        let (text, summary) = corpus.generate(markUnscored: markUnscored)
        let elapsed = clock.now - start
        try CorpusCommand.writeAtomically(Data(text.utf8), to: outURL, option: "--out")

        let kinds = CorpusDocumentKind.allCases.map { "\($0.rawValue) \(summary.documents(of: $0))" }.joined(separator: ", ")
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        print(outURL.path)
        print(
            "\(summary.bytes) bytes, \(summary.documents.reduce(0, +)) documents (\(kinds)), "
                + "\(summary.distinctWords) distinct story-world words, seed \(seed), \(String(format: "%.1f", seconds)) s")
        if mix != nil { print("mix (shares of the bytes asked for): \(corpus.mix.description)") }
        if markUnscored {
            let spans = text.unicodeScalars.reduce(0) { $0 + ($1 == "\u{E000}" ? 1 : 0) }
            print("\(spans) unscored spans marked with U+E000 … U+E001 (the counts above are of the text without them)")
        }

        if let evalURL {
            try writeEvaluation(into: evalURL)
        }
    }

    /// One JSON line of an evaluation set.
    private struct EvaluationLine: Encodable {
        let id: Int
        let kind: String
        let shots: Int
        let prompt: String
        let expected: String
        let query: String
    }

    private struct StoryLine: Encodable {
        let id: Int
        let plot: String
        let text: String
    }

    private func writeEvaluation(into folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        func lines<T: Encodable>(_ values: [T]) throws -> Data {
            var data = Data()
            for value in values {
                data += try encoder.encode(value)
                data += Data("\n".utf8)
            }
            return data
        }
        func rows(_ items: [CorpusEvaluationItem]) -> [EvaluationLine] {
            items.enumerated().map {
                EvaluationLine(
                    id: $0.offset, kind: $0.element.kind.rawValue, shots: $0.element.shots,
                    prompt: $0.element.prompt, expected: $0.element.expected, query: $0.element.query)
            }
        }
        let sets: [(String, Data)] = [
            (
                "sentiment.jsonl",
                try lines([0, 1, 4].flatMap { rows(TeachingCorpus.sentimentEvaluation(count: evalCount, seed: seed, shots: $0)) })
            ),
            (
                "label-words.jsonl",
                try lines(
                    [0, 1, 2, 4, 8].flatMap {
                        rows(TeachingCorpus.labelWordEvaluation(count: evalCount, seed: seed, shots: $0).map(\.item))
                    })
            ),
            ("tweets.jsonl", try lines(rows(TeachingCorpus.tweetEvaluation(count: evalCount, seed: seed)))),
            ("translation.jsonl", try lines(rows(TeachingCorpus.translationEvaluation(count: evalCount, seed: seed)))),
            ("qa.jsonl", try lines(rows(TeachingCorpus.questionAnswerEvaluation(count: evalCount, seed: seed)))),
            (
                "stories.jsonl",
                try lines(
                    TeachingCorpus.heldOutStories(count: evalCount, seed: seed).enumerated().map {
                        StoryLine(id: $0.offset, plot: $0.element.plot.rawValue, text: $0.element.text)
                    })
            )
        ]
        for (name, data) in sets {
            let url = folder.appendingPathComponent(name)
            try CorpusCommand.writeAtomically(data, to: url, option: "--eval")
            print(url.path)
        }
    }

    /// Creates `folder` if needed and checks that it is a writable folder, before any work is done.
    static func prepareFolder(_ folder: URL, for option: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ValidationError("cannot write \(option) into \(folder.path): it is a file, not a folder")
        }
        do {
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw ValidationError("cannot write \(option) into \(folder.path): the folder cannot be created")
        }
        guard fm.isWritableFile(atPath: folder.path) else {
            throw ValidationError("cannot write \(option) into \(folder.path): the folder is not writable")
        }
    }

    /// Writes whole or not at all (`AtomicFile`).
    static func writeAtomically(_ data: Data, to url: URL, option: String) throws {
        do { try AtomicFile.write(data, to: url) } catch {
            throw ValidationError("cannot write \(option) \(error.path): \(error.reason)")
        }
    }
}
