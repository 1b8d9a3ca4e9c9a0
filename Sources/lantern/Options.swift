import ArgumentParser
import Foundation
import Generation
import ModelHub
import Tensors
import Tracing
import Transformer

/// Which model to run (shared by every command that loads one). `--model` is optional: a command
/// that needs no model (a picture from a trace) never loads one, and one that does gets the
/// built-in model unless told otherwise (applied at load, so `wasGiven` still tells the two apart).
struct ModelOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "A Hugging Face model folder (config.json, model.safetensors, tokenizer files), a llama2.c .bin checkpoint, or a model name (gpt2, openai-community/gpt2, stories15M: see `lantern models`). Default: Lantern's built-in teaching model, lantern-tiny.",
            valueName: "path|name"))
    var model: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The tokenizer, when it is not in the model folder (llama2.c: tokenizer.bin).", valueName: "path"))
    var tokenizer: String?

    @Option(name: .long, parsing: .unconditional, help: "CPU threads for the engine; the default is every core of this machine.")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(
        name: .long,
        help: ArgumentHelp(
            "How the weight matrices are kept in memory: f32 (exact, the default), f16 or bf16 (half the memory and about twice the decode speed; every product is still computed in float32, the logits differ slightly — see README).",
            valueName: "f32|f16|bf16"))
    var weights: WeightFormat = .f32

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads \(threads) is out of range: use 1 to 256") }
    }

    /// Whether the command line named a model or a tokenizer (a trace command refuses them).
    var wasGiven: Bool { model != nil || tokenizer != nil }

    func load() throws -> ModelBundle {
        try load(defaultModel: BuiltInModel.name)
    }

    /// Loads --model, or `defaultModel` when it is left out (`fill` and `embed` default to the
    /// built-in encoder).
    func load(defaultModel: String) throws -> ModelBundle {
        // A path that exists wins; otherwise a model name (Lantern's folder, the Hugging Face cache).
        try load(path: ModelHub.resolveModelArgument(model ?? defaultModel))
    }

    /// The model a trace was recorded with (or --model, when given), for an analysis that needs
    /// its weights (`purpose`: "the lens", "the residual view").
    func load(tracedBy metadata: TraceMetadata, for purpose: String) throws -> ModelBundle {
        if model != nil { return try load() }
        do { return try load(path: metadata.model.source) } catch {
            throw CommandFailure(
                description: "\(purpose) needs the traced model, which cannot be loaded (\(error)); "
                    + "give the model the trace was recorded with: --model PATH")
        }
    }

    /// Loads the model at `path` (a trace's own model) with these options' tokenizer, weights and threads.
    func load(path: String) throws -> ModelBundle {
        Parallelism.setThreads(threads)
        return try ModelBundle.load(model: path, tokenizer: tokenizer, weights: weights)
    }
}

/// What a picture command reads: a prompt to run on the model, or a saved trace (one, not both).
struct PromptOrTrace: ParsableArguments {
    @Argument(help: "The prompt to run (leave out with --trace).")
    var prompt: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Read this saved trace (a folder written by --trace) instead of running a prompt.", valueName: "dir"))
    var trace: String?

    func validate() throws {
        switch (prompt, trace) {
        case (nil, nil): throw ValidationError("give a prompt (with --model), or a saved trace with --trace DIR")
        case (.some, .some): throw ValidationError("give a prompt or --trace, not both")
        default: break
        }
    }

    /// The trace folder, when the input is a trace.
    var traceFolder: URL? { trace.map { URL(fileURLWithPath: $0) } }
}

/// How each next token is drawn: temperature, top-k, top-p, greedy, seed (generate, step,
/// branch through `SamplingOptions`; probs on its own).
struct SamplingChoices: ParsableArguments {
    // The defaults are the usual ones of local language-model tools (llama.cpp's): a little
    // sharper than the model's own distribution, with its long tail cut. Plain sampling is
    // `--temperature 1 --top-k 0 --top-p 1`.
    static let defaultSettings = SamplingSettings(temperature: 0.8, topK: 40, topP: 0.95)

    // Numbers parse unconditionally, so `--top-k -5` reaches validation ("out of range") instead
    // of being read as an unknown flag ("missing value").
    @Option(
        name: .long, parsing: .unconditional,
        help:
            "Divide the logits by this before softmax: below 1 sharper, above 1 flatter; 0 means greedy; 1 leaves the model's distribution as it is."
    )
    var temperature: Float = Self.defaultSettings.temperature

    @Option(name: .long, parsing: .unconditional, help: "Sample only from the k most likely tokens (0 = off).")
    var topK: Int = Self.defaultSettings.topK

    @Option(
        name: .long, parsing: .unconditional,
        help: "Then only from the fewest most likely tokens whose probabilities add up to p (1 = off).")
    var topP: Float = Self.defaultSettings.topP

    @Flag(name: .long, help: "Always take the most likely token (same as --temperature 0).")
    var greedy = false

    @Option(
        name: .long, parsing: .unconditional,
        help: "Seed of Lantern's random generator, a whole number 0 or more: the same seed gives the same draws on every machine.")
    var seed: UInt64 = 42

