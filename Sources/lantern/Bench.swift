import ArgumentParser
import Foundation
import Generation
import Rendering
import Tensors
import Transformer

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure prefill and decode speed on a GPT-2-small-sized model built in memory.",
        discussion: """
        Builds a model from seeded random weights (no download): GPT-2 small
        (124M parameters: 12 layers, 768 wide, 12 heads, 50,257 tokens) or,
        with --family llama, a Llama of similar size (12 layers, 768 wide,
        12 query heads over 4 key/value heads, SwiGLU 2048, 32,000 tokens).
        Reports prefill tokens/s (one pass over a 512-token prompt, best of 3,
        or of 5 while also measuring recording) and decode tokens/s (128
        greedy tokens after a 16-token prompt, through the KV cache and the
        sampler, best of 2) for each thread count, and the peak
        memory of the process. Compare with Hugging Face:
        python scripts/bench_hf.py (same shapes).

        It says which kernels run (OpenBLAS core, matrix-vector kernels) and
        measures how fast this machine reads memory with the same threads:
        decode reads every weight once per token, so bandwidth ÷ bytes per
        token is the fastest decode possible, and decode is printed as a
        fraction of that bound. --weights f16 or bf16 (repeatable) keeps the
        weight matrices in 16 bits, halving the bytes per token.

        It also reports what recording costs: prefill passes that record every
        record of every layer against plain ones (alternating, best of each),
        decoding with every record against plain decoding (token by token side
        by side), the process's first recorded prefill separately (its records
        need fresh memory), and passes that run every capture check but keep
        nothing (what capturing nothing costs). --no-recording skips the
        recording passes.

        With --train it measures training instead: forward, backward, clipping
        and AdamW on random tokens, in the built-in model's shape unless the
        --train-* options say otherwise. --compare-pytorch PYTHON runs
        scripts/bench_train_torch.py on the same configuration in the same
        run and prints both.

        Examples:
          lantern bench --threads 1 --threads 2 --json
          lantern bench --threads 2 --weights f32 --weights bf16 --no-recording
          lantern bench --train --threads 2 --compare-pytorch python3
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

    @Flag(name: .long, inversion: .prefixedNo,
          help: "Also measure runs that record everything (attention scores and patterns, q/k/v, residual stream, MLP, norms; while decoding the logits too) and report the overhead.")
    var recording = true

    @Flag(name: .long, inversion: .prefixedNo,
          help: "Also time drawing the whole-model attention overview (12 layers × 12 heads × 64 tokens, PNG encoding included; best of 3).")
    var pictures = true

    @Flag(name: .long, help: "Measure training instead: tokens/s of forward + backward + AdamW on the built-in model's shape (see --train-* options).")
    var train = false

    @OptionGroup(title: "Training benchmark (with --train)")
    var trainShape: TrainBenchShape

    func validate() throws {
        guard ModelFamily(rawValue: family) != nil else { throw ValidationError("--family \(family) is unknown: use gpt2 or llama") }
        guard threads.allSatisfy({ (1...256).contains($0) }) else { throw ValidationError("--threads must be between 1 and 256") }
        guard prefillTokens >= 1, decodeTokens >= 1, promptTokens >= 1 else {
            throw ValidationError("--prefill-tokens, --decode-tokens and --prompt-tokens must be 1 or more")
        }
        guard prefillTokens <= 1024, promptTokens + decodeTokens <= 1024 else {
            throw ValidationError("the bench model's context is 1024 tokens: keep --prefill-tokens and --prompt-tokens + --decode-tokens within it")
        }
    }

    /// Every record of every layer and row. Logits stay those of the last row, as in the plain run:
    /// logits for every position are an extra [rows × V] matrix product, not recording.
    static let everyActivation = CaptureSpec(kinds: Set(RecordKind.allCases).subtracting([.logits]))

    /// Every per-layer record asked for, but for no layer: the driver runs every capture check and
    /// keeps nothing. Timed against `.nothing` to show what the instrumentation itself costs.
    static let matchesNothing = CaptureSpec(kinds: Set(RecordKind.allCases.filter(\.isPerLayer)), layers: [])

    static func config(for family: ModelFamily) -> TransformerConfig {
        switch family {
        case .gpt2: return .gpt2()
        case .llama:
            return TransformerConfig(family: .llama, layers: 12, heads: 12, kvHeads: 4, width: 768, headSize: 64,
                                     feedForwardWidth: 2048, vocabularySize: 32000, contextLength: 1024, normEpsilon: 1e-5,
                                     positional: .rotary(theta: 10000, layout: .halfSplit), tiedEmbeddings: false)
        }
    }

    func run() throws {
        if train { return try runTraining() }
        let config = Self.config(for: ModelFamily(rawValue: family)!)
        let kernels = KernelReport.current()
        kernels.lines.forEach { printError($0) }
        var random = SplitMix64(seed: 7)
        let prefillPrompt = (0..<prefillTokens).map { _ in Int(random.next() % UInt64(config.vocabularySize)) }
        let decodePrompt = Array(prefillPrompt.prefix(promptTokens))
        var rows: [[String: Any]] = []
        for format in weights {
        printError("building a \(family) model with \(String(format: "%.1f", Double(config.parameterCount) / 1e6))M random parameters, \(format) weights…")
        let model = RandomModels.make(config, format: format)
        for threadCount in threads {
            Parallelism.setThreads(threadCount)
            var row: [String: Any] = ["threads": threadCount, "weights": format.rawValue, "prefill_tokens": prefillTokens,
                                      "decode_tokens": decodeTokens, "decode_bytes_per_token": model.decodeBytesPerToken]
            // Plain and fully recorded runs alternate, best of each, so machine noise hits both alike.
            var plainPrefill = Double.infinity, recordedPrefill = Double.infinity
            var plainDecode = Double.infinity, recordedDecode = Double.nan
            // The first recorded pass of a process also pays for fresh memory (the kernel zeroes
            // every page it hands over); later passes reuse it (ProcessMemory). Both are reported.
            var firstRecordedPrefill: Double?, firstPlainPrefill = Double.infinity
            var checkedPrefill = Double.infinity
            _ = prefillSeconds(model, prefillPrompt, capture: .nothing)  // warm-up
            for _ in 0..<(recording ? 5 : 3) {
                let plain = prefillSeconds(model, prefillPrompt, capture: .nothing)
                plainPrefill = min(plainPrefill, plain)
                checkedPrefill = min(checkedPrefill, prefillSeconds(model, prefillPrompt, capture: Self.matchesNothing))
                if recording {
                    let recorded = prefillSeconds(model, prefillPrompt, capture: Self.everyActivation)
                    if firstRecordedPrefill == nil { (firstRecordedPrefill, firstPlainPrefill) = (recorded, plain) }
                    recordedPrefill = min(recordedPrefill, recorded)
                }
            }
            // Bandwidth is measured around each decode run, with the same threads, and the best kept:
            // neighbours on a shared machine move both by ±10 %, and the bound must not be the low one.
            var bandwidth = MemoryBandwidth.readBytesPerSecond(threads: threadCount)
            for _ in 0..<2 {
                plainDecode = min(plainDecode, decodeSeconds(model, decodePrompt, count: decodeTokens))
                bandwidth = max(bandwidth, MemoryBandwidth.readBytesPerSecond(threads: threadCount))
            }
            let decodeBound = bandwidth / Double(model.decodeBytesPerToken)
            row["memory_read_bytes_per_second"] = bandwidth
            row["decode_bound_tokens_per_second"] = decodeBound
            // Decode steps are short (~20 ms) and the machine's noise moves whole runs by ±30 %, so
            // plain and recorded decoding advance token by token side by side, each on its own cache.
            var decodeRatio = Double.nan
            if recording {
                let (plain, recorded) = interleavedDecodeSeconds(model, decodePrompt, capture: .everything, count: decodeTokens)
                decodeRatio = recorded / plain
                recordedDecode = recorded
            }
            row["capture_checks_overhead_prefill_percent"] = (checkedPrefill / plainPrefill - 1) * 100
            row["prefill_tokens_per_second"] = Double(prefillTokens) / plainPrefill
            row["decode_tokens_per_second"] = Double(decodeTokens) / plainDecode
            row["decode_fraction_of_bound"] = Double(decodeTokens) / plainDecode / decodeBound
            var line = format.rawValue + String(format: " weights, threads %d: prefill %.0f tok/s, decode %.1f tok/s (%.0f%% of the %.1f tok/s that %.1f GB/s allows); capture checks with nothing kept: prefill %+.1f%%",
                              threadCount, Double(prefillTokens) / plainPrefill, Double(decodeTokens) / plainDecode,
                              Double(decodeTokens) / plainDecode / decodeBound * 100, decodeBound, bandwidth / 1e9,
                              (checkedPrefill / plainPrefill - 1) * 100)
            if recording {
                row["recorded_prefill_tokens_per_second"] = Double(prefillTokens) / recordedPrefill
                row["recorded_decode_tokens_per_second"] = Double(decodeTokens) / recordedDecode
                row["recording_overhead_prefill_percent"] = (recordedPrefill / plainPrefill - 1) * 100
                row["recording_overhead_decode_percent"] = (decodeRatio - 1) * 100
                line += String(format: "; recording everything: prefill %+.1f%%, decode %+.1f%%",
                               (recordedPrefill / plainPrefill - 1) * 100, (decodeRatio - 1) * 100)
                if rows.isEmpty {  // only the first thread count's first pass met fresh memory
                    let firstPass = (firstRecordedPrefill! / firstPlainPrefill - 1) * 100
                    row["recording_overhead_prefill_first_pass_percent"] = firstPass
                    line += String(format: " (the process's first recorded prefill %+.1f%%: fresh memory)", firstPass)
                }
            }
            rows.append(row)
            printError(line)
        }
        }
        let overview = pictures ? try Self.overviewRenderSeconds(layers: config.layers, heads: config.heads, tokens: 64) : nil
        if let overview { printError(String(format: "attention overview (%d × %d heads, 64 tokens): %.3f s", config.layers, config.heads, overview)) }
        let peak = peakMemoryBytes()
        if json {
            var object: [String: Any] = ["family": family, "parameters": config.parameterCount, "results": rows,
                                         "peak_memory_bytes": peak ?? NSNull(), "kernels": kernels.jsonObject]
            if let overview { object["overview_render_seconds"] = overview }
            try printJSON(object)
            return
        }
        print("family \(family), \(config.parameterCount) parameters")
        kernels.lines.forEach { print($0) }
        print("weights  threads  prefill tok/s (\(prefillTokens))  decode tok/s (\(decodeTokens) after \(promptTokens))  memory GB/s  decode bound tok/s  decode ÷ bound")
        for row in rows {
            print((row["weights"] as! String).padding(toLength: 7, withPad: " ", startingAt: 0) + String(format: "  %7d  %21.0f  %28.1f  %11.1f  %18.1f  %13.0f%%", row["threads"] as! Int,
                         row["prefill_tokens_per_second"] as! Double, row["decode_tokens_per_second"] as! Double,
                         (row["memory_read_bytes_per_second"] as! Double) / 1e9, row["decode_bound_tokens_per_second"] as! Double,
                         (row["decode_fraction_of_bound"] as! Double) * 100))
            print(String(format: "         capturing nothing (every capture check runs, nothing kept): prefill %+.1f%%",
                         row["capture_checks_overhead_prefill_percent"] as! Double))
            if let prefill = row["recording_overhead_prefill_percent"] as? Double,
               let decode = row["recording_overhead_decode_percent"] as? Double {
                print(String(format: "         recording every record: prefill %+.1f%%, decode %+.1f%%", prefill, decode))
                if let firstPass = row["recording_overhead_prefill_first_pass_percent"] as? Double {
                    print(String(format: "         (the process's first recorded prefill: %+.1f%%, its records land in fresh memory the system must zero)", firstPass))
                }
            }
        }
        if let overview {
            print(String(format: "attention overview picture (%d layers × %d heads, 64 tokens, PNG included): %.3f s",
                         config.layers, config.heads, overview))
        }
        if let peak { print(String(format: "peak memory %.0f MiB", Double(peak) / 1_048_576)) }
    }
}

extension Bench {
    /// Seconds to draw the whole-model attention overview of seeded random causal patterns
    /// (`layers` × `[heads, tokens, tokens]`, each row a softmax) and encode it as PNG, best of 3.
    static func overviewRenderSeconds(layers: Int, heads: Int, tokens N: Int) throws -> Double {
        var random = SplitMix64(seed: 11)
        let sources = (0..<layers).map { layer -> AttentionSource in
            var weights = [Float](repeating: 0, count: heads * N * N)
            for h in 0..<heads {
                for q in 0..<N {
                    var sum: Float = 0
                    for k in 0...q {
                        let w = Float(exp(Double(random.next() % 1000) / 250))
                        weights[(h * N + q) * N + k] = w
                        sum += w
                    }
                    for k in 0...q { weights[(h * N + q) * N + k] /= sum }
                }
            }
            return AttentionSource(pattern: Tensor(shape: [heads, N, N], scalars: weights), pieces: (0..<N).map { "t\($0)" },
                                   layer: layer, model: "bench", prompt: "random patterns")
        }
        var best = Double.infinity
        for _ in 0..<3 {
            let start = Date()
            let data = try PNGWriter.encode(try OverviewPicture.render(sources))
            best = min(best, Date().timeIntervalSince(start))
            withExtendedLifetime(data) {}
        }
        return best
    }
}

/// Seconds for one prefill pass over `prompt` (logits of the last row, as generation needs).
func prefillSeconds(_ model: any LanguageModel, _ prompt: [Int], capture: CaptureSpec) -> Double {
    var cache = model.makeCache()
    let start = Date()
    let result = model.forward(prompt, cache: &cache, capture: capture, allLogits: false)
    let seconds = Date().timeIntervalSince(start)
    withExtendedLifetime(result) {}
    return seconds
}

/// Plain and recorded decoding of `count` greedy tokens after `prompt`, interleaved step by step
/// (the order alternating), each on its own cache: total seconds of each. Recorded steps keep
/// their records, as the stepper does.
func interleavedDecodeSeconds(_ model: any LanguageModel, _ prompt: [Int], capture: CaptureSpec, count: Int) -> (plain: Double, recorded: Double) {
    var caches = [model.makeCache(), model.makeCache()]
    var samplers = [Sampler(settings: SamplingSettings(greedy: true)), Sampler(settings: SamplingSettings(greedy: true))]
    var logits = [model.nextTokenLogits(prompt, cache: &caches[0]), model.nextTokenLogits(prompt, cache: &caches[1])]
    var seconds = [0.0, 0.0]
    var kept: [[String: Tensor]] = []
    for step in 0..<count {
        for lane in (step % 2 == 0 ? [0, 1] : [1, 0]) {
            let start = Date()
            let token = samplers[lane].sample(logits: logits[lane]).chosen
            let result = model.forward([token], cache: &caches[lane], capture: lane == 0 ? .nothing : capture, allLogits: false)
            logits[lane] = result.logits.scalars
            if lane == 1 { kept.append(result.records) }
            seconds[lane] += Date().timeIntervalSince(start)
        }
    }
    withExtendedLifetime(kept) {}
    return (seconds[0], seconds[1])
}

/// Seconds to decode `count` greedy tokens after `prompt` through the sampler, as generation does.
func decodeSeconds(_ model: any LanguageModel, _ prompt: [Int], count: Int = 128) -> Double {
    var cache = model.makeCache()
    var sampler = Sampler(settings: SamplingSettings(greedy: true))
    var logits = model.nextTokenLogits(prompt, cache: &cache)
    let start = Date()
    for _ in 0..<count {
        let token = sampler.sample(logits: logits).chosen
        logits = model.forward([token], cache: &cache, capture: .nothing, allLogits: false).logits.scalars
    }
    return Date().timeIntervalSince(start)
}

/// The process's peak resident memory (Linux VmHWM), if known.
func peakMemoryBytes() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
          let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
    else { return nil }
    return kilobytes * 1024
}
