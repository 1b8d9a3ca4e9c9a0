import Tensors
import Foundation
import Generation
import Tokenizers
import Tracing
import Transformer

/// Every picture a saved trace can give (`lantern export`): planned from what the trace holds,
/// then drawn, several at once where that is safe.
public struct TraceExport {
    /// One picture to draw and its file name. `usesModel`: it runs the model (the logit lens),
    /// whose forward pass has its own worker threads, so it is drawn alone. The other jobs run on
    /// several threads at once: each closure draws its own picture from values nothing mutates,
    /// and the one shared thing, the font, locks.
    public struct Job: @unchecked Sendable {
        public var name: String
        public var usesModel = false
        var draw: () throws -> Canvas
    }

    public private(set) var jobs: [Job] = []
    /// What the trace cannot give, each with how to record it.
    public private(set) var skipped: [String] = []

    /// Plans the pictures of the trace in `folder`. `bundle`: the traced model (for candidate
    /// pieces and the lens), nil when the model at `modelPath` cannot be loaded; `top`:
    /// candidates per probability picture.
    /// `metadata`: the trace's, as `TraceFile.readMetadata` read it.
    public init(trace folder: URL, metadata: TraceMetadata, bundle: ModelBundle?, modelPath: String, top: Int) throws {
        let present = Set(metadata.tensors.map(\.name))
        // A trace that lists patterns must provide them: a missing, truncated or mismatched .npy is
        // an error naming the file (before anything is written), not "no attention patterns".
        if metadata.model.isEncoderDecoder {
            // An encoder–decoder: its cross-attention, its encoder's and its decoder's, each part it recorded.
            for part in [AttentionPart.cross, .encoder, .decoder] {
                guard let sources = try? AttentionSources.everyLayer(trace: folder, metadata: metadata, part: part) else { continue }
                for source in sources {
                    jobs.append(Job(name: "\(part.rawValue)-attention-L\(source.layer)-all.png") { try AttentionPicture.layer(source) })
                }
                jobs.append(Job(name: "\(part.rawValue)-attention-overview.png") { try OverviewPicture.render(sources) })
            }
            if jobs.isEmpty {
                skipped.append(
                    "attention pictures: the trace has no attention patterns (record them: add +attn.pattern to \(UserSetting.capture))")
            }
        } else if present.contains(where: { $0.hasSuffix(".attn.pattern") }) {
            let sources = try AttentionSources.everyLayer(trace: folder, metadata: metadata)
            for source in sources {
                jobs.append(Job(name: "attention-L\(source.layer)-all.png") { try AttentionPicture.layer(source) })
            }
            jobs.append(Job(name: "attention-overview.png") { try OverviewPicture.render(sources) })
        } else {
            skipped.append(
                "attention pictures: the trace has no attention patterns (record them: add +attn.pattern to \(UserSetting.capture))")
        }

        if metadata.steps.isEmpty {
            skipped.append("probabilities and funnels: the trace has no generated steps")
        } else {
            for index in metadata.steps.indices {
                let source = ProbabilitySource(trace: metadata, step: index, tokenizer: bundle?.tokenizer)
                let top = min(top, max(source.step.topLogits.count, 1))
                // Steps count from 1, zero-padded so that file listings sort them in order (step02 before step10).
                let digits = String(metadata.steps.count).count
                let number = String(repeating: "0", count: max(0, digits - String(index + 1).count)) + String(index + 1)
                jobs.append(Job(name: "probs-step\(number).png") { try ProbabilityPicture.distribution(source, top: top).render() })
                jobs.append(Job(name: "funnel-step\(number).png") { try ProbabilityPicture.funnel(source, top: top) })
            }
            let pieces = Dictionary(zip(metadata.tokens, metadata.pieces), uniquingKeysWith: { first, _ in first })
            jobs.append(
                Job(name: "generation-steps.png") {
                    try GenerationStepsPicture.render(metadata, piece: { pieces[$0] ?? "#\($0)" })
                })
        }

        if metadata.model.isEncoderDecoder {
            skipped.append("logit lens: not drawn for encoder–decoders yet")
        } else if !present.contains(where: { $0.hasSuffix(".resid_post") }) {
            skipped.append("logit lens: the trace has no resid_post records (record them: add +resid_post to \(UserSetting.capture))")
        } else if let bundle {
            jobs.append(
                Job(name: "lens.png", usesModel: true) {
                    let names = present.intersection(LogitLens.requiredRecords(config: bundle.model.config))
                    let lens = try LogitLens(
                        trace: try TraceFile.read(folder, metadata: metadata, names: names), model: bundle.model, folder: folder.path)
                    return try LensPicture(
                        lens: lens, piece: { bundle.tokenizer.displayPiece($0) }, model: metadata.model.source, prompt: metadata.prompt
                    ).render()
                })
        } else {
            skipped.append("logit lens: the traced model \(modelPath) cannot be loaded (set \(UserSetting.model) to it)")
        }
    }

