import ArgumentParser
import Foundation
import Generation
import ModelHub
import Rendering
import Tokenizers
import Tracing
import Transformer

/// `lantern classify`: zero-shot classification, the way the course runs it.
struct ClassifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "classify",
        abstract: "Zero-shot classification: which of your labels fits a text, with no training for them.",
        discussion: """
            With a natural-language-inference model (BartForSequenceClassification, e.g.
            bart-large-mnli) this computes what Hugging Face's zero-shot-classification
            pipeline computes: each label becomes a hypothesis ("This example is travel."),
            the model reads the text (premise) and the hypothesis as one pair and scores
            contradiction, neutral and entailment; the labels' entailment logits go
            through one softmax (--multi-label: each label on its own, entailment against
            contradiction).

            Any other model (a decoder such as the built-in lantern-tiny) has no
            entailment to ask: each label is scored by how likely the model finds it
            where the template puts it (the text, then the template's words before {},
            then the label), a softmax over the labels' log-probabilities. The output
            names the method used.

            The inside view: --attention LAYER.HEAD (or LAYER.mean) shows where each
            hypothesis token looks in the text (an NLI model's encoder), or where the
            positions that predict each label token look (any other model: the text's
            last token predicts the label's first); with --out a folder, one picture per
            label beside the chart. --trace DIR saves each label's run as its own trace
            (DIR/1-travel, DIR/2-cooking, …) for trace show, attention --trace and export.

            Examples:
              lantern classify "Mia lost her red ball. She felt" --labels sad,happy
              lantern classify "Mia lost her red ball. She felt" --labels sad,happy \\
                --attention 5.mean --out output/classify --trace output/classify-traces
              lantern classify "one day I will see the world" \\
                --labels travel,cooking,dancing --model bart-large-mnli
              lantern classify "one day I will see the world" \\
                --labels travel,cooking,dancing --model bart-large-mnli --multi-label
              lantern classify "Tom and his dog went to the park." \\
                --labels park,kitchen,library --hypothesis-template "They were in the {}."
              lantern classify "I love it" --labels good,bad --json
            """)

    @Argument(help: "The text to classify.")
    var text: String

    @Option(name: .long, help: ArgumentHelp("The candidate labels, separated by commas.", valueName: "a,b,c"))
    var labels: String

    @OptionGroup var model: ModelOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Where each label goes, as {}: the hypothesis of an NLI model (default \"This example is {}.\"), or what follows the text for any other model (default \"{}\": the label itself).",
            valueName: "text with {}"))
    var hypothesisTemplate: String?

    @Flag(name: .long, help: "NLI models: score each label on its own (several may be true), not one softmax over them.")
    var multiLabel = false

    @Flag(name: .long, help: "Print {sequence, labels, scores} sorted best first as the pipeline does, the method, and the raw scores.")
    var json = false

    @Option(
        name: .long,
        help: ArgumentHelp("Also draw the scores as a bar chart: a .png file, or a folder for classify.png.", valueName: "path"))
    var out: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The inside view for one layer and head (or \"mean\" of the heads), e.g. 1.0 or 1.mean: where each hypothesis token (NLI: in the encoder) or label token (label likelihood) looks in the text. Prints each token's strongest text token; with --out a folder, also one picture per label.",
            valueName: "layer.head"))
    var attention: String?

    @OptionGroup var tracing: TraceOptions

    var candidateLabels: [String] { labels.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

    func validate() throws {
        // The library's check, before the model loads.
        do { _ = try ZeroShotClassifier.candidates(candidateLabels) } catch {
            throw ValidationError("--labels: \(error)")
        }
        if let attention {
            _ = try AttentionChoice(parsing: attention)
            if let out, out.lowercased().hasSuffix(".png") {
                throw ValidationError(
                    "--attention draws one picture per label beside the chart: give --out a folder (e.g. --out pictures), not \(out)")
            }
        }
        if let hypothesisTemplate, !hypothesisTemplate.contains("{}") {
            throw ValidationError(
                "--hypothesis-template \"\(hypothesisTemplate)\" has no {} where the label goes, e.g. \"This example is {}.\"")
        }
    }

    func run() throws {
        let bundle = try model.load()
        let config = bundle.model.config
        let isNLI = config.head == .sequenceClassification
        // Checked before any run: the layer and head asked for, the trace folders and budget.
        let view = try attention.map { try AttentionChoice(parsing: $0) }
        if let view { try view.check(config: config, encoder: isNLI) }
        let request = try tracing.trace.map { folder -> CaptureRequest in
            for (index, label) in candidateLabels.enumerated() {
                try TraceFile.checkDestination(Self.traceFolder(folder, index: index, label: label))
            }
            return try tracing.checkedRequest(
                config: config, positions: min(config.contextLength, bundle.tokenizer.encode(text).count + 64))
        }
        var capture = request?.spec ?? .nothing
        if let view {
            capture.kinds.insert(.pattern)
            capture.layers = request == nil ? [view.layer] : capture.layers.map { $0.union([view.layer]) }
        }
        if isNLI {
            guard let nli = bundle.model as? EncoderDecoderModel, let tokenizer = bundle.tokenizer as? GPT2Tokenizer else {
                throw ValidationError("\(bundle.source): a sequence classifier with a byte-level BPE tokenizer is needed for NLI")
            }
            let classifier = try ZeroShotClassifier(model: nli, tokenizer: tokenizer)
            let template = hypothesisTemplate ?? ZeroShotClassifier.defaultTemplate
            let result = try classifier.classify(
                text, labels: candidateLabels, template: template, multiLabel: multiLabel, capture: capture)
            if let folder = tracing.trace, let request {
                for (index, pair) in result.pairs.enumerated() {
                    let trace = Trace(
                        nliPair: pair, premise: text, tokenizer: tokenizer, config: config, source: bundle.source, request: request)
                    try writeTrace(trace, folder: folder, index: index, label: pair.label)
                }
            }
            let views = try view.map { view in
                try result.pairs.map { pair in
                    try unwrap(
                        ClassificationAttention(
                            hypothesisOf: pair, tokenizer: tokenizer, layer: view.layer, head: view.head, model: modelName(bundle)))
                }
            }
            let classes = nli.config.classLabels ?? []
            try draw(
                labels: result.labels, scores: result.scores, model: modelName(bundle),
                method: result.multiLabel
                    ? "natural-language inference, each label on its own (entailment vs contradiction)"
                    : "natural-language inference: one softmax over the labels' entailment logits",
                detail: "Hypothesis for each label: “\(template)”.")
            if json {
                return try printEncodable(
                    NLIReport(
                        sequence: result.sequence, labels: result.labels, scores: result.scores,
                        method: result.multiLabel ? "nli-multi-label" : "nli", classes: classes,
                        logits: Dictionary(uniqueKeysWithValues: result.pairs.map { ($0.label, $0.logits) })))
            }
            print("\"\(Self.head(text, 76))\"")
            print(
                result.multiLabel
                    ? "method: natural-language inference, each label on its own (softmax of its\n        entailment and contradiction logits)"
                    : "method: natural-language inference (one softmax over the labels'\n        entailment logits)")
            print("hypothesis: \"\(template)\" for each label")
            printTable(result, header: "", extra: { _ in "" })
            print("")
            print("logits for the text + each label's hypothesis:")
            let width = max(8, result.labels.map(\.count).max() ?? 8)
            print("label".padding(toLength: width, withPad: " ", startingAt: 0) + classes.map { "  " + $0 }.joined())
            for pair in result.pairs {
                let cells = zip(classes, pair.logits).map { name, logit in
                    "  " + String(format: "%.3f", logit).leftPadded(to: name.count)
                }
                print(pair.label.padding(toLength: width, withPad: " ", startingAt: 0) + cells.joined())
            }
            try show(views ?? [])
            return
        }
        if multiLabel { printError("note: --multi-label applies to NLI models; this model's labels share one softmax") }
        let template = hypothesisTemplate ?? LikelihoodClassifier.defaultTemplate
        let classifier = LikelihoodClassifier(generator: Generator(model: bundle.model, tokenizer: bundle.tokenizer))
        let result = try classifier.classify(text, labels: candidateLabels, template: template, capture: capture)
        if let folder = tracing.trace, let request {
            for (index, scored) in result.scored.enumerated() {
                let trace = Trace(
                    likelihoodOf: scored, prompt: result.prompt, tokenizer: bundle.tokenizer, config: config, source: bundle.source,
                    request: request)
                try writeTrace(trace, folder: folder, index: index, label: scored.label)
            }
        }
        let views = try view.map { view in
            try result.scored.map { scored in
                try unwrap(
                    ClassificationAttention(
                        labelOf: scored, tokenizer: bundle.tokenizer, layer: view.layer, head: view.head, model: modelName(bundle)))
            }
        }
        try draw(
            labels: result.labels, scores: result.scores, model: modelName(bundle),
            method: "label likelihood: the model's log-probability of each label after the text, one softmax",
            detail: "Prompt: “\(Self.tail(result.prompt, 60))”, then each label (template “\(template)”).")
        if json {
            return try printEncodable(
                LikelihoodReport(
                    sequence: result.sequence, labels: result.labels, scores: result.scores, method: "label-likelihood",
                    prompt: result.prompt,
                    logProbabilities: Dictionary(uniqueKeysWithValues: result.scored.map { ($0.label, $0.logProbability) })))
        }
        print("\"\(Self.head(text, 76))\"")
        print("method: label likelihood (the model has no entailment class): each label scored")
        print("        by log P(label | text) where the template puts it, one softmax over them")
        print("prompt: \"\(Self.tail(result.prompt, 68))\"")
        printTable(
            result, header: "log P   tokens",
            extra: { label in
                guard let scored = result.scored.first(where: { $0.label == label }) else { return "" }
                return String(format: "%7.2f  %5d", scored.logProbability, scored.tokens)
            })
        try show(views ?? [])
    }

    /// The inside view: each label's tokens and where they look most, and the pictures.
    private func show(_ views: [ClassificationAttention]) throws {
        guard let first = views.first else { return }
        print("")
        print("\(first.question.lowercased()), most (\(first.layerName), \(first.headName)):")
        for view in views {
            // "label:  row: column 0.38 · row: column 0.21", wrapped at 80 columns.
            var line = "  " + Self.head(view.label, 16) + ": "
            for (index, (row, column, weight)) in view.strongest.enumerated() {
                let cell = (index == 0 ? "" : " · ") + "\(row): \(column) \(String(format: "%.2f", weight))"
                if line.count + cell.count > 80 {
                    print(line)
                    line = "    "
                }
                line += cell
            }
            print(line)
        }
        guard let out else { return }
        let folder = URL(fileURLWithPath: out, isDirectory: true)
        for (index, view) in views.enumerated() {
            let url = folder.appendingPathComponent("attention-\(Self.slug(index: index, label: view.label)).png")
            try PNGWriter.write(ClassificationPicture.attention(view).render(), to: url)
            printError("attention: \(url.path)")
        }
    }

    /// The view of a run that recorded the layer asked for (it always does: the capture includes it).
    private func unwrap(_ view: ClassificationAttention?) throws -> ClassificationAttention {
        guard let view else { throw ValidationError("--attention: the run did not record that layer's attention") }
        return view
    }

    private func writeTrace(_ trace: Trace, folder: String, index: Int, label: String) throws {
        let url = Self.traceFolder(folder, index: index, label: label)
        try TraceFile.write(trace, to: url)
        printError("trace of “\(label)” saved to \(url.path) (\(trace.tensors.count) tensors)")
    }

    /// One trace per label, in the order given: `DIR/1-travel`, `DIR/2-cooking`, …
    static func traceFolder(_ folder: String, index: Int, label: String) -> URL {
        URL(fileURLWithPath: folder, isDirectory: true).appendingPathComponent(slug(index: index, label: label), isDirectory: true)
    }

    /// "1-travel": the label's position (from 1) and its letters and digits, lower case, for file names.
    static func slug(index: Int, label: String) -> String {
        let words = label.lowercased().split { !($0.isLetter || $0.isNumber) }.joined(separator: "-")
        return "\(index + 1)-" + String((words.isEmpty ? "label" : words).prefix(40))
    }

    /// `--attention LAYER.HEAD`: a layer and a head, or the mean of the heads.
    struct AttentionChoice {
        var layer: Int
        var head: Int?

        init(parsing text: String) throws {
            let parts = text.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, let layer = Int(parts[0]), layer >= 0,
                parts[1] == "mean" || (Int(parts[1]).map { $0 >= 0 } ?? false)
            else {
                throw ValidationError("--attention \(text) should be LAYER.HEAD or LAYER.mean, e.g. 1.0 or 1.mean")
            }
            self.layer = layer
            self.head = Int(parts[1])
        }

        func check(config: TransformerConfig, encoder: Bool) throws {
            let layers = encoder ? config.encoderLayers : config.layers
            guard layer < layers else {
                throw ValidationError(
                    "--attention: layer \(layer) is out of range: this model's \(encoder ? "encoder has" : "has") layers 0 to \(layers - 1)"
                )
            }
            if let head, head >= config.heads {
                throw ValidationError("--attention: head \(head) is out of range: this model has heads 0 to \(config.heads - 1)")
            }
        }
    }

    /// The chart for `--out`, if asked; its path goes to standard error so `--json` stays clean.
    private func draw(labels: [String], scores: [Double], model: String, method: String, detail: String) throws {
        guard let out else { return }
        let url = try pictureURL(out, defaultName: "classify.png")
        let chart = try ClassificationPicture.chart(
            text: text, labels: labels, scores: scores, method: method, detail: detail, model: model)
        try PNGWriter.write(chart.render(), to: url)
        printError("chart: \(url.path)")
    }

    /// The model's name for titles: the folder's last component (`lantern-tiny`, `bart-large-mnli`).
    private func modelName(_ bundle: ModelBundle) -> String {
        URL(fileURLWithPath: bundle.source).lastPathComponent
    }

    /// The first `count` characters, "…" where cut (lines and pictures stay readable for long texts).
    static func head(_ text: String, _ count: Int) -> String { text.count > count ? text.prefix(count - 1) + "…" : text }
    /// The last `count` characters: a prompt's end is what the label follows.
    static func tail(_ text: String, _ count: Int) -> String { text.count > count ? "…" + text.suffix(count - 1) : text }

    /// A ranked table: label (cut to 16 characters), score, bar, then `extra` columns.
    private func printTable(_ result: some RankedLabels, header: String, extra: (String) -> String) {
        let width = min(16, max(5, result.labels.map(\.count).max() ?? 5))
        func cell(_ text: String) -> String {
            let cut = text.count > width ? String(text.prefix(width - 1)) + "…" : text
            return cut.padding(toLength: width, withPad: " ", startingAt: 0)
        }
        print("")
        print(
            (cell("label") + "   score  " + "".padding(toLength: 21, withPad: " ", startingAt: 0) + header)
                .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        for (label, score) in zip(result.labels, result.scores) {
            let bar = String(repeating: "█", count: Int((score * 20).rounded())).padding(toLength: 21, withPad: " ", startingAt: 0)
            let line = cell(label) + String(format: " %6.2f%%  ", score * 100) + bar + extra(label)
            print(line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        }
    }

    struct NLIReport: Encodable {
        var sequence: String, labels: [String], scores: [Double], method: String, classes: [String], logits: [String: [Float]]
    }

    struct LikelihoodReport: Encodable {
        var sequence: String, labels: [String], scores: [Double], method: String, prompt: String
        var logProbabilities: [String: Double]
    }
}

/// Labels and scores, best first.
protocol RankedLabels {
    var labels: [String] { get }
    var scores: [Double] { get }
}

extension ZeroShotClassifier.Result: RankedLabels {}
extension LikelihoodClassifier.Result: RankedLabels {}

extension String {
    /// The string with spaces in front to make it `width` characters (unchanged if longer).
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
