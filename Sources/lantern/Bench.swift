import ArgumentParser
import Foundation
import Generation
import Rendering
import Tensors
import Transformer

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure prefill and decode speed on a GPT-2-small-sized model built in memory.",
        discussion: """
            Builds a model from seeded random weights (no download): GPT-2 small (124M
            parameters: 12 layers, 768 wide, 12 heads, 50,257 tokens) or, with --family
            llama, a Llama of similar size (12 layers, 768 wide, 12 query heads over 4
            key/value heads, SwiGLU 2048, 32,000 tokens). Reports prefill tokens/s (one
            pass over a 512-token prompt, best of 3, or of 5 while also measuring
            recording) and decode tokens/s (128 greedy tokens after a 16-token prompt,
            through the KV cache and the sampler, best of 2) for each thread count, and the
            peak memory of the process. Compare with Hugging Face: python
            scripts/bench_hf.py (same shapes).

            It says which kernels run (OpenBLAS core, matrix-vector kernels) and measures
            how fast this machine reads memory with the same threads: decode reads every
            weight once per token, so bandwidth ÷ bytes per token is the fastest decode
            possible, and decode is printed as a fraction of that bound. --weights f16 or
            bf16 (repeatable) keeps the weight matrices in 16 bits, halving the bytes per
            token.

            It also reports what recording costs: prefill passes that record every record
            of every layer against plain ones (alternating, best of each), decoding with
            every record against plain decoding (token by token side by side), the
            process's first recorded prefill separately (its records need fresh memory),
            and passes that run every capture check but keep nothing (what capturing
            nothing costs). --no-recording skips the recording passes.

            With --train it measures training instead: forward, backward, clipping and
            AdamW on random tokens, in the built-in model's shape unless the --train-*
            options say otherwise. --compare-pytorch PYTHON runs
            scripts/bench_train_torch.py on the same configuration in the same run and
            prints both. --precision bf16 measures mixed-precision training (the linear
            layers' and attention's products on bfloat16 operands) and compares it
            with PyTorch's float32 and with its torch.autocast bf16.

            Examples:
              lantern bench --threads 1 --threads 2 --json
              lantern bench --threads 2 --weights f32 --weights bf16 --no-recording
              lantern bench --train --threads 2 --compare-pytorch python3
              lantern bench --train --precision bf16 --compare-pytorch python3
            """)

    @Option(name: .long, help: "Model family to build: gpt2 or llama.")
    var family: String = "gpt2"

    @Option(name: .long, help: "Thread counts to measure (repeatable).")
    var threads: [Int] = [1, 2]

    @Option(name: .long, help: ArgumentHelp("Weight formats to measure (repeatable): f32, f16, bf16.", valueName: "f32|f16|bf16"))
    var weights: [WeightFormat] = [.f32]

    @Option(name: .long, parsing: .unconditional, help: "Prompt length for the prefill measurement.")
    var prefillTokens: Int = 512

    @Option(name: .long, parsing: .unconditional, help: "Tokens to decode for the decode measurement.")
    var decodeTokens: Int = 128

    @Option(name: .long, parsing: .unconditional, help: "Prompt length before decoding.")
    var promptTokens: Int = 16

    @Flag(name: .long, help: "Print one JSON object instead of a table.")
    var json = false

    @Flag(
        name: .long, inversion: .prefixedNo,
        help:
            "Also measure runs that record everything (attention scores and patterns, q/k/v, residual stream, MLP, norms; while decoding the logits too) and report the overhead."
    )
    var recording = true

    @Flag(
        name: .long, inversion: .prefixedNo,
        help: "Also time drawing the whole-model attention overview (12 layers × 12 heads × 64 tokens, PNG encoding included; best of 3).")
    var pictures = true

    @Flag(
        name: .long,
        help: "Measure training instead: tokens/s of forward + backward + AdamW on the built-in model's shape (see --train-* options).")
    var train = false

    @OptionGroup(title: "Training benchmark (with --train)")
    var trainShape: TrainBenchShape

    func validate() throws {
        if !train, trainShape.precision != .f32 {
            throw ValidationError("--precision sets training's products: add --train (inference's weights take --weights f32|f16|bf16)")
        }
        guard let chosen = ModelFamily(rawValue: family), chosen.isCausal else {
            throw ValidationError("--family \(family) is not one bench times (it times decoding): use gpt2 or llama")
        }
        guard threads.allSatisfy({ (1...256).contains($0) }) else { throw ValidationError("--threads must be between 1 and 256") }
        guard prefillTokens >= 1, decodeTokens >= 1, promptTokens >= 1 else {
            throw ValidationError("--prefill-tokens, --decode-tokens and --prompt-tokens must be 1 or more")
        }
        guard prefillTokens <= 1024, promptTokens + decodeTokens <= 1024 else {
            throw ValidationError(
                "the bench model's context is 1024 tokens: keep --prefill-tokens and --prompt-tokens + --decode-tokens within it")
        }
    }

    func run() throws {
        if train { return try runTraining() }
        let config = InferenceBenchmark.config(for: ModelFamily(rawValue: family)!)
        let kernels = KernelReport.current()
        kernels.lines.forEach { printError($0) }
        var random = SplitMix64(seed: 7)
        let prompt = (0..<prefillTokens).map { _ in Int(random.next() % UInt64(config.vocabularySize)) }
        let benchmark = InferenceBenchmark(
            prefillTokens: prefillTokens, decodeTokens: decodeTokens, promptTokens: promptTokens,
            recording: recording)
        var rows: [[String: Any]] = []
        for format in weights {
            printError(
                "building a \(family) model with \(String(format: "%.1f", Double(config.parameterCount) / 1e6))M random parameters, \(format) weights…"
            )
            let model = RandomModels.make(config, format: format)
            for threadCount in threads {
                let m = benchmark.measure(model, threads: threadCount, prompt: prompt)
                var row: [String: Any] = [
                    "threads": threadCount, "weights": format.rawValue, "prefill_tokens": prefillTokens,
                    "decode_tokens": decodeTokens, "decode_bytes_per_token": m.decodeBytesPerToken,
                    "memory_read_bytes_per_second": m.memoryReadBytesPerSecond,
                    "decode_bound_tokens_per_second": m.decodeBoundTokensPerSecond,
                    "capture_checks_overhead_prefill_percent": m.captureChecksOverheadPrefillPercent,
                    "prefill_tokens_per_second": m.prefillTokensPerSecond, "decode_tokens_per_second": m.decodeTokensPerSecond,
                    "decode_fraction_of_bound": m.decodeFractionOfBound
                ]
                var line =
                    format.rawValue
                    + String(
                        format:
                            " weights, threads %d: prefill %.0f tok/s, decode %.1f tok/s (%.0f%% of the %.1f tok/s that %.1f GB/s allows); capture checks with nothing kept: prefill %+.1f%%",
                        threadCount, m.prefillTokensPerSecond, m.decodeTokensPerSecond, m.decodeFractionOfBound * 100,
                        m.decodeBoundTokensPerSecond, m.memoryReadBytesPerSecond / 1e9, m.captureChecksOverheadPrefillPercent)
                if let r = m.recording {
                    row["recorded_prefill_tokens_per_second"] = r.prefillTokensPerSecond
                    row["recorded_decode_tokens_per_second"] = r.decodeTokensPerSecond
                    row["recording_overhead_prefill_percent"] = r.prefillOverheadPercent
                    row["recording_overhead_decode_percent"] = r.decodeOverheadPercent
                    line += String(
                        format: "; recording everything: prefill %+.1f%%, decode %+.1f%%", r.prefillOverheadPercent, r.decodeOverheadPercent
                    )
                    if rows.isEmpty {  // only the first thread count's first pass met fresh memory
                        row["recording_overhead_prefill_first_pass_percent"] = r.firstPassPrefillOverheadPercent
                        line += String(
                            format: " (the process's first recorded prefill %+.1f%%: fresh memory)", r.firstPassPrefillOverheadPercent)
                    }
                }
                rows.append(row)
                printError(line)
            }
        }
        let overview = pictures ? try OverviewPicture.renderSeconds(layers: config.layers, heads: config.heads, tokens: 64) : nil
        if let overview {
            printError(String(format: "attention overview (%d × %d heads, 64 tokens): %.3f s", config.layers, config.heads, overview))
        }
        let peak = InferenceBenchmark.peakMemoryBytes()
        if json {
            var object: [String: Any] = [
                "family": family, "parameters": config.parameterCount, "results": rows,
                "peak_memory_bytes": peak ?? NSNull(), "kernels": kernels.jsonObject
            ]
            if let overview { object["overview_render_seconds"] = overview }
            try printJSON(object)
            return
        }
        print("family \(family), \(config.parameterCount) parameters")
        kernels.lines.forEach { print($0) }
        print(
            "weights  threads  prefill tok/s (\(prefillTokens))  decode tok/s (\(decodeTokens) after \(promptTokens))  memory GB/s  decode bound tok/s  decode ÷ bound"
        )
        for row in rows {
            print(
                (row["weights"] as! String).padding(toLength: 7, withPad: " ", startingAt: 0)
                    + String(
                        format: "  %7d  %21.0f  %28.1f  %11.1f  %18.1f  %13.0f%%", row["threads"] as! Int,
                        row["prefill_tokens_per_second"] as! Double, row["decode_tokens_per_second"] as! Double,
                        (row["memory_read_bytes_per_second"] as! Double) / 1e9, row["decode_bound_tokens_per_second"] as! Double,
                        (row["decode_fraction_of_bound"] as! Double) * 100))
            print(
                String(
                    format: "         capturing nothing (every capture check runs, nothing kept): prefill %+.1f%%",
                    row["capture_checks_overhead_prefill_percent"] as! Double))
            if let prefill = row["recording_overhead_prefill_percent"] as? Double,
                let decode = row["recording_overhead_decode_percent"] as? Double
            {
                print(String(format: "         recording every record: prefill %+.1f%%, decode %+.1f%%", prefill, decode))
                if let firstPass = row["recording_overhead_prefill_first_pass_percent"] as? Double {
                    print(
                        String(
                            format:
                                "         (the process's first recorded prefill: %+.1f%%, its records land in fresh memory the system must zero)",
                            firstPass))
                }
            }
        }
        if let overview {
            print(
                String(
                    format: "attention overview picture (%d layers × %d heads, 64 tokens, PNG included): %.3f s",
                    config.layers, config.heads, overview))
        }
        if let peak { print(String(format: "peak memory %.0f MiB", Double(peak) / 1_048_576)) }
    }
}
