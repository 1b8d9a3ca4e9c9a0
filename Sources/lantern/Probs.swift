import ArgumentParser
import Foundation
import Generation
import ModelHub
import Rendering
import Tokenizers
import Tracing
import Transformer

/// `lantern probs`: the next-token distribution and the sampling funnel of one step as PNGs.
struct ProbsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probs",
        abstract: "Draw one step's next-token probabilities and its sampling funnel as PNG pictures.",
        discussion: """
            Two pictures of one generation step:
              probs-stepN.png    the model's softmax over the --top most likely next tokens
              funnel-stepN.png   the sampling funnel: after temperature, after top-k, after
                                 top-p (renormalised), with cut candidates grey, the random
                                 draw on the cumulative scale and the chosen token orange
            Step 1 is the first generated token (steps count from 1 everywhere: the
            stepper, export, attention --steps); for --step N Lantern first generates
            N − 1 tokens with the same settings. The pictures are written into output/
            unless --out says otherwise (a folder, or a .png file for the first picture:
            the funnel then goes beside it as NAME-funnel.png), and their paths are
            printed.

            Examples:
              lantern probs "Once upon a time" --model stories15M
              lantern probs "The cat sat" --model gpt2 --step 3 --temperature 0.8 \\
                --top-k 40 --top-p 0.9
              lantern probs --trace output/trace --step 2 --top 15
              lantern probs --trace output/trace --over-steps
            """)

    @OptionGroup var input: PromptOrTrace

    @OptionGroup var model: ModelOptions

    @Option(name: .long, parsing: .unconditional, help: "The step to draw (1 is the first generated token).")
    var step: Int = 1

    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp("How many candidates to draw, 1 to \(SamplingStep.listed).", valueName: "K"))
    var top: Int = 10

    @OptionGroup var sampling: SamplingChoices

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Where to write: a folder for the default names, or a .png file for the probabilities (the funnel goes beside it). Default: output/.",
            valueName: "file|dir"))
    var out: String?

    @Flag(
        name: .long,
        help:
            "Print the probabilities as a bar chart in the terminal instead of writing PNGs (plain characters with NO_COLOR or when piped)."
    )
    var terminal = false

    @Flag(
        name: .long,
        help:
            "With --trace: draw the whole generation over its steps instead (the token taken, the most likely token and the 20 likeliest together, per step) to generation-steps.png."
    )
    var overSteps = false

    @Flag(
        name: .long,
        help:
            "Also print one JSON object: the step's whole funnel (candidates at each stage, the draw, the choice) and the pictures written."
    )
    var json = false

    var settings: SamplingSettings { sampling.settings }

    func validate() throws {
        guard step >= 1 else { throw ValidationError("--step \(step) is out of range: steps count from 1 (the first generated token)") }
        guard (1...SamplingStep.listed).contains(top) else {
            throw ValidationError(
                "--top \(top) is out of range: use 1 to \(SamplingStep.listed) (each step records its \(SamplingStep.listed) most likely candidates)"
            )
        }
    }

    func run() throws {
        if overSteps { return try drawOverSteps() }
        let source = try probabilitySource()
        if terminal {
            let chart = try ProbabilityPicture.distribution(source, top: top)
            print(TerminalBarChart.render(chart, painter: TerminalPainter(color: TerminalColor.detect())), terminator: "")
            return
        }
        let probs = try ProbabilityPicture.distribution(source, top: top).render()
        let funnel = try ProbabilityPicture.funnel(source, top: top)
        let (probsURL, funnelURL) = try outputURLs()
        try PNGWriter.write(probs, to: probsURL)
        try PNGWriter.write(funnel, to: funnelURL)
        if json {
            return try printEncodable(ProbsReport(source, written: [probsURL.path, funnelURL.path]))
        }
        print(probsURL.path)
        print(funnelURL.path)
    }

    /// The whole traced generation as one chart over its steps.
    func drawOverSteps() throws {
        guard let trace = input.trace else { throw ValidationError("--over-steps reads a saved generation: add --trace DIR") }
        let metadata = try TraceFile.readMetadata(URL(fileURLWithPath: trace))
        guard !metadata.steps.isEmpty else {
            throw ValidationError("trace \(trace) has no generated steps; record one with `lantern generate ... --trace DIR`")
        }
        let pieces = Dictionary(zip(metadata.tokens, metadata.pieces), uniquingKeysWith: { first, _ in first })
        let picture = try GenerationStepsPicture.render(metadata, piece: { pieces[$0] ?? "#\($0)" })
        let url = try pictureURL(out, defaultName: "generation-steps.png")
        try PNGWriter.write(picture, to: url)
        print(url.path)
    }

    /// The step's funnel with the pieces of its candidates, from the trace or a live run.
    func probabilitySource() throws -> ProbabilitySource {
        if let trace = input.trace {
            let metadata = try TraceFile.readMetadata(URL(fileURLWithPath: trace))
            guard !metadata.steps.isEmpty else {
                throw ValidationError("trace \(trace) has no generated steps; record one with `lantern generate ... --trace DIR`")
            }
            guard step <= metadata.steps.count else {
                throw ValidationError("--step \(step) is out of range: the trace has steps 1 to \(metadata.steps.count)")
            }
            // Candidate pieces need the tokenizer: --model, else the traced model's path if it still exists.
            let modelPath = try model.model.map { try ModelHub.resolveModelArgument($0) } ?? metadata.model.source
            let bundle = try? ModelBundle.load(model: modelPath, tokenizer: model.tokenizer)
            if bundle == nil {
                printError(
                    "note: cannot load the traced model's tokenizer from \(modelPath); tokens not in the text are shown as #id (add --model)"
                )
            }
            return ProbabilitySource(trace: metadata, step: step - 1, tokenizer: bundle?.tokenizer)
        }
        let bundle = try model.load()
        let prompt = input.prompt ?? ""
        let generator = Generator(model: bundle.model, tokenizer: bundle.tokenizer)
        let promptIds = try generator.encodePrompt(prompt)
        let context = bundle.model.config.contextLength
        guard promptIds.count + step <= context else {
            throw ValidationError(
                "--step \(step) is out of range: the prompt has \(promptIds.count) tokens and the context "
                    + "\(context), so steps 1 to \(context - promptIds.count) fit")
        }
        // Generate the steps before it with the same settings, then look at the next draw without taking it.
        let session = try GenerationSession(
            model: bundle.model, tokenizer: bundle.tokenizer, promptIds: promptIds,
            settings: settings)
        for _ in 0..<(step - 1) { try session.accept(session.sample()) }
        let next = session.preview()
        var pieces: [Int: String] = [:]
        for id in next.candidateIds { pieces[id] = bundle.tokenizer.displayPiece(id) }
        return ProbabilitySource(
            step: next, index: step - 1, pieces: pieces, model: bundle.source,
            context: prompt + bundle.tokenizer.decode(session.generatedIds, skipSpecialTokens: true),
            vocabularySize: bundle.model.config.vocabularySize)
    }

    /// `--out` as a .png file (the funnel goes beside it as NAME-funnel.png), else a folder (default output/).
    func outputURLs() throws -> (probs: URL, funnel: URL) {
        try refuseStandardOutput(out)
        let target = out ?? "output"
        if target.lowercased().hasSuffix(".png") {
            let file = URL(fileURLWithPath: target)
            let stem = file.deletingPathExtension().lastPathComponent
            return (file, file.deletingLastPathComponent().appendingPathComponent(stem + "-funnel.png"))
        }
        let folder = URL(fileURLWithPath: target, isDirectory: true)
        return (folder.appendingPathComponent("probs-step\(step).png"), folder.appendingPathComponent("funnel-step\(step).png"))
    }
}

