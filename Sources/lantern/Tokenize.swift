import ArgumentParser
import Foundation
import Generation
import ModelHub
import Tensors
import Tokenizers

struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Show how a model's tokenizer splits text: each token's id and piece.",
        discussion: """
            Spaces in pieces are shown as ␣, newlines as ↵, tabs as ⇥. --tokenizer alone
            needs no model: a folder of tokenizer files (e.g. from `lantern
            train-tokenizer`), a tokenizer.json or a llama2.c tokenizer.bin.

            Examples:
              lantern tokenize "Mia found the red ball."
              lantern tokenize "Hello world" --model path/to/gpt2
              lantern tokenize "Hello world" --model path/to/gpt2 --json
              lantern tokenize "Hello world" --tokenizer output/tok4k
            """)

    @Argument(help: "The text to tokenize.")
    var text: String

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A model folder, llama2.c .bin checkpoint or model name whose tokenizer to use (see `lantern models`). Default, when --tokenizer is not given either: the built-in lantern-tiny.",
            valueName: "path|name"))
    var model: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The tokenizer: a folder of tokenizer files, a tokenizer.json or a tokenizer.bin. Without --model no weights are loaded.",
            valueName: "path"))
    var tokenizer: String?

    @Option(name: .long, parsing: .unconditional, help: "CPU threads for the engine when a model is loaded (default: every core).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(name: .long, help: "Print {\"ids\": [...], \"pieces\": [...]} instead of a table.")
    var json = false

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads \(threads) is out of range: use 1 to 256") }
    }

    func run() throws {
        let tokenizer = try loadTokenizer()
        let ids = tokenizer.encode(text)
        let pieces = ids.map { tokenizer.displayPiece($0) }
        if json {
            try printJSON(["ids": ids, "pieces": pieces])
            return
        }
        let width = max(2, ids.map { String($0).count }.max() ?? 2)
        print("\(ids.count) tokens")
        for (index, (id, piece)) in zip(ids, pieces).enumerated() {
            let padded = String(repeating: " ", count: width - String(id).count) + String(id)
            print("\(String(format: "%4d", index))  \(padded)  \(piece)")
        }
    }

    /// The model's tokenizer (as every model command loads it), or the one --tokenizer names alone.
    private func loadTokenizer() throws -> any Tokenizer {
        // No --model and no --tokenizer: the built-in model's tokenizer, as every model command.
        if model != nil || tokenizer == nil {
            Parallelism.setThreads(threads)
            return try ModelBundle.load(model: ModelHub.resolveModelArgument(model ?? BuiltInModel.name), tokenizer: tokenizer).tokenizer
        }
        let url = URL(fileURLWithPath: (tokenizer! as NSString).expandingTildeInPath)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) else {
            throw TokenizerError.fileNotFound(path: url.path)
        }
        if isFolder.boolValue { return try TokenizerLoader.load(folder: url) }
        if url.pathExtension == "json" { return try TokenizerLoader.load(tokenizerJSON: url) }
        return try Llama2cTokenizer.load(url)
    }
}
