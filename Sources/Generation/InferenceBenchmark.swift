import Foundation
import Tensors
import Transformer

/// What `lantern bench` measures on a model: prefill and decode speed, the memory-bandwidth bound
/// on decoding, and what recording costs. The command line chooses the model and prints.
public struct InferenceBenchmark {
    public var prefillTokens: Int
    public var decodeTokens: Int
    /// Prompt length before decoding.
    public var promptTokens: Int
    /// Also time runs that record every record.
    public var recording: Bool

    public init(prefillTokens: Int = 512, decodeTokens: Int = 128, promptTokens: Int = 16, recording: Bool = true) {
        self.prefillTokens = prefillTokens
        self.decodeTokens = decodeTokens
        self.promptTokens = promptTokens
        self.recording = recording
    }

    /// GPT-2 small, or a Llama of similar size (12 layers, 768 wide, 12 query heads over 4
    /// key/value heads, SwiGLU 2048, 32,000 tokens). Decoders only: the benchmark decodes.
    public static func config(for family: ModelFamily) -> TransformerConfig {
        switch family {
        case .gpt2, .gptNeo, .bert, .t5, .bart: return .gpt2()
        case .llama:
            return TransformerConfig(
                family: .llama, layers: 12, heads: 12, kvHeads: 4, width: 768, headSize: 64,
                feedForwardWidth: 2048, vocabularySize: 32000, contextLength: 1024, normEpsilon: 1e-5,
                positional: .rotary(theta: 10000, layout: .halfSplit), tiedEmbeddings: false)
        }
    }

    /// Every record of every layer and row. Logits stay those of the last row, as in the plain run:
    /// logits for every position are an extra [rows × V] matrix product, not recording.
    public static let everyActivation = CaptureSpec(kinds: Set(RecordKind.allCases).subtracting([.logits]))

    /// Every per-layer record asked for, but for no layer: the driver runs every capture check and
    /// keeps nothing. Timed against `.nothing` to show what the instrumentation itself costs.
    public static let matchesNothing = CaptureSpec(kinds: Set(RecordKind.allCases.filter(\.isPerLayer)), layers: [])

    /// One model at one thread count.
    public struct Measurement: Sendable {
        public var threads: Int
        public var decodeBytesPerToken: Int
        public var prefillTokensPerSecond: Double
        public var decodeTokensPerSecond: Double
        /// The best of the read-bandwidth measurements around the decode runs.
        public var memoryReadBytesPerSecond: Double
        /// Bandwidth ÷ bytes a decoded token reads: the fastest decode possible.
        public var decodeBoundTokensPerSecond: Double
        public var captureChecksOverheadPrefillPercent: Double
        public var recording: Recording?

        public var decodeFractionOfBound: Double { decodeTokensPerSecond / decodeBoundTokensPerSecond }
    }

    public struct Recording: Sendable {
        public var prefillTokensPerSecond: Double
        public var decodeTokensPerSecond: Double
        public var prefillOverheadPercent: Double
        public var decodeOverheadPercent: Double
        /// The first recorded prefill against the first plain one: its records land in fresh memory.
        public var firstPassPrefillOverheadPercent: Double
    }

    /// Measures `model` at `threads`: plain and recorded runs alternate, best of each, so machine
    /// noise hits both alike. `prompt` holds `prefillTokens` ids; decoding starts from its first
    /// `promptTokens`.
    public func measure(_ model: any LanguageModel, threads: Int, prompt: [Int]) -> Measurement {
        Parallelism.setThreads(threads)
        let decodePrompt = Array(prompt.prefix(promptTokens))
        var plainPrefill = Double.infinity, recordedPrefill = Double.infinity, checkedPrefill = Double.infinity
        // The first recorded pass of a process also pays for fresh memory (the kernel zeroes
        // every page it hands over); later passes reuse it (ProcessMemory). Both are reported.
        var firstRecordedPrefill: Double?, firstPlainPrefill = Double.infinity
        _ = Self.prefillSeconds(model, prompt, capture: .nothing)  // warm-up
        for _ in 0..<(recording ? 5 : 3) {
            let plain = Self.prefillSeconds(model, prompt, capture: .nothing)
            plainPrefill = min(plainPrefill, plain)
            checkedPrefill = min(checkedPrefill, Self.prefillSeconds(model, prompt, capture: Self.matchesNothing))
            if recording {
                let recorded = Self.prefillSeconds(model, prompt, capture: Self.everyActivation)
                if firstRecordedPrefill == nil { (firstRecordedPrefill, firstPlainPrefill) = (recorded, plain) }
                recordedPrefill = min(recordedPrefill, recorded)
            }
        }
        // Bandwidth is measured around each decode run, with the same threads, and the best kept:
        // neighbours on a shared machine move both by ±10 %, and the bound must not be the low one.
        var bandwidth = MemoryBandwidth.readBytesPerSecond(threads: threads)
        var plainDecode = Double.infinity
        for _ in 0..<2 {
            plainDecode = min(plainDecode, Self.decodeSeconds(model, decodePrompt, count: decodeTokens))
            bandwidth = max(bandwidth, MemoryBandwidth.readBytesPerSecond(threads: threads))
        }
        var measurement = Measurement(
            threads: threads, decodeBytesPerToken: model.decodeBytesPerToken,
            prefillTokensPerSecond: Double(prefillTokens) / plainPrefill, decodeTokensPerSecond: Double(decodeTokens) / plainDecode,
            memoryReadBytesPerSecond: bandwidth, decodeBoundTokensPerSecond: bandwidth / Double(model.decodeBytesPerToken),
            captureChecksOverheadPrefillPercent: (checkedPrefill / plainPrefill - 1) * 100)
        if recording {
            // Decode steps are short (~20 ms) and the machine's noise moves whole runs by ±30 %, so
            // plain and recorded decoding advance token by token side by side, each on its own cache.
            let (plain, recorded) = Self.interleavedDecodeSeconds(model, decodePrompt, capture: .everything, count: decodeTokens)
            measurement.recording = Recording(
                prefillTokensPerSecond: Double(prefillTokens) / recordedPrefill, decodeTokensPerSecond: Double(decodeTokens) / recorded,
                prefillOverheadPercent: (recordedPrefill / plainPrefill - 1) * 100, decodeOverheadPercent: (recorded / plain - 1) * 100,
                firstPassPrefillOverheadPercent: (firstRecordedPrefill! / firstPlainPrefill - 1) * 100)
        }
        return measurement
    }

    /// Seconds for one prefill pass over `prompt` (logits of the last row, as generation needs).
    public static func prefillSeconds(_ model: any LanguageModel, _ prompt: [Int], capture: CaptureSpec) -> Double {
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
    public static func interleavedDecodeSeconds(
        _ model: any LanguageModel, _ prompt: [Int], capture: CaptureSpec,
        count: Int
    ) -> (plain: Double, recorded: Double) {
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
    public static func decodeSeconds(_ model: any LanguageModel, _ prompt: [Int], count: Int = 128) -> Double {
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
    public static func peakMemoryBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }
}
