import Foundation
import XCTest

/// A trace explains itself (axis names and meaning per tensor, raw token text), and the README's
/// NumPy + Matplotlib example redraws an attention picture from it. Python stays optional: the
/// example is skipped, saying so, where no interpreter has NumPy and Matplotlib (LANTERN_PYTHON,
/// else Debian's /usr/bin/python3 — the set-up script installs python3-numpy and
/// python3-matplotlib — else python3 on the PATH).
final class TraceFormatTests: XCTestCase {
    var scratch: URL!

    override func setUpWithError() throws {
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-trace-format-\(UUID())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    func makeTrace() throws -> URL {
        let trace = scratch.appendingPathComponent("trace")
        let made = try CLI.run([
            "generate", "Mia saw a red ball", "--greedy", "--max-new-tokens", "3", "--trace", trace.path, "--capture", "all"
        ])
        XCTAssertEqual(made.exitCode, 0, made.stderr)
        return trace
    }

    func testEveryTensorNamesItsAxesAndMeaning() throws {
        let trace = try makeTrace()
        let meta = try CLI.json(String(contentsOf: trace.appendingPathComponent("trace.json"), encoding: .utf8))
        let tensors = try XCTUnwrap(meta["tensors"] as? [[String: Any]])
        XCTAssertGreaterThan(tensors.count, 20)
        for tensor in tensors {
            let name = tensor["name"] as? String ?? "?"
            let axes = try XCTUnwrap(tensor["axes"] as? [String], name)
            XCTAssertEqual(axes.count, (tensor["shape"] as? [Int])?.count, name)
            XCTAssertFalse((tensor["meaning"] as? String ?? "").isEmpty, name)
            // Every listed record has its file.
            XCTAssertTrue(FileManager.default.fileExists(atPath: trace.appendingPathComponent("\(name).npy").path), name)
        }
        let pattern = try XCTUnwrap(tensors.first { $0["name"] as? String == "blocks.0.attn.pattern" })
        XCTAssertEqual(pattern["axes"] as? [String], ["head", "query", "key"])
        // The raw text of each token beside its display piece (" saw", not "␣saw").
        XCTAssertEqual((meta["texts"] as? [String])?.prefix(5), ["Mia", " saw", " a", " red", " ball"])
    }

    /// A GPT-Neo trace keeps which layers are local, so pictures drawn from it mask their windows.
    func testAGPTNeoTraceKeepsItsWindows() throws {
        let trace = scratch.appendingPathComponent("neo")
        let model = CLI.fixtures.appendingPathComponent("gpt-neo-tiny").path
        let made = try CLI.run([
            "generate", "Once upon a time, the robot", "--model", model, "--greedy", "--max-new-tokens", "3", "--trace", trace.path
        ])
        XCTAssertEqual(made.exitCode, 0, made.stderr)
        let meta = try CLI.json(String(contentsOf: trace.appendingPathComponent("trace.json"), encoding: .utf8))
        let windows = (meta["model"] as? [String: Any])?["attention_windows"] as? [Any]
        XCTAssertEqual(windows?.map { ($0 as? Int).map(String.init) ?? "global" }, ["global", "5", "global", "5"])
        let picture = try CLI.run(["attention", "--trace", trace.path, "--layer", "1", "--head", "0", "--out", scratch.path])
        XCTAssertEqual(picture.exitCode, 0, picture.stderr)
    }

    func testTheNumPyExampleRedrawsAnAttentionPicture() throws {
        let candidates = [ProcessInfo.processInfo.environment["LANTERN_PYTHON"], "/usr/bin/python3", "python3"].compactMap { $0 }
        func run(_ python: String, _ arguments: [String]) throws -> (Int32, String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [python] + arguments
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return (process.terminationStatus, String(decoding: data, as: UTF8.self))
        }
        guard let python = candidates.first(where: { (try? run($0, ["-c", "import numpy, matplotlib"]))?.0 == 0 }) else {
            throw XCTSkip(
                "none of \(candidates.joined(separator: ", ")) has NumPy and Matplotlib (apt-get install python3-numpy python3-matplotlib, or set LANTERN_PYTHON)"
            )
        }
        let trace = try makeTrace()
        let out = scratch.appendingPathComponent("redrawn.png")
        let (status, printed) = try run(
            python,
            [
                CLI.repository.appendingPathComponent("scripts/redraw_attention.py").path, trace.path, "3", "2", out.path
            ])
        XCTAssertEqual(status, 0, printed)
        XCTAssertTrue(printed.contains("rows sum to 1.0000-1.0000"), printed)
        XCTAssertEqual(Array(try Data(contentsOf: out).prefix(4)), [0x89, 0x50, 0x4E, 0x47])
    }
}
