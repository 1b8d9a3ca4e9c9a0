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
        Everything here is held out: the corpus generator reserves combinations
        that it never writes into training text (see `lantern corpus`).
          held-out loss  cross-entropy (nats per token) on held-out stories
          grammar        share of the sentences of sampled stories that the
                         corpus grammar accepts (temperature 0.8, top-k 40)
          fluency        share of sampled continuations of 10 ordinary
                         prompts (5 seeds each, 30 tokens) whose every word
                         is a word of the corpus: no letter soup, no digits;
                         at the default sampling settings and at plain
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
          heads          the strongest previous-token and induction heads
                         (as `lantern heads` finds them)

        Examples:
          lantern evaluate
          lantern evaluate --model output/my-model --count 50 --json
          lantern evaluate --only loss,label-words
        """)

    @OptionGroup var model: ModelOptions

    @Option(name: .long, parsing: .unconditional, help: "Items per task (1 to 1,000).") var count = 100
    @Option(name: .long, parsing: .unconditional, help: "Sampled stories for the grammar share (1 to 500).") var samples = 20
    @Option(name: .long, parsing: .unconditional, help: "Seed of the held-out items (a whole number 0 or more).") var seed: UInt64 = 7
    @Option(name: .long, help: ArgumentHelp("Only these tasks, comma-separated: \(EvaluationTask.allCases.map(\.rawValue).joined(separator: ", ")).",
                                            valueName: "task,…"))
    var only: String?
    @Flag(name: .long, help: "Print one JSON object instead of a table.") var json = false

    func validate() throws {
        guard (1...1000).contains(count) else { throw ValidationError("--count \(count) is out of range: use 1 to 1,000") }
        guard (1...500).contains(samples) else { throw ValidationError("--samples \(samples) is out of range: use 1 to 500") }
        _ = try tasks()
    }

    /// The tasks to run, in the report's order.
    func tasks() throws -> [EvaluationTask] {
        guard let only else { return EvaluationTask.allCases }
        var chosen = Set<EvaluationTask>()
        for name in only.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
            guard let task = EvaluationTask(rawValue: name) else {
                throw ValidationError("--only: there is no task '\(name)'; the tasks are \(EvaluationTask.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            chosen.insert(task)
        }
        guard !chosen.isEmpty else { throw ValidationError("--only needs at least one task, e.g. --only loss") }
        return EvaluationTask.allCases.filter(chosen.contains)
    }

    func run() throws {
        let bundle = try model.load()
        let evaluator = TeachingEvaluator(model: bundle.model, tokenizer: bundle.tokenizer)
        var report: [String: Any] = ["model": bundle.source, "items_per_task": count, "seed": seed]
        var lines: [String] = []
        func line(_ name: String, _ text: String) { lines.append(name.padding(toLength: 23, withPad: " ", startingAt: 0) + text) }
        func percent(_ x: Double) -> String { String(format: "%.0f%%", x * 100) }
        var asked: [String: Int] = [:]
        /// A task scored by greedy answers that must match exactly.
        func exactMatch(_ task: String, key: String, _ items: [CorpusEvaluationItem], _ how: String) throws {
            printError("\(task)…")
            let accuracy = try evaluator.exactMatchAccuracy(items)
            report[key] = accuracy
            asked[task] = evaluator.fitting(items).count
            line(task, "\(percent(accuracy)) \(how)")
        }

        for task in try tasks() {
            switch task {
            case .loss:
                printError("held-out loss on \(count) stories…")
                let stories = TeachingCorpus.heldOutStories(count: count, seed: seed)
                let loss = evaluator.meanLoss(documents: stories.map(\.text))
                report["held_out_loss"] = loss
                line("held-out loss", String(format: "%.3f nats per token on %d held-out stories", loss, stories.count))
            case .grammar:
                printError("sampling \(samples) stories for the grammar…")
                let grammar = try evaluator.grammarShare(samples: samples)
                report["grammar_share"] = grammar.share
                report["grammar_sentences"] = grammar.sentences
                line("grammar", String(format: "%.1f%% of %d sampled sentences accepted by the corpus grammar", grammar.share * 100, grammar.sentences))
            case .fluency:
                printError("fluency of \(FluencyCheck.prompts.count * FluencyCheck.seeds.count) samples, twice…")
                let fluency = FluencyCheck(model: bundle.model, tokenizer: bundle.tokenizer)
                let atDefaults = try fluency.share(settings: SamplingOptions.defaultSettings)
                let plain = try fluency.share(settings: SamplingSettings(temperature: 1))
                report["fluency_default_settings"] = atDefaults.share
                report["fluency_temperature_1"] = plain.share
                report["fluency_samples"] = atDefaults.samples
                report["fluency_failures"] = Array((atDefaults.failures + plain.failures).prefix(5))
                report["fluency_by_prompt"] = ["default_settings": atDefaults.byPrompt, "temperature_1": plain.byPrompt]
                line("fluency", "\(percent(atDefaults.share)) of \(atDefaults.samples) samples at the default settings, \(percent(plain.share)) at temperature 1")
            case .sentiment:
                printError("sentiment with 0, 1 and 4 examples…")
                var sentiment: [String: Double] = [:]
                for shots in [0, 1, 4] {
                    let items = TeachingCorpus.sentimentEvaluation(count: count, seed: seed, shots: shots)
                    sentiment["\(shots)"] = evaluator.choiceAccuracy(items, choices: [" positive", " negative"])
                }
                report["sentiment_accuracy_by_shots"] = sentiment
                asked["sentiment"] = evaluator.fitting(TeachingCorpus.sentimentEvaluation(count: count, seed: seed, shots: 4)).count
                line("sentiment", "\(percent(sentiment["0"]!)) with 0 examples, \(percent(sentiment["1"]!)) with 1, \(percent(sentiment["4"]!)) with 4")
            case .labelWords:
                printError("label words with 0, 1, 2, 4 and 8 examples…")
                let shotCounts = [0, 1, 2, 4, 8]
                var accuracy: [String: Double] = [:], probability: [String: Double] = [:]
                for shots in shotCounts {
                    let result = evaluator.labelWordScores(TeachingCorpus.labelWordEvaluation(count: count, seed: seed, shots: shots))
                    accuracy["\(shots)"] = result.accuracy
                    probability["\(shots)"] = result.meanProbability
                }
                report["label_word_accuracy_by_shots"] = accuracy
                report["label_word_probability_by_shots"] = probability
                asked["label words"] = evaluator.fitting(TeachingCorpus.labelWordEvaluation(count: count, seed: seed, shots: 8).map(\.item)).count
                line("label words", shotCounts.map { percent(accuracy["\($0)"]!) }.joined(separator: " / ")
                     + " right over wrong with 0 / 1 / 2 / 4 / 8 examples")
                line("", "mean P(right word) " + shotCounts.map { String(format: "%.2f", probability["\($0)"]!) }.joined(separator: " / "))
            case .tweets:
                try exactMatch("tweets", key: "tweet_accuracy", TeachingCorpus.tweetEvaluation(count: count, seed: seed),
                               "exact (the course's prompt: 3 examples, 3 labels, greedy)")
            case .translation:
                try exactMatch("translation", key: "translation_accuracy", TeachingCorpus.translationEvaluation(count: count, seed: seed),
                               "exact (3 examples, greedy)")
            case .questions:
                try exactMatch("questions", key: "question_answer_accuracy", TeachingCorpus.questionAnswerEvaluation(count: count, seed: seed),
                               "exact (held-out story, greedy)")
            case .heads:
                printError("heads…")
                // As `lantern heads` measures them, shortened to fit a small context.
                let context = bundle.model.config.contextLength
                let heads = try HeadSummary.measure(model: bundle.model, tokenizer: bundle.tokenizer,
                                                    promptIds: Array(PromptEncoder.ids(for: HeadsCommand.defaultPrompt, tokenizer: bundle.tokenizer).prefix(context)),
                                                    length: max(2, min(25, (context - 1) / 2)))
                if let p = heads.strongestPreviousToken {
                    let labelled = p.labels.contains("previous-token")
                    report["previous_token_head"] = ["layer": p.layer, "head": p.head, "score": Double(p.previousTokenOnRandom), "labelled": labelled]
                    line("previous-token head", String(format: "layer %d head %d (%.2f on random tokens%@)", p.layer, p.head,
                                                       p.previousTokenOnRandom, labelled ? "" : "; below the threshold"))
                }
                if let i = heads.strongestInduction {
                    let labelled = i.labels.contains("induction")
                    report["induction_head"] = ["layer": i.layer, "head": i.head, "score": Double(i.induction), "labelled": labelled]
                    line("induction head", String(format: "layer %d head %d (score %.2f%@)", i.layer, i.head, i.induction,
                                                  labelled ? "" : "; below the threshold"))
                }
            }
        }
        // Items too long for a small context are left out rather than cut; say how many were asked.
        if !asked.isEmpty { report["items_asked"] = asked }

        if json { return try printJSON(report) }
        print("model: \(bundle.source)   (\(count) held-out items per task, seed \(seed))")
        lines.forEach { print($0) }
        for (task, n) in asked.sorted(by: { $0.key < $1.key }) where n < count {
            print("note: \(count - n) of \(count) \(task) items do not fit the model's context of \(bundle.model.config.contextLength) tokens and were left out")
        }
    }
}
