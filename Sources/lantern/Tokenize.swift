import ArgumentParser
import Foundation
import Generation
import Tokenizers

struct Tokenize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show how a model's tokenizer splits text: each token's id and piece.",
        discussion: """
        Spaces in pieces are shown as ␣, newlines as ↵, tabs as ⇥.

        Examples:
          lantern tokenize "Hello world" --model path/to/gpt2
          lantern tokenize "Hello world" --model path/to/gpt2 --json
        """)

    @Argument(help: "The text to tokenize.")
    var text: String

    @OptionGroup var model: ModelOptions

    @Flag(name: .long, help: "Print {\"ids\": [...], \"pieces\": [...]} instead of a table.")
    var json = false

    func run() throws {
        let bundle = try model.load()
        let ids = bundle.tokenizer.encode(text)
        let pieces = ids.map { bundle.tokenizer.displayPiece($0) }
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
}
