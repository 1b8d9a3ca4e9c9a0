import ArgumentParser
import Foundation
import Generation
import ModelHub
import Rendering
import Tensors
import Tracing
import Transformer

/// `lantern export`: every picture a saved trace can give, in one go.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every picture of a saved trace at once: attention grids, the overview, probabilities, funnels, logit lens.",
        discussion: """
            Writes into output/<trace folder name>/ unless --out says otherwise:
              attention-L<l>-all.png   every head of each recorded layer
              attention-overview.png   every layer × every head as small maps
              probs-step<i>.png, funnel-step<i>.png
                                       each generated step's probabilities and
                                       sampling funnel
              lens.png                 the logit lens, when the trace has resid_post
                                       records (record them with --capture +resid_post)
            Pictures the trace cannot give are skipped with a note on stderr. Each image is
            written atomically and its path printed; a progress bar goes to stderr.

            Examples:
              lantern generate "Once upon a time" --model stories15M --trace output/trace \\
                --capture +resid_post
              lantern export --trace output/trace
            """)

    @Option(name: .long, help: ArgumentHelp("The saved trace to draw.", valueName: "dir"))
    var trace: String

    @Option(name: .long, help: ArgumentHelp("The folder to write into. Default: output/<trace folder name>/.", valueName: "dir"))
    var out: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "The model, for token pieces and the logit lens, when the traced model's path no longer exists.", valueName: "path|name"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp("The tokenizer, when it is not beside the model.", valueName: "path"))
    var tokenizer: String?

    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp("Candidates per probability picture, 1 to \(SamplingStep.listed).", valueName: "K"))
    var top: Int = 10

    @Flag(name: .long, help: "Print one JSON object at the end, {\"written\": [paths], \"skipped\": [reasons]}, instead of each path.")
    var json = false

    func validate() throws {
        guard (1...SamplingStep.listed).contains(top) else {
            throw ValidationError("--top \(top) is out of range: use 1 to \(SamplingStep.listed)")
        }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: trace)
        let metadata = try TraceFile.readMetadata(folder)
        let target = URL(fileURLWithPath: out ?? "output/\(folder.standardizedFileURL.lastPathComponent)", isDirectory: true)
        // The model, for candidate pieces and the lens (optional).
        let modelPath = try model.map { try ModelHub.resolveModelArgument($0) } ?? metadata.model.source
        let bundle = try? ModelBundle.load(model: modelPath, tokenizer: tokenizer)
        let export = try TraceExport(trace: folder, metadata: metadata, bundle: bundle, modelPath: modelPath, top: top)
        try Self.prepare(target)
        if bundle == nil, !metadata.steps.isEmpty {
            printError(
                "note: cannot load the traced model from \(modelPath); candidate tokens not in the text are shown as #id (add --model)")
        }
        for note in export.skipped { printError("skipped \(note)") }
        let progress = ExportProgress(total: export.jobs.count, printsPaths: !json)
        defer { progress.end() }
        try export.write(
            into: target, observer: TraceExport.Observer(begin: { progress.begin($0) }, written: { progress.finished($0.path) }))
        progress.end()
        printError("wrote \(export.jobs.count) picture\(export.jobs.count == 1 ? "" : "s") into \(target.path)")
        if json { try printEncodable(ExportReport(written: progress.written, skipped: export.skipped)) }
    }

    /// Creates `folder` and checks that a file can be written there, before drawing anything.
    static func prepare(_ folder: URL) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: folder.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw ValidationError("cannot export into \(folder.path): it is a file, not a folder")
        }
        do {
            try fm.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw ValidationError("cannot export into \(folder.path): the folder cannot be created")
        }
        guard fm.isWritableFile(atPath: folder.path) else {
            throw ValidationError("cannot export into \(folder.path): the folder is not writable")
        }
    }
}

/// A progress bar on stderr while exporting: redrawn in place on a terminal, plain lines otherwise.
/// The paths themselves go to stdout, one a line. Not thread-safe: `TraceExport` serialises calls.
final class ExportProgress: @unchecked Sendable {
    let total: Int
    private let line = ProgressLine()
    /// Pictures begun and written so far.
    private var started = 0, done = 0
    /// Whether each path is printed as it is written (not with --json, which lists them at the end).
    let printsPaths: Bool
    private(set) var written: [String] = []

    init(total: Int, printsPaths: Bool = true) {
        self.total = total
        self.printsPaths = printsPaths
    }

    /// A picture is being drawn: the bar names it (a terminal), or, in a log, a line at each
    /// tenth of the way (a line per picture doubled a 988-picture export's output).
    func begin(_ name: String) {
        started += 1
        if line.isTerminal {
            drawBar(current: name)
        } else if started == 1 || started == total || started * 10 / max(total, 1) != (started - 1) * 10 / max(total, 1) {
            printError("exporting \(started)/\(total): \(name)")
        }
    }

    /// Prints a finished picture's path on stdout, keeping the bar below it on a terminal.
    func finished(_ path: String) {
        done += 1
        written.append(path)
        line.clear()
        if printsPaths { print(path) }
        drawBar(current: nil)
    }

    private func drawBar(current: String?) {
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        line.draw("exporting \(ProgressLine.bar(fraction: fraction)) \(done)/\(total)" + (current.map { "  \($0)" } ?? ""))
    }

    func end() { line.end() }
}

/// `lantern export --json`: every picture written (in the order they finished) and what was skipped.
struct ExportReport: Encodable {
    var written: [String]
    var skipped: [String]
}
