import ArgumentParser
import Foundation
import ModelHub
import Rendering
import Transformer

/// Which picture `lantern graph` draws.
enum GraphKind: String, ExpressibleByArgument, CaseIterable {
    /// The loaded model: embeddings, one block expanded (× N layers), the output head.
    case architecture
    /// Encoder-only, encoder–decoder and decoder-only side by side.
    case variations
    /// prompt → model → distribution → sample → append → model.
    case loop
}

extension GraphFormat: ExpressibleByArgument {}

struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Draw a model's architecture (or the architecture family tree, or the generation loop) with Graphviz.",
        discussion: """
            Every edge is labelled with the shape of the tensor flowing along it (T =
            tokens in the sequence), and every part with weights shows its parameter count.
            Images go to output/ unless --out says otherwise; the path is printed.

            Examples:
              lantern graph --model path/to/gpt2
              lantern graph --model stories15M --format svg --out llama.svg
              lantern graph --model path/to/gpt2 --format dot > gpt2.dot
              lantern graph --kind variations
              lantern graph --kind loop --format svg
            """)

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A Hugging Face model folder, a llama2.c .bin checkpoint, or a model name (see `lantern models`). Default for --kind architecture: the built-in model.",
            valueName: "path|name"))
    var model: String?

    @Option(
        name: .long,
        help:
            "What to draw: architecture (the loaded model), variations (encoder-only, encoder–decoder, decoder-only), loop (the generation loop)."
    )
    var kind: GraphKind = .architecture

    @Option(
        name: .long,
        help:
            "png or svg (an image), or dot (Graphviz's text, printed unless --out is given). Default: the extension of --out, else png (dot with --out -)."
    )
    var format: GraphFormat?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Where to write the file (default: output/<kind>[-<family>].<format>); - for standard output (dot or svg).", valueName: "file"))
    var out: String?

    @Flag(name: .long, help: "Print what was written as one JSON object, {\"written\": [path]}, instead of the path.")
    var json = false

    mutating func validate() throws {
        // The architecture of the built-in model unless --model names another.
        if kind == .architecture && model == nil { model = BuiltInModel.name }
        _ = try resolvedFormat()
    }

    /// `--format`, or what the extension of `--out` says; the two must agree when both are given.
    func resolvedFormat() throws -> GraphFormat {
        guard let out else { return format ?? .png }
        if out == "-" {
            // Standard output takes the text formats; DOT unless --format says SVG.
            guard format != .png else {
                throw ValidationError("--out - writes to standard output, which takes text: use --format dot or svg, or give a .png file")
            }
            return format ?? .dot
        }
        let suffix = (out as NSString).pathExtension.lowercased()
        let byExtension = GraphFormat(rawValue: suffix)
        switch (format, byExtension) {
        case (let format?, let byExtension?) where format != byExtension:
            throw ValidationError(
                "--out \(out) ends in .\(suffix) but --format is \(format.rawValue): drop --format (the extension chooses) or make them agree"
            )
        case (let format?, _):
            return format
        case (nil, let byExtension?):
            return byExtension
        case (nil, nil):
            guard suffix.isEmpty else {
                throw ValidationError(
                    "--out \(out): .\(suffix) is not a format graph writes; end the name in .png, .svg or .dot, or give --format")
            }
            return .png
        }
    }

    func run() throws {
        let format = try resolvedFormat()
        let config = try model.map(loadConfig)
        let dot: String
        let defaultName: String
        switch kind {
        case .architecture:
            guard let config else { throw ValidationError("--kind architecture needs --model") }
            dot = ArchitectureGraph.architecture(config, model: model)
            defaultName = "architecture-\(config.family.rawValue)"
        case .variations:
            dot = ArchitectureGraph.variations(highlighting: config?.family)
            defaultName = "variations"
        case .loop:
            dot = ArchitectureGraph.generationLoop(config)
            defaultName = "generation-loop"
        }

        if format == .dot && (out == nil || out == "-") {
            print(dot, terminator: "")
            return
        }
        if out == "-" {
            // SVG to standard output: the image's text, nothing else.
            FileHandle.standardOutput.write(try Graphviz.render(dot, as: .svg))
            return
        }
        let url: URL
        if let out {
            url = URL(fileURLWithPath: (out as NSString).expandingTildeInPath)
        } else {
            let folder = URL(fileURLWithPath: FileManager.default.currentDirectoryPath).appendingPathComponent("output")
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw GraphvizError.unwritableFolder(folder.path, reason: "it could not be created")
            }
            url = folder.appendingPathComponent("\(defaultName).\(format.fileExtension)")
        }
        try Graphviz.write(dot, as: format, to: url)
        try printWritten([out ?? "output/\(url.lastPathComponent)"], json: json)
    }

    /// Only the configuration is needed: read config.json, or a llama2.c checkpoint's header.
    private func loadConfig(_ argument: String) throws -> TransformerConfig {
        let path = try ModelHub.resolveModelArgument(argument)
        let url = URL(fileURLWithPath: (path as NSString).expandingTildeInPath)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw ModelLoadError.missingPath(
                url.path,
                hint:
                    "give a Hugging Face model folder (config.json + model.safetensors), a llama2.c .bin file, or a model name (see `lantern models`)"
            )
        }
        if isDirectory.boolValue { return try HuggingFaceConfig.load(url.appendingPathComponent("config.json")) }
        return try Llama2cCheckpoint.load(url).config
    }
}
