import ArgumentParser
import Foundation
import Generation
import Tensors
import Tokenizers
import Tracing

struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Look at saved traces: summarise, compare, replay.",
        discussion: """
            A trace is a folder written by `lantern generate --trace DIR` or the stepper's
            `save`: trace.json plus one NumPy .npy file per tensor. In Python:
              import numpy as np, json
              meta = json.load(open("DIR/trace.json"))
              pattern = np.load("DIR/blocks.0.attn.pattern.npy")   # [head, query, key]
            """,
        subcommands: [ShowCommand.self, DiffCommand.self, ReplayCommand.self])

    struct ShowCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Summarise a trace: model, prompt, tokens, sampling funnel and tensors.",
            discussion: "Example: lantern trace show output/trace")

        @Argument(help: "The trace folder.") var folder: String
        @Flag(name: .long, help: "Print one JSON object (model, tokens, sampling, every step, every tensor's summary) instead of text.")
        var json = false

        func run() throws {
            // Everything is read before anything is printed: a damaged tensor file fails the
            // command cleanly instead of after half a summary.
            let trace = try TraceFile.read(URL(fileURLWithPath: folder))
            if json { return try printEncodable(TraceShowReport(trace, folder: folder)) }
            let m = trace.metadata
            print("trace      \(folder)")
            print(
                "model      \(m.model.family), \(m.model.encoderLayers.map { "\($0) encoder + \(m.model.layers) decoder" } ?? "\(m.model.layers)") layers × \(m.model.heads) heads, width \(m.model.width) (\(m.model.source))"
            )
            print("prompt     \(m.promptIds.count) tokens: \(m.pieces.prefix(m.promptIds.count).joined(separator: "|"))")
            print("generated  \(m.generatedIds.count) tokens: \(m.pieces.dropFirst(m.promptIds.count).joined(separator: "|"))")
            let s = m.sampling
            print(
                "sampling   "
                    + (s.greedy
                        ? "greedy (the likeliest token every step)"
                        : "temperature \(s.temperature), top-k \(s.topK), top-p \(s.topP), seed \(s.seed)")
                    + (m.stopReason.map { "; stopped: \($0)" } ?? ""))
            if let a = m.ablation {
                let parts = a.heads.map { "layer \($0[0]) head \($0[1])" } + a.mlps.map { "the MLP of layer \($0)" }
                print("ablated    \(parts.joined(separator: ", ")) switched off (\(a.mode)); replay does the same")
            }
            print("")
            print("step  token            p(chosen)  rank  left after top-k/top-p  draw")
            for (index, step) in m.steps.enumerated() {
                let piece = m.pieces.indices.contains(m.promptIds.count + index) ? m.pieces[m.promptIds.count + index] : "(end)"
                let draw = step.forced ? "forced" : step.randomDraw.map { String(format: "%.4f", $0) } ?? "greedy"
                print(
                    String(format: "%4d  ", index + 1) + piece.padding(toLength: 16, withPad: " ", startingAt: 0)
                        + String(
                            format: " %9.4f  %4d  %10d / %-10d  ", step.chosenProbability, step.chosenRank,
                            step.countAfterTopK, step.countAfterTopP) + draw)
            }
            print("")
            print("\(m.tensors.count) tensors (capture: \(m.capture.joined(separator: ", "))):")
            // Wide enough for the longest name (an encoder–decoder's "encoder.blocks.11.attn.pattern").
            let nameWidth = max(28, (m.tensors.map(\.name.count).max() ?? 0) + 1)
            print(
                "  " + "name".padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                    + "shape".padding(toLength: 16, withPad: " ", startingAt: 0)
                    + "    mean  row std      min      max   ≤ 0")
            for entry in m.tensors {
                let name = entry.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0)
                let shape = "\(entry.shape)".padding(toLength: 16, withPad: " ", startingAt: 0)
                guard let tensor = trace.tensors[entry.name], !tensor.scalars.isEmpty else { print("  \(name)\(shape)"); continue }
                let stats = TensorSummary(tensor)
                print(
                    "  \(name)\(shape)"
                        + String(
                            format: "%8.3f %8.3f %8.2f %8.2f  %3.0f%%", stats.mean, stats.rowStandardDeviation,
                            stats.minimum, stats.maximum, stats.nonPositiveShare * 100))
            }
            print("")
            print("row std: the spread of each vector (last axis), averaged over the rows (a layer norm's output has")
            print("about the same spread in every row); ≤ 0: the share of values at or below zero; masked (−∞) cells are left out.")
        }
    }

    /// Summary numbers of one recorded tensor, for `trace show`.
    struct TensorSummary {
        let mean: Double, rowStandardDeviation: Double, minimum: Float, maximum: Float, nonPositiveShare: Double

        /// Over finite values only: attention scores hold −∞ in their masked cells.
        init(_ tensor: Tensor) {
            let width = max(1, tensor.shape.last ?? tensor.scalars.count)
            let finite = tensor.scalars.filter(\.isFinite)
            let count = Double(max(1, finite.count))
            mean = finite.reduce(0.0) { $0 + Double($1) } / count
            minimum = finite.min() ?? .nan
            maximum = finite.max() ?? .nan
            nonPositiveShare = Double(finite.filter { $0 <= 0 }.count) / count
            var spread = 0.0, rows = 0
            for row in 0..<(tensor.scalars.count / width) {
                let slice = tensor.scalars[(row * width)..<((row + 1) * width)].filter(\.isFinite)
                guard !slice.isEmpty else { continue }
                let rowMean = slice.reduce(0.0) { $0 + Double($1) } / Double(slice.count)
                spread += (slice.reduce(0.0) { $0 + (Double($1) - rowMean) * (Double($1) - rowMean) } / Double(slice.count)).squareRoot()
                rows += 1
            }
            rowStandardDeviation = spread / Double(max(1, rows))
        }
    }

    struct DiffCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff",
            abstract: "Compare two traces of the same prompt: where tokens diverge, how attention and the residual stream differ.",
            discussion: """
                Rows are compared only where both traces saw the same tokens so far.
                Example: lantern trace diff output/cold output/hot
                """)

        @Argument(help: "The first trace folder.") var first: String
        @Argument(help: "The second trace folder.") var second: String
        @Option(name: .long, parsing: .unconditional, help: "How many of the most different heads to list.") var top: Int = 10
        @Flag(name: .long, help: "Print one JSON object (first divergent step, every head's and layer's difference) instead of text.")
        var json = false

        func run() throws {
            let a = try TraceFile.read(URL(fileURLWithPath: first)), b = try TraceFile.read(URL(fileURLWithPath: second))
            let diff = try TraceDiff(a, b)
            if json { return try printEncodable(TraceDiffReport(diff)) }
            if !diff.samePrompt { print("note: the prompts differ, so only their common first tokens are compared") }
            let pa = a.metadata.pieces.dropFirst(a.metadata.promptIds.count), pb = b.metadata.pieces.dropFirst(b.metadata.promptIds.count)
            if let index = diff.firstDivergence {
                print("tokens diverge at step \(index + 1) (generated token \(index + 1)):")
                print("  A: …\(pa.dropFirst(max(0, index - 3)).prefix(8).joined(separator: "|"))")
                print("  B: …\(pb.dropFirst(max(0, index - 3)).prefix(8).joined(separator: "|"))")
            } else {
                print("tokens agree for all \(min(pa.count, pb.count)) generated tokens compared")
            }
            print("compared positions: \(diff.sharedPositions)")
            if !diff.heads.isEmpty {
                print("\nattention difference per head (most different first):")
                print("layer  head   max |Δp|   mean |Δp|")
                for h in diff.heads.sorted(by: { $0.meanAbs > $1.meanAbs }).prefix(top) {
                    print(String(format: "%5d  %4d   %8.4f   %9.5f", h.layer, h.head, h.maxAbs, h.meanAbs))
                }
            }
            if !diff.layers.isEmpty {
                print("\nresidual stream difference per layer (‖A−B‖/‖A‖):")
                for l in diff.layers { print(String(format: "  layer %2d  %.5f", l.layer, l.relative)) }
            } else {
                print("\n(no residual stream in both traces: add --capture +resid_post to compare it)")
            }
        }
    }

    struct ReplayCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "replay",
            abstract: "Re-run a trace with its model and check every token comes out the same.",
            discussion: "Example: lantern trace replay output/trace --model path/to/model")

        @Argument(help: "The trace folder.") var folder: String
        @Option(name: .long, help: ArgumentHelp("The model (default: the one recorded in the trace).", valueName: "path"))
        var model: String?
        @Option(name: .long, help: ArgumentHelp("The tokenizer, when it is not beside the model.", valueName: "path"))
        var tokenizer: String?
        @Flag(name: .long, help: "Print one JSON object (identical or not, the recorded and replayed ids) instead of text.")
        var json = false

        func run() throws {
            let metadata = try TraceFile.readMetadata(URL(fileURLWithPath: folder))
            let bundle = try ModelBundle.load(model: model ?? metadata.model.source, tokenizer: tokenizer)
            let outcome = try Replay.run(metadata, model: bundle.model, tokenizer: bundle.tokenizer)
            if json {
                try printEncodable(
                    TraceReplayReport(
                        identical: outcome.firstDivergence == nil, firstDivergence: outcome.firstDivergence.map { $0 + 1 },
                        recordedIds: outcome.recordedIds, replayedIds: outcome.replayedIds))
                if outcome.firstDivergence != nil { throw ExitCode(1) }
                return
            }
            if let index = outcome.firstDivergence {
                printError(
                    "replay diverged at generated token \(index): recorded \(outcome.recordedIds[index]), replayed \(outcome.replayedIds.indices.contains(index) ? String(outcome.replayedIds[index]) : "nothing")"
                )
                throw ExitCode(1)
            }
            print("replayed \(outcome.replayedIds.count) tokens: identical to the trace")
        }
    }
}

