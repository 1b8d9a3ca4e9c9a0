import Foundation
import XCTest

/// End-to-end runs of the built `lantern` command.
final class CommandTests: XCTestCase {
    func testGenerateJSONGreedyOnTheRealStoriesModel() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let expected = try String(contentsOfFile: CLI.shared("stories260K/greedy-from-bos-200.ids"), encoding: .utf8)
            .split(whereSeparator: \.isWhitespace).compactMap { Int($0) }.drop { $0 == 1 }
        let run = try CLI.run(["generate", "", "--model", model, "--greedy", "--max-new-tokens", "30", "--json"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let json = try CLI.json(run.stdout)
        XCTAssertEqual(json["prompt_ids"] as? [Int], [1])
        XCTAssertEqual(json["generated_ids"] as? [Int], Array(expected.prefix(30)))
        XCTAssertEqual(json["stop_reason"] as? String, "max_tokens")
        XCTAssertTrue((json["text"] as? String ?? "").contains("Once upon a time"))
        let timing = try XCTUnwrap(json["timing"] as? [String: Any])
        for key in ["load_seconds", "prefill_tokens_per_second", "decode_tokens_per_second"] {
            XCTAssertNotNil(timing[key] as? Double, key)
        }
    }

    func testGenerateStreamsThePromptAndStopsAtAStopString() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let run = try CLI.run(["generate", "Once upon a time", "--model", model, "--greedy", "--max-new-tokens", "50", "--stop", "Lily"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertEqual(run.stdout, "Once upon a time, there was a little girl named \n")
        XCTAssertTrue(run.stderr.contains("a stop string appeared"), run.stderr)
    }

    func testSeededSamplingIsReproducible() throws {
        let model = try CLI.shared("stories260K/stories260K.bin")
        let args = ["generate", "Once upon a time", "--model", model, "--temperature", "0.9", "--top-k", "20", "--seed", "77", "--json"]
        let first = try CLI.json(CLI.run(args).stdout), second = try CLI.json(CLI.run(args).stdout)
        XCTAssertEqual(first["generated_ids"] as? [Int], second["generated_ids"] as? [Int])
    }

    func testTokenizeJSONAndTable() throws {
        let model = CLI.fixtures.appendingPathComponent("gpt2-bytes-noprefix").path
        let run = try CLI.run(["tokenize", "Hi there\n", "--model", model, "--json"])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let json = try CLI.json(run.stdout)
        let ids = try XCTUnwrap(json["ids"] as? [Int]), pieces = try XCTUnwrap(json["pieces"] as? [String])
        XCTAssertEqual(ids.count, pieces.count)
        XCTAssertEqual(pieces.joined(), "Hi␣there↵")
        let table = try CLI.run(["tokenize", "Hi there", "--model", model])
        XCTAssertTrue(table.stdout.hasPrefix("\(ids.count - 1) tokens"), table.stdout)
    }

    func testInfoNamesArchitectureAndPositions() throws {
        let gpt2 = try CLI.run([
            "info", "--model", CLI.fixtures.appendingPathComponent("gpt2-realvocab-f16").path,
            "--tokenizer", try CLI.shared("gpt2-tokenizer")
        ])
        XCTAssertEqual(gpt2.exitCode, 0, gpt2.stderr)
        for fragment in ["GPT-2", "learned absolute", "50257", "F16", "context        64 tokens"] {
            XCTAssertTrue(gpt2.stdout.contains(fragment), "missing «\(fragment)» in\n\(gpt2.stdout)")
        }
        let llama = try CLI.run(["info", "--model", try CLI.shared("stories260K/stories260K.bin"), "--json"])
        let json = try CLI.json(llama.stdout)
        XCTAssertEqual(json["family"] as? String, "llama")
        XCTAssertEqual(json["kv_heads"] as? Int, 4)
        XCTAssertTrue((json["positional"] as? String ?? "").contains("rotary"))
    }

    /// Every setting that changes the computation is shown: RoPE θ and scaling, score scaling.
    func testInfoShowsRoPEScalingAndScoreScaling() throws {
        let llama = try CLI.run(["info", "--model", CLI.fixtures.appendingPathComponent("config-keys/llama-rope-llama3").path])
        XCTAssertEqual(llama.exitCode, 0, llama.stderr)
        for fragment in ["θ = 500000", "rope scaling   llama3, factor 8.0", "original context 16", "q · k ÷ √8"] {
            XCTAssertTrue(llama.stdout.contains(fragment), "missing «\(fragment)» in\n\(llama.stdout)")
        }
        let gpt2 = try CLI.run([
            "info", "--json", "--model", CLI.fixtures.appendingPathComponent("config-keys/gpt2-unscaled-attention").path
        ])
        XCTAssertEqual(try CLI.json(gpt2.stdout)["attention_score_scale"] as? Double, 1)
    }

    func testBenchRunsOnATinyWorkloadAndPrintsJSON() throws {
        let run = try CLI.run(["bench", "--threads", "1", "--prefill-tokens", "8", "--decode-tokens", "2", "--prompt-tokens", "2", "--json"]
        )
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let json = try CLI.json(run.stdout)
        XCTAssertEqual(json["parameters"] as? Int, 124_439_808)
        let results = try XCTUnwrap(json["results"] as? [[String: Any]])
        XCTAssertEqual(results.count, 1)
        XCTAssertGreaterThan(results[0]["decode_tokens_per_second"] as? Double ?? 0, 0)
        // Both costs the issue asks the bench to show: recording everything, and capturing nothing
        // (plus the first recorded pass, which meets fresh memory).
        for key in [
            "recording_overhead_prefill_percent", "recording_overhead_decode_percent",
            "recording_overhead_prefill_first_pass_percent", "capture_checks_overhead_prefill_percent"
        ] {
            XCTAssertTrue((results[0][key] as? Double)?.isFinite ?? false, "\(key) missing from \(results[0])")
        }
        // The limit decode runs against: memory bandwidth over the bytes each token reads.
        let bandwidth = try XCTUnwrap(results[0]["memory_read_bytes_per_second"] as? Double)
        XCTAssertGreaterThan(bandwidth, 1e8)
        XCTAssertEqual(results[0]["decode_bytes_per_token"] as? Int, 4 * (124_439_808 - 1024 * 768 - 12 * 13 * 768 - 2 * 768))
        XCTAssertEqual(
            results[0]["decode_bound_tokens_per_second"] as? Double ?? 0,
            bandwidth / Double(results[0]["decode_bytes_per_token"] as? Int ?? 1), accuracy: 1e-6)
        XCTAssertEqual(results[0]["weights"] as? String, "f32")
        let kernels = try XCTUnwrap(json["kernels"] as? [String: Any])
        XCTAssertNotNil(kernels["blas_core"] as? String)
    }

    /// `--weights bf16` halves the bytes a decoded token reads and still runs.
    func testBenchMeasuresHalfPrecisionWeights() throws {
        let run = try CLI.run([
            "bench", "--threads", "1", "--weights", "bf16", "--no-recording", "--no-pictures",
            "--prefill-tokens", "8", "--decode-tokens", "2", "--prompt-tokens", "2", "--json"
        ])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        let results = try XCTUnwrap(try CLI.json(run.stdout)["results"] as? [[String: Any]])
        XCTAssertEqual(results.map { $0["weights"] as? String }, ["bf16"])
        let bytes = 124_439_808 - 1024 * 768 - 12 * 13 * 768 - 2 * 768
        XCTAssertEqual(results.map { $0["decode_bytes_per_token"] as? Int }, [2 * bytes])
    }

    /// The same greedy text with 16-bit weights on the built-in model, and `info` says what is in memory.
    func testGenerateAndInfoWithHalfPrecisionWeights() throws {
        let prompt = "Once upon a time, Mia found a shiny stone. She"
        let reference = try CLI.run(["generate", prompt, "--greedy", "--max-new-tokens", "24", "--json"])
        XCTAssertEqual(reference.exitCode, 0, reference.stderr)
        for format in ["f16", "bf16"] {
            let run = try CLI.run(["generate", prompt, "--greedy", "--max-new-tokens", "24", "--json", "--weights", format])
            XCTAssertEqual(run.exitCode, 0, run.stderr)
            XCTAssertEqual(try CLI.json(run.stdout)["text"] as? String, try CLI.json(reference.stdout)["text"] as? String, format)
            let info = try CLI.run(["info", "--weights", format, "--json"])
            let json = try CLI.json(info.stdout)
            XCTAssertEqual(json["weights_in_memory"] as? String, format)
            XCTAssertEqual(json["decode_bytes_per_token"] as? Int, 2 * (6 * (192 * 576 + 192 * 192 + 2 * 192 * 768) + 2048 * 192))
        }
        let bad = try CLI.run(["generate", prompt, "--weights", "f8"])
        XCTAssertNotEqual(bad.exitCode, 0)
        XCTAssertTrue(bad.stderr.contains("f32|f16|bf16"), bad.stderr)
    }

    /// OpenBLAS chose a generic core on a CPU with AVX2: Lantern restarts with a named core and
    /// says so; a core the user set is kept and warned about.
    func testInfoReportsAndCorrectsTheBLASCore() throws {
        let report = try CLI.run(["info", "--verbose"])
        XCTAssertEqual(report.exitCode, 0, report.stderr)
        XCTAssertTrue(report.stdout.contains("matrix×matrix  OpenBLAS,"), report.stdout)
        let corrected = try CLI.run(
            ["info", "--verbose", "--json"], environment: ["LANTERN_BLAS_ASSUME_CORE": "Prescott", "OPENBLAS_CORETYPE": ""])
        XCTAssertEqual(corrected.exitCode, 0, corrected.stderr)
        let kernels = try XCTUnwrap(try CLI.json(corrected.stdout)["kernels"] as? [String: Any])
        if report.stdout.contains("avx2+fma") {
            XCTAssertEqual(kernels["blas_core"] as? String, report.stdout.contains("avx512") ? "SkylakeX" : "Haswell")
            XCTAssertTrue((kernels["blas_core_origin"] as? String ?? "").contains("chosen by Lantern"), "\(kernels)")
        } else {
            // Without AVX2 there is no better core: no restart, OpenBLAS's own choice stands.
            XCTAssertTrue((kernels["blas_core_origin"] as? String ?? "").contains("chosen by OpenBLAS"), "\(kernels)")
        }
        let forced = try CLI.run(["info", "--verbose"], environment: ["OPENBLAS_CORETYPE": "Prescott"])
        XCTAssertTrue(forced.stdout.contains("Prescott kernels (set by OPENBLAS_CORETYPE=Prescott)"), forced.stdout)
        XCTAssertTrue(forced.stdout.contains("warning"), forced.stdout)
    }
}

/// Bad input: a one-line error naming the problem, a non-zero exit, no crash.
final class BadInputTests: XCTestCase {
    func expectFailure(_ arguments: [String], mentions fragments: [String], file: StaticString = #filePath, line: UInt = #line) throws {
        let run = try CLI.run(arguments)
        XCTAssertNotEqual(run.exitCode, 0, "should fail: \(arguments)", file: file, line: line)
        XCTAssertFalse([4, 5, 6, 11, 132, 133, 134, 139].contains(run.exitCode), "crashed with \(run.exitCode)", file: file, line: line)
        XCTAssertEqual(run.stdout, "", "nothing on stdout for a failed run", file: file, line: line)
        for fragment in fragments {
            XCTAssertTrue(run.stderr.contains(fragment), "«\(run.stderr)» should mention «\(fragment)»", file: file, line: line)
        }
    }

    var gpt2: String { CLI.fixtures.appendingPathComponent("gpt2-bytes-noprefix").path }

    func testMissingModel() throws {
        try expectFailure(["generate", "hi", "--model", "/no/such/model"], mentions: ["/no/such/model"])
    }

    func testOutOfRangeSamplingValues() throws {
        // Negative numbers reach the range check (they used to be taken for flags: "Missing value").
        try expectFailure(["generate", "hi", "--model", gpt2, "--temperature", "-1"], mentions: ["--temperature -1.0 is out of range"])
        try expectFailure(["generate", "hi", "--model", gpt2, "--top-p", "0"], mentions: ["--top-p"])
        try expectFailure(["generate", "hi", "--model", gpt2, "--top-p", "1.5"], mentions: ["--top-p"])
        try expectFailure(["generate", "hi", "--model", gpt2, "--top-k", "-2"], mentions: ["--top-k -2 is out of range"])
        try expectFailure(["generate", "hi", "--model", gpt2, "--max-new-tokens", "-3"], mentions: ["--max-new-tokens -3 is out of range"])
        try expectFailure(["generate", "hi", "--model", gpt2, "--threads", "-1"], mentions: ["--threads -1 is out of range"])
        try expectFailure(["generate", "hi", "--model", gpt2, "--max-new-tokens", "0"], mentions: ["--max-new-tokens"])
        try expectFailure(["generate", "hi", "--model", gpt2, "--temperature", "abc"], mentions: ["temperature"])
        // probs shares the sampling options (it declared its own, which read "-1" as a flag).
        try expectFailure(["probs", "hi", "--model", gpt2, "--temperature", "-1"], mentions: ["--temperature -1.0 is out of range"])
        try expectFailure(["probs", "hi", "--model", gpt2, "--top-k", "-2"], mentions: ["--top-k -2 is out of range"])
        // Unsigned and other numeric options: the value is named, not "Missing value".
        try expectFailure(["generate", "hi", "--model", gpt2, "--seed", "-1"], mentions: ["The value '-1' is invalid for '--seed <seed>'"])
        try expectFailure(["train", "--data", "x", "--out", "y", "--warmup", "-1"], mentions: ["--warmup -1 is out of range"])
    }

    /// An option that only the model can judge fails while the command runs: the usage shown is
    /// still the subcommand's own (it was the root's, "lantern <subcommand>").
    func testErrorsFoundWhileRunningShowTheSubcommandsUsage() throws {
        try expectFailure(
            ["attention", "hi", "--model", gpt2, "--layer", "99", "--head", "0"],
            mentions: ["--layer 99 is out of range", "Usage: lantern attention [<options>] [<prompt>]", "See 'lantern attention --help'"])
        let run = try CLI.run(["attention", "hi", "--model", gpt2, "--layer", "99", "--head", "0"])
        XCTAssertEqual(run.exitCode, 64, "ArgumentParser's exit code for a validation failure")
        XCTAssertFalse(run.stderr.contains("lantern <subcommand>"), run.stderr)
    }

    func testPromptLongerThanTheContext() throws {
        let prompt = String(repeating: "word ", count: 200)  // the fixture's context is 128 positions
        try expectFailure(["generate", prompt, "--model", gpt2], mentions: ["context holds 128", "shorten"])
    }

    /// A context of 10^12 positions and --max-new-tokens near Int.max: the run allocates what it
    /// uses (the KV cache grows) and no size overflows (these used to hang, or to trap with --trace).
    func testHugeContextAndHugeMaxNewTokensRunNormally() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-cli-\(UUID())")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.copyItem(at: CLI.fixtures.appendingPathComponent("llama-tiny-gqa"), to: folder)
        let configURL = folder.appendingPathComponent("config.json")
        var config = try CLI.json(String(contentsOf: configURL, encoding: .utf8))
        config["max_position_embeddings"] = 1_000_000_000_000
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let run = try CLI.run([
            "generate", "hello", "--model", folder.path, "--max-new-tokens", "9223372036854775800",
            "--greedy", "--json"
        ])
        XCTAssertEqual(run.exitCode, 0, run.stderr)
        XCTAssertEqual(try CLI.json(run.stdout)["stop_reason"] as? String, "eos")
        // Recording it could need up to 10^12 positions of attention: refused up front, with the fix.
        let trace = folder.appendingPathComponent("run")
        try expectFailure(
            ["generate", "hello", "--model", folder.path, "--max-new-tokens", "9223372036854775800", "--trace", trace.path],
            mentions: ["budget", "--max-new-tokens"])
        XCTAssertFalse(FileManager.default.fileExists(atPath: trace.path))
    }

    func testMalformedConfigAndTruncatedWeights() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-cli-\(UUID())")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: gpt2), to: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        let weights = folder.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: weights)
        try data.prefix(data.count / 2).write(to: weights)
        try expectFailure(["generate", "hi", "--model", folder.path], mentions: ["model.safetensors", "truncated"])
        try Data("{\"architectures\": [\"GPT2LMHeadModel\"], \"n_embd\": 48".utf8).write(to: folder.appendingPathComponent("config.json"))
        try expectFailure(["info", "--model", folder.path], mentions: ["config.json", "malformed"])
        try Data("{\"architectures\": [\"MambaForCausalLM\"]}".utf8).write(to: folder.appendingPathComponent("config.json"))
        try expectFailure(["info", "--model", folder.path], mentions: ["unsupported architecture MambaForCausalLM"])
    }

