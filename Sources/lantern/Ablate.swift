import ArgumentParser
import Foundation
import Generation
import Rendering
import Tokenizers
import Tracing
import Transformer

struct AblateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ablate",
        abstract: "Switch heads or MLPs off and see what changes: each next token's probability, the loss, the continuation.",
        discussion: """
            Runs the text twice: as it is, and with the chosen heads' outputs (before the
            output projection) or MLPs' outputs replaced, at every position — by zeros
            (--mode zero) or by their mean over the text (--mode mean, which removes what
            a component says about each position but keeps what it always says). Prints
            the loss (mean −log P of each actual next token) both ways, the positions
            that changed most, and the greedy continuation both ways.

            --each-head ablates every head in turn and prints (and with --out draws) the
            change in loss for each: which heads matter for this text.

            Examples:
              lantern ablate "Mia red ball kite Tom. Mia red ball kite Tom." --head 4.0
              lantern ablate "Zoe found a blue hat. Zoe found a blue" --head 4.0 \\
                  --mode mean
              lantern ablate "Once upon a time" --mlp 0 --json
              lantern ablate "Mia red ball kite Tom. Mia red ball kite Tom." --each-head \\
                  --out output    (writes output/ablate-each-head.png)
            """)

    @Argument(help: "The text to run.") var text: String
    @OptionGroup var model: ModelOptions

    @Option(name: .customLong("head"), help: ArgumentHelp("A head to switch off, LAYER.HEAD (repeatable).", valueName: "L.H"))
    var heads: [String] = []

    @Option(
        name: .customLong("mlp"), parsing: .singleValue, help: ArgumentHelp("A layer whose MLP to switch off (repeatable).", valueName: "L")
    )
    var mlps: [Int] = []

    @Option(name: .long, help: "zero (the default) or mean (each component's mean output over the text).")
    var mode: AblationMode = .zero

    @Flag(name: .long, help: "Ablate every head in turn and report each one's change in loss.")
    var eachHead = false

    @Option(name: .long, parsing: .unconditional, help: "How many greedy tokens to continue the text with, both ways (0 to 64).")
    var `continue`: Int = 8

    @Option(name: .long, parsing: .unconditional, help: "How many of the most changed positions to list (1 to 100).")
    var top: Int = 8

    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp(
            "Score only the predictions made at this position (from 0) and later, e.g. the second copy of a repeated text.",
            valueName: "position"))
    var from: Int = 0

    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Also draw the log-probabilities before and after over the positions (or, with --each-head, the layers × heads change in loss): a .png file, or a folder.",
            valueName: "path"))
    var out: String?

    func validate() throws {
        guard eachHead != (!heads.isEmpty || !mlps.isEmpty) else {
            throw ValidationError(
                eachHead
                    ? "--each-head ablates every head in turn: leave out --head and --mlp"
                    : "say what to switch off: --head LAYER.HEAD, --mlp LAYER, or --each-head")
        }
        _ = try parsedHeads()
        guard (0...64).contains(`continue`) else { throw ValidationError("--continue \(`continue`) is out of range: use 0 to 64") }
        guard (1...100).contains(top) else { throw ValidationError("--top \(top) is out of range: use 1 to 100") }
        guard from >= 0 else { throw ValidationError("--from \(from) is out of range: positions count from 0") }
        try refuseStandardOutput(out)
    }

    func parsedHeads() throws -> [Intervention.Head] { try parseHeads(heads, flag: "--head") }

    func run() throws {
        let bundle = try model.load()
        let tokenizer = bundle.tokenizer
        let ids = PromptEncoder.ids(for: text, tokenizer: tokenizer)
        let pieces = ids.map { tokenizer.displayPiece($0) }
        if eachHead { return try runEachHead(bundle: bundle, ids: ids) }
        let result = try Ablation.run(
            model: bundle.model, tokens: ids, heads: try parsedHeads(), mlps: mlps, mode: mode, continuation: `continue`)
        guard from < ids.count - 1 else {
            throw ValidationError("--from \(from) is out of range: the text's predictions are made at positions 0 to \(ids.count - 2)")
        }
        let before = Ablation.loss(result.baselineLogprob, from: from), after = Ablation.loss(result.ablatedLogprob, from: from)
        var picture: URL?
        if let out {
            let url = try pictureURL(out, defaultName: "ablate.png")
            try PNGWriter.write(
                try Self.chart(result, model: bundle.source, what: describe(result)).renderInBands(ofAtMost: 100, naming: "positions"),
                to: url)
            picture = url
        }
        if json {
            if let picture { printError("ablation picture: \(picture.path)") }
            return try printEncodable(AblationReport(result, pieces: pieces, tokenizer: tokenizer, from: from))
        }
        print("switching off \(describe(result)) over \(ids.count) tokens:")
        let scope = from > 0 ? "from position \(from) on" : "over the text"
        print(
            "  loss \(scope) " + String(format: "%.3f → %.3f", before, after) + " nats per token ("
                + (after >= before ? "+" : "−") + String(format: "%.3f)", abs(after - before)))
        print("the \(min(top, result.ablatedLogprob.count - from)) predictions that changed most:")
        print("  (position, its token → the token that really follows; that token's log P")
        print("   as it is → with the parts switched off)")
        let order = result.ablatedLogprob.indices.dropFirst(from).sorted {
            abs(result.ablatedLogprob[$0] - result.baselineLogprob[$0]) > abs(result.ablatedLogprob[$1] - result.baselineLogprob[$1])
        }
        for i in order.prefix(top) {
            print(
                String(format: "  %4d  ", i) + "\(pieces[i]) → \(pieces[i + 1])".padding(toLength: 24, withPad: " ", startingAt: 0)
                    + String(format: "%8.3f → %8.3f", result.baselineLogprob[i], result.ablatedLogprob[i]))
        }
        if `continue` > 0 {
            let first = tokenizer.decode(result.baselineContinuation), second = tokenizer.decode(result.ablatedContinuation)
            print("greedy continuation before: \(first.debugDescription)")
            print("greedy continuation after:  \(second.debugDescription)\(first == second ? " (the same)" : "")")
        }
        if let picture { print("ablation picture: \(picture.path)") }
    }

    /// "layer 4 head 0 and the MLP of layer 2 (mean)".
    func describe(_ result: Ablation) -> String {
        let parts = result.heads.map { "layer \($0.layer) head \($0.head)" } + result.mlps.map { "the MLP of layer \($0)" }
        return parts.joined(separator: ", ") + " (\(result.mode.rawValue))"
    }

    func runEachHead(bundle: ModelBundle, ids: [Int]) throws {
        let c = bundle.model.config
        guard from < ids.count - 1 else {
            throw ValidationError("--from \(from) is out of range: the text's predictions are made at positions 0 to \(ids.count - 2)")
        }
        let change = try Ablation.eachHead(model: bundle.model, tokens: ids, mode: mode, from: from)
        var picture: URL?
        if let out {
            let url = try pictureURL(out, defaultName: "ablate-each-head.png")
            let flat = change.flatMap { $0 }
            var map = Heatmap(
                values: flat, rows: c.layers, cols: c.heads, rowLabels: (0..<c.layers).map { "layer \($0)" },
                columnLabels: (0..<c.heads).map { "head \($0)" },
                title: "Change in loss when each head is switched off (\(mode.rawValue))"
                    + (from > 0 ? ", predictions from position \(from) on" : ""),
                subtitle:
                    "\(URL(fileURLWithPath: bundle.source).lastPathComponent) · \(ids.count) tokens · nats per token; red: the text got harder to predict",
                scale: .diverging(limit: max(flat.map(abs).max() ?? 1, 1e-6)))
            map.rowAxis = "layer ↓"
            map.columnAxis = "head →"
            map.colorBarTitle = "Δ loss"
            map.maskLegend = ""
            try PNGWriter.write(try map.render(), to: url)
            picture = url
        }
        if json {
            if let picture { printError("picture: \(picture.path)") }
            return try printEncodable(EachHeadReport(mode: mode.rawValue, from: from, lossChange: change))
        }
        print(
            "change in loss (nats per token\(from > 0 ? ", predictions from position \(from) on" : "")) when each head is switched off (\(mode.rawValue)), \(ids.count) tokens:"
        )
        print("layer  " + (0..<c.heads).map { ("h\($0)" as String).leftPadded(to: 7) }.joined())
        for (l, row) in change.enumerated() {
            print(String(format: "%5d  ", l) + row.map { String(format: "%7.3f", $0) }.joined())
        }
        let flat = change.enumerated().flatMap { l, row in row.enumerated().map { (l, $0, $1) } }
        if let most = flat.max(by: { $0.2 < $1.2 }) {
            print(String(format: "most needed: layer %d head %d (+%.3f)", most.0, most.1, most.2))
        }
        if let picture { print("picture: \(picture.path)") }
    }

    /// The two log-probability curves over the positions.
    static func chart(_ result: Ablation, model: String, what: String) -> LineChart {
        let low = min(result.baselineLogprob.min() ?? -1, result.ablatedLogprob.min() ?? -1)
        var chart = LineChart(
            title: "Switching off \(what) · \(URL(fileURLWithPath: model).lastPathComponent)",
            subtitles: [
                String(format: "log P of each actual next token; loss %.3f → %.3f nats per token", result.baselineLoss, result.ablatedLoss)
            ],
            series: [
                .init(name: "as it is", values: result.baselineLogprob, color: ChartPalette.series[0], markers: true),
                .init(name: "switched off", values: result.ablatedLogprob, color: ChartPalette.series[1], markers: true)
            ],
            xAxis: "position (the token that predicts the next one; from 0)", yAxis: "log P(next token)",
            yRange: (Float((Double(low) - 0.5).rounded(.down)), 0))
        chart.xStart = 0
        return chart
    }
}