    var settings: SamplingSettings {
        SamplingSettings(temperature: temperature, topK: topK, topP: topP, greedy: greedy, seed: seed)
    }

    func validate() throws {
        do { try settings.validate() } catch let error as SamplingError { throw ValidationError(error.description { "--" + $0.rawValue }) }
    }
}

/// The inference parameters of the commands that generate (generate, step, branch).
struct SamplingOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: "How many tokens to generate at most (1 or more).")
    var maxNewTokens: Int = 64

    @OptionGroup var choices: SamplingChoices

    @Option(name: .long, help: ArgumentHelp("Stop when this text appears (not printed). Repeatable.", valueName: "text"))
    var stop: [String] = []

    @Flag(
        name: .long, help: "Never draw the model's end-of-text token: only --max-new-tokens, --stop or a full context window ends the text."
    )
    var ignoreEos = false

    static var defaultSettings: SamplingSettings { SamplingChoices.defaultSettings }
    var settings: SamplingSettings { choices.settings }

    func validate() throws {
        guard maxNewTokens >= 1 else {
            throw ValidationError("--max-new-tokens \(maxNewTokens) is out of range: use 1 or more")
        }
        if stop.contains("") { throw ValidationError("--stop needs some text; an empty stop string would stop at once") }
    }
}

/// Prints to standard error (progress and messages, so stdout stays clean for text and JSON).
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// A failure that is neither a flag's fault nor a library's error: printed as it is, exit 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
}

/// Prints a report as JSON with snake_case keys in stable order. JSON has no NaN or infinity:
/// such a value (from NaN weights or a damaged trace) is named instead of the encoder's dump.
/// `snakeCaseKeys: false` for a value whose coding keys are already the JSON's (so keys of its
/// dictionaries, e.g. prompts, are never rewritten).
func printEncodable<T: Encodable>(_ value: T, snakeCaseKeys: Bool = true) throws {
    let encoder = JSONEncoder()
    if snakeCaseKeys { encoder.keyEncodingStrategy = .convertToSnakeCase }
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    } catch EncodingError.invalidValue(let bad, let context) {
        let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        throw CommandFailure(
            description: "cannot write JSON: the value at \(path.isEmpty ? "the top level" : path) is \(bad), "
                + "which JSON cannot hold; the model's weights or the trace hold NaN or infinite numbers")
    }
}

/// Prints a JSON value with stable key order.
func printJSON(_ value: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
    print(String(decoding: data, as: UTF8.self))
}

extension WeightFormat: ExpressibleByArgument {}
extension ProductPrecision: ExpressibleByArgument {}

/// `--precision`'s help, shared by `train` and `bench --train`; `extra` ends it (a default that
/// ArgumentParser cannot show itself, a limit of that command).
func precisionHelp(_ extra: String = "") -> ArgumentHelp {
    ArgumentHelp(
        "Training's matrix products (linear layers and attention): f32, or bf16 (mixed precision, as PyTorch's autocast: "
            + "operands rounded to bfloat16, sums in float32; weights, gradients and the optimiser stay f32). On this CPU bf16 is "
            + "\(ProductPrecision.bf16Kernel).\(extra)",
        valueName: "f32|bf16")
}

/// Where a picture command writes: `--out` names a `.png` file, or a folder for the command's
/// default file name (default folder: `output/`).
struct PictureOutput: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp("A .png file to write, or a folder for the default file name (default: output/).", valueName: "path"))
    var out: String?

    func url(defaultName: String) throws -> URL { try pictureURL(out, defaultName: defaultName) }
}

/// What a picture command wrote: the paths, one a line, or with `--json` one object
/// `{"written": [paths]}` plus what `extra` adds.
struct WrittenReport: Encodable {
    var written: [String]
}

func printWritten(_ paths: [String], json: Bool) throws {
    if json { try printEncodable(WrittenReport(written: paths)) } else { paths.forEach { print($0) } }
}

/// `--out -` asks for standard output, which takes text; pictures are PNG files.
func refuseStandardOutput(_ out: String?) throws {
    if out == "-" {
        throw ValidationError("--out -: standard output takes text, and this writes PNG pictures; give a file (name.png) or a folder")
    }
}

/// The file-or-folder rule of every picture command: `--out` ending in .png is the file, anything
/// else a folder for `defaultName` (default folder: output/). `-` (standard output, for text
/// formats) is refused: a picture is a PNG file.
func pictureURL(_ out: String?, defaultName: String) throws -> URL {
    try refuseStandardOutput(out)
    let target = out ?? "output"
    if target.lowercased().hasSuffix(".png") { return URL(fileURLWithPath: target) }
    return URL(fileURLWithPath: target, isDirectory: true).appendingPathComponent(defaultName)
}

/// Heads named `LAYER.HEAD` on the command line (`--head 4.0`, `--ablate 4.0`).
func parseHeads(_ texts: [String], flag: String) throws -> [Intervention.Head] {
    try texts.map { text in
        guard let head = Intervention.Head(parsing: text) else {
            throw ValidationError("\(flag) \(text) should be LAYER.HEAD, e.g. 4.0 (layer 4, head 0; both count from 0)")
        }
        return head
    }
}