    func testMissingTokenizer() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-cli-\(UUID())")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: gpt2), to: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.removeItem(at: folder.appendingPathComponent("vocab.json"))
        try expectFailure(["tokenize", "hi", "--model", folder.path], mentions: ["vocab.json"])
    }
}

/// Every command's --help is wrapped once: its discussion (hard-wrapped in the source) reads the
/// same on an 80-column terminal as on a wide one, so no example is broken mid-command.
final class HelpTextTests: XCTestCase {
    func testEveryDiscussionFitsEightyColumns() throws {
        let top = try CLI.run(["--help"])
        let commands =
            top.stdout.components(separatedBy: "SUBCOMMANDS:").last?
            .split(separator: "\n").compactMap { line -> String? in
                let word = line.trimmingCharacters(in: .whitespaces).split(separator: " ").first.map(String.init) ?? ""
                return line.hasPrefix("  ") && !line.hasPrefix("   ") && word.allSatisfy({ $0.isLetter || $0 == "-" }) ? word : nil
            } ?? []
        XCTAssertGreaterThan(commands.count, 20, top.stdout)
        /// The help without its one-sentence overview, which the parser wraps itself.
        func discussion(_ arguments: [String], columns: Int) throws -> String {
            let text = try CLI.run(arguments + ["--help"], environment: ["COLUMNS": "\(columns)"]).stdout
            let body = text.components(separatedBy: "\n\n").dropFirst().joined(separator: "\n\n")
            return body.components(separatedBy: "USAGE:").first ?? body
        }
        for command in commands.filter({ $0 != "help" }).map({ [$0] }) + [["trace", "show"], ["trace", "diff"], ["trace", "replay"]] {
            let narrow = try discussion(command, columns: 80), wide = try discussion(command, columns: 300)
            XCTAssertEqual(narrow, wide, "lantern \(command.joined(separator: " ")) --help is wrapped again at 80 columns")
        }
    }
}
