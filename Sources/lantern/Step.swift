import ArgumentParser
import Foundation
import Generation
import Rendering
import Tokenizers
import Tracing
import Transformer

struct StepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "step",
        abstract: "Step through generation one token at a time, seeing every choice.",
        discussion: """
            At each step Lantern shows the text so far, the most likely next tokens with
            their probabilities before and after the sampling filters, and the token it
            would sample. Then type a command and press Enter (it reads plain lines, so it
            also works through a pipe):

              Enter or s      take the sampled token
              1 … N           take candidate number N from the list
              t TEXT          type a token of your own (TEXT is tokenized; each
                              piece is taken in turn)
              temp X          set the temperature (0 = greedy)
              topk N          keep the N most likely (0 = off)
              topp X          set top-p (1 = off)
              seed N          restart the random generator
              u               undo the last token
              a L H           the newest token's attention in layer L, head H, as a
                              heatmap (an encoder–decoder's cross-attention too)
              off L.H         switch head H of layer L off (its output zeroed) from
                              here on and watch the next choice change; on L.H
                              switches it back, on alone every head
              save DIR        save the trace so far (open it with
                              `lantern trace show DIR`)
              q               quit
              ?               this help

            Colour follows the terminal; NO_COLOR=1 or a pipe gives plain text.

            Example:
              lantern step "Once upon a time" --model stories260K.bin --temperature 0.8
            """)

    @Argument(help: "The prompt (may be empty).") var prompt: String
    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var tracing: TraceOptions

    @Option(name: .long, parsing: .unconditional, help: "How many candidates to list at each step.")
    var candidates: Int = 10

    func validate() throws {
        guard (1...SamplingStep.listed).contains(candidates) else {
            throw ValidationError("--candidates \(candidates) is out of range: use 1 to \(SamplingStep.listed)")
        }
    }

    func run() throws {
        let bundle = try model.load()
        let generator = Generator(model: bundle.model, tokenizer: bundle.tokenizer)
        let promptIds = try generator.encodePrompt(prompt)
        let request = try tracing.checkedRequest(config: bundle.model.config, positions: bundle.model.config.contextLength)
        // Attention is always captured (the `a` command shows it); the rest follows --capture.
        var spec = request.spec
        spec.kinds.formUnion([.pattern, .crossPattern])  // cross-attention: encoder–decoders only
        spec.layers = nil
        let session = try GenerationSession(
            model: bundle.model, tokenizer: bundle.tokenizer, promptIds: promptIds,
            settings: sampling.settings, capture: spec)
        if sampling.ignoreEos { session.suppressedTokens = [generator.endOfTextId] }
        let stepper = Stepper(
            session: session, tokenizer: bundle.tokenizer, listed: candidates,
            maxNewTokens: sampling.maxNewTokens, isEndOfText: generator.isEndOfText)
        let screen = StepperScreen(
            stepper: stepper, bundle: bundle, prompt: prompt,
            request: CaptureRequest(kinds: spec.kinds, layers: nil),
            painter: TerminalPainter(color: TerminalColor.detect()))
        screen.showStep()
        while let line = readLine() {
            if !screen.handle(line.trimmingCharacters(in: .whitespaces)) { break }
        }
        if let folder = tracing.trace {
            try screen.save(to: folder)
        }
    }
}

/// What the stepper shows: the library's `Stepper` decides what each command does; this prints it.
struct StepperScreen {
    let stepper: Stepper
    let bundle: ModelBundle
    let prompt: String
    let request: CaptureRequest
    let painter: TerminalPainter

    var session: GenerationSession { stepper.session }
    var listed: Int { stepper.listed }
    var tokenizer: any Tokenizer { bundle.tokenizer }

    func say(_ text: String) { print(text) }

    /// The KV cache after `positions` tokens: every layer keeps each position's key and value
    /// vectors (float32), so the next token computes only its own and reads the rest.
    static func cacheLine(positions: Int, config: TransformerConfig) -> String {
        let bytes = positions * config.layers * 2 * config.kvHeads * config.headSize * MemoryLayout<Float>.size
        let size = bytes < 1 << 20 ? String(format: "%.1f KB", Double(bytes) / 1024) : String(format: "%.1f MB", Double(bytes) / 1_048_576)
        // Short enough for an 80-column terminal.
        return "KV cache: keys and values of \(positions) position\(positions == 1 ? "" : "s") × \(config.layers) layers = \(size)"
    }

