import Foundation
import Generation
import Tokenizers
import Tracing
import Transformer

// The report card of `lantern evaluate`: how well a model has learnt the teaching corpus, on
// held-out material only, scored with the engine's own forward pass and sampler.

/// The report card's tasks, in the order they run and print.
public enum EvaluationTask: String, CaseIterable, Sendable {
    case loss, grammar, fluency, sentiment
    case labelWords = "label-words"
    case tweets, translation, questions
    case zeroShot = "zero-shot"
    case heads
}

/// Scores a model on the teaching corpus's held-out items with the engine's own forward pass.
public struct TeachingEvaluator {
    public let model: any LanguageModel
    public let tokenizer: any Tokenizer

    public init(model: any LanguageModel, tokenizer: any Tokenizer) {
        self.model = model
        self.tokenizer = tokenizer
    }

    /// Each document as the training stream shows it: after `<|endoftext|>` and a newline.
    public func documentIds(_ text: String) -> (ids: [Int], firstScored: Int) {
        let prefix = tokenizer.encode(TeachingCorpus.endOfText + "\n")
        let ids = Array((prefix + tokenizer.encode(text)).prefix(model.config.contextLength))
        return (ids, prefix.count)
    }

    /// Log-probabilities of every next token: row t of the result scores ids[t + 1].
    public func logProbabilities(_ ids: [Int]) -> [[Float]] {
        var cache = model.makeCache()
        let logits = model.forward(ids, cache: &cache, capture: .nothing, allLogits: true).logits
        return (0..<ids.count).map { t in
            let row = Array(logits.row(t))
            let top = row.max() ?? 0
            let logSum = log(row.reduce(Float(0)) { $0 + exp($1 - top) }) + top
            return row.map { $0 - logSum }
        }
    }

    /// Mean cross-entropy over the documents' tokens (nats per token).
    public func meanLoss(documents: [String]) -> Double {
        var total = 0.0, tokens = 0
        for document in documents {
            let (ids, first) = documentIds(document)
            let rows = logProbabilities(ids)
            for t in max(0, first - 1)..<(ids.count - 1) {
                total -= Double(rows[t][ids[t + 1]]); tokens += 1
            }
        }
        return tokens == 0 ? .nan : total / Double(tokens)
    }

    /// Log-probability of `continuation` after `prompt`.
    public func score(prompt: String, continuation: String) -> Float {
        let (promptIds, _) = documentIds(prompt)
        let all = Array((promptIds + tokenizer.encode(continuation)).prefix(model.config.contextLength))
        let rows = logProbabilities(all)
        var sum: Float = 0
        for t in (promptIds.count - 1)..<(all.count - 1) { sum += rows[t][all[t + 1]] }
        return sum
    }

    /// Tokens an answer may take (greedy answers stop at the end of the line before this).
    public static let answerTokens = 24

    /// The items whose prompt, after `<|endoftext|>` and a newline, leaves room for an answer in
    /// the model's context; the others cannot be asked of this model and are left out.
    public func fitting(_ items: [CorpusEvaluationItem]) -> [CorpusEvaluationItem] {
        items.filter {
            tokenizer.encode(TeachingCorpus.endOfText + "\n" + $0.prompt).count + Self.answerTokens <= model.config.contextLength
        }
    }

    /// Share of items whose expected answer scores highest among `choices`.
    public func choiceAccuracy(_ all: [CorpusEvaluationItem], choices: [String]) -> Double {
        let items = fitting(all)
        let right = items.filter { item in
            let scores = choices.map { score(prompt: item.prompt, continuation: $0) }
            return choices[scores.indices.max { scores[$0] < scores[$1] }!] == item.expected
        }.count
        return Double(right) / Double(max(1, items.count))
    }