/// `lantern probs --json`: one step's sampling funnel, every candidate with its piece; the step
/// counts from 1.
struct ProbsReport: Encodable {
    struct Candidate: Encodable {
        var id: Int
        var piece: String
        var logit: Float
        var probability: Float
    }
    var step: Int
    var context: String
    var settings: SamplingSettings
    var chosen: Int
    var chosenPiece: String
    var chosenProbability: Float
    var chosenRank: Int
    var topLogits: [Candidate]
    var afterTemperature: [Candidate]
    var countAfterTopK: Int
    var countAfterTopP: Int
    var renormalised: [Candidate]
    var randomDraw: Float?
    var written: [String]

    init(_ source: ProbabilitySource, written: [String]) {
        let s = source.step
        func listed(_ list: [Generation.Candidate]) -> [Candidate] {
            list.map { Candidate(id: $0.id, piece: source.piece($0.id), logit: $0.logit, probability: $0.probability) }
        }
        step = source.number
        context = source.context
        settings = s.settings
        chosen = s.chosen
        chosenPiece = source.piece(s.chosen)
        chosenProbability = s.chosenProbability
        chosenRank = s.chosenRank
        topLogits = listed(s.topLogits)
        afterTemperature = listed(s.afterTemperature)
        countAfterTopK = s.countAfterTopK
        countAfterTopP = s.countAfterTopP
        renormalised = listed(s.renormalised)
        randomDraw = s.randomDraw
        self.written = written
    }
}