    /// Shows the text so far, the candidate table and the proposal.
    func showStep() {
        say("")
        // An encoder–decoder writes a new text: its decoder's tokens fill the context, the source is read once.
        let written = session.decoderTokens.count
        say(painter.bold("── step \(session.generatedIds.count + 1) · \(written)/\(session.contextLength) tokens ──"))
        say((session.decoderPrefix.isEmpty ? painter.dim(prompt) : painter.dim(prompt + "\n→ ")) + writtenText())
        let s = session.settings
        say(
            painter.dim(
                "temperature \(s.temperature)\(s.isGreedy ? " (greedy)" : "") · top-k \(s.topK == 0 ? "off" : String(s.topK)) · top-p \(s.topP == 1 ? "off" : String(s.topP)) · seed \(s.seed)"
            ))
        say(painter.dim(Self.cacheLine(positions: written, config: bundle.model.config)))
        let off = stepper.headsOff.sorted()
        if !off.isEmpty {
            say(
                painter.bold(
                    "heads switched off: \(off.map { "\($0.layer).\($0.head)" }.joined(separator: ", ")) (on L.H or on to switch back)"))
        }
        if session.isContextFull {
            say("The context window is full (\(session.contextLength) tokens): undo (u), save, or quit (q).")
            return
        }
        let proposal = session.preview()
        let kept = Dictionary(uniqueKeysWithValues: proposal.renormalised.map { ($0.id, $0.probability) })
        say("   #  token            logit   probability            after filters")
        for (index, candidate) in proposal.afterTemperature.prefix(listed).enumerated() {
            let piece = fitted(tokenizer.displayPiece(candidate.id), width: 14)
            let before = String(format: "%6.4f ", candidate.probability) + colouredBar(candidate.probability)
            let afterText: String
            if let p = kept[candidate.id] {
                afterText = String(format: "%6.4f ", p) + colouredBar(p)
            } else {
                afterText = painter.dim("cut")
            }
            let marker = candidate.id == proposal.chosen ? "▶" : " "
            say(
                marker + String(format: "%3d  ", index + 1) + piece + String(format: " %7.2f  ", candidate.logit) + before + "  "
                    + afterText)
        }
        let filters = "top-k leaves \(proposal.countAfterTopK), top-p leaves \(proposal.countAfterTopP)"
        let draw =
            proposal.randomDraw.map { String(format: "random draw %.4f", $0) }
            ?? proposal.marginToRunnerUp.map { String(format: "greedy, %.2f logits ahead of the runner-up", $0) } ?? "greedy"
        // Each line fits 80 columns.
        say(
            "next: \(painter.bold(tokenizer.displayPiece(proposal.chosen))) (p \(String(format: "%.4f", proposal.chosenProbability)), rank \(proposal.chosenRank); \(draw))"
        )
        say("      \(filters)")
        say(painter.dim("[Enter] take · 1-\(listed) pick · t TEXT type · temp/topk/topp/seed N · u undo"))
        say(painter.dim("a L H attention · off/on L.H · save DIR · q quit · ? help"))
    }

    /// The generated text in bold; an end-of-text token the learner took (decoding leaves special
    /// tokens out) is shown dimmed by its piece where it stands, so the text says why it restarted.
    func writtenText() -> String {
        var shown = "", segment: [Int] = []
        for id in session.generatedIds {
            guard stepper.isEndOfText(id) else {
                segment.append(id)
                continue
            }
            shown += painter.bold(tokenizer.decode(segment, skipSpecialTokens: true)) + painter.dim(tokenizer.displayPiece(id))
            segment = []
        }
        return shown + painter.bold(tokenizer.decode(segment, skipSpecialTokens: true))
    }

    func colouredBar(_ p: Float) -> String {
        let bar = TerminalPainter.bar(p, width: 12, ascii: painter.color == .none && ProcessInfo.processInfo.environment["TERM"] == "dumb")
        return painter.foreground(bar, Colormap.viridis.color(0.35 + 0.65 * p))
    }

