import ArgumentParser
import Foundation
import ModelHub
import Rendering
import Tensors
import Tokenizers
import Training
import Transformer

extension TrainCommand {
    /// A tokenizer built from the text (`--vocab-size`), with a progress line while BPE merges.
    func newTokenizer(objective: TrainingObjectiveKind, text: String, folder: URL) throws -> PreparedTokenizer {
        printError(
            objective.usesWordPiece
                ? "building a WordPiece vocabulary of up to \(vocabSize) pieces…" : "training a BPE tokenizer of \(vocabSize) entries…")
        let progress = MergeProgress(label: "tokenizer")
        let prepared: PreparedTokenizer
        do {
            prepared = try TrainingPlan.newTokenizer(
                objective: objective, text: text, vocabularySize: vocabSize, runFolder: folder,
                progress: { done, total in progress.show(done: done, total: total) })
        } catch let error as BPETrainingError { throw ValidationError("\(error)") }
        progress.end()
        if let summary = prepared.summary { printError(summary) }
        return prepared
    }
}

/// The progress line while training: step, loss, validation loss, tokens/s, time left. Redrawn in
/// place on a terminal; otherwise a plain line every 5% (and at each validation), so logs stay short.
final class TrainingProgress {
    let total: Int
    private let line = ProgressLine()
    private var lastValidation: Float?
    private var recentRates: [Double] = []
    private var lastPrinted = -1

    init(total: Int) { self.total = total }

    func show(_ entry: TrainingLogEntry, run: TrainingRun) {
        if let v = entry.validationLoss { lastValidation = v }
        recentRates.append(entry.tokensPerSecond)
        if recentRates.count > 20 { recentRates.removeFirst() }
        let rate = recentRates.reduce(0, +) / Double(recentRates.count)
        let secondsLeft = Double((run.settings.steps - entry.step) * run.tokensPerStep) / max(rate, 1)
        var text = String(format: "step %d/%d  loss %.3f", entry.step, run.settings.steps, entry.loss)
        if let v = lastValidation { text += String(format: "  val %.3f", v) }
        text += String(format: "  %.0f tok/s  %@ left", rate, ProgressLine.duration(secondsLeft))
        if line.isTerminal {
            line.draw(ProgressLine.bar(fraction: Double(entry.step) / Double(max(1, run.settings.steps))) + " " + text)
        } else {
            let twentieth = entry.step * 20 / max(1, run.settings.steps)
            if twentieth != lastPrinted || entry.validationLoss != nil || entry.step == 1 {
                lastPrinted = twentieth
                printError(text)
            }
        }
    }

    /// Clears the bar before other output.
    func pause() { line.clear() }

    func end() { line.end() }
}

/// The pictures a run draws into its folder: the loss curve and the probe's attention snapshots.
struct TrainingPictures {
    let folder: URL
    let probe: String
    let probeIDs: [Int32]
    let probePieces: [String]

    /// loss.png: training loss (averaged into at most 300 points) and validation loss.
    func lossCurve(_ run: TrainingRun) throws {
        guard !run.log.isEmpty else { return }
        let chart = Self.lossChart(
            run.log, totalSteps: run.settings.steps, vocabulary: run.config.vocabularySize,
            perWhat: {
                switch run.objective {
                case .nextToken: "per token"
                case .maskedLanguage: "per masked token"
                case .sequenceToSequence: "per target token"
                }
            }(),
            title: "Training loss — \(folder.lastPathComponent)",
            shape: String(
                format: "%@, %d heads, width %d, context %d, vocabulary %d (%.2fM parameters), batch %d",
                run.config.isEncoderDecoder
                    ? "\(run.config.encoderLayers) encoder + \(run.config.layers) decoder layers"
                    : "\(run.config.layers) layer\(run.config.layers == 1 ? "" : "s")", run.config.heads, run.config.width,
                run.config.contextLength,
                run.config.vocabularySize, Double(run.config.parameterCount) / 1e6, run.settings.batchSize)
                // Two curves side by side should say which precision each trained in.
                + (run.settings.precision == .bf16 ? ", bf16 products" : ""))
        try PNGWriter.write(try chart.render(), to: folder.appendingPathComponent("loss.png"))
    }

    /// `perWhat` says what the loss averages over: every token for a decoder, the masked ones for an encoder.
    static func lossChart(
        _ log: [TrainingLogEntry], totalSteps: Int, vocabulary: Int, perWhat: String = "per token", title: String, shape: String
    ) -> LineChart {
        let bucket = max(1, (log.count + 299) / 300)
        var training: [Float] = [], validation: [Float] = []
        for start in stride(from: 0, to: log.count, by: bucket) {
            let slice = log[start..<min(log.count, start + bucket)]
            training.append(slice.map(\.loss).reduce(0, +) / Float(slice.count))
            validation.append(slice.compactMap(\.validationLoss).last ?? .nan)
        }
        let values = training + validation.filter { !$0.isNaN }
        let high = (values.max() ?? 1) * 1.05, low = max(0, (values.min() ?? 0) * 0.9)
        var chart = LineChart(
            title: title, subtitles: [shape],
            series: [
                .init(
                    name: "training loss (mean of \(bucket) step\(bucket == 1 ? "" : "s") a point)", values: training,
                    color: ChartPalette.series[0]),
                .init(name: "validation loss (held-out text)", values: validation, color: ChartPalette.series[1], markers: true)
            ], xAxis: "step", yAxis: "cross-entropy (nats \(perWhat))", yRange: (low, high))
        chart.xUnit = bucket
        chart.xStart = log.first?.step ?? 1  // a point starts at the step of its first entry
        if let last = log.last {
            chart.notes = [
                String(format: "step %d of %d; last training loss %.3f", last.step, totalSteps, last.loss)
                    + (log.last(where: { $0.validationLoss != nil })?.validationLoss.map { String(format: ", validation %.3f", $0) } ?? "")
                    + String(
                        format: "; guessing uniformly among %d tokens would score ln %d = %.2f", vocabulary, vocabulary,
                        logf(Float(vocabulary)))
            ]
        }
        return chart
    }

    /// snapshots/attention-step-N.png: every layer and head on the probe, at this step.
    func snapshot(_ run: TrainingRun) throws {
        let patterns = run.attentionPatterns(probeIDs)
        let sources = patterns.enumerated().map { layer, pattern in
            AttentionSource(
                pattern: pattern, pieces: probePieces, layer: layer,
                model: "\(folder.lastPathComponent) at step \(run.stepsDone)", prompt: probe, causal: run.config.isCausal)
        }
        let url = folder.appendingPathComponent("snapshots").appendingPathComponent(
            String(format: "attention-step-%06d.png", run.stepsDone))
        try PNGWriter.write(try OverviewPicture.render(sources), to: url)
        printError("attention at step \(run.stepsDone): \(url.path)")
    }
}
