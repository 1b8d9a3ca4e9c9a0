import ArgumentParser
import Foundation
import Generation
import Rendering
import Tracing

struct HeadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heads",
        abstract: "Score every attention head: entropy, previous-token, first-token sink and induction.",
        discussion: """
            Two inputs go through the model, one forward pass each:
            - the prompt: entropy (nats, mean over query rows; attention spread
              evenly over i+1 keys gives ln(i+1), over all N keys of an encoder
              ln N), prev-token (mean attention from position i to i-1) and sink
              (mean attention to position 0, from positions 1 and on);
            - random sequences: the beginning-of-text token, then --length random
              tokens, then the same tokens again (--sequences of them, drawn with
              --seed). prev (random) is the previous-token score there; induction is
              the mean attention from each token of the second copy to the token
              that followed its first occurrence. An encoder also gets next
              (random): attention from i to i+1, which a decoder's mask forbids.
            Labels: previous-token when prev (random) > 0.5 (random tokens mean nothing, so
            such a head looks one step back whatever the text), next-token likewise,
            induction when induction > 0.4, first-token sink when sink > 0.6. A head may
            have several labels or none.

            --repeat TEXT measures the last two columns on TEXT instead: the
            beginning-of-text token, TEXT's tokens, and the same tokens again. A small
            model may copy only text like its training data, so a head can pass on TEXT and
            not on random tokens; the labels then describe the heads on that text, not in
            general.

            Examples:
              lantern heads --model stories260K.bin
              lantern heads --model path/to/gpt2 --prompt "The cat sat." --json
              lantern heads --out output          (also draws output/heads.png)
              lantern heads --repeat $'Mia red ball kite Tom park duck blue cup\\n'
                (bash's $'…' quoting: the built-in model's words and a new line)
            """)

    static let defaultPrompt = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her dog."

    @OptionGroup var model: ModelOptions

    @Option(name: .long, help: "The text the entropy, prev-token and sink columns are measured on (default: a short story opening).")
    var prompt: String = HeadsCommand.defaultPrompt

    @Option(name: .long, parsing: .unconditional, help: "Seed of the random sequences (a whole number 0 or more).")
    var seed: UInt64 = 42

    @Option(
        name: .long, parsing: .unconditional, help: "Length of the random block that is repeated (the sequence is 1 + 2 × length tokens).")
    var length: Int = 25

    @Option(name: .long, parsing: .unconditional, help: "How many random sequences to average over.")
    var sequences: Int = 4

    @Option(
        name: .customLong("repeat"),
        help: "Measure the previous-token and induction columns on this text written twice, instead of on random tokens.")
    var repeatText: String?

    @Flag(name: .long, help: "Print one JSON object (every head's scores, labels, thresholds, the sequences used) instead of a table.")
    var json = false

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Also draw the scores as layers × heads heatmaps, one per score: a .png file, or a folder for heads.png.",
            valueName: "path"))
    var out: String?

    func validate() throws {
        guard length >= 2 else { throw ValidationError("--length \(length) is out of range: use 2 or more") }
        guard (1...64).contains(sequences) else { throw ValidationError("--sequences \(sequences) is out of range: use 1 to 64") }
    }

    /// The flag that sets each setting of the measure.
    static func flag(_ setting: HeadSummarySetting) -> String {
        switch setting {
        case .length: "--length"
        case .sequences: "--sequences"
        case .repeatedText: "--repeat"
        }
    }

    func run() throws {
        let bundle = try model.load()
        let promptIds = PromptEncoder.ids(for: prompt, tokenizer: bundle.tokenizer)
        let summary: HeadSummary
        do {
            summary = try HeadSummary.measure(
                model: bundle.model, tokenizer: bundle.tokenizer, promptIds: promptIds,
                seed: seed, length: length, sequences: sequences,
                repeating: repeatText.map { bundle.tokenizer.encode($0) })
        } catch let error as HeadSummaryError {
            throw CommandFailure(description: error.description(naming: Self.flag))
        }
        if let out {
            let c = bundle.model.config
            let url = try pictureURL(out, defaultName: "heads.png")
            let picture = try HeadScoresPicture.render(
                summary, layers: c.layers, heads: c.heads, promptTokens: promptIds.count,
                onWhat: repeatText == nil ? "random" : "repeated text", model: bundle.source)
            try PNGWriter.write(picture, to: url)
            printError("heads picture: \(url.path)")
        }
        if json {
            let report = HeadsReport(model: bundle.source, prompt: prompt, summary: summary)
            try printEncodable(report)
            return
        }
        let c = bundle.model.config
        // Every line fits 80 columns (lesson 6 shows this table).
        print("\(c.layers) layers × \(c.heads) heads; prompt: \(promptIds.count) tokens")
        if repeatText == nil {
            print("random: \(sequences) sequence\(sequences == 1 ? "" : "s") of 1 + 2 × \(length) tokens (seed \(seed))")
        } else {
            print("repeated text: 1 + 2 × \(summary.repeatLength) tokens (prev (repeat) and induction use it)")
        }
        print("")
        // An encoder sees later tokens too, so it gets a next-token column beside prev.
        let isEncoder = !c.isCausal
        let onWhat = repeatText == nil ? (isEncoder ? "rand" : "random") : "repeat"
        let column = "\(onWhat))".count + 6  // "prev (" + what + ")"
        print(
            "layer head entropy prev-token  sink prev (\(onWhat))\(isEncoder ? " next (\(onWhat))" : "") induction  label")
        for head in summary.heads.sorted(by: { ($0.layer, $0.head) < ($1.layer, $1.head) }) {
            let labels = head.labels.map { Self.shortLabels[$0] ?? $0 }
            print(
                String(
                    format: "%5d %4d %7.3f %10.3f %5.3f %\(column).3f ", head.layer, head.head, head.entropy, head.previousToken,
                    head.firstToken, head.previousTokenOnRandom)
                    + (head.nextTokenOnRandom.map { String(format: "%\(column).3f ", $0) } ?? "")
                    + String(format: "%9.3f  ", head.induction) + (labels.isEmpty ? "-" : labels.joined(separator: ",")))
        }
        print("")
        let t = summary.thresholds
        let measured = repeatText == nil ? "random" : "repeat"
        func below(_ score: Float, _ threshold: Float) {
            if score <= threshold { print(String(format: "  (below the %.1f threshold)", threshold)) }
        }
        if let best = summary.strongestPreviousToken {
            print(
                String(
                    format: "strongest previous-token head: layer %d head %d (%.3f %@, %.3f prompt)", best.layer, best.head,
                    best.previousTokenOnRandom, measured, best.previousToken))
            below(best.previousTokenOnRandom, t.previousToken)
        }
        if let best = summary.strongestNextToken, let score = best.nextTokenOnRandom {
            print(String(format: "strongest next-token head: layer %d head %d (%.3f %@)", best.layer, best.head, score, measured))
            below(score, t.previousToken)
        }
        if let best = summary.strongestInduction {
            print(
                String(
                    format: "strongest induction head: layer %d head %d (score %.3f%@)", best.layer, best.head, best.induction,
                    repeatText == nil ? "" : " on the repeated text"))
            below(best.induction, t.induction)
        }
        print(
            String(
                format: "thresholds: \(isEncoder ? "prev/next" : "prev") > %.1f (%@), induction > %.1f, sink > %.1f (prompt)",
                t.previousToken, measured, t.induction, t.firstToken))
        print("labels: prev = previous-token, \(isEncoder ? "next = next-token, " : "")sink = first-token sink")
    }

    /// The table's names for `HeadSummary`'s labels (the JSON keeps the long ones).
    static let shortLabels = ["previous-token": "prev", "next-token": "next", "first-token sink": "sink"]
}

