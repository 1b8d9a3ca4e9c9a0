import ArgumentParser
import Foundation
import ModelHub
import Rendering
import Tensors
import Tokenizers
import Training
import Transformer

/// `lantern train`: documents → a BPE tokenizer → a GPT-2 trained from scratch, with the loss
/// falling and attention heads forming as it goes.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a small GPT-2 (or a BERT: --objective mlm) from plain text, with loss curve and snapshots.",
        discussion: """
            Reads a text file, or every .txt file in a folder, trains a byte-level BPE
            tokenizer on it (unless --tokenizer names one), then trains a GPT-2 of the
            shape you give from random weights: AdamW, gradient clipping, warm-up and
            cosine learning rate, mini-batches of random windows, and a validation loss on
            the last 5% of the text.

            The --out folder is a model folder: `--model OUT` works on it at any time. It
            holds config.json + model.safetensors, vocab.json + merges.txt, the optimiser's
            state, training.json (settings and log), loss.png (redrawn as it trains) and
            snapshots/attention-step-N.png (every layer and head on the probe sentence:
            watch heads form). A checkpoint is saved every --checkpoint-every steps and at
            the end; Ctrl-C stops after the current step and saves one. Continue a run with
            --resume.

            An encoder: --objective mlm trains a BERT instead (attention both ways,
            LayerNorm after each sub-block) to recover masked words: each window becomes
            [CLS] … [SEP], 15% of its tokens are chosen and 80% of those replaced by
            [MASK], 10% by a random token, 10% left as they are; the loss counts the chosen
            ones only. Its tokenizer is a WordPiece vocabulary built from the text (the
            most frequent whole words, lower-cased, with word endings and characters for
            the rest; written as tokenizer.json + vocab.txt), and `lantern fill` runs the
            result.

            An encoder–decoder: --objective seq2seq trains a BART (an encoder reading the
            source, a decoder writing the target with cross-attention to it) on pairs:
            --data is a text of `source<TAB>target` lines (`lantern corpus --pairs
            translation` writes the teaching corpus's toy translation). Each pair is
            [CLS] source [SEP] for the encoder and target [SEP] for the decoder, which
            starts from [CLS]; the loss counts every target token. The tokenizer is a
            WordPiece vocabulary built from both sides; `lantern generate "le chat rouge"
            --model OUT` translates with the result.

            Fine-tuning: --init-from MODEL starts from a trained GPT-2's weights and
            tokenizer (lantern-tiny, or any GPT-2 folder with a tied unembedding) instead
            of random ones; the shape and context come from that model, and the optimiser
            starts afresh at step 0.

            Unscored spans: text between U+E000 and U+E001 (`lantern corpus
            --mark-unscored` puts them around noise a model should copy but never write)
            stays in the context, but a GPT-2 gets no loss for predicting it.

            Examples:
              lantern corpus --out output/corpus/train.txt
              lantern train --data output/corpus/train.txt --out output/my-model \\
                  --steps 500
              lantern generate "Once upon a time" --model output/my-model
              lantern train --data output/corpus/train.txt --out output/my-model \\
                  --resume --steps 1000
              lantern train --init-from lantern-tiny --data facts.txt \\
                  --out output/tuned --steps 60 --lr 0.0005 --warmup 5
              lantern train --objective mlm --data output/corpus/train.txt \\
                  --out output/my-encoder --context 64 --steps 2000
              lantern fill "Mia found a red [MASK]." --model output/my-encoder
              lantern corpus --pairs translation --out output/pairs/train.tsv
              lantern train --objective seq2seq --data output/pairs/train.tsv \\
                  --out output/my-translator --context 64 --steps 1500
            """)

    @Option(
        name: .customLong("objective"),
        help: ArgumentHelp(
            "next-token (a GPT-2 decoder, the default), mlm (a BERT encoder learning masked words) or seq2seq (a BART learning source→target pairs); with --resume, the run's own.",
            valueName: "next-token|mlm|seq2seq"))
    var objectiveGiven: TrainingObjectiveKind?

    @Option(name: .long, help: ArgumentHelp("A UTF-8 text file, or a folder of .txt files.", valueName: "file|dir"))
    var data: String

    @Option(name: .long, help: ArgumentHelp("The model folder to write (created if missing).", valueName: "dir"))
    var out: String

    @Flag(name: .long, help: "Continue the run saved in --out (same data and tokenizer; --steps may extend it).")
    var resume = false

    @Option(
        name: .long, help: ArgumentHelp("Use this tokenizer folder (vocab.json + merges.txt) instead of training one.", valueName: "dir"))
    var tokenizer: String?

    @Option(
        name: .long,
        help: ArgumentHelp(
            "Fine-tune: start from this trained GPT-2's weights and tokenizer (e.g. lantern-tiny, or a model folder) instead of random ones.",
            valueName: "model"))
    var initFrom: String?

    // The shape options are optional so that a resumed or fine-tuned run, whose shape comes from
    // its checkpoint, can tell a value the user typed (and refuse it if it differs) from a default.
    @Option(name: .customLong("layers"), parsing: .unconditional, help: "Transformer blocks (default: \(BuiltInModelShape.layers)).")
    var layersGiven: Int?
    @Option(
        name: .customLong("heads"), parsing: .unconditional,
        help: "Attention heads per block, dividing --width (default: \(BuiltInModelShape.heads)).")
    var headsGiven: Int?
    @Option(name: .customLong("width"), parsing: .unconditional, help: "Embedding width (default: \(BuiltInModelShape.width)).")
    var widthGiven: Int?
    @Option(
        name: .customLong("context"), parsing: .unconditional,
        help: "Context length: tokens per training window (default: \(BuiltInModelShape.context)).")
    var contextGiven: Int?
    var layers: Int { layersGiven ?? BuiltInModelShape.layers }
    var heads: Int { headsGiven ?? BuiltInModelShape.heads }
    var width: Int { widthGiven ?? BuiltInModelShape.width }
    var context: Int { contextGiven ?? BuiltInModelShape.context }
    @Option(name: .long, parsing: .unconditional, help: "Vocabulary size of the BPE tokenizer to train (257 to 65,536).") var vocabSize =
        BuiltInModelShape.vocabularySize
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Optimiser steps: the whole run's plan, which the cosine schedule spans (default: 2000; with --resume, the saved plan).",
            valueName: "steps"))
    var steps: Int?
    /// A new run's plan when --steps is not given.
    static let defaultSteps = 2000
    @Option(name: .long, parsing: .unconditional, help: "Windows per batch.") var batch = BuiltInModelShape.batch
    @Option(name: .long, parsing: .unconditional, help: "Peak learning rate (warm-up, then cosine decay to a tenth of it).") var lr: Float =
        1e-3
    @Option(name: .long, parsing: .unconditional, help: "Warm-up steps.") var warmup = 100
    @Option(name: .long, parsing: .unconditional, help: "AdamW weight decay (matrices only).") var weightDecay: Float = 0.1
    @Option(name: .long, parsing: .unconditional, help: "Seed of the initial weights and the batch order (a whole number 0 or more).")
    var seed: UInt64 = 1337
    @Option(name: .long, parsing: .unconditional, help: "Validation loss every N steps.") var evalEvery = 100
    @Option(name: .long, parsing: .unconditional, help: "Save a checkpoint (and redraw loss.png) every N steps.") var checkpointEvery = 250
    @Option(
        name: .long,
        help: ArgumentHelp(
            "Steps at which to draw the probe's attention (repeatable; default: 0, 1%, 10%, 50%, the end).", valueName: "step"))
    var snapshot: [Int] = []
    @Option(name: .long, help: "The sentence whose attention the snapshots show.")
    var probe = "Mia found a red ball in the garden. She gave the red ball to Tom."
    @Option(
        name: .long, parsing: .unconditional,
        help: ArgumentHelp("Stop after this step and save, as Ctrl-C would (to split a run into sessions).", valueName: "step"))
    var stopAfter: Int?
    @Option(name: .long, parsing: .unconditional, help: "CPU threads (default: every core).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount
    @Option(
        name: .customLong("precision"), help: precisionHelp(" Not for --objective seq2seq. (default: f32; with --resume, the run's own)"))
    var precisionGiven: ProductPrecision?

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads \(threads) is out of range: use 1 to 256") }
        if initFrom != nil, resume {
            throw ValidationError("--init-from starts a new run from a model's weights; --resume continues a run in --out: use one of them")
        }
        if precisionGiven == .bf16, objectiveGiven == .seq2seq {
            throw ValidationError("--precision bf16 is built for --objective next-token and mlm so far; train seq2seq with --precision f32")
        }
        if initFrom != nil, tokenizer != nil {
            throw ValidationError("--init-from brings its model's tokenizer; leave out --tokenizer")
        }
        if initFrom != nil, let objectiveGiven, objectiveGiven != .nextToken {
            throw ValidationError(
                "--init-from fine-tunes a GPT-2; fine-tuning an encoder or an encoder–decoder is not implemented yet: train one without --init-from"
            )
        }
        let wordPiece = objectiveGiven?.usesWordPiece ?? false
        guard !wordPiece || (16...65_536).contains(vocabSize) else {
            throw ValidationError("--vocab-size \(vocabSize) is out of range for a WordPiece vocabulary: use 16 to 65,536")
        }
        guard wordPiece || (257...65_536).contains(vocabSize) else {
            throw ValidationError("--vocab-size \(vocabSize) is out of range: use 257 (the 256 bytes and <|endoftext|>) to 65,536")
        }
        guard (1...64).contains(layers) else { throw ValidationError("--layers \(layers) is out of range: use 1 to 64") }
        guard (1...64).contains(heads) else { throw ValidationError("--heads \(heads) is out of range: use 1 to 64") }
        guard (1...4096).contains(width) else { throw ValidationError("--width \(width) is out of range: use 1 to 4,096") }
        guard width % heads == 0 else {
            throw ValidationError(
                "--width \(width) is not divisible by --heads \(heads): each head gets width ÷ heads channels; "
                    + "try --width \(max(heads, width / heads * heads))")
        }
        guard (2...4096).contains(context) else { throw ValidationError("--context \(context) is out of range: use 2 to 4,096") }
        if let stopAfter, stopAfter < 1 { throw ValidationError("--stop-after \(stopAfter) is out of range: use 1 or more") }
        guard checkpointEvery >= 1 else { throw ValidationError("--checkpoint-every must be 1 or more") }
        guard snapshot.allSatisfy({ $0 >= 0 }) else { throw ValidationError("--snapshot steps must be 0 or more") }
        do { try settings.validate() } catch let error as TrainingError { throw ValidationError(error.description) }
    }

    var settings: TrainingSettings {
        var s = TrainingSettings()
        s.steps = steps ?? Self.defaultSteps; s.batchSize = batch; s.learningRate = lr; s.minLearningRate = lr / 10
        s.warmupSteps = warmup; s.weightDecay = weightDecay; s.seed = seed; s.evaluationInterval = evalEvery
        s.precision = precisionGiven == .bf16 ? .bf16 : nil
        return s
    }

    func run() throws {
        TrainingThreads.set(threads)
        let folder = URL(fileURLWithPath: out, isDirectory: true)
        do { try TrainingPlan.checkRunFolder(folder, resuming: resume) } catch { throw ValidationError(error.description) }

        // Everything that can fail on the input happens before anything is written.
        printError("reading \(data)…")
        let markedText = try TextCorpusReader.read(path: data)
        // Unscored-span marks (`lantern corpus --mark-unscored`) matter to next-token training
        // only; everything else (tokenizer training, an encoder's masking) sees the plain text.
        let text = UnscoredSpans.strip(markedText)
        let start = try initFrom.map(loadStartingModel)
        // The model has one row per tokenizer entry; a resumed run must see the same tokenizer.
        let saved = resume ? try TrainingRun.checkpointConfig(in: folder) : start?.model.config
        let source = resume ? "the run in \(out)" : "--init-from \(initFrom ?? "")"
        let objective = try TrainingPlan.objective(checkpoint: saved, asked: objectiveGiven, source: source)
        if objective != .nextToken, text.utf8.count != markedText.utf8.count {
            printError("note: the text's unscored-span marks are left out: they only change next-token training")
        }
        let given = (start?.folder.path ?? self.tokenizer).map { URL(fileURLWithPath: $0, isDirectory: true) }
        let prepared: PreparedTokenizer
        do {
            prepared =
                try TrainingPlan.existingTokenizer(objective: objective, runFolder: folder, resuming: resume, given: given)
                ?? newTokenizer(objective: objective, text: text, folder: folder)
        } catch let error as TrainingPlanError { throw ValidationError(error.description) }
        let tokenizer = prepared.tokenizer
        printError("tokenizing \(text.utf8.count) bytes…")
        var (ids, scored) = try TrainingPlan.tokens(markedText: markedText, objective: objective, tokenizer: tokenizer)
        if let scored {
            let unscored = scored.count - scored.filter { $0 }.count
            printError("\(unscored) of \(scored.count) tokens are in unscored spans: read, not trained to be written")
        }
        if let saved { try TrainingPlan.checkShape((layersGiven, headsGiven, widthGiven, contextGiven), checkpoint: saved, source: source) }
        try TrainingPlan.checkVocabulary(ids, vocabulary: saved?.vocabularySize ?? tokenizer.vocabularySize)
        let stream = try TokenStream(tokens: ids, scored: scored, context: saved?.contextLength ?? context)
        ids = []
        scored = nil

        let run: TrainingRun
        if resume {
            run = try TrainingPlan.resume(from: folder, stream: stream, steps: steps, precision: precisionGiven)
            printError("resuming at step \(run.stepsDone) of \(run.settings.steps)")
        } else {
            if let start { printError("fine-tuning \(start.folder.path) (its weights and tokenizer; the optimiser starts afresh)") }
            run = try TrainingPlan.freshRun(
                objective: objective, tokenizer: tokenizer, shape: ModelShape(layers: layers, heads: heads, width: width, context: context),
                settings: settings, stream: stream, startingFrom: start?.model)
            do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
                throw ValidationError("cannot create \(out): \(PlainError.blockedFolder(folder) ?? PlainError.reason(error))")
            }
            do { try prepared.write() } catch let error as BPETrainingError { throw ValidationError("\(error)") }
        }
        // Each fact on a line of its own, within 80 columns at any size Lantern trains.
        printError(
            String(
                format: "model: %.2fM parameters: %d layers, %d heads, width %d,\n       context %d, vocabulary %d",
                Double(run.config.parameterCount) / 1e6, run.config.layers, run.config.heads, run.config.width,
                run.config.contextLength, run.config.vocabularySize))
        printError("data: \(stream.training.count) training tokens, \(stream.validation.count) validation tokens")
        printError(
            "plan: \(run.settings.steps) steps × \(run.tokensPerStep) tokens = "
                + String(format: "%.1f", Double(run.settings.steps * run.tokensPerStep) / Double(stream.training.count))
                + " passes over the training tokens")
        if run.settings.precision == .bf16 {
            // One line within 80 columns; `--help` and `info --verbose` name the kernel in full.
            let how = ProductPrecision.bf16IsNative ? "AVX-512 BF16" : "emulated: no AVX-512 BF16 here, slower than f32"
            printError("products: bf16 operands, float32 sums (\(how))")
        }

        let probeIDs = Array(tokenizer.encode(probe).prefix(run.config.contextLength)).map { Int32($0) }
        if objective == .mlm {
            printError("objective: masked words (15% of each window's tokens chosen; 80% [MASK], 10% random, 10% kept)")
        } else if objective == .seq2seq {
            printError("objective: each pair's target from its source ([CLS] source [SEP] → target [SEP]; one pair per window)")
        }
        let probePieces = probeIDs.map { tokenizer.displayPiece(Int($0)) }
        let snapshotSteps = snapshot.isEmpty ? TrainingJob.defaultSnapshotSteps(run.settings.steps) : Set(snapshot)
        // Say so when no attention snapshot can be drawn, rather than finishing without them.
        if probeIDs.isEmpty { printError("note: --probe is empty, so no attention snapshots are drawn") }
        let unreachable = snapshot.filter { $0 > run.settings.steps }.sorted()
        if !unreachable.isEmpty {
            printError(
                "note: --snapshot \(unreachable.map(String.init).joined(separator: ", ")) is beyond the plan of "
                    + "\(run.settings.steps) steps: no picture for \(unreachable.count == 1 ? "it" : "them")")
        }
        let stop = InterruptFlag.install()
        let progress = TrainingProgress(total: run.settings.steps)
        let pictures = TrainingPictures(folder: folder, probe: probe, probeIDs: probeIDs, probePieces: probePieces)
        let job = TrainingJob(
            run: run, folder: folder, checkpointEvery: checkpointEvery,
            snapshotSteps: probeIDs.isEmpty ? [] : snapshotSteps, stopAfter: stopAfter)
        let outcome = try job.start(
            shouldStop: { stop.isSet },
            observer: TrainingJob.Observer(
                step: { progress.show($0, run: run) },
                snapshot: {
                    progress.pause(); try pictures.snapshot(run)
                },
                checkpoint: { try pictures.lossCurve(run) }))
        progress.end()
        let last = run.log.last
        let validation = run.log.last(where: { $0.validationLoss != nil })?.validationLoss
        print("model:      \(folder.path)  (use it with --model \(out))")
        print("loss curve: \(folder.appendingPathComponent("loss.png").path)")
        if let last {
            print(
                String(format: "step %d of %d: training loss %.3f", last.step, run.settings.steps, last.loss)
                    + (validation.map { String(format: ", validation loss %.3f", $0) } ?? "")
                    + String(format: ", %.0f s training in all", run.trainingSeconds))
        }
        switch outcome {
        case .finished:
            break
        case .stoppedAfter(let step):
            printError(
                "stopped after step \(step) as asked; continue with:\n"
                    + "  lantern train --data \(data) --out \(out) --resume")
        case .interrupted(let step):
            printError(
                "stopped by Ctrl-C at step \(step); the checkpoint is saved. Continue with:\n"
                    + "  lantern train --data \(data) --out \(out) --resume")
            throw ExitCode(130)
        }
    }

    /// The model `--init-from` names (a model name such as lantern-tiny, or a folder), in the
    /// trainer's layout.
    func loadStartingModel(_ argument: String) throws -> (folder: URL, model: GPT2TrainingModel) {
        let path = try ModelHub.resolveModelArgument(argument)
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
            throw ValidationError(
                "--init-from \(argument): no such model folder; give a GPT-2 model folder or a model name such as lantern-tiny")
        }
        let folder = URL(fileURLWithPath: path, isDirectory: true)
        do {
            return (folder, try GPT2TrainingModel(huggingFaceFolder: folder))
        } catch {
            throw ValidationError("--init-from \(argument): \(error)")
        }
    }

}

/// Set by Ctrl-C (SIGINT); the training loop checks it between steps, so a checkpoint is never cut.
final class InterruptFlag: @unchecked Sendable {
    private let source: DispatchSourceSignal
    private let flag = FlagBox()

    private init() {
        signal(SIGINT, SIG_IGN)
        source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        let flag = self.flag
        source.setEventHandler {
            if flag.isSet { exit(130) }  // a second Ctrl-C: leave now (the last checkpoint is intact)
            flag.set()
            FileHandle.standardError.write(
                Data("\nCtrl-C: finishing this step and saving a checkpoint (press again to quit at once)…\n".utf8))
        }
        source.resume()
    }

    static func install() -> InterruptFlag { InterruptFlag() }
    var isSet: Bool { flag.isSet }
}

/// A thread-safe boolean.
final class FlagBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
    func set() { lock.lock(); value = true; lock.unlock() }
}

extension TrainingObjectiveKind: ExpressibleByArgument {}
