import Foundation
import Generation
import Tensors
import Tokenizers
import Tracing
import Transformer
import XCTest

enum TraceFixtures {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("TransformerTests/Fixtures")

    static func bundle(_ name: String = "gpt2-bytes-noprefix") throws -> ModelBundle {
        try ModelBundle.load(model: fixtures.appendingPathComponent(name).path)
    }

    static func ids(_ fixture: String, _ file: String) throws -> [Int] {
        try JSONDecoder().decode([Int].self, from: Data(contentsOf: fixtures.appendingPathComponent("\(fixture)/reference/\(file)")))
    }

    static func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("lantern-trace-\(UUID())")
    }
}

final class TraceTests: XCTestCase {
    /// Attention recorded while stepping (prompt rows in one pass, then one cached row per token)
    /// and assembled into `[head, query, key]` equals transformers' full-sequence pattern.
    func testAssembledAttentionMatchesTheReferenceForPromptAndDecodedRows() throws {
        for fixture in ["gpt2-bytes-noprefix", "llama-tiny-gqa"] {
            let bundle = try TraceFixtures.bundle(fixture)
            let prompt = try TraceFixtures.ids(fixture, "prompt_ids.json")
            let generated = try TraceFixtures.ids(fixture, "generated_ids.json")
            let session = try GenerationSession(
                model: bundle.model, tokenizer: bundle.tokenizer, promptIds: prompt,
                settings: SamplingSettings(greedy: true),
                capture: CaptureRequest(kinds: [.pattern, .logits]).spec)
            for token in generated.dropLast() { try session.accept(session.forcedStep(token)) }
            let trace = Trace(session: session, prompt: "", source: fixture, request: CaptureRequest(kinds: [.pattern, .logits]))
            let N = prompt.count + generated.count - 1
            for layer in 0..<bundle.model.config.layers {
                let recorded = try trace.tensor("blocks.\(layer).attn.pattern")
                let reference = try NPY.read(
                    TraceFixtures.fixtures.appendingPathComponent("\(fixture)/reference/attn_pattern.\(layer).npy"))
                let H = reference.shape[0], T = reference.shape[1]
                XCTAssertEqual(recorded.shape, [H, N, N])
                var worst: Float = 0
                for h in 0..<H {
                    for q in 0..<N {
                        for k in 0..<N {
                            worst = max(worst, abs(recorded.scalars[(h * N + q) * N + k] - reference.scalars[(h * T + q) * T + k]))
                        }
                    }
                }
                XCTAssertLessThanOrEqual(worst, 1e-4, "\(fixture) layer \(layer)")
            }
            let logits = try trace.tensor("logits")
            XCTAssertEqual(logits.shape, [N, bundle.model.config.vocabularySize])
        }
    }

    /// trace.json lists as captured only what the model recorded: every listed kind has files,
    /// and the default's cross-attention is not listed for a decoder.
    func testTheCaptureListNamesOnlyRecordedKinds() throws {
        let trace = try smallTrace()
        XCTAssertEqual(trace.metadata.capture, ["attn.pattern", "embed", "pos_embed"])
        for kind in trace.metadata.capture {
            XCTAssertTrue(
                trace.metadata.tensors.contains { $0.name == kind || $0.name.hasSuffix("." + kind) }, "\(kind) is listed but has no tensor")
        }
        let llama = TransformerConfig(
            family: .llama, layers: 2, heads: 4, kvHeads: 2, width: 16, headSize: 4, feedForwardWidth: 24,
            vocabularySize: 40, contextLength: 32, normEpsilon: 1e-5, positional: .rotary(theta: 10000, layout: .halfSplit),
            tiedEmbeddings: false)
        XCTAssertEqual(CaptureRequest().recordedKinds(config: llama).map(\.rawValue), ["attn.pattern", "embed"])
    }