    /// Handles one command; returns false to quit.
    func handle(_ line: String) -> Bool {
        do {
            switch StepperCommand(line) {
            case .take: taken(try stepper.take(session.sample()))
            case .pick(let number): taken(try stepper.take(stepper.pick(number)))
            case .quit: return false
            case .help:
                say(StepCommand.configuration.discussion)
                return true
            case .undo: say(session.undo() ? "undid the last token" : "nothing to undo")
            case .type(let text):
                let ids = try stepper.tokens(typing: text)
                say(
                    "\"\(text)\" is \(ids.count) token\(ids.count == 1 ? "" : "s"): \(ids.map { tokenizer.displayPiece($0) }.joined(separator: " | "))"
                )
                taken(try stepper.force(ids))
            case .set(let setting, let value): try stepper.set(setting, value)
            case .attention(let argument):
                let newest = try stepper.newestAttention(argument)
                showAttention(newest)
                if let cross = stepper.newestCrossAttention(layer: newest.layer, head: newest.head) { showCrossAttention(cross) }
                return true
            case .save(let folder):
                try save(to: folder)
                return true
            case .off(let argument):
                reportHeads(try stepper.switchHead(argument, off: true))
            case .on(let argument):
                reportHeads(try stepper.switchHead(argument, off: false))
            case .unknown(let text):
                say("unknown command \"\(text)\": type ? for the list of commands")
                return true
            }
        } catch let error as StepperError {
            switch error {
            case .limitReached(let limit):
                say(
                    "error: --max-new-tokens \(limit) reached: u undoes a step, q quits (start again with a larger --max-new-tokens to go on)"
                )
            case .attentionUsage, .noAttentionYet, .notListed, .headUsage:
                say("\(error)")
                return true  // nothing changed: the step is not shown again
            case .emptyText, .noTokens:
                say("\(error)")
            case .needsNumber, .invalidSetting:
                say("error: \(error)")
            }
        } catch {
            say("error: \(error)")
        }
        showStep()
        return true
    }

    /// What `off` / `on` did.
    func reportHeads(_ off: [Intervention.Head]) {
        say(
            off.isEmpty
                ? "every head is on again (the text so far was run again)"
                : "switched off (output zeroed): \(off.map { "\($0.layer).\($0.head)" }.joined(separator: ", "))\n"
                    + "(the text so far was run again; undo cannot go back past here)"
        )
    }

    func taken(_ endedText: Bool) {
        if endedText { say("(the model chose its end-of-text token: a natural place to stop)") }
    }

    /// An encoder–decoder's newest row of cross-attention: where in the source it looked.
    func showCrossAttention(_ weights: [Float]) {
        let source = session.promptIds
        say(painter.bold("cross-attention of the same token over the source (what the decoder read to choose the next word):"))
        let largest = weights.max() ?? 1
        for (position, weight) in weights.enumerated() where position < source.count {
            let label = fitted(tokenizer.displayPiece(source[position]), width: 14)
            let cell = painter.background(
                String(format: " %5.3f ", weight), Colormap.viridis.color(weight, low: 0, high: max(largest, 1e-6)))
            say(String(format: "%5d  ", position) + label + " " + cell + " " + TerminalPainter.bar(weight, width: 20))
        }
        if let best = weights.indices.max(by: { weights[$0] < weights[$1] }), best < source.count {
            say(
                painter.dim(
                    "strongest: \"\(tokenizer.displayPiece(source[best]))\" (\(String(format: "%.3f", weights[best]))), source position \(best)"
                ))
        }
    }

    func showAttention(_ newest: (layer: Int, head: Int, weights: [Float])) {
        let (layer, head, weights) = newest
        // The decoder's own tokens: an encoder–decoder's start token and what it wrote.
        let tokens = session.decoderTokens
        let K = weights.count
        let newestPiece = tokenizer.displayPiece(tokens[K - 1])
        say(painter.bold("attention of the newest token \"\(newestPiece)\" (query, position \(K - 1)) in layer \(layer), head \(head):"))
        say(painter.dim("key position · token · weight (colour: viridis, dark = 0, yellow = largest)"))
        let largest = weights.max() ?? 1
        for (position, weight) in weights.enumerated() {
            let label = fitted(tokenizer.displayPiece(tokens[position]), width: 14)
            let cell = painter.background(
                String(format: " %5.3f ", weight), Colormap.viridis.color(weight, low: 0, high: max(largest, 1e-6)))
            say(String(format: "%5d  ", position) + label + " " + cell + " " + TerminalPainter.bar(weight, width: 20))
        }
        if K > 1, weights[0] > 0.5 {
            say(
                painter.dim(
                    "note: most attention sits on the first token, an \"attention sink\" — heads park attention there when nothing else is relevant."
                ))
        }
    }

    func save(to folder: String) throws {
        let trace = Trace(session: session, prompt: prompt, source: bundle.source, request: request)
        try TraceFile.write(trace, to: URL(fileURLWithPath: folder))
        say("trace saved to \(folder) (\(trace.metadata.generatedIds.count) generated tokens, \(trace.tensors.count) tensors)")
    }
}
