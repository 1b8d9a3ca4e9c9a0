import ArgumentParser
import Foundation
import ModelHub
import Tensors
import Training

/// `lantern train-tokenizer`: learn GPT-2 style byte-level BPE merges from plain text.
struct TrainTokenizerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train-tokenizer",
        abstract: "Learn a GPT-2 style byte-level BPE tokenizer (vocab.json + merges.txt) from plain text.",
        discussion: """
            Reads a UTF-8 text file, or every .txt file in a folder (in name order). The
            text is split into words as GPT-2 does, and the most frequent adjacent pair of
            pieces is merged again and again until the vocabulary has --vocab-size tokens:
            256 bytes, the merges, and <|endoftext|> with the last id. Equal counts go to
            the pair that comes first in byte order. The same data always gives the same
            files.

            Writes vocab.json and merges.txt into --out (created if needed; both are
            written completely before either replaces an older file) and prints their paths
            and a summary. A progress bar goes to standard error on a terminal.

            Examples:
              lantern train-tokenizer --data corpus.txt --vocab-size 4096 --out output/tok
              lantern tokenize "Hello world" --tokenizer output/tok4k
            """)

    @Option(name: .long, help: ArgumentHelp("A UTF-8 text file, or a folder of .txt files.", valueName: "file|dir"))
    var data: String

    @Option(name: .long, parsing: .unconditional, help: "Tokens in the vocabulary, <|endoftext|> included: 257 to 65536.")
    var vocabSize: Int

    @Option(name: .long, help: ArgumentHelp("The folder to write vocab.json and merges.txt into.", valueName: "dir"))
    var out: String

    @Option(name: .long, parsing: .unconditional, help: "Merge only pairs that occur at least this often (1 or more).")
    var minFrequency: Int = 2

    func validate() throws {
        guard (257...ByteLevelBPETrainer.maximumVocabularySize).contains(vocabSize) else {
            throw ValidationError(
                "--vocab-size \(vocabSize) is out of range: use 257 (256 bytes + <|endoftext|>) to \(ByteLevelBPETrainer.maximumVocabularySize)"
            )
        }
        guard minFrequency >= 1 else {
            throw ValidationError("--min-frequency \(minFrequency) is out of range: use 1 or more")
        }
    }

    func run() throws {
        let trainer = try ByteLevelBPETrainer(vocabularySize: vocabSize, minimumPairFrequency: minFrequency)
        // Every check that can fail comes before the long part.
        let documents = try TextCorpusReader.documents(at: data)
        let folder = URL(fileURLWithPath: (out as NSString).expandingTildeInPath)
        try TrainedByteLevelBPE.prepareFolder(folder)

        let bytes = documents.reduce(0) { $0 + $1.text.utf8.count }
        printError("training on \(ByteCount.format(Int64(bytes))) of text in \(documents.count) file\(documents.count == 1 ? "" : "s")")
        let bar = MergeProgress(label: "tokenizer")
        let start = Date()
        let trained = trainer.train(texts: documents.map(\.text)) { bar.show(done: $0, total: $1) }
        bar.end()
        let seconds = Date().timeIntervalSince(start)
        let files = try trained.write(to: folder)

        if trained.stopReason == .noFrequentPair {
            printError(
                "note: stopped at \(trained.vocabularySize) tokens: no pair of pieces occurs \(minFrequency) times any more (more text would allow more merges)"
            )
        }
        print(files.vocabulary.path)
        print(files.merges.path)
        let specials = trained.specialTokens.count
        print("vocabulary   \(trained.vocabularySize) tokens (256 bytes + \(trained.merges.count) merges + \(specials) special)")
        print("merges       \(trained.merges.count)")
        print("data         \(bytes) bytes in \(documents.count) file\(documents.count == 1 ? "" : "s")")
        print("tokens/byte  \(String(format: "%.3f", trained.tokensPerByte)) (\(trained.trainingTokenCount) tokens on the training data)")
        print("time         \(String(format: "%.2f", seconds)) s")
    }
}
