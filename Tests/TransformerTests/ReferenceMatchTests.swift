import Foundation
import Tensors
import Transformer
import XCTest

/// The engine against Hugging Face transformers (eager attention, float32) on committed
/// random-weight checkpoints: logits and attention patterns within 1e-4, for the prompt
/// (one prefill pass) and for every token decoded through the KV cache, and the same greedy
/// continuation.
final class ReferenceMatchTests: XCTestCase {
    static let tolerance: Float = 1e-4

    func check(_ fixture: String, reference: String = "reference", file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try ModelLoader.loadHuggingFace(folder: Fixtures.folder(fixture))
        let prompt = try Fixtures.ids(fixture, "prompt_ids.json", reference: reference)
        let generated = try Fixtures.ids(fixture, "generated_ids.json", reference: reference)
        let sequence = prompt + generated
        let logits = try Fixtures.array(fixture, "logits.npy", reference: reference)  // [T, V]
        XCTAssertEqual(logits.shape, [sequence.count, model.config.vocabularySize], file: file, line: line)
        let patterns = try (0..<model.config.layers).map { try Fixtures.array(fixture, "attn_pattern.\($0).npy", reference: reference) }

        // Prefill: every prompt row at once.
        var cache = model.makeCache()
        let capture = CaptureSpec(kinds: [.pattern])
        let prefill = model.forward(prompt, cache: &cache, capture: capture, allLogits: true)
        var worstLogit = prefill.logits.maxAbsDifference(logits.rows(0..<prompt.count))
        var worstPattern: Float = 0
        for l in 0..<model.config.layers {
            let recorded = try XCTUnwrap(prefill.records["blocks.\(l).attn.pattern"], file: file, line: line)
            worstPattern = max(worstPattern, recorded.maxAbsDifference(patterns[l].attentionRows(0..<prompt.count, keys: prompt.count)))
        }

        // Decode: one cached row at a time, recording only the newest row.
        let stepCapture = CaptureSpec(kinds: [.pattern], lastRowOnly: true)
        for (offset, token) in generated.enumerated() {
            let position = prompt.count + offset
            let step = model.forward([token], cache: &cache, capture: stepCapture, allLogits: false)
            worstLogit = max(worstLogit, step.logits.maxAbsDifference(logits.rows(position..<(position + 1))))
            for l in 0..<model.config.layers {
                let recorded = try XCTUnwrap(step.records["blocks.\(l).attn.pattern"], file: file, line: line)
                worstPattern = max(
                    worstPattern,
                    recorded.maxAbsDifference(
                        patterns[l].attentionRows(position..<(position + 1), keys: position + 1)))
            }
        }
        print(
            "\(fixture) (\(reference), \(Parallelism.threads) threads): max |Δlogit| = \(worstLogit), max |Δpattern| = \(worstPattern) over \(sequence.count) positions"
        )
        XCTAssertLessThanOrEqual(worstLogit, Self.tolerance, "\(fixture) logits", file: file, line: line)
        XCTAssertLessThanOrEqual(worstPattern, Self.tolerance, "\(fixture) attention", file: file, line: line)

        // Greedy continuation from the prompt, token for token.
        var greedyCache = model.makeCache()
        var next = model.nextTokenLogits(prompt, cache: &greedyCache)
        var continuation: [Int] = []
        for _ in generated {
            let token = next.indices.max { next[$0] < next[$1] || (next[$0] == next[$1] && $0 > $1) }!
            continuation.append(token)
            next = model.nextTokenLogits([token], cache: &greedyCache)
        }
        XCTAssertEqual(continuation, generated, "\(fixture) greedy continuation", file: file, line: line)
    }

    func testGPT2RealVocabularyFloat16WithPrefix() throws { try check("gpt2-realvocab-f16") }
    func testGPT2WithoutPrefixUntiedHead() throws { try check("gpt2-bytes-noprefix") }
    func testGPT2BFloat16Sharded() throws { try check("gpt2-bytes-bf16-sharded") }
    func testLlamaGroupedQueryAttention() throws { try check("llama-tiny-gqa") }
    /// Mistral: Llama's shape with a sliding window (4) on every layer, shorter than the prompt.
    func testMistralSlidingWindow() throws {
        try check("mistral-tiny-window")
        let model = try ModelLoader.loadHuggingFace(folder: Fixtures.folder("mistral-tiny-window"))
        XCTAssertEqual(model.config.family, .llama)
        XCTAssertEqual(model.config.attentionWindow(layer: 1), 4)
    }

