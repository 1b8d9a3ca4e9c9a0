import ArgumentParser
import Foundation
import Generation
import ModelHub
import Rendering
import Transformer

struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Turn sentences into vectors with an encoder and show how alike they are.",
        discussion: """
            Each sentence runs through the encoder alone; its tokens' last hidden vectors
            are pooled into one vector (as the model folder's sentence-transformers files
            say: all-MiniLM-L6-v2 takes the mean and scales it to length 1; a folder
            without them gets the same, and is told so). Sentences that mean alike point
            alike: the table and the heatmap show the cosine similarity of every pair (1:
            same direction).

            Examples:
              lantern download all-minilm-l6-v2
              lantern embed "A cat sat on the mat." "A kitten rested on the rug." \\
                "Stocks fell." --model all-minilm-l6-v2
              lantern embed "one" "two" --model all-minilm-l6-v2 --out slides/sim.png
              lantern embed "one" "two" --model all-minilm-l6-v2 --json
            """)

    @Argument(help: "The sentences (one or more, each in quotes).")
    var sentences: [String] = []

    @OptionGroup var model: ModelOptions
    @OptionGroup var output: PictureOutput

    @Flag(
        name: .long,
        help: "Print {\"embeddings\": [[…], …], \"cosine\": [[…], …]} instead of the table (and write no picture unless --out is given).")
    var json = false

    func validate() throws {
        guard !sentences.isEmpty else {
            throw ValidationError("give at least one sentence, e.g. lantern embed \"A cat sat.\" \"A dog ran.\"")
        }
    }

    func run() throws {
        let bundle = try model.load(defaultModel: BuiltInModel.encoder.name)
        let pooling = try SentencePooling.load(folder: URL(fileURLWithPath: bundle.source))
        let result = try SentenceEmbeddings.embed(sentences, model: bundle.model, tokenizer: bundle.tokenizer, pooling: pooling)
        for (sentence, cut) in zip(sentences, result.truncated) where cut {
            printError("note: \"\(shortened(sentence, 40))\" is longer than the model reads; only its first tokens were used")
        }
        if json {
            try printJSON(["embeddings": result.vectors, "cosine": result.cosine, "pooling": pooling.source])
            if output.out == nil { return }
        } else {
            printTable(result, pooling: pooling)
        }
        let url = try output.url(defaultName: "sentence-similarity.png")
        let labels = sentences.enumerated().map { "\($0.offset + 1) \(shortened($0.element, 28))" }
        var map = Heatmap(
            values: result.cosine.flatMap { $0 }, rows: sentences.count, cols: sentences.count, rowLabels: labels, columnLabels: labels,
            title: "Sentence embeddings: cosine similarity of every pair",
            subtitle:
                "\(URL(fileURLWithPath: bundle.source).lastPathComponent) · \(pooling.mode.rawValue) pooling\(pooling.normalizes ? ", normalised" : "") · one vector per sentence",
            scale: .diverging(limit: 1))
        map.rowAxis = "sentence ↓"
        map.columnAxis = "sentence →"
        map.colorBarTitle = "cosine"
        map.notes = ["red: pointing the same way (+1, the diagonal) · white: unrelated (0) · blue: opposite (−1)"]
        try PNGWriter.write(try map.render(), to: url)
        if !json { print(url.path) }
    }

    private func printTable(_ result: SentenceEmbeddings, pooling: SentencePooling) {
        let count = result.sentences.count
        print(
            "\(count) sentence\(count == 1 ? "" : "s") → vectors of \(result.vectors.first?.count ?? 0) (\(pooling.mode.rawValue) pooling\(pooling.normalizes ? ", normalised" : ""))"
        )
        print("pooling: \(pooling.source)")
        for (index, sentence) in result.sentences.enumerated() {
            print(String(format: "%3d  ", index + 1) + "\(shortened(sentence, 58))  (\(result.tokenCounts[index]) tokens)")
        }
        guard count > 1 else { return }
        print("")
        // The table fits 80 columns: 3 decimals up to 10 sentences, 2 up to 12; beyond that the
        // picture (and --json) carry every pair and the terminal gets the closest ones.
        if let (cell, decimals) = count <= 10 ? (7, 3) : count <= 12 ? (6, 2) : nil {
            print("cosine similarity:")
            print("     " + (1...count).map { String(format: "%\(cell)d", $0) }.joined())
            for (index, row) in result.cosine.enumerated() {
                print(String(format: "%3d  ", index + 1) + row.map { String(format: "%\(cell).\(decimals)f", $0) }.joined())
            }
        } else {
            print("cosine similarity: \(count) × \(count), too wide to print here; see the picture or --json")
        }
        let pairs = result.cosine.indices.flatMap { i in ((i + 1)..<count).map { (i, $0, result.cosine[i][$0]) } }
        let closest = pairs.sorted { $0.2 > $1.2 }.prefix(count <= 12 ? 1 : 5)
        for (rank, (i, j, value)) in closest.enumerated() {
            print("\(rank == 0 ? "closest pair" : "next closest"): \(i + 1) and \(j + 1) (\(String(format: "%.3f", value)))")
        }
    }

    private func shortened(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
