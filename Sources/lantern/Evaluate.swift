import ArgumentParser
import Foundation
import Generation
import Tokenizers
import Tracing
import Training
import Transformer

/// `lantern evaluate`: how well a model has learnt the teaching corpus, on held-out material only.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Measure a model on the teaching corpus's held-out tasks (the built-in model's report card).",
        discussion: """
            Everything here is held out: the corpus generator reserves combinations that it
            never writes into training text (see `lantern corpus`).
              held-out loss  cross-entropy (nats per token) on held-out stories
              grammar        share of the sentences of sampled stories that the
                             corpus grammar accepts (temperature 0.8, top-k 40)
              fluency        share of sampled continuations of 10 ordinary
                             prompts (--fluency-seeds seeds each, 30 tokens)
                             whose every word is a word of the corpus or of
                             the prompt: no letter soup, no digits; at the
                             default sampling settings and at plain
                             temperature 1
              sentiment      few-shot reviews: does " positive" or " negative"
                             score higher? (0, 1 and 4 worked examples)
              label words    in-context learning proper: two ordinary words drawn
                             for each prompt stand for the labels, so only the
                             examples tell which is right; right-over-wrong
                             accuracy and mean P(right) with 0, 1, 2, 4 and 8
              tweets         the course's tweet prompt (3 examples, 3 labels) on
                             held-out tweets, greedy, exact match
              translation    toy French to English after 3 examples, greedy,
                             exact match
              questions      a held-out story, then "Q: … A:", greedy, exact match
              zero-shot      `lantern classify`'s label likelihood on a held-out
                             story's event: "… Anna felt" sad or happy?
              heads          the strongest previous-token and induction heads
                             (as `lantern heads` finds them)

            An encoder (a BERT trained with --objective mlm) gets its own card:
              fill-in        each single-piece word of held-out stories masked in
                             turn: is it the first guess, among the five best? —
                             beside always guessing the most frequent words
              looking ahead  the head whose attention goes most to later tokens

            An encoder–decoder (a BART trained with --objective seq2seq) gets its own:
              held-out       toy French → English, greedy, exact match, on phrases
                             with a noun–colour pair never seen in training
              fresh          the same on new phrases of the training kind
              alignment      the cross-attention head that, writing an English
                             word, looks hardest at the French word it translates

            Examples:
              lantern evaluate
              lantern evaluate --model output/my-model --count 50 --json
              lantern evaluate --only loss,label-words
            """)

    @OptionGroup var model: ModelOptions

    @Option(name: .long, parsing: .unconditional, help: "Items per task (1 to 1,000).") var count = 100
    @Option(name: .long, parsing: .unconditional, help: "Sampled stories for the grammar share (1 to 500).") var samples = 20

    @Option(
        name: .long, parsing: .unconditional,
        help: "Samples of each fluency prompt, seeds 1 to N (1 to 200): 40 gives 400 samples a setting.")
    var fluencySeeds = FluencyCheck.defaultSeeds
    @Option(name: .long, parsing: .unconditional, help: "Seed of the held-out items (a whole number 0 or more).") var seed: UInt64 = 7
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Only these tasks, comma-separated: \(EvaluationTask.allCases.map(\.rawValue).joined(separator: ", ")).",
            valueName: "task,…"))
    var only: String?
    @Flag(name: .long, help: "Print one JSON object instead of a table.") var json = false

    func validate() throws {
        guard (1...1000).contains(count) else { throw ValidationError("--count \(count) is out of range: use 1 to 1,000") }
        guard (1...500).contains(samples) else { throw ValidationError("--samples \(samples) is out of range: use 1 to 500") }
        guard (1...200).contains(fluencySeeds) else {
            throw ValidationError("--fluency-seeds \(fluencySeeds) is out of range: use 1 to 200")
        }
        _ = try tasks()
    }

    /// The tasks to run, in the report's order.
    func tasks() throws -> [EvaluationTask] {
        guard let only else { return EvaluationTask.allCases }
        var chosen = Set<EvaluationTask>()
        for name in only.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let task = EvaluationTask(rawValue: name) else {
                throw ValidationError(
                    "--only: there is no task '\(name)'; the tasks are \(EvaluationTask.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            chosen.insert(task)
        }
        guard !chosen.isEmpty else { throw ValidationError("--only needs at least one task, e.g. --only loss") }
        return EvaluationTask.allCases.filter(chosen.contains)
    }

    func run() throws {
        let bundle = try model.load()
        if !bundle.model.config.isCausal { return try evaluateEncoder(bundle) }
        if bundle.model.config.isEncoderDecoder { return try evaluateTranslator(bundle) }
        let card = try ReportCard.evaluate(
            model: bundle.model, tokenizer: bundle.tokenizer, source: bundle.source, tasks: tasks(),
            count: count, samples: samples, seed: seed,
            defaultSampling: SamplingOptions.defaultSettings, headsPrompt: HeadsCommand.defaultPrompt,
            fluencySeeds: fluencySeeds, progress: { printError($0) })
        if json { return try printEncodable(card, snakeCaseKeys: false) }
        print("model: \(bundle.source)   (\(count) held-out items per task, seed \(seed))")
        lines(card).forEach { print($0) }
        for (task, n) in (card.itemsAsked ?? [:]).sorted(by: { $0.key < $1.key }) where n < count {
            print(
                "note: \(count - n) of \(count) \(task) items do not fit the model's context of \(bundle.model.config.contextLength) tokens and were left out"
            )
        }
    }

    /// The text report: one line per task run, in the report's order.
    func lines(_ card: ReportCard) -> [String] {
        var lines: [String] = []
        func line(_ name: String, _ text: String) { lines.append(name.padding(toLength: 23, withPad: " ", startingAt: 0) + text) }
        func percent(_ x: Double) -> String { String(format: "%.0f%%", x * 100) }
        if let loss = card.heldOutLoss {
            line("held-out loss", String(format: "%.3f nats per token on %d held-out stories", loss, card.heldOutStories ?? 0))
        }
        if let share = card.grammarShare {
            line(
                "grammar",
                String(format: "%.1f%% of %d sampled sentences accepted by the corpus grammar", share * 100, card.grammarSentences ?? 0))
        }
        if let atDefaults = card.fluencyDefaultSettings, let plain = card.fluencyTemperature1 {
            line(
                "fluency",
                "\(percent(atDefaults)) of \(card.fluencySamples ?? 0) samples at the default settings, \(percent(plain)) at temperature 1")
        }
        if let sentiment = card.sentimentAccuracyByShots {
            line(
                "sentiment",
                "\(percent(sentiment["0"]!)) with 0 examples, \(percent(sentiment["1"]!)) with 1, \(percent(sentiment["4"]!)) with 4")
        }
        if let accuracy = card.labelWordAccuracyByShots, let probability = card.labelWordProbabilityByShots {
            let shots = ReportCard.labelWordShots
            line(
                "label words",
                shots.map { percent(accuracy["\($0)"]!) }.joined(separator: " / ")
                    + " right over wrong with 0 / 1 / 2 / 4 / 8 examples")
            line("", "mean P(right word) " + shots.map { String(format: "%.2f", probability["\($0)"]!) }.joined(separator: " / "))
        }
        if let tweets = card.tweetAccuracy {
            line("tweets", "\(percent(tweets)) exact (the course's prompt: 3 examples, 3 labels, greedy)")
        }
        if let translation = card.translationAccuracy { line("translation", "\(percent(translation)) exact (3 examples, greedy)") }
        if let questions = card.questionAnswerAccuracy { line("questions", "\(percent(questions)) exact (held-out story, greedy)") }
        if let zeroShot = card.zeroShotFeelingAccuracy, let byClass = card.zeroShotFeelingByClass {
            line(
                "zero-shot",
                "\(percent(zeroShot)) of \(card.zeroShotFeelingItems ?? 0) held-out story events classified sad / happy by "
                    + "label likelihood (sad \(percent(byClass["sad"] ?? .nan)), happy \(percent(byClass["happy"] ?? .nan)))")
        }
        if let p = card.previousTokenHead {
            line(
                "previous-token head",
                String(
                    format: "layer %d head %d (%.2f on random tokens%@)", p.layer, p.head, p.score,
                    p.labelled ? "" : "; below the threshold"))
        }
        if let i = card.inductionHead {
            line(
                "induction head",
                String(format: "layer %d head %d (score %.2f%@)", i.layer, i.head, i.score, i.labelled ? "" : "; below the threshold"))
        }
        return lines
    }

    /// The encoder–decoder's card: exact translations of held-out and fresh phrases, and the
    /// cross-attention head that follows the word alignment.
    func evaluateTranslator(_ bundle: ModelBundle) throws {
        let heldOut = TeachingCorpus.translationPairs(count: count, seed: seed, split: .heldOut)
        let fresh = TeachingCorpus.translationPairs(count: count, seed: seed, split: .training)
        printError("translating \(heldOut.count) held-out and \(fresh.count) fresh phrases…")
        let report = try TranslationEvaluation.evaluate(model: bundle.model, tokenizer: bundle.tokenizer, heldOut: heldOut, fresh: fresh)
        if json { return try printEncodable(report, snakeCaseKeys: false) }
        func percent(_ part: Int, _ whole: Int) -> String { String(format: "%.1f%%", whole == 0 ? 0 : Double(part) / Double(whole) * 100) }
        print("model: \(bundle.source)   (\(count) phrases per set, seed \(seed))")
        print(
            "held-out     \(percent(report.heldOutCorrect, report.heldOut)) exact (\(report.heldOutCorrect) of \(report.heldOut); each uses a noun–colour pair never seen in training)"
        )
        print(
            "fresh        \(percent(report.freshCorrect, report.fresh)) exact (\(report.freshCorrect) of \(report.fresh) new phrases of the training kind)"
        )
        print(
            String(
                format: "alignment    layer %d head %d: its strongest source word is the one being translated for %.1f%% of %d words "
                    + "(the same position would be: %.1f%%)", report.alignmentLayer, report.alignmentHead, report.alignmentShare * 100,
                report.alignedWords, report.samePositionShare * 100))
        print(
            "             by layer (mean over heads): "
                + report.alignmentShareByLayer.enumerated().map { String(format: "layer %d %.1f%%", $0.offset, $0.element * 100) }.joined(
                    separator: ", "))
        for mistake in report.mistakes { print("  wrong: \(mistake.source) → \(mistake.output)   (expected \(mistake.expected))") }
    }

    /// The encoder's card: filling in masked words of held-out stories, and the head that looks ahead.
    func evaluateEncoder(_ bundle: ModelBundle) throws {
        guard let tokenizer = bundle.tokenizer as? WordPieceTokenizer else {
            throw ValidationError("this encoder's tokenizer is not WordPiece; the fill-in card needs [MASK]")
        }
        let stories = TeachingCorpus.heldOutStories(count: count, seed: seed).map(\.text)
        printError("masking every word of \(stories.count) held-out stories in turn…")
        let report = try MaskedWordEvaluation.evaluate(model: bundle.model, tokenizer: tokenizer, stories: stories)
        if json { return try printEncodable(report, snakeCaseKeys: false) }
        func percent(_ x: Double) -> String { String(format: "%.1f%%", x * 100) }
        print("model: \(bundle.source)   (\(stories.count) held-out stories, seed \(seed))")
        print(
            "fill-in                top-1 \(percent(report.top1)), top-5 \(percent(report.top5)) of \(report.words) masked words; "
                + "always guessing the most frequent words: top-1 \(percent(report.unigramTop1)), top-5 \(percent(report.unigramTop5))")
        print(
            "looking ahead          layer \(report.laterHeadLayer) head \(report.laterHead): \(percent(report.laterShare)) of its attention on later tokens, "
                + "\(percent(report.nextTokenShare)) on the next one (a decoder's: 0%)")
    }
}
