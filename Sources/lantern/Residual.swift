import ArgumentParser
import Foundation
import Generation
import Rendering
import Tokenizers
import Tracing

struct ResidualCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "residual",
        abstract: "The residual stream: its size per layer, and which heads and MLPs push a token's logit.",
        discussion: """
            Every block adds what it computes to the residual stream, the running sum the
            model finally reads its prediction from. Lantern prints:
            - the stream's size ‖x‖₂ after the embeddings and after each block, at the
              chosen position (and, in the picture, at every position);
            - direct logit attribution: the chosen token's logit at that position split
              into what each component wrote — the token (and position) embedding, every
              head, every MLP — each read through the final norm with its scale frozen
              for the whole stream (as TransformerLens does). The parts add up to the
              logit. Positive parts push the token up, negative parts push it down.
            The token is the model's likeliest next token unless --token names another;
            the position is the last token unless --position picks one (0 is the first,
            as in every picture's token numbers).
            Decoders only (GPT-2, Llama families): an encoder's output head is not a
            linear read of its stream.

            Examples:
              lantern residual "Mia went to the park. Mia saw a"
              lantern residual "Mia saw a" --token " dog" --out output
              lantern residual "Once upon a time" --model stories260K.bin --json
              lantern residual --trace output/trace --position 2
                (a trace recorded with --capture +attn.z,+attn.out,+mlp.out,+resid_post)
            """)

    @OptionGroup var input: PromptOrTrace
    @OptionGroup var model: ModelOptions

    @Option(name: .long, parsing: .unconditional, help: "The token position to attribute, 0 for the first (default: the last).")
    var position: Int?

    @Option(name: .long, help: "The token whose logit is split: text that is exactly one token, e.g. \" the\" (default: the likeliest).")
    var token: String?

    @Option(name: .long, parsing: .unconditional, help: "How many of the largest parts to list (1 to 200).")
    var top: Int = 10

    @Flag(name: .long, help: "Print one JSON object (norms, every part's share, the logit) instead of text.")
    var json = false

    @Option(
        name: .long,
        help: ArgumentHelp("Also draw the norms and the attribution: a .png file, or a folder for residual.png.", valueName: "path"))
    var out: String?

    func validate() throws {
        guard (1...200).contains(top) else { throw ValidationError("--top \(top) is out of range: use 1 to 200") }
        if let position, position < 0 { throw ValidationError("--position \(position) is out of range: positions count from 0") }
    }

    func run() throws {
        let bundle: ModelBundle, trace: Trace?, ids: [Int]
        if let folder = input.traceFolder {
            let metadata = try TraceFile.readMetadata(folder)
            bundle = try model.load(tracedBy: metadata, for: "the residual view")
            trace = try TraceFile.read(folder, metadata: metadata)
            ids = metadata.tokens
        } else {
            bundle = try model.load()
            trace = nil
            ids = PromptEncoder.ids(for: input.prompt ?? "", tokenizer: bundle.tokenizer)
        }
        let tokenizer = bundle.tokenizer
        let tokenId = try token.map { try Self.singleToken($0, tokenizer: tokenizer) }
        let stream: ResidualStream
        if let trace, let folder = input.trace {
            stream = try ResidualStream(
                trace: trace, model: bundle.model, position: position, token: tokenId, folder: folder)
        } else {
            stream = try ResidualStream.run(model: bundle.model, tokens: ids, position: position, token: tokenId)
        }
        let pieces = stream.tokens.map { tokenizer.displayPiece($0) }
        if json {
            try printEncodable(ResidualReport(stream, pieces: pieces, tokenizer: tokenizer, model: bundle.source))
        } else {
            printReport(stream, pieces: pieces, tokenizer: tokenizer)
        }
        if let out {
            let url = try pictureURL(out, defaultName: "residual.png")
            let picture = try ResidualPicture.render(
                stream, pieces: pieces, tokenPiece: tokenizer.displayPiece(stream.attribution.token), heads: bundle.model.config.heads,
                model: bundle.source)
            try PNGWriter.write(picture, to: url)
            // After --json the path goes to standard error, so standard output stays one JSON object.
            if json { printError("residual picture: \(url.path)") } else { print("residual picture: \(url.path)") }
        }
    }

    /// The id of `text` when it is exactly one token.
    static func singleToken(_ text: String, tokenizer: any Tokenizer) throws -> Int {
        let ids = tokenizer.encode(text)
        guard ids.count == 1 else {
            let pieces = ids.map { tokenizer.displayPiece($0) }.joined(separator: " · ")
            throw ValidationError(
                "--token \"\(text)\" is \(ids.count) tokens (\(pieces)); give text that is exactly one token "
                    + "(most words need their leading space: \" dog\")")
        }
        return ids[0]
    }

    func printReport(_ stream: ResidualStream, pieces: [String], tokenizer: any Tokenizer) {
        let a = stream.attribution, p = a.position
        let piece = tokenizer.displayPiece(a.token)
        print(
            unindented(
                "residual stream at token \(p) (\(pieces[p]); the text is tokens 0–\(pieces.count - 1)): "
                    + "its size ‖x‖₂ after the embeddings, then after each block"))
        let sizes = stream.norms.map { String(format: "%.2f", $0[p]) }
        print(wrapped(sizes.joined(separator: " → ")))
        print("")
        let standing =
            a.rank == 1
            ? "the likeliest next token"
            : "rank \(a.rank); the likeliest is \(tokenizer.displayPiece(a.likeliest)) (\(probabilityText(a.likeliestProbability)))"
        print(
            unindented(
                "direct logit attribution of \(piece) at token \(p): probability \(probabilityText(a.probability)), \(standing)"))
        print(wrapped(a.breakdown))
        print("the \(min(top, a.shares.count)) largest parts (+ raises the token, − lowers it):")
        for share in a.shares.sorted(by: { abs($0.logit) > abs($1.logit) }).prefix(top) {
            print(String(format: "  %7.3f  ", share.logit).replacingOccurrences(of: "-", with: "−") + Self.describe(share.part))
        }
    }

    /// `line` wrapped to the terminal, later lines indented by two spaces.
    func unindented(_ line: String) -> String {
        TerminalWidth.wrap(line, width: TerminalWidth.columns(), indent: "  ").joined(separator: "\n")
    }

    /// `line` indented by two spaces and wrapped to the terminal, later lines by four.
    func wrapped(_ line: String) -> String {
        TerminalWidth.wrap(line, width: TerminalWidth.columns() - 2, indent: "  ").map { "  " + $0 }.joined(separator: "\n")
    }

    static func describe(_ part: DirectLogitAttribution.Part) -> String {
        switch part {
        case .tokenEmbedding: "token embedding"
        case .positionEmbedding: "position embedding"
        case .head(let l, let h): "layer \(l) head \(h)"
        case .attentionBias(let l): "layer \(l) attention output bias"
        case .mlp(let l): "layer \(l) MLP"
        }
    }
}

/// `lantern residual --json`: positions count from 0, like every picture's token numbers.
struct ResidualReport: Encodable {
    struct Share: Encodable {
        var name: String
        var logit: Float
    }
    var model: String
    var tokens: [Int]
    var pieces: [String]
    var position: Int
    var token: Int
    var tokenPiece: String
    var logit: Float
    /// The token's probability and rank (1 = likeliest) at the position; the likeliest token.
    var probability: Float
    var rank: Int
    var likeliest: Int
    var finalNormShift: Float
    var shares: [Share]
    /// `[layers + 1][positions]`: after the embeddings, then after each block.
    var norms: [[Float]]

    init(_ stream: ResidualStream, pieces: [String], tokenizer: any Tokenizer, model: String) {
        let a = stream.attribution
        self.model = model
        tokens = stream.tokens
        self.pieces = pieces
        position = a.position
        token = a.token
        tokenPiece = tokenizer.displayPiece(a.token)
        logit = a.logit
        probability = a.probability
        rank = a.rank
        likeliest = a.likeliest
        finalNormShift = a.constant
        shares = a.shares.map { Share(name: $0.part.name, logit: $0.logit) }
        norms = stream.norms
    }
}
