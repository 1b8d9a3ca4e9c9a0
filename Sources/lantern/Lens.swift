import ArgumentParser
import Foundation
import Generation
import Rendering
import Tokenizers
import Tracing

struct LensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lens",
        abstract: "The logit lens: what the model would predict if it stopped after each layer.",
        discussion: """
            Lantern reads the residual stream at every position after the embeddings
            ("embed") and after each layer, applies the model's final norm and unembedding,
            and shows the most likely next tokens with their probabilities. The last
            layer's row is the model's real prediction. A * marks a token that is the one
            that actually comes next.

            Examples:
              lantern lens "Once upon a time, there was a" --model stories260K.bin
              lantern lens "The Eiffel Tower is in" --model path/to/gpt2 --top 3
              lantern lens --trace output/trace --model stories260K.bin --json
              lantern lens "Once upon a time" --model stories260K.bin --png
            --png also draws the grid as a picture (output/lens.png, or the file or folder
            given with --out): each cell shows the top token, coloured by its probability;
            its path is printed after the grid. A trace needs the residual stream:
              lantern generate ... --trace DIR --capture +resid_post
            """)

    @Argument(help: "The prompt (leave out with --trace).")
    var prompt: String?

    @OptionGroup var model: ModelOptions

    @Option(name: .long, parsing: .unconditional, help: "How many tokens to show per cell (1 to 20).")
    var top: Int = 1

    @Option(
        name: [.customLong("trace"), .customLong("from-trace")],
        help: ArgumentHelp(
            "Read the residual stream from this saved trace instead of running a prompt (it needs resid_post).", valueName: "dir"))
    var fromTrace: String?

    @Flag(name: .long, help: "Print one JSON object (tokens, pieces, and per layer and position the top tokens) instead of a grid.")
    var json = false

    @Flag(name: .long, help: "Also draw the grid as a PNG picture (top token per cell, coloured by its probability).")
    var png = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Where the picture goes (implies --png): a .png file, or a folder for lens.png. Default: output/.", valueName: "file|dir"))
    var out: String?

    func validate() throws {
        guard (1...20).contains(top) else { throw ValidationError("--top \(top) is out of range: use 1 to 20") }
        switch (prompt, fromTrace) {
        case (nil, nil): throw ValidationError("give a prompt, or a saved trace with --trace DIR")
        case (.some, .some): throw ValidationError("give a prompt or --trace, not both")
        default: break
        }
    }

    func run() throws {
        let lens: LogitLens
        let bundle: ModelBundle
        if let folder = fromTrace {
            let metadata = try TraceFile.readMetadata(URL(fileURLWithPath: folder))
            // The lens unembeds with the traced model's own final norm and table, unless --model names another.
            bundle = try model.load(tracedBy: metadata, for: "the lens")
            let names = Set(metadata.tensors.map(\.name)).intersection(LogitLens.requiredRecords(config: bundle.model.config))
            let trace = try TraceFile.read(URL(fileURLWithPath: folder), metadata: metadata, names: names)
            lens = try LogitLens(trace: trace, model: bundle.model, top: top, folder: folder)
        } else {
            bundle = try model.load()
            let ids = PromptEncoder.ids(for: prompt ?? "", tokenizer: bundle.tokenizer)
            lens = try LogitLens.run(model: bundle.model, tokens: ids, top: top)
        }
        let tokenizer = bundle.tokenizer
        if json {
            try printEncodable(LensReport(lens, tokenizer: tokenizer))
        } else {
            printGrid(lens, tokenizer: tokenizer)
        }
        if png || out != nil {
            let url = try writePicture(lens, tokenizer: tokenizer, source: bundle.source)
            // After --json the path goes to stderr, so stdout stays one JSON object.
            if json {
                FileHandle.standardError.write(Data((url.path + "\n").utf8))
            } else {
                print(url.path)
            }
        }
    }

    /// Draws the lens as a layers × positions picture and writes it; returns where.
    func writePicture(_ lens: LogitLens, tokenizer: any Tokenizer, source: String) throws -> URL {
        var text = prompt ?? ""
        if let folder = fromTrace, let metadata = try? TraceFile.readMetadata(URL(fileURLWithPath: folder)) {
            text = metadata.prompt
        }
        let picture = LensPicture(lens: lens, piece: { tokenizer.displayPiece($0) }, model: source, prompt: text)
        let url = try pictureURL(out, defaultName: "lens.png")
        try PNGWriter.write(try picture.render(), to: url)
        return url
    }

    /// Layers down, positions across, in blocks of positions that fit the terminal.
    func printGrid(_ lens: LogitLens, tokenizer: any Tokenizer) {
        let labelWidth = 7, pieceWidth = 9, cellWidth = pieceWidth + 5
        let columns = Int(ProcessInfo.processInfo.environment["COLUMNS"] ?? "") ?? 120
        let perBlock = max(1, (columns - labelWidth) / (cellWidth + 2))
        let N = lens.tokens.count
        func row(_ label: String, _ cells: [String]) -> String {
            (fitted(label, width: labelWidth) + "  " + cells.joined(separator: "  "))
                .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        print(
            "logit lens over \(N) tokens: top \(lens.top == 1 ? "token" : "\(lens.top) tokens") and probability after each layer (* = the actual \(lens.predictsNextToken ? "next token" : "token at that position"))"
        )
        for blockStart in stride(from: 0, to: N, by: perBlock) {
            let positions = Array(blockStart..<min(N, blockStart + perBlock))
            print("")
            print(row("pos", positions.map { fitted(String($0), width: cellWidth) }))
            print(row("input", positions.map { fitted(tokenizer.displayPiece(lens.tokens[$0]), width: cellWidth) }))
            for layer in lens.layers {
                for rank in 0..<lens.top {
                    let label = rank == 0 ? (layer.layer < 0 ? "embed" : String(layer.layer)) : ""
                    print(
                        row(
                            label,
                            positions.map { position in
                                let cell = layer.cells[position]
                                guard rank < cell.top.count else { return fitted("", width: cellWidth) }
                                let prediction = cell.top[rank]
                                let hit = position + 1 < N && prediction.id == lens.tokens[position + 1]
                                return fitted(tokenizer.displayPiece(prediction.id), width: pieceWidth) + (hit ? "*" : " ")
                                    + String(format: "%4.2f", prediction.probability)
                            }))
                }
            }
            print(
                row(
                    "next",
                    positions.map { position in
                        fitted(position + 1 < N ? tokenizer.displayPiece(lens.tokens[position + 1]) : "", width: cellWidth)
                    }))
        }
    }
}

/// What `lantern lens --json` prints: the lens with every id's piece beside it.
struct LensReport: Encodable {
    struct Prediction: Encodable {
        var id: Int, piece: String, probability: Float
    }
    struct Cell: Encodable {
        var top: [Prediction]
        var nextTokenProbability: Float?
        var nextTokenRank: Int?
    }
    struct Layer: Encodable {
        var layer: Int, record: String, cells: [Cell]
    }

    var tokens: [Int]
    var pieces: [String]
    var top: Int
    var layers: [Layer]

    init(_ lens: LogitLens, tokenizer: any Tokenizer) {
        tokens = lens.tokens
        pieces = lens.tokens.map { tokenizer.displayPiece($0) }
        top = lens.top
        layers = lens.layers.map { layer in
            Layer(
                layer: layer.layer, record: layer.record,
                cells: layer.cells.map { cell in
                    Cell(
                        top: cell.top.map { Prediction(id: $0.id, piece: tokenizer.displayPiece($0.id), probability: $0.probability) },
                        nextTokenProbability: cell.nextTokenProbability, nextTokenRank: cell.nextTokenRank)
                })
        }
    }
}