    /// Per-prompt label words: the share of items whose right word scores above the wrong one,
    /// and the mean probability of the right word (all its tokens).
    public func labelWordScores(_ all: [(item: CorpusEvaluationItem, words: LabelWords)]) -> (accuracy: Double, meanProbability: Double) {
        let fitting = Set(fitting(all.map(\.item)).map(\.prompt))
        var right = 0, probability = 0.0, asked = 0
        for (item, words) in all where fitting.contains(item.prompt) {
            let wrong = item.expected == " " + words.positive ? words.negative : words.positive
            let rightScore = score(prompt: item.prompt, continuation: item.expected)
            if rightScore > score(prompt: item.prompt, continuation: " " + wrong) { right += 1 }
            probability += Double(exp(rightScore))
            asked += 1
        }
        return (Double(right) / Double(max(1, asked)), probability / Double(max(1, asked)))
    }

    /// Share of items whose greedy continuation, up to the end of the line, is exactly the answer.
    public func exactMatchAccuracy(_ all: [CorpusEvaluationItem]) throws -> Double {
        let items = fitting(all)
        let generator = Generator(model: model, tokenizer: tokenizer)
        var right = 0
        for item in items {
            let prompt = TeachingCorpus.endOfText + "\n" + item.prompt
            let (result, _) = try generator.generate(
                prompt: prompt, maxNewTokens: Self.answerTokens, settings: SamplingSettings(greedy: true),
                stopStrings: ["\n"])
            if result.text == item.expected { right += 1 }
        }
        return Double(right) / Double(max(1, items.count))
    }

    /// Stories sampled from "Once upon a time" openings, judged sentence by sentence by the grammar.
    public func grammarShare(samples: Int) throws -> CorpusGrammar.Acceptance {
        let generator = Generator(model: model, tokenizer: tokenizer)
        var text = ""
        for sample in 1...samples {
            let (result, _) = try generator.generate(
                prompt: TeachingCorpus.endOfText + "\nOnce upon a time,", maxNewTokens: 120,
                settings: SamplingSettings(temperature: 0.8, topK: 40, seed: UInt64(sample)))
            text += "Once upon a time," + result.text + "\n"
        }
        return CorpusGrammar.shared.acceptance(of: text)
    }
}

/// Does sampling stay in the story world? Continues ordinary prompts (some ending in a full stop)
/// with several seeds and calls a sample fluent when every word in it is a word of the teaching
/// corpus (its stories, reviews, tweets, translations and questions, and the everyday words of its
/// `unfamiliar` stories), or a word of the prompt itself (a story about a stone may name the
/// stone again), and none contains a digit: letter soup, made-up words and numbers glued to words
/// all fail.
public struct FluencyCheck {
    public let model: any LanguageModel
    public let tokenizer: any Tokenizer

    /// The seeds each prompt is sampled with.
    public let seeds: [UInt64]

    /// `seeds` samples of each prompt (seeds 1, 2, …). 40 (400 samples a setting) tells 95 % from
    /// 90 % reliably; 5 (50 samples) moves by ±4 points from one model to a close one.
    public init(model: any LanguageModel, tokenizer: any Tokenizer, seeds: Int = FluencyCheck.defaultSeeds) {
        self.model = model
        self.tokenizer = tokenizer
        self.seeds = (1...UInt64(max(1, seeds))).map { $0 }
    }

    public static let defaultSeeds = 40

    public static let prompts = [
        "Once upon a time, Mia", "Mia found a shiny stone.", "Tom and his dog went to the park.",
        "One day, Lily", "Ben was sad.", "Zoe had a red kite.", "Once upon a time, there was a little bird.",
        "Max lost his ball.", "In the garden,", "Sam and Anna"
    ]
    public static let newTokens = 30

    /// Words of the corpus (case kept), from a 2 MB sample of seed 1's training text.
    public static let vocabulary: Set<String> = {
        let documents = TeachingCorpus(seed: 1, targetBytes: 2_000_000).documents()
        var words = Set<String>()
        for document in documents where document.kind != .repetition {
            words.formUnion(CorpusGrammar.words(in: document.text).filter { $0.first!.isLetter })
        }
        for word in UnfamiliarWordsWriter.allWords {
            words.insert(word)
            words.insert(word.prefix(1).uppercased() + word.dropFirst())
        }
        return words
    }()

