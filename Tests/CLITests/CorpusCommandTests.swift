import Foundation
import XCTest

/// `lantern corpus`, run as a user would.
final class CorpusCommandTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-corpus-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func testCorpusWritesTheTrainingTextAndEvaluationSets() throws {
        let out = folder.appendingPathComponent("nested/train.txt"), eval = folder.appendingPathComponent("eval")
        let run = try CLI.run(["corpus", "--size-mb", "0.2", "--out", out.path, "--eval", eval.path, "--eval-count", "3"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let printed = run.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(printed.first, out.path)
        for fragment in [
            "bytes", "documents (story ", "sentiment ", "translation ", "qa ", "repeat ", "distinct story-world words", "seed 1"
        ] {
            XCTAssertTrue(printed[1].contains(fragment), "missing «\(fragment)» in \(printed[1])")
        }
        let text = try String(contentsOf: out, encoding: .utf8)
        XCTAssertTrue((200_000..<203_000).contains(text.utf8.count), "\(text.utf8.count) bytes")
        XCTAssertTrue(text.hasSuffix("\n<|endoftext|>\n"))
        XCTAssertTrue(text.contains("Review: ") && text.contains("French: ") && text.contains("Q: "))
        // No temporary file is left beside the output.
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out.deletingLastPathComponent().path), ["train.txt"])

        let sets = ["sentiment.jsonl": 9, "translation.jsonl": 3, "qa.jsonl": 3, "stories.jsonl": 3]
        for name in sets.keys.sorted() {
            XCTAssertTrue(printed.contains(eval.appendingPathComponent(name).path), name)
            let lines = try String(contentsOf: eval.appendingPathComponent(name), encoding: .utf8).split(separator: "\n")
            XCTAssertEqual(lines.count, sets[name], name)
            for line in lines {
                let json = try CLI.json(String(line))
                if name == "stories.jsonl" {
                    XCTAssertFalse(text.contains(json["text"] as? String ?? "?"))
                } else {
                    let prompt = try XCTUnwrap(json["prompt"] as? String), expected = try XCTUnwrap(json["expected"] as? String)
                    XCTAssertTrue(expected.hasPrefix(" "))
                    XCTAssertTrue(prompt.hasSuffix(try XCTUnwrap(json["query"] as? String)))
                }
            }
        }

        // The same seed writes the same bytes again.
        let again = folder.appendingPathComponent("again.txt")
        XCTAssertEqual(try CLI.run(["corpus", "--size-mb", "0.2", "--out", again.path]).exitCode, 0)
        XCTAssertEqual(try Data(contentsOf: again), try Data(contentsOf: out))
    }

    func testMixSetsTheShares() throws {
        let out = folder.appendingPathComponent("mixed.txt")
        let run = try CLI.run(["corpus", "--size-mb", "0.05", "--mix", "repeat=0,story=0.5", "--out", out.path])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertTrue(run.stdout.contains("repeat 0, unfamiliar 0)"), run.stdout)
        XCTAssertTrue(run.stdout.contains("mix (shares of the bytes asked for): story=0.60,"), run.stdout)
        let text = try String(contentsOf: out, encoding: .utf8)
        XCTAssertGreaterThanOrEqual(text.utf8.count, 50_000)
    }

    func testCorpusRejectsBadOptionsWithoutWritingAnything() throws {
        let out = folder.appendingPathComponent("train.txt")
        for (arguments, fragment) in [
            (["--size-mb", "0"], "--size-mb"), (["--size-mb", "-1"], "--size-mb"),
            (["--size-mb", "5000"], "too large"), (["--size-mb", "lots"], "size-mb"),
            (["--mix", "poems=1"], "no document kind 'poems'"), (["--mix", "repeat"], "KIND=SHARE"),
            (["--mix", "repeat=-2"], "a number from 0 to 1,000,000"), (["--mix", "story=1e308"], "a number from 0 to 1,000,000")
        ] {
            let run = try CLI.run(["corpus", "--out", out.path] + arguments)
            XCTAssertNotEqual(run.exitCode, 0, "\(arguments)")
            XCTAssertFalse([4, 5, 6, 11, 132, 133, 134, 139].contains(run.exitCode), "crashed with \(run.exitCode)")
            XCTAssertEqual(run.stdout, "")
            XCTAssertTrue(run.stderr.contains(fragment), "«\(run.stderr)» should mention «\(fragment)»")
        }
        // An output folder that is really a file.
        let file = folder.appendingPathComponent("plain-file")
        try Data("x".utf8).write(to: file)
        let run = try CLI.run(["corpus", "--size-mb", "0.01", "--out", file.appendingPathComponent("train.txt").path])
        XCTAssertNotEqual(run.exitCode, 0)
        XCTAssertTrue(run.stderr.contains("--out") && run.stderr.contains("not a folder"), run.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path), ["plain-file"])
    }
}
