import ArgumentParser
import Foundation
import Generation
import Tracing
import ModelHub

struct FillCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fill",
        abstract: "Fill in the blanks: what a masked-language model (BERT) guesses for each [MASK].",
        discussion: """
            An encoder reads the whole text at once, so its guess for a [MASK] uses the
            words after the blank as well as before it — which a decoder, reading left to
            right, cannot. Write [MASK] where a word is hidden (several are allowed); each
            gets the model's most probable tokens. Needs a model with a masked-language
            head (BertForMaskedLM); sentence encoders such as all-MiniLM-L6-v2 have none
            (use `lantern embed`).

            Examples:
              lantern fill "The cat sat on the [MASK]." --model path/to/bert-base-uncased
              lantern fill "Paris is the [MASK] of [MASK]." --model path/to/bert --top 3
              lantern fill "The cat sat on the [MASK]." --model path/to/bert --json
              lantern fill "Mia [MASK] the red ball to Tom." --trace output/fill \\
                --capture +resid_post,+embed_ln
              lantern export --trace output/fill
            """)

    @Argument(help: "The text, with [MASK] where each hidden word goes.")
    var text: String

    @OptionGroup var model: ModelOptions
    @OptionGroup var tracing: TraceOptions

    @Option(name: .long, parsing: .unconditional, help: "How many guesses to show for each [MASK] (1 to 100).")
    var top = 5

    @Flag(name: .long, help: "Print {\"masks\": [{\"position\", \"candidates\": [{\"id\", \"piece\", \"probability\"}]}]}, best first.")
    var json = false

    func validate() throws {
        guard (1...100).contains(top) else { throw ValidationError("--top \(top) is out of range: use 1 to 100") }
    }

    func run() throws {
        let bundle = try model.load(defaultModel: BuiltInModel.encoder.name)
        // A trace records the one forward pass: checked (folder, budget) before any work.
        let request = try tracing.trace.map { folder in
            try TraceFile.checkDestination(URL(fileURLWithPath: folder))
            return try tracing.checkedRequest(
                config: bundle.model.config, positions: min(bundle.tokenizer.encode(text).count, bundle.model.config.contextLength))
        }
        let result = try MaskFilling.fill(
            text, model: bundle.model, tokenizer: bundle.tokenizer, top: top, capture: request?.spec ?? .nothing)
        if let folder = tracing.trace, let request {
            let trace = Trace(
                forward: result.tokens, records: result.records, tokenizer: bundle.tokenizer, config: bundle.model.config, prompt: text,
                source: bundle.source, request: request)
            try TraceFile.write(trace, to: URL(fileURLWithPath: folder))
            printError("trace saved to \(folder) (\(trace.tensors.count) tensors)")
        }
        if json {
            try printEncodable(["masks": result.masks])
            return
        }
        print("\(text)  (\(result.tokens.count) tokens, \(result.masks.count) [MASK])")
        for (index, mask) in result.masks.enumerated() {
            print("")
            print("[MASK] \(index + 1) of \(result.masks.count), token \(mask.position):")
            let width = max(8, mask.candidates.map(\.piece.count).max() ?? 8)
            for (rank, candidate) in mask.candidates.enumerated() {
                let bar = String(repeating: "█", count: Int((candidate.probability * 30).rounded()))
                let piece = candidate.piece + String(repeating: " ", count: max(0, width - candidate.piece.count))
                print(String(format: "  %2d  ", rank + 1) + piece + String(format: "  %6.2f%%  ", candidate.probability * 100) + bar)
            }
        }
    }
}
