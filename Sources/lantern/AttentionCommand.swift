import ArgumentParser
import Foundation
import Generation
import ModelHub
import Rendering
import Tensors
import Tracing
import Transformer

/// `lantern attention`: PNG heatmaps of attention patterns, from a live run or a saved trace.
struct AttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Draw attention patterns as PNG heatmaps: one head, or every head of a layer.",
        discussion: """
            Each row of a map is a query token and shows how much it attends to every
            earlier key token (the row sums to 1). Cells after the query are masked (a
            token cannot look ahead) and drawn hatched grey, not as zero. The picture is
            written into output/ unless --out says otherwise, and its path is printed.

            Examples:
              lantern attention "Once upon a time" --model stories15M --layer 2 --head 3
              lantern attention "The cat sat." --model gpt2 --layer 5 --heads all
              lantern attention --trace output/trace --layer 0 --head 1 --out l0h1.png
              lantern attention --trace output/trace --heads overview  (all layers × heads)
              lantern attention "Tom saw a duck. Tom saw a" --layer 4 --heads lines \\
                  --token 7   (the head view: token 7's lines, one colour per head)
            A trace holds every layer's attention pattern by default:
              lantern generate "Once upon a time" --model gpt2 --trace output/trace

            An encoder–decoder (lantern-tiny-translate, T5, BART) first translates the
            prompt (greedily), then draws --part: cross (the default: rows are the words
            it wrote, columns the source words, each row where it looked while writing
            that word), encoder (the source reading itself, no mask) or decoder (the
            decoder over what it wrote, masked). --heads mean averages the layer's heads.
              lantern attention "la balle rouge" --model lantern-tiny-translate \\
                  --layer 1 --head 1
            """)

    @OptionGroup var input: PromptOrTrace

    @OptionGroup var model: ModelOptions

    @Option(name: .long, parsing: .unconditional, help: "The layer (0 is the first); not needed with --heads overview.")
    var layer: Int?

    @Option(name: .long, parsing: .unconditional, help: "The head to draw (0 is the first).")
    var head: Int?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Draw every head of the layer in one picture (all), their mean (mean), the layer's heads as coloured lines from each token to the tokens it looks at (lines: BertViz's head view; with --token N only token N's lines), or every head of every layer as small maps (overview, written to attention-overview.png).",
            valueName: "all|mean|lines|overview"))
    var heads: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "For an encoder–decoder: cross (the default), encoder or decoder (each one's self-attention); self is every other model's only kind.",
            valueName: "cross|encoder|decoder|self"))
    var part: AttentionPart?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Where to write: a .png file, or a folder for the default name (attention-L3-H5.png). Default: output/.", valueName: "file|dir")
    )
    var out: String?

    @Flag(
        name: .long,
        help: "With --trace and --head: draw the newest token's attention across the generation steps (one row per generated token).")
    var steps = false

    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp(
            "Draw where this one token (by position, 0 is the first) looks, as the text shaded by its attention (with --head H or --heads mean), or as its lines alone (with --heads lines).",
            valueName: "position"))
    var token: Int?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "How colours show the weights on attention's fixed 0–1 scale: linear (the default), power (the square root: small weights show), log (0.001 to 1, a third of the colours per power of ten) or row (each row divided by its largest: where every token looks most, however little). The colour bar names it.",
            valueName: "linear|power|log|row"))
    var scale: AttentionEmphasis = .linear

    @Flag(
        name: .long,
        help: "Print the one-head heatmap to the terminal instead of writing a PNG (plain characters with NO_COLOR or when piped).")
    var terminal = false

    @Flag(name: .long, help: "Print what was written as one JSON object, {\"written\": [paths]}, instead of the path.")
    var json = false

    func validate() throws {
        if steps {
            guard input.trace != nil else { throw ValidationError("--steps reads a saved generation: add --trace DIR") }
            guard head != nil, heads == nil else { throw ValidationError("--steps draws one head: give --head H") }
        }
        if terminal {
            guard head != nil, heads == nil else { throw ValidationError("--terminal draws one head: give --head H") }
        }
        if let token {
            guard token >= 0 else { throw ValidationError("--token \(token) is out of range: tokens count from 0") }
            guard !steps, !terminal, heads != "all", heads != "overview" else {
                throw ValidationError(
                    "--token draws one token's row over the text: give --head H, --heads mean or --heads lines, without --steps or --terminal"
                )
            }
        }
        if heads == "overview" {
            if head != nil { throw ValidationError("give --head or --heads overview, not both") }
            if layer != nil { throw ValidationError("--heads overview draws every layer: leave out --layer") }
            return
        }
        guard let layer else { throw ValidationError("say which layer: --layer L (or --heads overview for every layer)") }
        guard layer >= 0 else { throw ValidationError("--layer \(layer) is out of range: layers count from 0") }
        switch (head, heads) {
        case (nil, nil): throw ValidationError("say which head: --head H, or --heads all for every head of the layer")
        case (.some, .some): throw ValidationError("give --head or --heads all, not both")
        case (.some(let h), nil) where h < 0: throw ValidationError("--head \(h) is out of range: heads count from 0")
        case (nil, .some(let value)) where !["all", "mean", "lines"].contains(value):
            throw ValidationError(
                "--heads takes only \"all\" (every head of the layer), \"mean\" (their average), \"lines\" (the head view) or \"overview\" (every layer); for one head use --head \(Int(value).map(String.init) ?? "H")"
            )
        default: break
        }
    }

    func run() throws {
        if heads == "overview" {
            let canvas = try OverviewPicture.render(try overviewSources())
            let url = try outputURL(defaultName: "attention-overview.png")
            try PNGWriter.write(canvas, to: url)
            try printWritten([url.path], json: json)
            return
        }
        let layer = self.layer ?? 0
        let source = try attentionSource(layer: layer)
        if let head, head >= source.heads {
            throw ValidationError("--head \(head) is out of range: layer \(layer) has heads 0 to \(source.heads - 1)")
        }
        if let token {
            guard (0..<source.tokens).contains(token) else {
                throw ValidationError("--token \(token) is out of range: the text has tokens 0 to \(source.tokens - 1)")
            }
        }
        if heads == "lines" {
            let canvas = try HeadViewPicture.render(source, query: token)
            if let token, !json {
                // What each line says, in words: where each head looks most from the token.
                print("where token \(token) (\(source.pieces[token])) looks in layer \(layer), per head:")
                for (h, keys) in HeadViewPicture.strongest(source, query: token).enumerated() {
                    let pieces = source.keyPieces ?? source.pieces
                    print(
                        "  head \(h): "
                            + keys.map { "\($0.key) \(pieces[$0.key]) (\(String(format: "%.2f", $0.weight)))" }.joined(separator: ", "))
                }
            } else if source.tokens > 40 {
                printError("note: every token's lines over \(source.tokens) tokens make a dense picture; --token N draws one token's")
            }
            let url = try outputURL(defaultName: "attention-lines-L\(layer)" + (token.map { "-T\($0)" } ?? "") + ".png")
            try PNGWriter.write(canvas, to: url)
            try printWritten([url.path], json: json)
            return
        }
        if let token {
            let canvas = try TextAttentionPicture.render(source, head: head, query: token)
            let url = try outputURL(
                defaultName: "attention-text-L\(layer)-" + (head.map { "H\($0)" } ?? "mean") + "-T\(token).png")
            try PNGWriter.write(canvas, to: url)
            try printWritten([url.path], json: json)
            return
        }
        if let head, steps || terminal {
            let map: Heatmap
            do {
                map = steps ? try StepsPicture.heatmap(source, head: head) : try AttentionPicture.heatmap(source, head: head)
            } catch let error as StepsPictureError {
                throw ValidationError(error.description)
            }
            if terminal {
                let painter = TerminalPainter(color: TerminalColor.detect())
                let masked: (Int, Int) -> Bool =
                    steps
                    ? { StepsPicture.isMasked(source, row: $0, col: $1) }
                    : { map.isMasked(row: $0, col: $1) }
                print(TerminalHeatmap.render(map, painter: painter, isMasked: masked), terminator: "")
                if source.part == .cross { print(Self.strongestSourceWords(source, head: head)) }
                return
            }
            let canvas = try StepsPicture.render(source, head: head)
            let url = try outputURL(defaultName: "attention-steps-L\(layer)-H\(head).png")
            try PNGWriter.write(canvas, to: url)
            try printWritten([url.path], json: json)
            return
        }
        let canvas =
            try heads == "mean"
            ? AttentionPicture.head(source.meanOverHeads, head: 0)
            : head.map { try AttentionPicture.head(source, head: $0) } ?? AttentionPicture.layer(source)
        let prefix = source.part == .selfAttention ? "attention" : "\(source.part.rawValue)-attention"
        let url = try outputURL(defaultName: "\(prefix)-L\(layer)-" + (heads == "mean" ? "mean" : head.map { "H\($0)" } ?? "all") + ".png")
        try PNGWriter.write(canvas, to: url)
        try printWritten([url.path], json: json)
    }

    /// The layer's pattern `[H, N, N]` with its tokens, from the trace or a forward pass.
    func attentionSource(layer: Int) throws -> AttentionSource {
        do {
            var source: AttentionSource
            if let folder = input.traceFolder {
                let traced = try TraceFile.readMetadata(folder).model.isEncoderDecoder
                source = try AttentionSources.layer(layer, trace: folder, part: try chosenPart(encoderDecoder: traced))
            } else {
                let bundle = try model.load()
                source = try AttentionSources.layer(
                    layer, prompt: input.prompt ?? "", bundle: bundle,
                    part: try chosenPart(encoderDecoder: bundle.model.config.isEncoderDecoder))
            }
            source.emphasis = scale
            return source
        } catch let error as AttentionSourceError {
            // A layer only the model or the trace can judge: a usage error of --layer.
            switch error {
            case .layerOutOfRange: throw ValidationError("--\(error)")
            case .layerNotTraced: throw ValidationError("\(error); choose one of them with --layer")
            case .noPatterns, .notEncoderDecoder, .nothingWritten, .mismatchedPattern: throw error
            }
        }
    }

    /// Cross-attention read off as an alignment: for each written word, the source word its row
    /// weighs most ("red ← rouge (0.99)").
    static func strongestSourceWords(_ source: AttentionSource, head: Int) -> String {
        let weights = source.weights(head: head), K = source.keys
        let sourcePieces = source.keyPieces ?? source.pieces
        let links = source.pieces.enumerated().map { row, written -> String in
            let values = weights[(row * K)..<((row + 1) * K)]
            let best = values.indices.max { values[$0] < values[$1] } ?? row * K
            return "\(written) ← \(sourcePieces[best - row * K]) (\(String(format: "%.2f", values[best])))"
        }
        return "strongest source word for each written word:\n  " + links.joined(separator: "\n  ")
    }

    /// `--part`, checked against the model: cross by default for an encoder–decoder, self otherwise.
    func chosenPart(encoderDecoder: Bool) throws -> AttentionPart {
        guard encoderDecoder else {
            if let part, part != .selfAttention {
                throw ValidationError(
                    "--part \(part.rawValue) needs an encoder–decoder (e.g. --model lantern-tiny-translate); this model has only self-attention"
                )
            }
            return .selfAttention
        }
        if part == .selfAttention {
            throw ValidationError(
                "an encoder–decoder has two self-attentions: say --part encoder or --part decoder (or cross, the default)")
        }
        return part ?? .cross
    }

    /// Every recorded layer's pattern, from the trace or one forward pass recording all layers.
    func overviewSources() throws -> [AttentionSource] {
        var sources: [AttentionSource]
        if let folder = input.traceFolder {
            let traced = try TraceFile.readMetadata(folder).model.isEncoderDecoder
            sources = try AttentionSources.everyLayer(trace: folder, part: try chosenPart(encoderDecoder: traced))
        } else {
            let bundle = try model.load()
            sources = try AttentionSources.everyLayer(
                prompt: input.prompt ?? "", bundle: bundle, part: try chosenPart(encoderDecoder: bundle.model.config.isEncoderDecoder))
        }
        for index in sources.indices { sources[index].emphasis = scale }
        return sources
    }

    /// `--out` as a file when it ends in .png, else as a folder (default output/) for `defaultName`.
    func outputURL(defaultName: String) throws -> URL { try pictureURL(out, defaultName: defaultName) }
}

extension AttentionPart: ExpressibleByArgument {}
extension AttentionEmphasis: ExpressibleByArgument {}
