import Foundation
import Lessons
import Tensors
import Tokenizers
import Tracing
import Transformer

/// Every parser that reads a file a user may hand to Lantern, as one entry point each:
/// bytes in, parsed (or refused with an error) out. A crash, trap, hang or sanitizer
/// report on any input is a bug. Used by the libFuzzer driver (`scripts/fuzz.sh`) and by
/// the regression test that replays every input the fuzzer ever found
/// (Tests/FuzzRegressionTests/Inputs/<target>/).
public enum FuzzTarget: String, CaseIterable, Sendable {
    case npy
    case safetensors
    case config = "config-json"
    case tokenizerJSON = "tokenizer-json"
    case tokenizerBin = "tokenizer-bin"
    case vocabulary = "vocab-json"
    case llama2c = "llama2c-bin"
    case trace = "trace-json"
    case branch = "branch-json"
    case lessonManifest = "lesson-manifest"
    case lessonMarkdown = "lesson-markdown"
    case progress = "progress-json"

    /// The file name the bytes are written under when the parser reads a path.
    var fileName: String {
        switch self {
        case .npy: "tensor.npy"
        case .safetensors: "model.safetensors"
        case .config: "config.json"
        case .tokenizerJSON: "tokenizer.json"
        case .tokenizerBin: "tokenizer.bin"
        case .vocabulary: "vocab.json"
        case .llama2c: "model.bin"
        case .trace: "trace.json"
        case .branch: "branch.json"
        case .lessonManifest: "manifest.json"
        case .lessonMarkdown: "lesson.md"
        case .progress: "progress.json"
        }
    }

    /// Parses `data` as this target's file. Errors are the expected answer to bad bytes
    /// and are returned, not thrown; what the parser accepts is also exercised a little
    /// (encode/decode a tokenizer, read a trace's tensors) so a lie that passes the
    /// parser but breaks its first user is found too.
    @discardableResult
    public func run(_ data: Data, in folder: URL) -> Error? {
        do {
            try parse(data, in: folder)
            return nil
        } catch {
            return error
        }
    }

    private func parse(_ data: Data, in folder: URL) throws {
        let file = folder.appendingPathComponent(fileName)
        if self != .npy && self != .tokenizerBin && self != .lessonMarkdown {
            try data.write(to: file)
        }
        switch self {
        case .npy:
            _ = try NPY.decode(data)
        case .safetensors:
            let weights = try SafetensorsFile(url: file)
            for name in weights.entries.keys.sorted().prefix(8) { _ = try? weights.floats(name) }
        case .config:
            _ = try HuggingFaceConfig.load(file)
        case .tokenizerJSON:
            exercise(try TokenizerLoader.load(tokenizerJSON: file))
        case .tokenizerBin:
            exercise(try Llama2cTokenizer(data: data))
        case .vocabulary:
            // A GPT-2 vocab.json beside a small valid merges.txt.
            let merges = folder.appendingPathComponent("merges.txt")
            try Data("#version: 0.2\nh e\n".utf8).write(to: merges)
            exercise(try GPT2Tokenizer.load(vocabulary: file, merges: merges))
        case .llama2c:
            _ = try Llama2cCheckpoint.load(file)
        case .trace:
            _ = try TraceFile.readMetadata(folder)
            _ = try TraceFile.read(folder)
        case .branch:
            _ = try BranchRecord.read(from: file)
        case .lessonManifest:
            let library = try LessonLibrary(folder: folder)
            for entry in library.manifest.lessons.prefix(4) { _ = library.parse(entry) }
        case .lessonMarkdown:
            let text = String(decoding: data, as: UTF8.self)  // as LessonLibrary reads a lesson
            // Problems are reported, not thrown, by the parser: a lesson with any is refused here.
            let issues = LessonParser.parse(text, file: fileName).issues
            if !issues.isEmpty { throw LessonLibrary.LoadError.issues(issues) }
        case .progress:
            _ = try ProgressStore(file: file).load()
        }
    }

    private func exercise(_ tokenizer: any Tokenizer) {
        let ids = tokenizer.encode("Hello, world! Ünïcödé 你好 \n\t 123")
        _ = tokenizer.decode(ids)
        _ = tokenizer.decode(Array(0..<min(tokenizer.vocabularySize, 300)))
    }
}
