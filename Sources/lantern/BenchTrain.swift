import ArgumentParser
import Foundation
import Generation
import Tensors
import Training
import Transformer

/// The model shape and batch `lantern bench --train` measures; defaults are the built-in model's.
struct TrainBenchShape: ParsableArguments {
    @Option(name: .customLong("train-layers"), parsing: .unconditional, help: "Layers.") var layers = BuiltInModelShape.layers
    @Option(name: .customLong("train-heads"), parsing: .unconditional, help: "Attention heads.") var heads = BuiltInModelShape.heads
    @Option(name: .customLong("train-width"), parsing: .unconditional, help: "Embedding width.") var width = BuiltInModelShape.width
    @Option(name: .customLong("train-context"), parsing: .unconditional, help: "Context (tokens per window).") var context =
        BuiltInModelShape.context
    @Option(name: .customLong("train-vocab"), parsing: .unconditional, help: "Vocabulary size.") var vocabularySize = BuiltInModelShape
        .vocabularySize
    @Option(name: .customLong("train-batch"), parsing: .unconditional, help: "Windows per batch.") var batch = BuiltInModelShape.batch
    @Option(name: .customLong("train-steps"), parsing: .unconditional, help: "Timed steps (after 2 warm-up steps).") var steps = 10
    @Option(
        name: .customLong("compare-pytorch"),
        help: ArgumentHelp(
            "Also run scripts/bench_train_torch.py with this Python (one with torch and transformers) on the same shape, batch and threads, and print both.",
            valueName: "python"))
    var python: String?
    @Option(name: .customLong("precision"), help: precisionHelp())
    var precision: ProductPrecision = .f32
}

extension BenchCommand {
    /// Training throughput: tokens per second of whole optimiser steps on random tokens.
    func runTraining() throws {
        let s = trainShape
        let config = TransformerConfig.gpt2(
            layers: s.layers, heads: s.heads, width: s.width,
            vocabularySize: s.vocabularySize, contextLength: s.context)
        try TrainingRun.validate(config)
        guard s.batch >= 1, s.steps >= 1 else { throw ValidationError("--train-batch and --train-steps must be 1 or more") }
        var random = SplitMix64(seed: 5)
        let tokens = (0..<(s.batch * (s.context + 1) * 4 + 2 * (s.context + 1))).map { _ in Int32(random.next() % UInt64(s.vocabularySize))
        }
        var settings = TrainingSettings()
        settings.batchSize = s.batch
        settings.steps = s.steps + 2
        settings.warmupSteps = 1
        settings.evaluationInterval = Int.max / 2
        settings.precision = s.precision
        let stream = try TokenStream(tokens: tokens, context: s.context, validationFraction: 0.01)
        printError(
            "training benchmark: \(config.parameterCount) parameters (\(s.layers) layers, \(s.heads) heads, width \(s.width), "
                + "context \(s.context), vocabulary \(s.vocabularySize)), batch \(s.batch) × \(s.context) tokens, "
                + "\(s.precision) products" + (s.precision == .bf16 ? " (\(ProductPrecision.bf16Kernel))" : ""))
        var rows: [[String: Any]] = []
        for threadCount in threads {
            Parallelism.setThreads(threadCount)
            TrainingThreads.set(threadCount)
            let run = try TrainingRun(config: config, settings: settings, stream: stream)
            run.step(); run.step()  // warm-up
            let start = Date()
            for _ in 0..<s.steps { run.step() }
            let seconds = Date().timeIntervalSince(start)
            let tokensPerSecond = Double(s.steps * run.tokensPerStep) / seconds
            rows.append([
                "threads": threadCount, "train_tokens_per_second": tokensPerSecond,
                "milliseconds_per_step": seconds * 1000 / Double(s.steps)
            ])
            printError(
                String(format: "threads %d: %.0f tokens/s, %.0f ms a step", threadCount, tokensPerSecond, seconds * 1000 / Double(s.steps)))
        }
        var pytorch: [[String: Any]] = []
        if let python = s.python { pytorch = try Self.pytorchBaseline(python: python, shape: s, threads: threads) }
        if json {
            try printJSON(
                [
                    "pytorch": pytorch, "parameters": config.parameterCount, "layers": s.layers, "heads": s.heads, "width": s.width,
                    "context": s.context, "vocabulary": s.vocabularySize, "batch": s.batch, "precision": s.precision.rawValue,
                    "results": rows,
                    "peak_memory_bytes": InferenceBenchmark.peakMemoryBytes() ?? NSNull()
                ] as [String: Any])
            return
        }
        print("training, \(config.parameterCount) parameters, batch \(s.batch) × \(s.context), \(s.precision) products")
        if pytorch.isEmpty {
            print("threads  tokens/s  ms/step")
            for row in rows {
                print(
                    String(
                        format: "%7d  %8.0f  %7.0f", row["threads"] as! Int, row["train_tokens_per_second"] as! Double,
                        row["milliseconds_per_step"] as! Double))
            }
            return
        }
        // bf16 is shown beside both of PyTorch's: its float32 (the default) and its autocast bf16.
        let theirPrecisions = s.precision == .bf16 ? ["f32", "bf16"] : ["f32"]
        print(
            "threads  Lantern tokens/s"
                + theirPrecisions.map { "  PyTorch \($0) tokens/s  Lantern ÷ PyTorch \($0)" }.joined())
        for row in rows {
            let threads = row["threads"] as! Int, ours = row["train_tokens_per_second"] as! Double
            var line = String(format: "%7d  %16.0f", threads, ours)
            for precision in theirPrecisions {
                let theirs =
                    pytorch.first { $0["threads"] as? Int == threads && ($0["precision"] as? String ?? "f32") == precision }?[
                        "train_tokens_per_second"] as? Double ?? .nan
                line += String(format: "  %*.0f  %*.2f×", 17 + precision.count, theirs, 19 + precision.count, ours / theirs)
            }
            print(line)
        }
        if let version = pytorch.first?["torch"] as? String {
            print(
                "PyTorch \(version) on the CPU, same shape, batch, AdamW and clipping"
                    + (s.precision == .bf16 ? "; its bf16 is torch.autocast(dtype=torch.bfloat16)" : ""))
        }
    }

    /// Runs the PyTorch training baseline on the same configuration; one JSON object per thread count.
    static func pytorchBaseline(python: String, shape s: TrainBenchShape, threads: [Int]) throws -> [[String: Any]] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/bench_train_torch.py")
        guard FileManager.default.fileExists(atPath: script.path) else {
            throw ValidationError("--compare-pytorch needs scripts/bench_train_torch.py from the checkout (looked at \(script.path))")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            [
                python, script.path, "--layers", "\(s.layers)", "--heads", "\(s.heads)", "--width", "\(s.width)",
                "--context", "\(s.context)", "--vocab", "\(s.vocabularySize)", "--batch", "\(s.batch)",
                "--steps", "\(s.steps)"
            ] + threads.flatMap { ["--threads", "\($0)"] }
            + (s.precision == .bf16 ? ["--precision", "f32", "--precision", "bf16"] : [])
        let output = Pipe()
        process.standardOutput = output
        printError("running the PyTorch baseline: \(python) \(script.lastPathComponent)…")
        do { try process.run() } catch { throw ValidationError("--compare-pytorch: cannot run \(python): \(PlainError.reason(error))") }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError(
                "--compare-pytorch: the PyTorch baseline failed (exit \(process.terminationStatus)); "
                    + "install it with: pip install \"torch==2.13.0+cpu\" transformers")
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}