    /// Why `text`, the continuation of `prompt`, is not fluent (the first word that is neither the
    /// corpus's nor the prompt's), or nil when it is.
    public static func problem(in text: String, prompt: String = "") -> String? {
        let promptWords = Set(prompt.split(whereSeparator: { !$0.isLetter }).map { $0.lowercased() })
        for word in text.split(whereSeparator: { !$0.isLetter && !$0.isNumber && $0 != "'" }) {
            let word = String(word).trimmingCharacters(in: CharacterSet(charactersIn: "'"))
            if word.isEmpty { continue }
            if word.contains(where: \.isNumber) { return "contains a digit: \(word)" }
            let parts = word.split(separator: "'").map(String.init)  // can't → can, t
            let known = { (part: String) in
                vocabulary.contains(part) || promptWords.contains(part.lowercased())
                    || ["t", "s", "ll", "m", "re", "ve", "d"].contains(part)
            }
            if !parts.allSatisfy(known) {
                return "not a word of the corpus: \(word)"
            }
        }
        return nil
    }

    /// The share of fluent samples, how many were drawn, the failures (`prompt|continuation
    /// (why)`) and the fluent samples per prompt.
    public func share(settings base: SamplingSettings) throws -> (share: Double, samples: Int, failures: [String], byPrompt: [String: Int])
    {
        let generator = Generator(model: model, tokenizer: tokenizer)
        var fluent = 0, failures: [String] = [], byPrompt: [String: Int] = [:]
        for prompt in Self.prompts {
            byPrompt[prompt] = 0
            for seed in seeds {
                var settings = base
                settings.seed = seed
                let (result, _) = try generator.generate(prompt: prompt, maxNewTokens: Self.newTokens, settings: settings)
                if let problem = Self.problem(in: result.text, prompt: prompt) {
                    failures.append("\(prompt)|\(result.text) (\(problem))")
                } else {
                    fluent += 1
                    byPrompt[prompt, default: 0] += 1
                }
            }
        }
        let samples = Self.prompts.count * seeds.count
        return (Double(fluent) / Double(samples), samples, failures, byPrompt)
    }
}

// MARK: - The whole report

/// A model's report card: the figures of every task run (nil for a task not run), as
/// `lantern evaluate --json` prints them.
public struct ReportCard: Encodable, Sendable {
    public var model: String
    public var itemsPerTask: Int
    public var seed: UInt64
    public var heldOutLoss: Double?
    /// How many held-out stories the loss was measured on (text report only).
    public var heldOutStories: Int?
    public var grammarShare: Double?
    public var grammarSentences: Int?
    public var fluencyDefaultSettings: Double?
    public var fluencyTemperature1: Double?
    public var fluencySamples: Int?
    /// The first five failures of both settings: `prompt|continuation (why)`.
    public var fluencyFailures: [String]?
    public var fluencyByPrompt: FluencyByPrompt?
    public var sentimentAccuracyByShots: [String: Double]?
    public var labelWordAccuracyByShots: [String: Double]?
    public var labelWordProbabilityByShots: [String: Double]?
    public var tweetAccuracy: Double?
    public var translationAccuracy: Double?
    public var questionAnswerAccuracy: Double?
    /// Zero-shot classification by label likelihood: a held-out story event's feeling (sad or happy).
    public var zeroShotFeelingAccuracy: Double?
    public var zeroShotFeelingByClass: [String: Double]?
    public var zeroShotFeelingItems: Int?
    public var previousTokenHead: HeadFinding?
    public var inductionHead: HeadFinding?
    /// Items asked per task where some may not fit the context (those are left out, not cut).
    public var itemsAsked: [String: Int]?

