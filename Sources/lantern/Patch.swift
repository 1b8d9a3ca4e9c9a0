import ArgumentParser
import Foundation
import Generation
import Rendering
import Tokenizers
import Tracing
import Transformer

struct PatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "patch",
        abstract: "Activation patching: put one piece of a clean run into a corrupted one and see how much of the answer comes back.",
        discussion: """
            CLEAN and CORRUPT are prompts with the same number of tokens that differ in a
            word or two ("Mia gave the ball to" / "Tom gave the ball to"). The answer is
            the clean prompt's likeliest next token (or --answer). Lantern runs the
            corrupted prompt with one activation taken from the clean run and reports the
            answer's probability, and the share of the way back from the corrupted
            probability to the clean one (1 = fully restored, 0 = no help; a patch can
            overshoot a little past 1 or fall below 0):
              --layer L --position P   the residual stream leaving block L at position P
              --head L.H               head H of layer L's output, at every position
              --each residual          every layer × position (where the information sits)
              --each heads             every layer × head (which heads carry it)
            Positions count from 0. --out draws a sweep as a heatmap.

            Examples:
              lantern patch "Mia gave the ball to Tom. Tom gave the ball to" \\
                  "Mia gave the ball to Tom. Mia gave the ball to" --each residual \\
                  --out output
              lantern patch "Zoe found a blue hat. Zoe found a blue" \\
                  "Zoe found a red hat. Zoe found a blue" --head 4.0 --json
            """)

    @Argument(help: "The clean prompt.") var clean: String
    @Argument(help: "The corrupted prompt (the same number of tokens).") var corrupt: String
    @OptionGroup var model: ModelOptions

    @Option(name: .long, parsing: .unconditional, help: "With --position: the block whose output (resid_post) is patched.")
    var layer: Int?
    @Option(name: .long, parsing: .unconditional, help: "With --layer: the position (from 0) patched.")
    var position: Int?
    @Option(name: .long, help: ArgumentHelp("A head whose output is patched at every position, LAYER.HEAD.", valueName: "L.H"))
    var head: String?
    @Option(
        name: .long,
        help: ArgumentHelp("Sweep every site: residual (layers × positions) or heads (layers × heads).", valueName: "residual|heads"))
    var each: String?
    @Option(
        name: .long,
        help: "The token whose probability is measured: text that is exactly one token (default: the clean prompt's likeliest).")
    var answer: String?
    @Flag(name: .long, help: "Print one JSON object instead of text.")
    var json = false
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Draw a sweep as a heatmap: a .png file, or a folder for patch-residual.png / patch-heads.png.", valueName: "path"))
    var out: String?

    func validate() throws {
        let single = layer != nil || position != nil
        let chosen = [single, head != nil, each != nil].filter { $0 }.count
        guard chosen == 1 else {
            throw ValidationError("say what to patch, one of: --layer L --position P, --head L.H, or --each residual|heads")
        }
        if single, layer == nil || position == nil { throw ValidationError("--layer and --position go together") }
        if let each, each != "residual", each != "heads" { throw ValidationError("--each \(each): use residual or heads") }
        if out != nil, each == nil { throw ValidationError("--out draws a sweep: add --each residual or --each heads") }
        try refuseStandardOutput(out)
    }

    func run() throws {
        let bundle = try model.load()
        let tokenizer = bundle.tokenizer
        let cleanIds = PromptEncoder.ids(for: clean, tokenizer: tokenizer),
            corruptIds = PromptEncoder.ids(for: corrupt, tokenizer: tokenizer)
        let answerId = try answer.map { try ResidualCommand.singleToken($0, tokenizer: tokenizer) }
        let patching = try Patching(model: bundle.model, clean: cleanIds, corrupt: corruptIds, answer: answerId)
        let answerPiece = tokenizer.displayPiece(patching.answer)
        let header =
            "answer \(answerPiece): probability \(probabilityText(patching.clean)) after the clean prompt, "
            + "\(probabilityText(patching.corrupt)) after the corrupted one"
        if let each {
            let grid = each == "residual" ? try patching.residualSweep() : try patching.headSweep()
            let columns =
                each == "residual"
                ? corruptIds.map { tokenizer.displayPiece($0) }
                : (0..<bundle.model.config.heads).map { "head \($0)" }
            var picture: URL?
            if let out {
                let url = try pictureURL(out, defaultName: "patch-\(each).png")
                try PNGWriter.write(
                    try Self.picture(grid, columns: columns, each: each, answer: answerPiece, model: bundle.source), to: url)
                picture = url
            }
            if json {
                if let picture { printError("picture: \(picture.path)") }
                return try printEncodable(
                    PatchReport(
                        answer: patching.answer, answerPiece: answerPiece, cleanProbability: patching.clean,
                        corruptProbability: patching.corrupt, site: each, restored: grid, columns: columns))
            }
            print(header)
            print(
                "share of the answer restored by patching \(each == "residual" ? "each block's output at each position" : "each head's output") (1 = fully):"
            )
            let headings = each == "residual" ? columns.enumerated().map { "\($0) \($1)" } : columns
            print("layer  " + headings.map { String($0.prefix(8)).leftPadded(to: 9) }.joined())
            // A share that rounds to zero reads 0.000, never -0.000.
            for (l, row) in grid.enumerated() {
                print(String(format: "%5d  ", l) + row.map { String(format: "%9.3f", abs($0) < 0.0005 ? 0 : $0) }.joined())
            }
            if each == "heads", let best = grid.flatMap({ $0 }).max(), best < 0.2 {
                print(
                    String(format: "no single head restores much (at most %.2f): several heads carry it together, ", best)
                        + "or it travels in the residual stream itself; --each residual shows where it sits")
            }
            if let picture { print("picture: \(picture.path)") }
            return
        }
        let site: Patching.Site
        if let head {
            let chosen = try parseHeads([head], flag: "--head")[0]
            site = .head(layer: chosen.layer, head: chosen.head)
        } else {
            site = .residual(layer: layer ?? 0, position: position ?? 0)
        }
        let p = try patching.patched(site)
        if json {
            return try printEncodable(
                PatchReport(
                    answer: patching.answer, answerPiece: answerPiece, cleanProbability: patching.clean,
                    corruptProbability: patching.corrupt,
                    site: "\(site)", patchedProbability: p, restored: [[patching.restored(p)]], columns: []))
        }
        print(header)
        let name: String
        switch site {
        case .residual(let l, let position): name = "block \(l)'s output at position \(position)"
        case .head(let l, let h): name = "layer \(l) head \(h)'s output"
        }
        print(
            "patching \(name) from the clean run: probability \(probabilityText(p)), "
                + String(format: "%.0f%% of the way back", patching.restored(p) * 100))
    }

    /// The sweep as a heatmap: layers × heads in one map, layers × positions in bands of 64.
    static func picture(_ grid: [[Float]], columns: [String], each: String, answer: String, model: String) throws -> Canvas {
        let title = "Activation patching: how much of \(answer) comes back"
        let subtitle =
            "\(URL(fileURLWithPath: model).lastPathComponent) · each cell: the corrupted run with "
            + (each == "residual" ? "that block's output at that position" : "that head's output")
            + " from the clean run; 1 = fully restored"
        let scale = ColorScale.diverging(limit: max(1, grid.flatMap { $0 }.map(abs).max() ?? 1))
        let rows = (0..<grid.count).map { "layer \($0)" }
        func style(_ map: inout Heatmap) {
            map.rowAxis = "layer ↓"
            map.colorBarTitle = "restored"
            map.maskLegend = ""
        }
        guard each == "residual" else {
            var map = Heatmap(
                values: grid.flatMap { $0 }, rows: grid.count, cols: columns.count, rowLabels: rows, columnLabels: columns, title: title,
                subtitle: subtitle, scale: scale)
            style(&map)
            map.columnAxis = "head →"
            return try map.render()
        }
        let bands = try PositionBands.render(
            grid, rowLabels: rows, pieces: columns, title: "How much of \(answer) comes back, per block and position", subtitle: nil,
            scale: scale
        ) {
            map, _ in
            style(&map)
            map.columnAxis = "position (the corrupted prompt's token) →"
        }
        return try PanelGrid.compose(
            bands, columns: 1, title: "Activation patching · \(URL(fileURLWithPath: model).lastPathComponent)", subtitle: subtitle)
    }
}

/// `lantern patch --json`: `restored[layer][column]` (one cell for a single site).
struct PatchReport: Encodable {
    var answer: Int
    var answerPiece: String
    var cleanProbability: Float
    var corruptProbability: Float
    var site: String
    var patchedProbability: Float?
    var restored: [[Float]]
    var columns: [String]
}
