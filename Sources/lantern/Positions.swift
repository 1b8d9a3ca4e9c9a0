import ArgumentParser
import Foundation
import Generation
import ModelHub
import Rendering
import Training
import Transformer

/// `lantern positions`: positional tables as heatmaps, and how each scheme encodes distance.
struct PositionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "positions",
        abstract: "Draw positional encodings (learned, sinusoidal, rotary) as heatmaps, with a similarity-by-distance chart.",
        discussion: """
            A transformer sees its tokens all at once; positional encodings tell it where
            each one is. Three schemes:
              learned      GPT-2: a trained vector per position (needs a GPT-2 model)
              sinusoidal   the original paper: fixed sines and cosines (no model needed;
                           width from the model or --width)
              rotary       Llama: queries and keys turned by an angle that grows with the
                           position (head size and θ from the model, else --width
                           and 10000)
            Without --model the built-in model's tables are drawn (its learned table, its
            width and head size); --width alone draws textbook tables of that width.
            Each table is a heatmap (rows = position, columns = channel; blue negative, red
            positive), every panel at the same cell size. A second picture plots the
            cosine similarity of position p with p + d, averaged over p, against the
            distance d.

            Pictures go into output/ (positions-SCHEME.png and
            positions-SCHEME-similarity.png) unless --out names a folder or a .png file;
            their paths are printed.

            Examples:
              lantern positions --scheme sinusoidal --width 128 --positions 100
              lantern positions --model gpt2 --scheme learned
              lantern positions --model stories15M --scheme all
            """)

    @Option(
        name: .long,
        help: ArgumentHelp(
            "A Hugging Face model folder, a llama2.c .bin checkpoint, or a model name (see `lantern models`).", valueName: "path|name"))
    var model: String?

    @Option(
        name: .long, help: ArgumentHelp("The tokenizer, when it is not in the model folder (llama2.c: tokenizer.bin).", valueName: "path"))
    var tokenizer: String?

    @Option(name: .long, help: ArgumentHelp("learned, sinusoidal, rotary, or all (side by side).", valueName: "scheme"))
    var scheme: String = "all"

    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp("How many positions to draw (2 or more; at most the model's context length).", valueName: "N"))
    var positions: Int = 64

    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp(
            "Width (channels) of the sinusoidal table and head size of rotary when no model is given.",
            valueName: "C"))
    var width: Int?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Where to write: a folder for the default names, or a .png file for the table (the chart goes beside it). Default: output/.",
            valueName: "file|dir"))
    var out: String?

    static let maximumPositions = 4096

    mutating func validate() throws {
        guard scheme == "all" || PositionScheme(rawValue: scheme) != nil else {
            throw ValidationError("--scheme \(scheme) is not known: use learned, sinusoidal, rotary or all")
        }
        guard (2...Self.maximumPositions).contains(positions) else {
            throw ValidationError("--positions \(positions) is out of range: use 2 to \(Self.maximumPositions)")
        }
        if let width, !(2...4096).contains(width) || width % 2 != 0 {
            throw ValidationError("--width \(width) is out of range: use an even number from 2 to 4096")
        }
        // The model in hand: the built-in GPT-2's tables (its learned one, its width and head
        // size) unless --model names another or --width asks for textbook tables of a width.
        // (A longer table than its context is drawn textbook-style, at width 64.)
        if model == nil && (scheme == "learned" || (width == nil && positions <= BuiltInModelShape.context)) {
            model = BuiltInModel.name
        }
    }

    func run() throws {
        let tables = try positionTables()
        // One cell size for every panel, so they compare at a glance.
        let cell = PositionPicture.sharedCell(tables)
        let pictures = try tables.map { table in
            var map = PositionPicture.heatmap(table)
            map.fixedCell = cell
            return try map.render()
        }
        let missing =
            tables.contains { $0.scheme == .learned }
            ? ""
            : model == nil ? "   (learned: add --model with a GPT-2 model)" : "   (no learned table: this model uses rotary positions)"
        let table =
            pictures.count == 1
            ? pictures[0]
            : try PanelGrid.compose(
                // Wide tables (many channels) one under the other; narrow ones side by side.
                pictures, columns: pictures.reduce(0) { $0 + $1.width } > 1800 ? 1 : pictures.count,
                title: "\(tables.count == 3 ? "Three" : "Two") ways to tell positions apart · \(positions) positions",
                subtitle: tables.map { PositionPicture.seriesName($0) }.joined(separator: "   ·   ")
                    + "   —   rows = position, columns = channel; blue negative, white 0, red positive" + missing)
        let chart = try PositionPicture.similarityChart(tables).render()
        let (tableURL, chartURL) = try outputURLs(name: "positions-\(scheme)")
        try PNGWriter.write(table, to: tableURL)
        try PNGWriter.write(chart, to: chartURL)
        print(tableURL.path)
        print(chartURL.path)
    }

    /// The tables asked for: from the model when one is given, else from --width.
    func positionTables() throws -> [PositionTable] {
        let bundle = try model.map { try ModelBundle.load(model: try ModelHub.resolveModelArgument($0), tokenizer: tokenizer) }
        return try PositionTableSelection.tables(
            schemes: PositionScheme(rawValue: scheme), positions: positions, width: width, bundle: bundle)
    }

    /// `--out` as a .png file (the chart goes beside it as NAME-similarity.png), else a folder (default output/).
    func outputURLs(name: String) throws -> (table: URL, chart: URL) {
        try refuseStandardOutput(out)
        let target = out ?? "output"
        if target.lowercased().hasSuffix(".png") {
            let file = URL(fileURLWithPath: target)
            let stem = file.deletingPathExtension().lastPathComponent
            return (file, file.deletingLastPathComponent().appendingPathComponent(stem + "-similarity.png"))
        }
        let folder = URL(fileURLWithPath: target, isDirectory: true)
        return (folder.appendingPathComponent(name + ".png"), folder.appendingPathComponent(name + "-similarity.png"))
    }
}
