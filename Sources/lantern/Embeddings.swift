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
    static let maximumTokens = 64

    func validate() throws {
        if input.trace != nil, model.wasGiven || tokens != nil {
            throw ValidationError("--trace draws the trace's own tokens: leave out --model, --tokenizer and --tokens")
        }
        if let tokens {
            let words = Self.words(tokens)
            guard words.count >= 2 else {
                throw ValidationError("--tokens needs at least two words separated by commas, e.g. --tokens \"cat,dog,red\"")
            }
            guard words.count <= Self.maximumTokens else {
                throw ValidationError("--tokens has \(words.count) words: use at most \(Self.maximumTokens)")
            }
        }
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
        if let folder = input.traceFolder { return try runFromTrace(folder) }
        let prompt = input.prompt ?? ""
        let bundle = try model.load()
        let table = bundle.model.tokenEmbeddingTable
        let C = table.shape[1]
        let tok = bundle.tokenizer
        let name = URL(fileURLWithPath: bundle.source).lastPathComponent
        func vector(_ id: Int) -> [Float] { Array(table.scalars[(id * C)..<((id + 1) * C)]) }

        let ids = PromptEncoder.ids(for: prompt, tokenizer: tok)
        guard ids.count <= Self.maximumTokens else {
            throw ValidationError("the prompt is \(ids.count) tokens: use at most \(Self.maximumTokens) so every token keeps its label")
        }
        let heatmap = EmbeddingPicture.similarity(
            vectors: ids.map(vector), pieces: ids.map { tok.displayPiece($0) },
            model: name, prompt: prompt)

        // The scatter's tokens: each distinct one once, so no two labels sit on the same point.
        // A --tokens word that is split into several pieces is labelled "piece ← word".
        var chosen: [(id: Int, label: String)] = []
        if let tokens {
            for word in Self.words(tokens) {
                let encoded = tok.encode(word).filter { $0 != tok.beginningOfText }
                guard let first = encoded.first else {
                    throw ValidationError("--tokens: \"\(word)\" gives no token with this tokenizer; choose another word")
                }
                let piece = tok.displayPiece(first)
                chosen.append((first, encoded.count > 1 ? "\(piece) ← \(word)" : piece))
            }
        } else {
            chosen = ids.map { ($0, tok.displayPiece($0)) }
        }
        var seen = Set<Int>()
        chosen = chosen.filter { seen.insert($0.id).inserted }
        guard chosen.count >= 2 else {
            throw ValidationError(
                "the PCA picture needs at least two different tokens, and there \(chosen.count == 1 ? "is one" : "are none"): "
                    + "use a longer prompt or --tokens \"word1,word2,...\"")
        }
        let scatter = EmbeddingPicture.pca(
            vectors: chosen.map { vector($0.id) }, pieces: chosen.map(\.label),
            model: name, width: C)

        try write(heatmap, scatter)
        if json {
            try printSimilarities(
                pieces: ids.map { tok.displayPiece($0) }, vectors: ids.map(vector),
                tokens: chosen.map(\.label), tokenVectors: chosen.map { vector($0.id) })
        }
    }

    /// `{"pieces", "similarity" [P][P], "tokens", "token_similarity" [Q][Q]}`, cosines rounded to 4 places.
    func printSimilarities(pieces: [String], vectors: [[Float]], tokens: [String], tokenVectors: [[Float]]) throws {
        func matrix(_ vectors: [[Float]]) -> [[Double]] {
            let flat = EmbeddingMath.cosineMatrix(vectors), P = vectors.count
            return (0..<P).map { i in (0..<P).map { j in (Double(flat[i * P + j]) * 10_000).rounded() / 10_000 } }
        }
        try printJSON(["pieces": pieces, "similarity": matrix(vectors), "tokens": tokens, "token_similarity": matrix(tokenVectors)])
    }

    /// The pictures from a trace's `embed` record (`[position, C]`): the prompt's tokens.
    func runFromTrace(_ folder: URL) throws {
        let metadata = try TraceFile.readMetadata(folder)
        let embed = try TraceFile.read(folder, metadata: metadata, names: ["embed"]).tensor("embed", folder: folder.path)
        let C = embed.shape[1]
        let count = min(metadata.promptIds.count, embed.shape[0], Self.maximumTokens)
        let ids = Array(metadata.promptIds.prefix(count)), pieces = Array(metadata.pieces.prefix(count))
        let vectors = (0..<count).map { Array(embed.scalars[($0 * C)..<(($0 + 1) * C)]) }
        let name = URL(fileURLWithPath: metadata.model.source).lastPathComponent
        let heatmap = EmbeddingPicture.similarity(vectors: vectors, pieces: pieces, model: name, prompt: metadata.prompt)
        var seen = Set<Int>()
        let distinct = (0..<count).filter { seen.insert(ids[$0]).inserted }
        guard distinct.count >= 2 else {
            throw ValidationError("the trace's prompt has fewer than two different tokens: the PCA picture needs at least two")
        }
        let scatter = EmbeddingPicture.pca(
            vectors: distinct.map { vectors[$0] }, pieces: distinct.map { pieces[$0] },
            model: name, width: C)
        try write(heatmap, scatter)
        if json {
            try printSimilarities(
                pieces: pieces, vectors: vectors, tokens: distinct.map { pieces[$0] },
                tokenVectors: distinct.map { vectors[$0] })
        }
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