    /// Hears of each picture as it starts and as it is written (calls are serialised).
    public struct Observer: Sendable {
        public var begin: @Sendable (String) -> Void
        public var written: @Sendable (URL) -> Void
        public init(begin: @escaping @Sendable (String) -> Void, written: @escaping @Sendable (URL) -> Void) {
            self.begin = begin
            self.written = written
        }
    }

    /// Draws every picture into `target` (which must exist): the model-free ones on every core
    /// (PNG compression is most of the work), then the lens alone. The first error stops the
    /// pictures not yet started and is thrown; pictures already written stay.
    public func write(into target: URL, observer: Observer) throws {
        let state = State(observer: observer)
        try Self.draw(jobs.filter { !$0.usesModel }, into: target, state: state, inParallel: true)
        try Self.draw(jobs.filter(\.usesModel), into: target, state: state, inParallel: false)
    }

    private static func draw(_ jobs: [Job], into target: URL, state: State, inParallel: Bool) throws {
        let work: @Sendable (Int) -> Void = { index in
            let job = jobs[index]
            guard state.start(job.name) else { return }
            do {
                let url = target.appendingPathComponent(job.name)
                try PNGWriter.write(try job.draw(), to: url)
                state.finish(url)
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

    /// What the workers share: the observer and the first error, behind one lock.
    private final class State: @unchecked Sendable {
        private let lock = NSLock()
        private let observer: Observer
        private(set) var error: Error?

        init(observer: Observer) { self.observer = observer }

        /// Announces picture `name`; false once an error has stopped the export.
        func start(_ name: String) -> Bool {
            lock.lock(); defer { lock.unlock() }
            guard error == nil else { return false }
            observer.begin(name)
            return true
        }

        func finish(_ url: URL) {
            lock.lock(); defer { lock.unlock() }
            observer.written(url)
        }

        func fail(_ error: Error) {
            lock.lock(); defer { lock.unlock() }
            if self.error == nil { self.error = error }
        }
    }
}

extension ProbabilitySource {
    /// Step `index` of a trace: the pieces of the candidates (the trace's own tokens, and with a
    /// tokenizer every candidate's; without, others show as #id) and the text before the step.
    public init(trace metadata: TraceMetadata, step index: Int, tokenizer: (any Tokenizer)?) {
        let step = metadata.steps[index]
        var pieces: [Int: String] = [:]
        for (id, piece) in zip(metadata.tokens, metadata.pieces) { pieces[id] = piece }
        if let tokenizer {
            for id in step.candidateIds { pieces[id] = tokenizer.displayPiece(id) }
        }
        let contextIds = metadata.promptIds.count + index
        self.init(
            step: step, index: index, pieces: pieces, model: metadata.model.source,
            context: metadata.prompt
                + metadata.pieces[metadata.promptIds.count..<contextIds].joined()
                .replacingOccurrences(of: "␣", with: " "),
            vocabularySize: metadata.model.vocabularySize)
    }
}

extension SamplingStep {
    /// Every token a probability picture of this step may name.
    public var candidateIds: Set<Int> {
        Set(topLogits.map(\.id) + afterTemperature.map(\.id) + renormalised.map(\.id) + [chosen])
    }
}
