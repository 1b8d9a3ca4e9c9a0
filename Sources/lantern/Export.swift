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
          attention-L<l>-all.png       every head of each recorded layer
          attention-overview.png       every layer × every head as small maps
          probs-step<i>.png, funnel-step<i>.png
                                       each generated step's probabilities and sampling funnel
          lens.png                     the logit lens, when the trace has resid_post records
                                       (record them with --capture +resid_post)
        Pictures the trace cannot give are skipped with a note on stderr. Each image is
        written atomically and its path printed; a progress bar goes to stderr.

        Examples:
          lantern generate "Once upon a time" --model stories15M --trace output/trace --capture +resid_post
          lantern export --trace output/trace
        """)

    @Option(name: .long, help: ArgumentHelp("The saved trace to draw.", valueName: "dir"))
    var trace: String

    @Option(name: .long, help: ArgumentHelp("The folder to write into. Default: output/<trace folder name>/.", valueName: "dir"))
    var out: String?

    @Option(name: .long, help: ArgumentHelp(
        "The model, for token pieces and the logit lens, when the traced model's path no longer exists.", valueName: "path|name"))
    var model: String?

    @Option(name: .long, help: ArgumentHelp("The tokenizer, when it is not beside the model.", valueName: "path"))
    var tokenizer: String?

    @Option(name: .long, parsing: .unconditional, help: ArgumentHelp("Candidates per probability picture, 1 to \(SamplingStep.listed).", valueName: "K"))
    var top: Int = 10

    func validate() throws {
        guard (1...SamplingStep.listed).contains(top) else {
            throw ValidationError("--top \(top) is out of range: use 1 to \(SamplingStep.listed)")
        }
    }

    /// One picture to draw and where it goes. `usesModel`: it runs the model (the logit lens),
    /// whose forward pass has its own worker threads, so it is drawn alone. The other jobs run on
    /// several threads at once: each closure draws its own picture from values nothing mutates,
    /// and the one shared thing, the font, locks.
    struct Job: @unchecked Sendable {
        var name: String
        var usesModel = false
        var draw: () throws -> Canvas
    }

    func run() throws {
        let folder = URL(fileURLWithPath: trace)
        let metadata = try TraceFile.readMetadata(folder)
        let target = URL(fileURLWithPath: out ?? "output/\(folder.standardizedFileURL.lastPathComponent)", isDirectory: true)
        var jobs: [Job] = [], skipped: [String] = []
        let present = Set(metadata.tensors.map(\.name))
        // A trace that lists patterns must provide them: a missing, truncated or mismatched .npy is
        // an error naming the file (before anything is written), not "no attention patterns".
        let attentionSources = present.contains(where: { $0.hasSuffix(".attn.pattern") })
            ? try AttentionSources.everyLayer(trace: folder) : nil
        try Self.prepare(target)

        // Attention: each layer's grid and the overview.
        if let sources = attentionSources {
            for source in sources {
                jobs.append(Job(name: "attention-L\(source.layer)-all.png") { try AttentionPicture.layer(source) })
            }
            jobs.append(Job(name: "attention-overview.png") { try OverviewPicture.render(sources) })
        } else {
            skipped.append("attention pictures: the trace has no attention patterns (record them with --capture +pattern)")
        }

        // The model, for candidate pieces and the lens (optional).
        let modelPath = try model.map { try ModelHub.resolveModelArgument($0) } ?? metadata.model.source
        let bundle = try? ModelBundle.load(model: modelPath, tokenizer: tokenizer)

        // Probabilities and funnels of every step.
        if metadata.steps.isEmpty {
            skipped.append("probabilities and funnels: the trace has no generated steps")
        } else {
            if bundle == nil {
                printError("note: cannot load the traced model from \(modelPath); candidate tokens not in the text are shown as #id (add --model)")
            }
            var known: [Int: String] = [:]
            for (id, piece) in zip(metadata.tokens, metadata.pieces) { known[id] = piece }
            for (index, step) in metadata.steps.enumerated() {
                var pieces = known
                if let bundle {
                    let ids = step.topLogits.map(\.id) + step.afterTemperature.map(\.id) + step.renormalised.map(\.id) + [step.chosen]
                    for id in ids { pieces[id] = bundle.tokenizer.displayPiece(id) }
                }
                let contextIds = metadata.promptIds.count + index
                let source = ProbabilitySource(
                    step: step, index: index, pieces: pieces, model: metadata.model.source,
                    context: metadata.prompt + metadata.pieces[metadata.promptIds.count..<contextIds].joined()
                        .replacingOccurrences(of: "␣", with: " "),
                    vocabularySize: metadata.model.vocabularySize)
                let top = min(self.top, max(step.topLogits.count, 1))
                jobs.append(Job(name: "probs-step\(index).png") { try ProbabilityPicture.distribution(source, top: top).render() })
                jobs.append(Job(name: "funnel-step\(index).png") { try ProbabilityPicture.funnel(source, top: top) })
            }
        }

        // The logit lens.
        let hasResidual = present.contains { $0.hasSuffix(".resid_post") }
        if !hasResidual {
            skipped.append("logit lens: the trace has no resid_post records (record them with --capture +resid_post)")
        } else if let bundle {
            let name = URL(fileURLWithPath: metadata.model.source).lastPathComponent
            jobs.append(Job(name: "lens.png", usesModel: true) {
                let names = present.intersection(LogitLens.requiredRecords(config: bundle.model.config))
                let loaded = try TraceFile.read(folder, names: names)
                let lens = try LogitLens(trace: loaded, model: bundle.model, folder: trace)
                return try LensPicture(lens: lens, piece: { bundle.tokenizer.displayPiece($0) },
                                       title: "Logit lens: the top prediction after each layer",
                                       subtitle: "\(name) · \"\(metadata.prompt)\" · \(lens.tokens.count) tokens, "
                                           + "\(lens.layers.filter { $0.layer >= 0 }.count) layers").render()
            })
        } else {
            skipped.append("logit lens: the traced model \(modelPath) cannot be loaded (add --model)")
        }

        for note in skipped { printError("skipped \(note)") }
        let state = ExportState(progress: ExportProgress(total: jobs.count))
        defer { state.end() }
        try Self.draw(jobs.filter { !$0.usesModel }, into: target, state: state, inParallel: true)
        try Self.draw(jobs.filter(\.usesModel), into: target, state: state, inParallel: false)
        state.end()
        printError("wrote \(jobs.count) picture\(jobs.count == 1 ? "" : "s") into \(target.path)")
    }

    /// Draws and writes `jobs`, on every core when `inParallel`: the pictures are independent
    /// (text drawing shares one font, which locks), and PNG compression is most of the work.
    /// The first error stops the jobs not yet started and is thrown; pictures already written stay.
    static func draw(_ jobs: [Job], into target: URL, state: ExportState, inParallel: Bool) throws {
        let work: @Sendable (Int) -> Void = { index in
            let job = jobs[index]
            guard state.start(job.name) else { return }
            do {
                let url = target.appendingPathComponent(job.name)
                try PNGWriter.write(try job.draw(), to: url)
                state.finish(url.path)
            } catch {
                state.fail(error)
            }
        }
        if inParallel {
            DispatchQueue.concurrentPerform(iterations: jobs.count, execute: work)
        } else {
            (0..<jobs.count).forEach(work)
        }
        if let error = state.error { throw error }
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

/// What the export's workers share: the progress display and the first error, behind one lock.
final class ExportState: @unchecked Sendable {
    private let lock = NSLock()
    private let progress: ExportProgress
    private(set) var error: Error?

    init(progress: ExportProgress) { self.progress = progress }

    /// Announces picture `name`; false once an error has stopped the export.
    func start(_ name: String) -> Bool {
        lock.lock(); defer { lock.unlock() }
        guard error == nil else { return false }
        progress.begin(name)
        return true
    }

    func finish(_ path: String) {
        lock.lock(); defer { lock.unlock() }
        progress.finished(path)
    }

    func fail(_ error: Error) {
        lock.lock(); defer { lock.unlock() }
        if self.error == nil { self.error = error }
    }

    func end() {
        lock.lock(); defer { lock.unlock() }
        progress.end()
    }
}

/// A progress bar on stderr while exporting: redrawn in place on a terminal, plain lines otherwise.
/// The paths themselves go to stdout, one a line. Not thread-safe: `ExportState` serialises calls.
final class ExportProgress {
    let total: Int
    private let line = ProgressLine()
    /// Pictures begun and written so far.
    private var started = 0, done = 0

    init(total: Int) { self.total = total }

    /// A picture is being drawn: the bar names it (a terminal), or a line says so.
    func begin(_ name: String) {
        started += 1
        if line.isTerminal { drawBar(current: name) } else { printError("exporting \(started)/\(total): \(name)") }
    }

    /// Prints a finished picture's path on stdout, keeping the bar below it on a terminal.
    func finished(_ path: String) {
        done += 1
        line.clear()
        print(path)
        drawBar(current: nil)
    }

    private func drawBar(current: String?) {
        let fraction = total > 0 ? Double(done) / Double(total) : 1
        line.draw("exporting \(ProgressLine.bar(fraction: fraction)) \(done)/\(total)" + (current.map { "  \($0)" } ?? ""))
    }

    func end() { line.end() }
}
