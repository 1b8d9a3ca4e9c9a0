import ArgumentParser
import Foundation
import Generation
import ModelHub
import Rendering
import Tensors
import Tokenizers
import Tracing
import Transformer

/// `lantern embeddings`: the token-embedding table seen two ways, as PNG pictures.
struct EmbeddingsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embeddings",
        abstract: "Draw token embeddings: a cosine-similarity heatmap and a 2-D PCA scatter.",
        discussion: """
            Before any layer runs, each token becomes one row of the model's embedding
            table: a vector of C numbers (C is the model's width). Two pictures:
              embeddings-similarity.png   the cosine similarity of every pair of the
                                          prompt's tokens (+1 same direction, 0 unrelated,
                                          −1 opposite)
              embeddings-pca.png          the chosen tokens projected onto the two
                                          directions along which they differ most (PCA)
            The scatter shows the prompt's tokens, or the words given with --tokens (each
            word is tokenized and its first token is used).

            Pictures go into output/ unless --out names a folder; their paths are printed.

            Examples:
              lantern embeddings "Once upon a time there was a cat" --model stories15M
              lantern embeddings "the cat" --model gpt2 \\
                --tokens " cat, dog, horse, red, blue, green, one, two, three"
              lantern embeddings --trace output/run
            """)

    @OptionGroup var input: PromptOrTrace

    @OptionGroup var model: ModelOptions

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Comma-separated words for the PCA scatter instead of the prompt's tokens (2 or more; each word's first token).",
            valueName: "word1,word2,..."))
    var tokens: String?

    @Option(name: .long, help: ArgumentHelp("The folder to write into. Default: output/.", valueName: "dir"))
    var out: String?

    @Flag(
        name: .long,
        help:
            "Also print the numbers as one JSON object: the prompt's pieces and their cosine-similarity matrix, the scatter's tokens and theirs (picture paths go to standard error)."
    )
    var json = false

    /// Above this the heatmap's labels thin out and the scatter becomes a cloud of text.

    func validate() throws {
        if input.trace != nil, model.wasGiven || tokens != nil {
            throw ValidationError("--trace draws the trace's own tokens: leave out --model, --tokenizer and --tokens")
        }
        if let tokens {
            let words = Self.words(tokens)
            guard words.count >= 2 else {
                throw ValidationError("--tokens needs at least two words separated by commas, e.g. --tokens \"cat,dog,red\"")
            }
            guard words.count <= EmbeddingSelection.maximumTokens else {
                throw ValidationError("--tokens has \(words.count) words: use at most \(EmbeddingSelection.maximumTokens)")
            }
        }
        try refuseStandardOutput(out)
        if let out, out.lowercased().hasSuffix(".png") {
            throw ValidationError(
                "--out names a folder (two pictures are written): drop the file name, e.g. --out \(URL(fileURLWithPath: out).deletingLastPathComponent().path)"
            )
        }
    }

    /// The --tokens list: split on commas, empty entries dropped; spaces inside are kept
    /// (" cat" and "cat" are different GPT-2 tokens).
    static func words(_ list: String) -> [String] {
        list.split(separator: ",", omittingEmptySubsequences: true).map(String.init).filter {
            !$0.trimmingCharacters(in: .whitespaces).isEmpty
        }
    }

    func run() throws {
        let selection: EmbeddingSelection
        if let folder = input.traceFolder {
            selection = try EmbeddingSelection(trace: folder)
        } else {
            selection = try EmbeddingSelection(prompt: input.prompt ?? "", bundle: try model.load(), words: tokens.map(Self.words))
        }
        try write(selection.similarityPicture, selection.pcaPicture)
        if json { try printEncodable(selection.numbers) }
    }

    func write(_ heatmap: Heatmap, _ scatter: ScatterPlot) throws {
        let folder = URL(fileURLWithPath: out ?? "output", isDirectory: true)
        let similarityURL = folder.appendingPathComponent("embeddings-similarity.png")
        let pcaURL = folder.appendingPathComponent("embeddings-pca.png")
        try PNGWriter.write(try heatmap.render(), to: similarityURL)
        try PNGWriter.write(try scatter.render(), to: pcaURL)
        // With --json, stdout holds only the JSON object.
        for url in [similarityURL, pcaURL] { if json { printError(url.path) } else { print(url.path) } }
    }

}