// MARK: - JSON reports (keys in snake_case; steps count from 1)

/// `lantern trace show --json`.
struct TraceShowReport: Encodable {
    struct Step: Encodable {
        var step: Int
        var token: Int
        var piece: String
        var probability: Float
        var rank: Int
        var countAfterTopK: Int
        var countAfterTopP: Int
        /// The uniform number drawn; nil for greedy and forced steps.
        var randomDraw: Float?
        var forced: Bool
    }
    /// Over the finite values; null where a tensor has none (or is empty).
    struct TensorSummaryEntry: Encodable {
        var name: String
        var shape: [Int]
        var mean: Double?
        var rowStd: Double?
        var min: Float?
        var max: Float?
        var nonPositiveShare: Double?
    }
    var folder: String
    var model: TraceModel
    var prompt: String
    var promptIds: [Int]
    var generatedIds: [Int]
    var pieces: [String]
    var sampling: SamplingSettings
    var stopReason: String?
    var steps: [Step]
    var tensors: [TensorSummaryEntry]

    init(_ trace: Trace, folder: String) {
        let m = trace.metadata
        self.folder = folder
        model = m.model
        prompt = m.prompt
        promptIds = m.promptIds
        generatedIds = m.generatedIds
        pieces = m.pieces
        sampling = m.sampling
        stopReason = m.stopReason
        steps = m.steps.enumerated().map { index, s in
            Step(
                step: index + 1, token: s.chosen,
                piece: m.pieces.indices.contains(m.promptIds.count + index) ? m.pieces[m.promptIds.count + index] : "",
                probability: s.chosenProbability, rank: s.chosenRank, countAfterTopK: s.countAfterTopK, countAfterTopP: s.countAfterTopP,
                randomDraw: s.randomDraw, forced: s.forced)
        }
        tensors = m.tensors.map { entry in
            let stats = trace.tensors[entry.name].flatMap { $0.scalars.contains(where: \.isFinite) ? TraceCommand.TensorSummary($0) : nil }
            return TensorSummaryEntry(
                name: entry.name, shape: entry.shape, mean: stats?.mean, rowStd: stats?.rowStandardDeviation, min: stats?.minimum,
                max: stats?.maximum, nonPositiveShare: stats?.nonPositiveShare)
        }
    }
}

/// `lantern trace diff --json`.
struct TraceDiffReport: Encodable {
    struct Head: Encodable {
        var layer: Int
        var head: Int
        var maxAbs: Float
        var meanAbs: Float
    }
    struct Layer: Encodable {
        var layer: Int
        var relative: Float
    }
    var samePrompt: Bool
    /// The first generated step (from 1) where the tokens differ; nil when they agree.
    var firstDivergentStep: Int?
    var comparedPositions: Int
    var heads: [Head]
    var layers: [Layer]

    init(_ diff: TraceDiff) {
        samePrompt = diff.samePrompt
        firstDivergentStep = diff.firstDivergence.map { $0 + 1 }
        comparedPositions = diff.sharedPositions
        heads = diff.heads.map { Head(layer: $0.layer, head: $0.head, maxAbs: $0.maxAbs, meanAbs: $0.meanAbs) }
        layers = diff.layers.map { Layer(layer: $0.layer, relative: $0.relative) }
    }
}

/// `lantern trace replay --json`.
struct TraceReplayReport: Encodable {
    var identical: Bool
    /// The first generated token (from 1) that came out differently; nil when identical.
    var firstDivergence: Int?
    var recordedIds: [Int]
    var replayedIds: [Int]
}
