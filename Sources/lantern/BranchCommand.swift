import ArgumentParser
import Foundation
import Generation
import Rendering
import Tracing

struct BranchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "branch",
        abstract: "What if the model had picked another token? Fork a generation and compare both continuations.",
        discussion: """
            Lantern generates from the prompt (the main line), then starts again with the
            same settings and seed, keeps the first --at generated tokens, forces another
            token in place of the next one and lets the model continue. Both continuations
            are printed side by side with the probability of every token, and saved as JSON
            (--out). --at 0 forces the first generated token.

            The forced token is one you type (--token TEXT: a single token; mind the
            leading space most words carry, e.g. " the"), an id (--token-id N), or the K-th
            most likely token there (--candidate K; 1 = the most likely).

            Examples:
              lantern branch "Once upon a time" --model stories260K.bin \\
                  --at 3 --candidate 2 --greedy
              lantern branch "Once upon a time" --model stories260K.bin \\
                  --at 3 --token " the" --temperature 0.8 --seed 7
            """)

    @Argument(help: "The prompt (may be empty).")
    var prompt: String

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions

    @Option(
        name: .long, parsing: .unconditional,
        help: "How many generated tokens both lines share before the fork (0 = fork at the first one).")
    var at: Int

    @Option(name: .long, help: ArgumentHelp("The token to force, as text (it must be one token).", valueName: "text"))
    var token: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("The token to force, by id.", valueName: "id"))
    var tokenId: Int?

    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp("Force the K-th most likely token at the fork (1 = the most likely).", valueName: "K"))
    var candidate: Int?

    @Option(name: .long, help: ArgumentHelp("Where to save both continuations as JSON.", valueName: "file"))
    var out: String = "output/branch.json"

    @Flag(name: .long, help: "Print the saved JSON record instead of the side-by-side view.")
    var json = false

    @Flag(
        name: .long,
        help:
            "Also draw the branch as a tree (shared tokens, then the fork; edges labelled with probabilities), to output/branch-tree.png unless --graph-out says otherwise."
    )
    var graph = false

    @Option(name: .long, help: ArgumentHelp("Where to write the tree (implies --graph): a .png, .svg or .dot file.", valueName: "file"))
    var graphOut: String?

    func validate() throws {
        guard [token != nil, tokenId != nil, candidate != nil].filter({ $0 }).count == 1 else {
            throw ValidationError("say which token to force with exactly one of --token TEXT, --token-id N or --candidate K")
        }
        guard at >= 0 else { throw ValidationError("--at \(at) is out of range: use 0 or more (0 forces the first generated token)") }
        if [".png", ".svg", ".dot"].contains(where: out.lowercased().hasSuffix) {
            throw ValidationError("--out saves the two continuations as JSON; the tree picture goes to --graph-out \(out)")
        }
        guard at < sampling.maxNewTokens else {
            throw ValidationError(
                "--at \(at) must be below --max-new-tokens \(sampling.maxNewTokens): the forced token is one of the generated ones")
        }
        if let candidate, candidate < 1 {
            throw ValidationError("--candidate \(candidate) is out of range: use 1 (the most likely) or more")
        }
        if token == "" { throw ValidationError("--token needs some text") }
        if sampling.ignoreEos { throw ValidationError("branch does not take --ignore-eos: its branches end where the model ends them") }
    }

    func run() throws {
        let bundle = try model.load()
        let choice: BranchChoice
        if let candidate {
            choice = .candidate(candidate)
        } else if let tokenId {
            let pieces = bundle.tokenizer.vocabularySize
            guard (0..<pieces).contains(tokenId) else {
                throw ValidationError("--token-id \(tokenId) is out of range: this model's tokenizer has ids 0 to \(pieces - 1)")
            }
            choice = .token(tokenId)
        } else {
            choice = .text(token ?? "")
        }
        let generator = Generator(model: bundle.model, tokenizer: bundle.tokenizer)
        let record: BranchRecord
        do {
            record = try BranchRecord.generate(
                generator: generator, prompt: prompt, settings: sampling.settings,
                maxNewTokens: sampling.maxNewTokens, stopStrings: sampling.stop,
                at: at, choice: choice, source: bundle.source)
            try record.write(to: URL(fileURLWithPath: out))
        } catch let error as BranchError {
            throw CommandFailure(description: error.description(naming: Self.flag))
        }
        if json {
            print(String(decoding: try record.jsonData(), as: UTF8.self))
        } else {
            show(record, encoderDecoder: bundle.model.config.isEncoderDecoder)
        }
        printError("branch saved to \(out)")
        if graph || graphOut != nil {
            let path = graphOut ?? "output/branch-tree.png"
            let url = URL(fileURLWithPath: path)
            let format = GraphFormat(rawValue: url.pathExtension.lowercased()) ?? .png
            try BranchGraph.write(record, as: format, to: url)
            printError("branch tree saved to \(path)")
        }
    }

    /// The flag that sets each branch setting.
    static func flag(_ setting: BranchSetting) -> String {
        switch setting {
        case .fork: "--at"
        case .candidate: "--candidate"
        case .token: "--token"
        case .maxNewTokens: "--max-new-tokens"
        case .output: "--out"
        }
    }

    func show(_ record: BranchRecord, encoderDecoder: Bool) {
        let f = record.fork
        print("prompt  \"\(record.prompt)\" (\(record.promptIds.count) tokens)")
        let p = { (value: Float) in String(format: "%.4f", value) }
        print(
            "fork    at step \(f.at + 1): the main line took \"\(f.originalPiece)\" (p \(p(f.originalProbability)), rank \(f.originalRank)); "
                + "the branch forces \"\(f.forcedPiece)\" (p \(p(f.forcedProbability)), rank \(f.forcedRank))")
        if !f.forcedWithinFilters {
            print(
                record.sampling.isGreedy
                    ? "        (greedy decoding could never have picked it: it always takes the most likely token)"
                    : "        (top-k / top-p cut it: sampling with these settings could never have picked it)")
        }
        if f.forcedId == f.originalId {
            print("        (the forced token is the one the main line took; the lines differ only in later random draws)")
        }
        print("")
        let width = 14
        print("  step  " + fitted("main", width: width) + "       p    " + fitted("branch", width: width) + "       p")
        let count = max(record.main.tokens.count, record.branch.tokens.count)
        for index in 0..<count {
            func cell(_ line: BranchLine) -> String {
                guard index < line.tokens.count else { return fitted("", width: width) + "        " }
                let token = line.tokens[index]
                return fitted(token.piece, width: width) + String(format: "  %6.4f", token.probability)
            }
            let marker = index == f.at ? "▶" : " "
            let note = index < record.branch.tokens.count && record.branch.tokens[index].forced ? "  forced" : ""
            let line = marker + String(format: "%5d  ", index + 1) + cell(record.main) + "    " + cell(record.branch) + note
            print(line.replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression))
        }
        print("")
        // An encoder–decoder writes a new text from the prompt rather than continuing it.
        let lead = encoderDecoder ? record.prompt + " → " : record.prompt
        print("main    " + lead + record.main.text)
        print("        [stopped: \(record.main.stopReason.rawValue)]")
        print("branch  " + lead + record.branch.text)
        print("        [stopped: \(record.branch.stopReason.rawValue)]")
    }
}