    /// A run that recorded more than a trace asked for keeps only what was asked: by kind, and
    /// per-layer kinds by layer (the encoder's `encoder.` records too).
    func testATraceKeepsOnlyTheRecordsItAskedFor() throws {
        XCTAssertEqual(RecordKind.layer(ofRecordName: "blocks.11.attn.pattern"), 11)
        XCTAssertEqual(RecordKind.layer(ofRecordName: "encoder.blocks.0.attn.q"), 0)
        XCTAssertNil(RecordKind.layer(ofRecordName: "embed"))
        XCTAssertNil(RecordKind.layer(ofRecordName: "encoder.embed"))
        let one = Tensor(shape: [1], scalars: [0])
        let records = [
            "embed": one, "blocks.0.attn.pattern": one, "blocks.1.attn.pattern": one, "encoder.blocks.1.attn.pattern": one,
            "blocks.1.resid_post": one
        ]
        let request = CaptureRequest(kinds: [.embed, .pattern], layers: [1])
        XCTAssertEqual(
            request.kept(records).keys.sorted(), ["blocks.1.attn.pattern", "embed", "encoder.blocks.1.attn.pattern"])
        XCTAssertEqual(CaptureRequest(kinds: [.residPost]).kept(records).keys.sorted(), ["blocks.1.resid_post"])
    }

