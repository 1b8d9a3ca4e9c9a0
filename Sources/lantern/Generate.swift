import ArgumentParser
import Foundation
import Generation
import Tracing
import Transformer

struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate text from a prompt, streaming it as it is produced.",
        discussion: """
            An empty prompt starts from the model's beginning-of-text token. Generation
            ends at --max-new-tokens, at the model's end-of-text token, at a --stop string,
            or when the context window is full (the message says which).

            Examples:
              lantern generate "Once upon a time" --model gpt2-folder --max-new-tokens 40
              lantern generate "Q: 2+2?" --model gpt2-folder --temperature 0.7 --top-k 40 \\
                --stop "###"
              lantern generate "" --model stories260K.bin --tokenizer tok512.bin --greedy \\
                --json
            """)

    @Argument(help: "The prompt (may be empty).")
    var prompt: String

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var tracing: TraceOptions

    @Flag(name: .long, help: "Print one JSON object (prompt_ids, generated_ids, text, stop_reason, timing) instead of streaming.")
    var json = false

    @Option(
        name: .customLong("ablate"),
        help: ArgumentHelp(
            "Generate with this head switched off, LAYER.HEAD (repeatable; a trace records it and replay repeats it).", valueName: "L.H"))
    var ablatedHeads: [String] = []

    @Option(
        name: .customLong("ablate-mlp"), parsing: .singleValue,
        help: ArgumentHelp("Generate with this layer's MLP switched off (repeatable).", valueName: "L"))
    var ablatedMLPs: [Int] = []

    @Option(name: .long, help: "How --ablate switches off: zero (the default) or mean (each one's mean output over the prompt).")
    var ablateMode: AblationMode = .zero

    /// The heads `--ablate` names.
    func parsedAblatedHeads() throws -> [Intervention.Head] { try parseHeads(ablatedHeads, flag: "--ablate") }

    func validate() throws { _ = try parsedAblatedHeads() }

    func run() throws {
        let bundle = try model.load()
        let generator = Generator(model: bundle.model, tokenizer: bundle.tokenizer)
        // Fail before anything is printed: a prompt that does not fit, a trace over budget.
        let promptIds = try generator.encodePrompt(prompt)
        let request = try tracing.trace.map { folder in
            try TraceFile.checkDestination(URL(fileURLWithPath: folder))
            return try tracing.checkedRequest(
                config: bundle.model.config,
                positions: min(
                    promptIds.count + min(sampling.maxNewTokens, bundle.model.config.contextLength),
                    bundle.model.config.contextLength))  // no overflow near Int.max
        }
        // Switched-off components: checked (and, for mean ablation, measured on the prompt) before anything runs.
        var capture = request?.spec ?? .nothing
        let heads = try parsedAblatedHeads()
        let ablation = heads.isEmpty && ablatedMLPs.isEmpty ? nil : TraceAblation(heads: heads, mlps: ablatedMLPs, mode: ablateMode)
        if let ablation {
            let c = bundle.model.config
            guard c.isCausal, !c.isEncoderDecoder else { throw CommandFailure(description: AblationError.notADecoder.description) }
            for h in heads where !(0..<c.layers).contains(h.layer) || !(0..<c.heads).contains(h.head) {
                throw ValidationError(
                    "--ablate \(h.layer).\(h.head): " + AblationError.noSuchHead(h, layers: c.layers, heads: c.heads).description)
            }
            for l in ablatedMLPs where !(0..<c.layers).contains(l) {
                throw ValidationError("--ablate-mlp \(l): " + AblationError.noSuchLayer(l, layers: c.layers).description)
            }
            capture.intervention = try ablation.intervention(model: bundle.model, promptIds: promptIds)
        }
        // A decoder continues the prompt; an encoder–decoder writes a new text from it (a translation).
        let isEncoderDecoder = bundle.model.config.isEncoderDecoder
        if !json { FileHandle.standardOutput.write(Data((isEncoderDecoder ? prompt + "\n→ " : prompt).utf8)) }
        var (result, session) = try generator.generate(
            prompt: prompt, maxNewTokens: sampling.maxNewTokens, settings: sampling.settings, stopStrings: sampling.stop,
            ignoringEndOfText: sampling.ignoreEos, capture: capture,
            onText: { piece in
                if !json { FileHandle.standardOutput.write(Data(piece.utf8)) }
            })
        // End the streamed line before any message on standard error.
        if !json { FileHandle.standardOutput.write(Data("\n".utf8)) }
        if let folder = tracing.trace, let request {
            var trace = Trace(session: session, prompt: prompt, source: bundle.source, request: request, stopReason: result.stopReason)
            trace.metadata.ablation = ablation
            try TraceFile.write(trace, to: URL(fileURLWithPath: folder))
            printError("trace saved to \(folder) (\(trace.tensors.count) tensors)")
        }
        result.timing.loadSeconds = bundle.loadSeconds
        if json {
            try printJSON([
                "prompt": prompt,
                "prompt_ids": result.promptIds,
                "generated_ids": result.generatedIds,
                "text": result.text,
                "stop_reason": result.stopReason.rawValue,
                "timing": [
                    "load_seconds": result.timing.loadSeconds,
                    "prefill_tokens_per_second": result.timing.prefillTokensPerSecond,
                    "decode_tokens_per_second": result.timing.decodeTokensPerSecond
                ]
            ])
            return
        }
        let why: String
        switch result.stopReason {
        case .maxTokens: why = "reached --max-new-tokens \(sampling.maxNewTokens)"
        case .endOfText: why = "the model produced its end-of-text token"
        case .stopString: why = "a stop string appeared"
        case .contextFull:
            why = "the context window of \(bundle.model.config.contextLength) tokens is full; shorten the prompt or lower --max-new-tokens"
        }
        let speed = String(
            format: "prefill %.0f tok/s, decode %.1f tok/s",
            result.timing.prefillTokensPerSecond, result.timing.decodeTokensPerSecond)
        let counts =
            isEncoderDecoder
            ? "\(result.promptIds.count) source tokens read by the encoder, \(result.generatedIds.count) written by the decoder"
            : "\(result.promptIds.count) prompt + \(result.generatedIds.count) new tokens"
        printError("[\(counts); stopped: \(why); \(speed)]")
    }
}