/// What `lantern heads --json` prints.
struct HeadsReport: Encodable {
    struct Strongest: Encodable {
        var layer: Int, head: Int, score: Float
    }

    var model: String
    var prompt: String
    var promptIds: [Int]
    var seed: UInt64
    var repeatLength: Int
    var randomSequences: [[Int]]
    var thresholds: HeadSummary.Thresholds
    var heads: [HeadSummary.Head]
    var strongestPreviousToken: Strongest?
    var strongestInduction: Strongest?
    /// Encoders only.
    var strongestNextToken: Strongest?

    init(model: String, prompt: String, summary: HeadSummary) {
        self.model = model
        self.prompt = prompt
        promptIds = summary.promptIds
        seed = summary.seed
        repeatLength = summary.repeatLength
        randomSequences = summary.randomSequences
        thresholds = summary.thresholds
        heads = summary.heads
        strongestPreviousToken = summary.strongestPreviousToken.map {
            Strongest(layer: $0.layer, head: $0.head, score: $0.previousTokenOnRandom)
        }
        strongestInduction = summary.strongestInduction.map { Strongest(layer: $0.layer, head: $0.head, score: $0.induction) }
        strongestNextToken = summary.strongestNextToken.map { Strongest(layer: $0.layer, head: $0.head, score: $0.nextTokenOnRandom ?? 0) }
    }
}