    /// A GPT2Model folder (no LM head) runs as GPT-2 with the tied embedding as its head; a
    /// Qwen2 folder is refused, naming what Lantern's Llama lacks.
    func testGPT2ModelFoldersAndQwen2Refusal() throws {
        let source = Fixtures.folder("gpt2-realvocab-f16")
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-gpt2model-\(UUID())")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(
            at: source.appendingPathComponent("model.safetensors"), to: copy.appendingPathComponent("model.safetensors"))
        var config = try XCTUnwrap(
            JSONSerialization.jsonObject(with: Data(contentsOf: source.appendingPathComponent("config.json"))) as? [String: Any])
        config["architectures"] = ["GPT2Model"]
        try JSONSerialization.data(withJSONObject: config).write(to: copy.appendingPathComponent("config.json"))
        let headless = try ModelLoader.loadHuggingFace(folder: copy), original = try ModelLoader.loadHuggingFace(folder: source)
        let ids = try Fixtures.ids("gpt2-realvocab-f16", "prompt_ids.json")
        var a = headless.makeCache(), b = original.makeCache()
        XCTAssertEqual(headless.nextTokenLogits(ids, cache: &a), original.nextTokenLogits(ids, cache: &b))

        config = ["architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"]
        try JSONSerialization.data(withJSONObject: config).write(to: copy.appendingPathComponent("config.json"))
        XCTAssertThrowsError(try ModelLoader.loadHuggingFace(folder: copy)) { error in
            XCTAssertTrue("\(error)".contains("biases on the query, key and value projections"), "\(error)")
        }
    }

    /// GPT-Neo: unscaled scores, q/k/v without biases, and local layers whose window (5) is
    /// shorter than the prompt (38 tokens): their patterns are zero beyond it, prefill and decode.
    func testGPTNeoLocalAndGlobalLayers() throws {
        try check("gpt-neo-tiny")
        let model = try ModelLoader.loadHuggingFace(folder: Fixtures.folder("gpt-neo-tiny"))
        XCTAssertEqual(model.config.family, .gptNeo)
        XCTAssertEqual((0..<4).map { model.config.attentionWindow(layer: $0) }, [nil, 5, nil, 5])
        XCTAssertFalse(model.config.scalesAttentionScores)
        // The counted parameters are the checkpoint's: 64,096, as torch counts them (the tied head once).
        let expected =
            297 * 32 + 128 * 32 + 4 * (2 * 32 + 3 * 32 * 32 + (32 * 32 + 32) + 2 * 32 + (32 * 128 + 128) + (128 * 32 + 32)) + 2 * 32
        XCTAssertEqual(model.config.parameterCount, expected)
    }

    /// A 96-token prompt takes the parallel paths (attention heads split over workers from
    /// T·K ≥ 4096, matrix products split by output columns): checked at 1 and 2 threads.
    func testLongPromptsAtOneAndTwoThreads() throws {
        let before = Parallelism.threads
        defer { Parallelism.setThreads(before) }
        for threads in [1, 2] {
            Parallelism.setThreads(threads)
            try check("gpt2-bytes-noprefix", reference: "reference/long")
            try check("llama-tiny-gqa", reference: "reference/long")
        }
    }

    /// Hidden states: HF's `hidden_states[l]` is the residual stream entering block l
    /// (embeddings for l = 0); the last entry has the final norm applied.
    func testResidualStreamMatchesHiddenStates() throws {
        for fixture in ["gpt2-bytes-noprefix", "llama-tiny-gqa"] {
            let model = try ModelLoader.loadHuggingFace(folder: Fixtures.folder(fixture))
            let sequence = try Fixtures.ids(fixture, "prompt_ids.json") + Fixtures.ids(fixture, "generated_ids.json")
            let hidden = try Fixtures.array(fixture, "hidden_states.npy")  // [L+1, T, C]
            var cache = model.makeCache()
            let result = model.forward(sequence, cache: &cache, capture: CaptureSpec(kinds: [.residPost, .lnFinal]), allLogits: false)
            let L = model.config.layers, T = sequence.count, C = model.config.width
            func reference(_ index: Int) -> Tensor {
                Tensor(shape: [T, C], scalars: Array(hidden.scalars[(index * T * C)..<((index + 1) * T * C)]))
            }
            for l in 0..<(L - 1) {
                let recorded = try XCTUnwrap(result.records["blocks.\(l).resid_post"])
                XCTAssertLessThanOrEqual(recorded.maxAbsDifference(reference(l + 1)), 1e-4, "\(fixture) resid_post \(l)")
            }
            let lastBlock = try XCTUnwrap(result.records["blocks.\(L - 1).resid_post"])
            XCTAssertLessThanOrEqual(
                lastBlock.maxAbsDifference(try Fixtures.array(fixture, "resid_final.npy")), 1e-4, "\(fixture) last resid_post")
            XCTAssertLessThanOrEqual(try XCTUnwrap(result.records["ln_final"]).maxAbsDifference(reference(L)), 1e-4, "\(fixture) ln_final")
        }
    }
}