    func testWriteReadRoundTripAndNumPyFiles() throws {
        let bundle = try TraceFixtures.bundle()
        let (result, session) = try Generator(model: bundle.model, tokenizer: bundle.tokenizer)
            .generate(
                prompt: "Once upon", maxNewTokens: 6, settings: SamplingSettings(temperature: 0.9, seed: 3),
                capture: CaptureRequest.parse(["+resid_post"]).spec)
        let request = try CaptureRequest.parse(["+resid_post"])
        let trace = Trace(session: session, prompt: "Once upon", source: "fixture", request: request, stopReason: result.stopReason)
        let folder = TraceFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try TraceFile.write(trace, to: folder)
        let loaded = try TraceFile.read(folder)
        XCTAssertEqual(loaded.metadata.generatedIds, result.generatedIds)
        XCTAssertEqual(loaded.metadata.steps, result.steps)
        XCTAssertEqual(Set(loaded.tensors.keys), Set(trace.tensors.keys))
        for (name, tensor) in trace.tensors { XCTAssertEqual(loaded.tensors[name], tensor, name) }
        XCTAssertTrue(loaded.tensors.keys.contains("blocks.2.resid_post"))
        XCTAssertTrue(loaded.tensors.keys.contains("pos_embed"))
        // Every tensor is a file numpy can open: check the magic and the header's shape.
        let npy = try Data(contentsOf: folder.appendingPathComponent("blocks.0.attn.pattern.npy"))
        XCTAssertEqual(Array(npy.prefix(6)), [0x93] + Array("NUMPY".utf8))
        XCTAssertTrue(
            String(decoding: npy.prefix(128), as: UTF8.self).contains("'shape': (4, \(session.tokens.count), \(session.tokens.count))"))
        // The metadata is plain JSON with snake_case keys.
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("trace.json"))) as! [String: Any]
        XCTAssertEqual(json["prompt_ids"] as? [Int], session.promptIds)
        XCTAssertNotNil((json["steps"] as? [[String: Any]])?.first?["count_after_top_k"])
        // Raw token text beside the display pieces: joined, it is the text itself.
        let texts = try XCTUnwrap(json["texts"] as? [String])
        XCTAssertEqual(texts.count, session.tokens.count)
        XCTAssertEqual(texts.joined(), bundle.tokenizer.decode(session.tokens))
        XCTAssertEqual(loaded.metadata.texts, texts)
        XCTAssertTrue((json["pieces"] as? [String])?.contains { $0.contains("␣") } ?? false, "pieces show spaces as ␣")
        // A trace written before texts existed still reads.
        var old = json
        old["texts"] = nil
        try JSONSerialization.data(withJSONObject: old).write(to: folder.appendingPathComponent("trace.json"))
        XCTAssertNil(try TraceFile.read(folder).metadata.texts)
    }

    /// A three-token trace of the fixture model, recording the default capture.
    func smallTrace() throws -> Trace {
        let bundle = try TraceFixtures.bundle()
        let session = try GenerationSession(
            model: bundle.model, tokenizer: bundle.tokenizer, promptIds: [1, 2, 3],
            settings: SamplingSettings(), capture: CaptureRequest().spec)
        return Trace(session: session, prompt: "", source: "fixture", request: CaptureRequest())
    }

    func testWritingIsAtomicAndRefusesForeignFolders() throws {
        let trace = try smallTrace()
        let folder = TraceFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try Data("keep me".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        XCTAssertThrowsError(try TraceFile.write(trace, to: folder)) { XCTAssertTrue("\($0)".contains("not a Lantern trace"), "\($0)") }
        XCTAssertEqual(try String(contentsOf: folder.appendingPathComponent("notes.txt"), encoding: .utf8), "keep me")
        // A trace folder is replaced; nothing else is left beside it.
        let target = folder.appendingPathComponent("run")
        try TraceFile.write(trace, to: target)
        try TraceFile.write(trace, to: target)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted(), ["notes.txt", "run"])
        // An unwritable place is a clear error.
        XCTAssertThrowsError(try TraceFile.write(trace, to: URL(fileURLWithPath: "/proc/lantern/trace"))) {
            XCTAssertTrue("\($0)".contains("cannot write"), "\($0)")
        }
    }

    /// Nothing but a trace that holds only its own files is ever replaced: a stray trace.json
    /// (even a valid one) beside the user's files leaves the folder untouched.
    func testOnlyAPureTraceIsReplaced() throws {
        let trace = try smallTrace()
        let root = TraceFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let fm = FileManager.default
        // Garbage named trace.json among the user's files.
        let garbage = root.appendingPathComponent("garbage")
        try fm.createDirectory(at: garbage, withIntermediateDirectories: true)
        try Data("not json".utf8).write(to: garbage.appendingPathComponent("trace.json"))
        try Data("essay".utf8).write(to: garbage.appendingPathComponent("essay.txt"))
        XCTAssertThrowsError(try TraceFile.write(trace, to: garbage)) { XCTAssertTrue("\($0)".contains("left untouched"), "\($0)") }
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: garbage.path).sorted(), ["essay.txt", "trace.json"])
        // A real trace into which the user saved a file of their own.
        let mixed = root.appendingPathComponent("mixed")
        try TraceFile.write(trace, to: mixed)
        try Data("mine".utf8).write(to: mixed.appendingPathComponent("mine.txt"))
        let before = try fm.contentsOfDirectory(atPath: mixed.path).sorted()
        XCTAssertThrowsError(try TraceFile.write(trace, to: mixed))
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: mixed.path).sorted(), before)
        XCTAssertEqual(try String(contentsOf: mixed.appendingPathComponent("mine.txt"), encoding: .utf8), "mine")
        // A subfolder is not a trace's own either.
        let nested = root.appendingPathComponent("nested")
        try TraceFile.write(trace, to: nested)
        try fm.createDirectory(at: nested.appendingPathComponent("photos"), withIntermediateDirectories: true)
        XCTAssertThrowsError(try TraceFile.write(trace, to: nested))
        XCTAssertTrue(fm.fileExists(atPath: nested.appendingPathComponent("photos").path))
    }

    /// A swap stopped after the old trace was moved aside leaves it complete beside the folder;
    /// the next write puts it back, replaces it, and leaves nothing behind. Staging folders that a
    /// killed write left are removed once stale, never while recent.
    func testInterruptedWritesAreRecoveredAndCleaned() throws {
        let trace = try smallTrace()
        let root = TraceFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let fm = FileManager.default
        let target = root.appendingPathComponent("run")
        try TraceFile.write(trace, to: target)
        // As if killed between "move the old one aside" and "rename the new one in".
        try fm.moveItem(at: target, to: root.appendingPathComponent(".run.replaced-0000abcd"))
        let stale = root.appendingPathComponent(".run.partial-0000dead"), fresh = root.appendingPathComponent(".run.partial-0000beef")
        for staging in [stale, fresh] {
            try fm.createDirectory(at: staging, withIntermediateDirectories: true)
            try Data("half".utf8).write(to: staging.appendingPathComponent("embed.npy"))
        }
        try fm.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: stale.path)
        try TraceFile.write(trace, to: target)
        XCTAssertNoThrow(try TraceFile.read(target))
        XCTAssertEqual(try fm.contentsOfDirectory(atPath: root.path).sorted(), [".run.partial-0000beef", "run"])
    }

    /// trace.json that contradicts itself (pieces, ids or tensor positions that do not fit the
    /// tokens) is refused when read, before any reader indexes by position (they used to trap).
    func testSelfContradictoryTracesAreRefusedWhenRead() throws {
        let bundle = try TraceFixtures.bundle()
        let session = try GenerationSession(
            model: bundle.model, tokenizer: bundle.tokenizer, promptIds: [1, 2, 3],
            settings: SamplingSettings(), capture: CaptureRequest().spec)
        for _ in 0..<2 { try session.accept(session.sample()) }
        let trace = Trace(session: session, prompt: "", source: "fixture", request: CaptureRequest())
        let root = TraceFixtures.temporaryFolder()
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("run")
        try TraceFile.write(trace, to: folder)
        XCTAssertNoThrow(try TraceFile.read(folder))
        let url = folder.appendingPathComponent("trace.json")
        let original = try Data(contentsOf: url)
        let damages: [(String, (inout [String: Any]) -> Void)] = [
            ("pieces for", { $0["pieces"] = Array(($0["pieces"] as! [String]).dropLast()) }),
            ("outside the vocabulary", { $0["prompt_ids"] = [1, 2, 1_000_000] }),
            (
                "prompt_ids is empty",
                {
                    $0["prompt_ids"] = [Int](); $0["pieces"] = [String]()
                }
            ),
            (
                "covers",
                { json in
                    var tensors = json["tensors"] as! [[String: Any]]
                    let index = tensors.firstIndex { ($0["name"] as! String).hasSuffix("attn.pattern") }!
                    tensors[index]["shape"] = [4, 9, 9]
                    json["tensors"] = tensors
                }
            ),
            (
                "step 0 chose token",
                { json in
                    var steps = json["steps"] as! [[String: Any]]
                    let generated = json["generated_ids"] as! [Int]
                    steps[0]["chosen"] = generated[0] == 0 ? 1 : 0
                    json["steps"] = steps
                }
            ),
            (
                "sampling settings are impossible",
                { json in
                    var sampling = json["sampling"] as! [String: Any]
                    sampling["top_k"] = -2
                    json["sampling"] = sampling
                }
            ),
            (
                "not a file name inside the trace folder",
                { json in
                    var tensors = json["tensors"] as! [[String: Any]]
                    tensors[0]["file"] = "../../elsewhere.npy"
                    json["tensors"] = tensors
                }
            )
        ]
        for (message, damage) in damages {
            var json = try XCTUnwrap(JSONSerialization.jsonObject(with: original) as? [String: Any])
            damage(&json)
            try JSONSerialization.data(withJSONObject: json).write(to: url)
            XCTAssertThrowsError(try TraceFile.read(folder)) { error in
                XCTAssertTrue("\(error)".contains("contradicts itself") && "\(error)".contains(message), "\(message): \(error)")
            }
        }
    }

    func testBudgetRefusesLargeCapturesWithAHint() throws {
        let config = TransformerConfig.gpt2()
        let request = try CaptureRequest.parse([])
        // 12 layers × 12 heads × 1024² floats of attention alone is about 604 MB.
        XCTAssertEqual(request.estimatedBytes(config: config, positions: 1024), (12 * 12 * 1024 * 1024 + 2 * 1024 * 768) * 4)
        XCTAssertThrowsError(try request.checkBudget(config: config, positions: 1024, budget: 100_000_000)) { error in
            XCTAssertTrue("\(error)".contains("add -attn.pattern to the capture list"), "\(error)")
            XCTAssertTrue("\(error)".contains("raise the capture budget"), "\(error)")
        }
        XCTAssertNoThrow(try request.checkBudget(config: config, positions: 64, budget: 100_000_000))
        XCTAssertThrowsError(try CaptureRequest.parse(["+attention"])) { XCTAssertTrue("\($0)".contains("attn.pattern"), "\($0)") }
        XCTAssertEqual(try CaptureRequest.parse(["none", "+logits"]).kinds, [.logits])
    }

    func testReplayReproducesSampledAndForcedTokens() throws {
        let bundle = try TraceFixtures.bundle()
        let session = try GenerationSession(
            model: bundle.model, tokenizer: bundle.tokenizer, promptIds: [10, 20, 30],
            settings: SamplingSettings(temperature: 1.1, topK: 50, seed: 99))
        try session.accept(session.sample())
        try session.accept(session.forcedStep(65))
        session.settings.temperature = 0.6
        session.settings.seed = 5
        try session.accept(session.sample())
        try session.accept(session.sample())
        let trace = Trace(session: session, prompt: "", source: "fixture", request: CaptureRequest(kinds: []))
        let outcome = try Replay.run(trace.metadata, model: bundle.model, tokenizer: bundle.tokenizer)
        XCTAssertNil(outcome.firstDivergence)
        XCTAssertEqual(outcome.replayedIds, session.generatedIds)
        XCTAssertEqual(trace.metadata.forcedSteps, [1])
    }

    func testUndoRestoresTokensRecordsAndRandomState() throws {
        let bundle = try TraceFixtures.bundle()
        let session = try GenerationSession(
            model: bundle.model, tokenizer: bundle.tokenizer, promptIds: [10, 20, 30],
            settings: SamplingSettings(temperature: 1, seed: 4), capture: CaptureRequest().spec)
        try session.accept(session.sample())
        let before = (session.generatedIds, session.logits, session.forwardRecords.count)
        let next = session.sample()
        try session.accept(next)
        XCTAssertTrue(session.undo())
        XCTAssertEqual(session.generatedIds, before.0)
        XCTAssertEqual(session.logits, before.1)
        XCTAssertEqual(session.forwardRecords.count, before.2)
        XCTAssertEqual(session.sample().chosen, next.chosen, "the same random draw comes again after undo")
    }

    func testDiffFindsTheDivergenceAndComparesModels() throws {
        let bundle = try TraceFixtures.bundle()
        func trace(_ settings: SamplingSettings, _ b: ModelBundle) throws -> Trace {
            let (_, session) = try Generator(model: b.model, tokenizer: b.tokenizer)
                .generate(
                    prompt: "Once upon a time", maxNewTokens: 10, settings: settings,
                    capture: CaptureRequest.parse(["+resid_post"]).spec)
            return Trace(session: session, prompt: "Once upon a time", source: "", request: try CaptureRequest.parse(["+resid_post"]))
        }
        let greedy = try trace(SamplingSettings(greedy: true), bundle)
        let hot = try trace(SamplingSettings(temperature: 3, seed: 1), bundle)
        let diff = try TraceDiff(greedy, hot)
        XCTAssertTrue(diff.samePrompt)
        if let index = diff.firstDivergence {
            XCTAssertNotEqual(greedy.metadata.generatedIds[index], hot.metadata.generatedIds[index])
            XCTAssertEqual(Array(greedy.metadata.generatedIds.prefix(index)), Array(hot.metadata.generatedIds.prefix(index)))
        }
        // Same model, same inputs: identical activations on the shared positions.
        XCTAssertEqual(diff.heads.map(\.maxAbs).max(), 0)
        XCTAssertEqual(diff.layers.map(\.relative).max(), 0)
        XCTAssertEqual(diff.layers.count, 3)

        // Another architecture, or no shared first token: a clear refusal, not a table of zeros.
        var other = hot
        other.metadata.model.layers = 7
        XCTAssertThrowsError(try TraceDiff(greedy, other)) { XCTAssertTrue("\($0)".contains("different shapes"), "\($0)") }
        var unrelated = hot
        unrelated.metadata.promptIds[0] = (hot.metadata.promptIds[0] + 1) % hot.metadata.model.vocabularySize
        XCTAssertThrowsError(try TraceDiff(greedy, unrelated)) { XCTAssertTrue("\($0)".contains("from the first token on"), "\($0)") }
    }
}