extension AblationMode: ExpressibleByArgument {}

/// `lantern ablate --json` (logprob[i] = log P(token i+1 | tokens ≤ i)).
struct AblationReport: Encodable {
    var pieces: [String]
    var heads: [[Int]]
    var mlps: [Int]
    var mode: String
    var baselineLogprob: [Float]
    var ablatedLogprob: [Float]
    var baselineLoss: Float
    var ablatedLoss: Float
    var baselineContinuation: String
    var ablatedContinuation: String
    /// The losses over the predictions from `from` on (the whole text when 0).
    var from: Int
    var baselineLossFrom: Float
    var ablatedLossFrom: Float

    init(_ r: Ablation, pieces: [String], tokenizer: any Tokenizer, from: Int) {
        self.pieces = pieces
        heads = r.heads.map { [$0.layer, $0.head] }
        mlps = r.mlps
        mode = r.mode.rawValue
        baselineLogprob = r.baselineLogprob
        ablatedLogprob = r.ablatedLogprob
        baselineLoss = r.baselineLoss
        ablatedLoss = r.ablatedLoss
        baselineContinuation = tokenizer.decode(r.baselineContinuation)
        ablatedContinuation = tokenizer.decode(r.ablatedContinuation)
        self.from = from
        baselineLossFrom = Ablation.loss(r.baselineLogprob, from: from)
        ablatedLossFrom = Ablation.loss(r.ablatedLogprob, from: from)
    }
}

/// `lantern ablate --each-head --json`: `loss_change[layer][head]`.
struct EachHeadReport: Encodable {
    var mode: String
    var from: Int
    var lossChange: [[Float]]
}