    public struct FluencyByPrompt: Encodable, Sendable {
        public var defaultSettings: [String: Int]
        public var temperature1: [String: Int]
        enum CodingKeys: String, CodingKey {
            case defaultSettings = "default_settings", temperature1 = "temperature_1"
        }
    }

    /// The strongest head of a kind, and whether it passes that kind's threshold.
    public struct HeadFinding: Encodable, Sendable {
        public var layer: Int, head: Int
        public var score: Double
        public var labelled: Bool
    }

    enum CodingKeys: String, CodingKey {
        case model, seed
        case itemsPerTask = "items_per_task", heldOutLoss = "held_out_loss"
        case grammarShare = "grammar_share", grammarSentences = "grammar_sentences"
        case fluencyDefaultSettings = "fluency_default_settings", fluencyTemperature1 = "fluency_temperature_1"
        case fluencySamples = "fluency_samples", fluencyFailures = "fluency_failures", fluencyByPrompt = "fluency_by_prompt"
        case sentimentAccuracyByShots = "sentiment_accuracy_by_shots"
        case labelWordAccuracyByShots = "label_word_accuracy_by_shots", labelWordProbabilityByShots = "label_word_probability_by_shots"
        case tweetAccuracy = "tweet_accuracy", translationAccuracy = "translation_accuracy"
        case questionAnswerAccuracy = "question_answer_accuracy"
        case zeroShotFeelingAccuracy = "zero_shot_feeling_accuracy", zeroShotFeelingByClass = "zero_shot_feeling_by_class"
        case zeroShotFeelingItems = "zero_shot_feeling_items"
        case previousTokenHead = "previous_token_head", inductionHead = "induction_head", itemsAsked = "items_asked"
    }

    /// The shot counts of the label-word task, in the report's order.
    public static let labelWordShots = [0, 1, 2, 4, 8]
    public static let sentimentShots = [0, 1, 4]

