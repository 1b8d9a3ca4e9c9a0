import Foundation
import XCTest

/// `lantern train-tokenizer` end to end: train on a small file, use the result
/// with `lantern tokenize --tokenizer`, and refuse bad input cleanly.
final class TrainTokenizerCommandTests: XCTestCase {
    /// The trainer tests' 20 KB English-like corpus.
    static let corpus = CLI.repository.appendingPathComponent("Tests/TrainingTests/Fixtures/bpe/corpus.txt")

    private func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-train-tok-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    func testTrainThenTokenizeWithTheTrainedTokenizer() throws {
        let scratch = try temporaryFolder()
        let out = scratch.appendingPathComponent("tok")
        let run = try CLI.run(["train-tokenizer", "--data", Self.corpus.path, "--vocab-size", "400", "--out", out.path])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(
            Array(lines.prefix(2)),
            [
                out.appendingPathComponent("vocab.json").path,
                out.appendingPathComponent("merges.txt").path
            ])
        for fragment in ["400 tokens (256 bytes + 143 merges + 1 special)", "tokens/byte  0.", "20000 bytes in 1 file"] {
            XCTAssertTrue(run.stdout.contains(fragment), "missing «\(fragment)» in\n\(run.stdout)")
        }
        XCTAssertFalse(run.stderr.contains("merging ["), "no progress bar when stderr is not a terminal")

        let tokenize = try CLI.run(["tokenize", "The garden's lantern, 1984 🦊", "--tokenizer", out.path, "--json"])
        XCTAssertEqual(tokenize.exitCode, 0, tokenize.stderr)
        let json = try CLI.json(tokenize.stdout)
        let ids = try XCTUnwrap(json["ids"] as? [Int]), pieces = try XCTUnwrap(json["pieces"] as? [String])
        XCTAssertEqual(pieces.joined().replacingOccurrences(of: "␣", with: " ").hasPrefix("The garden's lantern, 1984"), true, "\(pieces)")
        XCTAssertTrue(ids.allSatisfy { (0..<400).contains($0) })
        XCTAssertLessThan(ids.count, "The garden's lantern, 1984 🦊".utf8.count)
        let endOfText = try CLI.json(CLI.run(["tokenize", "<|endoftext|>", "--tokenizer", out.path, "--json"]).stdout)
        XCTAssertEqual(endOfText["ids"] as? [Int], [399])

        // Another process, another folder of .txt files holding the same text: the same files.
        let data = scratch.appendingPathComponent("data")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.corpus, to: data.appendingPathComponent("corpus.txt"))
        let again = scratch.appendingPathComponent("again")
        let second = try CLI.run(["train-tokenizer", "--data", data.path, "--vocab-size", "400", "--out", again.path])
        XCTAssertEqual(second.exitCode, 0, second.stderr)
        for name in ["vocab.json", "merges.txt"] {
            XCTAssertEqual(
                try Data(contentsOf: out.appendingPathComponent(name)),
                try Data(contentsOf: again.appendingPathComponent(name)), name)
        }
    }

    func testTooLittleTextStopsEarlyWithANote() throws {
        let scratch = try temporaryFolder()
        let file = scratch.appendingPathComponent("tiny.txt")
        try Data("hug hug hug pug pun bun hugs".utf8).write(to: file)
        let run = try CLI.run([
            "train-tokenizer", "--data", file.path, "--vocab-size", "1000",
            "--out", scratch.appendingPathComponent("out").path
        ])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("stopped at 262 tokens"), run.stderr)
        XCTAssertTrue(run.stdout.contains("262 tokens (256 bytes + 5 merges + 1 special)"), run.stdout)
    }

    /// Each bad input: non-zero exit, nothing on stdout, a one-line error naming
    /// the problem, and no output folder or files left behind.
    func testBadInputIsRefusedWithoutOutput() throws {
        let scratch = try temporaryFolder()
        let out = scratch.appendingPathComponent("out")
        func expectFailure(
            _ data: String, vocabSize: String = "300", out outPath: String? = nil, mentions fragments: [String],
            line: UInt = #line
        ) throws {
            let run = try CLI.run(["train-tokenizer", "--data", data, "--vocab-size", vocabSize, "--out", outPath ?? out.path])
            XCTAssertNotEqual(run.exitCode, 0, line: line)
            XCTAssertFalse([4, 5, 6, 11, 132, 133, 134, 139].contains(run.exitCode), "crashed with \(run.exitCode)", line: line)
            XCTAssertEqual(run.stdout, "", line: line)
            let errorLines = run.stderr.split(separator: "\n").filter {
                !$0.isEmpty && !$0.hasPrefix("Usage:") && !$0.hasPrefix("Help:") && !$0.hasPrefix("  See ")
            }
            XCTAssertEqual(errorLines.count, 1, "one line: «\(run.stderr)»", line: line)
            for fragment in fragments {
                XCTAssertTrue(run.stderr.contains(fragment), "«\(run.stderr)» should mention «\(fragment)»", line: line)
            }
            XCTAssertFalse(FileManager.default.fileExists(atPath: out.path), "no output for a failed run", line: line)
        }

        let missing = scratch.appendingPathComponent("missing.txt").path
        try expectFailure(missing, mentions: [missing, "no such file"])

        let empty = scratch.appendingPathComponent("empty.txt")
        try Data().write(to: empty)
        try expectFailure(empty.path, mentions: ["empty.txt", "empty"])

        let binary = scratch.appendingPathComponent("weights.bin")
        try Data([0x89, 0x50, 0x4E, 0x47, 0x00, 0x01, 0x02]).write(to: binary)
        try expectFailure(binary.path, mentions: ["weights.bin", "binary", "NUL byte at offset 4"])

        let latin1 = scratch.appendingPathComponent("latin1.txt")
        try Data([0x63, 0x61, 0x66, 0xE9, 0x0A]).write(to: latin1)
        try expectFailure(latin1.path, mentions: ["latin1.txt", "not UTF-8", "offset 3"])

        let noText = scratch.appendingPathComponent("no-text")
        try FileManager.default.createDirectory(at: noText, withIntermediateDirectories: true)
        try expectFailure(noText.path, mentions: ["no-text", "no .txt files"])

        let good = scratch.appendingPathComponent("good.txt")
        try Data("some text to train on, some text".utf8).write(to: good)
        try expectFailure(good.path, vocabSize: "256", mentions: ["--vocab-size 256", "257"])
        try expectFailure(good.path, vocabSize: "65537", mentions: ["--vocab-size 65537", "65536"])
        try expectFailure(good.path, vocabSize: "lots", mentions: ["vocab-size"])

        // An output path inside a regular file can never be created.
        try expectFailure(
            good.path, out: good.appendingPathComponent("out").path,
            mentions: ["good.txt/out", "cannot be created"])
        XCTAssertEqual(try Data(contentsOf: good), Data("some text to train on, some text".utf8))
    }
}
