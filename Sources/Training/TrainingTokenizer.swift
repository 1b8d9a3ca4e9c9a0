import Foundation
import Tensors
import Tokenizers

/// A run's tokenizer, and how its files reach the run's folder so that the folder loads as a
/// model. `write` is called once the run is known to start: a refused run writes nothing.
public struct PreparedTokenizer {
    public let tokenizer: any Tokenizer
    public let write: () throws -> Void
    /// What was built, for the log ("tokenizer: 512 entries, 0.312 tokens per byte of the data"),
    /// when the tokenizer is new.
    public let summary: String?
}

extension TrainingPlan {
    /// A run's folder before anything is written: a fresh run needs one without a run in it that
    /// can be created; resuming needs the run's files. Nothing is created here.
    public static func checkRunFolder(_ folder: URL, resuming: Bool) throws(TrainingPlanError) {
        let fm = FileManager.default
        if resuming {
            guard TrainingRun.hasCheckpoint(in: folder) else { throw .noRunToResume(folder: folder.relativePath) }
        } else if TrainingRun.hasCheckpoint(in: folder) {
            throw .runExists(folder: folder.relativePath)
        }
        // The nearest folder that exists must be a writable folder.
        var existing = folder.standardizedFileURL
        while !fm.fileExists(atPath: existing.path) && existing.path != "/" { existing.deleteLastPathComponent() }
        var isFolder: ObjCBool = false
        guard fm.fileExists(atPath: existing.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw .cannotCreate(folder: folder.relativePath, reason: "\(existing.path) is a file, not a folder")
        }
        guard fm.isWritableFile(atPath: existing.path) else {
            throw .cannotCreate(folder: folder.relativePath, reason: "\(existing.path) is not writable")
        }
    }

    /// The tokenizer a run already has, for the objective (byte-level BPE for next-token training,
    /// WordPiece for the encoders): a resumed run's own (a `given` BPE tokenizer must be that one),
    /// or the files in `given` (a tokenizer folder, or the model a run starts from), copied into
    /// `folder` when the run starts. Nil when there is neither: build one with `newTokenizer`.
    public static func existingTokenizer(
        objective: TrainingObjectiveKind, runFolder folder: URL, resuming: Bool, given: URL?
    ) throws -> PreparedTokenizer? {
        let files =
            objective.usesWordPiece ? ["tokenizer.json", "vocab.txt", "tokenizer_config.json"] : ["vocab.json", "merges.txt"]
        func load(_ source: URL, _ what: String) throws -> any Tokenizer {
            guard objective.usesWordPiece else {
                return try GPT2Tokenizer.load(
                    vocabulary: source.appendingPathComponent("vocab.json"), merges: source.appendingPathComponent("merges.txt"))
            }
            guard let loaded = try TokenizerLoader.load(folder: source) as? WordPieceTokenizer else {
                throw TrainingPlanError.noWordPiece(what)
            }
            return loaded
        }
        if resuming {
            if let given, !objective.usesWordPiece,
                !FileManager.default.contentsEqual(
                    atPath: given.appendingPathComponent("merges.txt").path, andPath: folder.appendingPathComponent("merges.txt").path)
            {
                throw TrainingPlanError.notTheRunsTokenizer(given: given.relativePath, folder: folder.relativePath)
            }
            return PreparedTokenizer(tokenizer: try load(folder, "the run in \(folder.relativePath)"), write: {}, summary: nil)
        }
        guard let given else { return nil }
        let tokenizer = try load(given, "\(UserSetting.tokenizer) \(given.relativePath)")
        return PreparedTokenizer(
            tokenizer: tokenizer,
            write: {
                guard given.standardizedFileURL != folder.standardizedFileURL else { return }
                for name in files where FileManager.default.fileExists(atPath: given.appendingPathComponent(name).path) {
                    try AtomicFile.write(try Data(contentsOf: given.appendingPathComponent(name)), to: folder.appendingPathComponent(name))
                }
            }, summary: nil)
    }

    /// A tokenizer built from the run's text, written into `folder` when the run starts: byte-level
    /// BPE of `vocabularySize` entries for next-token training (`progress` hears of its merges),
    /// a WordPiece vocabulary of up to that many pieces for the encoders.
    public static func newTokenizer(
        objective: TrainingObjectiveKind, text: String, vocabularySize: Int, runFolder folder: URL,
        progress: ((_ done: Int, _ total: Int) -> Void)? = nil
    ) throws -> PreparedTokenizer {
        if objective.usesWordPiece {
            let vocabulary = try WordPieceVocabulary.build(text: text, size: vocabularySize)
            return PreparedTokenizer(tokenizer: try vocabulary.tokenizer(), write: { try vocabulary.write(to: folder) }, summary: nil)
        }
        let trained = try ByteLevelBPETrainer(vocabularySize: vocabularySize).train(text: text, progress: progress)
        return PreparedTokenizer(
            tokenizer: try trained.makeTokenizer(), write: { _ = try trained.write(to: folder) },
            summary: String(
                format: "tokenizer: %d entries, %.3f tokens per byte of the data", trained.vocabularySize, trained.tokensPerByte))
    }
}