    /// Runs `tasks` on `model` with `count` held-out items each (drawn with `seed`) and `samples`
    /// sampled stories for the grammar, and `fluencySeeds` samples of each fluency prompt.
    /// `defaultSampling`: the settings fluency is measured at
    /// besides plain temperature 1; `headsPrompt`: the text the heads task measures on.
    /// `progress` hears which task starts.
    public static func evaluate(
        model: any LanguageModel, tokenizer: any Tokenizer, source: String, tasks: [EvaluationTask],
        count: Int, samples: Int, seed: UInt64, defaultSampling: SamplingSettings, headsPrompt: String,
        fluencySeeds: Int = FluencyCheck.defaultSeeds, progress: (String) -> Void = { _ in }
    ) throws -> ReportCard {
        let evaluator = TeachingEvaluator(model: model, tokenizer: tokenizer)
        var card = ReportCard(model: source, itemsPerTask: count, seed: seed)
        var asked: [String: Int] = [:]
        func exactMatch(_ task: String, _ items: [CorpusEvaluationItem]) throws -> Double {
            progress("\(task)…")
            asked[task] = evaluator.fitting(items).count
            return try evaluator.exactMatchAccuracy(items)
        }
        for task in tasks {
            switch task {
            case .loss:
                progress("held-out loss on \(count) stories…")
                let stories = TeachingCorpus.heldOutStories(count: count, seed: seed)
                card.heldOutLoss = evaluator.meanLoss(documents: stories.map(\.text))
                card.heldOutStories = stories.count
            case .grammar:
                progress("sampling \(samples) stories for the grammar…")
                let grammar = try evaluator.grammarShare(samples: samples)
                (card.grammarShare, card.grammarSentences) = (grammar.share, grammar.sentences)
            case .fluency:
                progress("fluency of \(FluencyCheck.prompts.count * fluencySeeds) samples, twice…")
                let fluency = FluencyCheck(model: model, tokenizer: tokenizer, seeds: fluencySeeds)
                let atDefaults = try fluency.share(settings: defaultSampling)
                let plain = try fluency.share(settings: SamplingSettings(temperature: 1))
                card.fluencyDefaultSettings = atDefaults.share
                card.fluencyTemperature1 = plain.share
                card.fluencySamples = atDefaults.samples
                card.fluencyFailures = Array((atDefaults.failures + plain.failures).prefix(5))
                card.fluencyByPrompt = FluencyByPrompt(defaultSettings: atDefaults.byPrompt, temperature1: plain.byPrompt)
            case .sentiment:
                progress("sentiment with 0, 1 and 4 examples…")
                var accuracy: [String: Double] = [:]
                for shots in sentimentShots {
                    let items = TeachingCorpus.sentimentEvaluation(count: count, seed: seed, shots: shots)
                    accuracy["\(shots)"] = evaluator.choiceAccuracy(items, choices: [" positive", " negative"])
                }
                card.sentimentAccuracyByShots = accuracy
                asked["sentiment"] = evaluator.fitting(TeachingCorpus.sentimentEvaluation(count: count, seed: seed, shots: 4)).count
            case .labelWords:
                progress("label words with 0, 1, 2, 4 and 8 examples…")
                var accuracy: [String: Double] = [:], probability: [String: Double] = [:]
                for shots in labelWordShots {
                    let result = evaluator.labelWordScores(TeachingCorpus.labelWordEvaluation(count: count, seed: seed, shots: shots))
                    (accuracy["\(shots)"], probability["\(shots)"]) = (result.accuracy, result.meanProbability)
                }
                (card.labelWordAccuracyByShots, card.labelWordProbabilityByShots) = (accuracy, probability)
                asked["label words"] =
                    evaluator.fitting(TeachingCorpus.labelWordEvaluation(count: count, seed: seed, shots: 8).map(\.item)).count
            case .tweets:
                card.tweetAccuracy = try exactMatch("tweets", TeachingCorpus.tweetEvaluation(count: count, seed: seed))
            case .translation:
                card.translationAccuracy = try exactMatch("translation", TeachingCorpus.translationEvaluation(count: count, seed: seed))
            case .questions:
                card.questionAnswerAccuracy = try exactMatch("questions", TeachingCorpus.questionAnswerEvaluation(count: count, seed: seed))
            case .zeroShot:
                progress("zero-shot feelings…")
                let items = ZeroShotEvaluation.feelingItems(count: count, seed: seed)
                let classifier = LikelihoodClassifier(generator: Generator(model: model, tokenizer: tokenizer))
                let (all, byClass, asked) = try ZeroShotEvaluation.accuracy(items, classifier: classifier)
                (card.zeroShotFeelingAccuracy, card.zeroShotFeelingByClass, card.zeroShotFeelingItems) = (all, byClass, asked)
            case .heads:
                progress("heads…")
                // As `lantern heads` measures them, shortened to fit a small context.
                let context = model.config.contextLength
                let heads = try HeadSummary.measure(
                    model: model, tokenizer: tokenizer,
                    promptIds: Array(PromptEncoder.ids(for: headsPrompt, tokenizer: tokenizer).prefix(context)),
                    length: max(2, min(25, (context - 1) / 2)))
                if let p = heads.strongestPreviousToken {
                    card.previousTokenHead = HeadFinding(
                        layer: p.layer, head: p.head, score: Double(p.previousTokenOnRandom),
                        labelled: p.labels.contains("previous-token"))
                }
                if let i = heads.strongestInduction {
                    card.inductionHead = HeadFinding(
                        layer: i.layer, head: i.head, score: Double(i.induction),
                        labelled: i.labels.contains("induction"))
                }
            }
        }
        // Items too long for a small context are left out rather than cut; say how many were asked.
        if !asked.isEmpty { card.itemsAsked = asked }
        return card
    }
}
