import Foundation
import Tensors
import Transformer
import XCTest

/// BERT against Hugging Face transformers (eager attention, float32) on the random-weight
/// checkpoints scripts/make_bert_fixtures.py made: a sentence pair with token types and two
/// [MASK]s — MLM logits, every layer's hidden state and attention pattern within 1e-4 — and a
/// padded batch, whose real rows must equal each sentence run alone.
final class BertReferenceTests: XCTestCase {
    static let tolerance: Float = 1e-4

    private func check(_ fixture: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try XCTUnwrap(ModelLoader.loadHuggingFace(folder: Fixtures.folder(fixture)) as? BertModel)
        XCTAssertFalse(model.config.isCausal)
        let ids = try Fixtures.ids(fixture, "prompt_ids.json"), types = try Fixtures.ids(fixture, "token_types.json")
        XCTAssertTrue(types.contains(1), "the reference prompt is a pair", file: file, line: line)
        let hidden = try Fixtures.array(fixture, "hidden_states.npy")  // [L+1, T, C]
        let T = ids.count, C = model.config.width
        let result = model.encode(
            ids, tokenTypes: types, capture: CaptureSpec(kinds: [.embedNorm, .residPost, .pattern]), allLogits: true)

        func layerRows(_ index: Int) -> Tensor {
            Tensor(shape: [T, C], scalars: Array(hidden.scalars[(index * T * C)..<((index + 1) * T * C)]))
        }
        var worstHidden = try XCTUnwrap(result.records["embed_ln"]).maxAbsDifference(layerRows(0))
        var worstPattern: Float = 0
        for l in 0..<model.config.layers {
            worstHidden = max(worstHidden, try XCTUnwrap(result.records["blocks.\(l).resid_post"]).maxAbsDifference(layerRows(l + 1)))
            let pattern = try Fixtures.array(fixture, "attn_pattern.\(l).npy")
            worstPattern = max(worstPattern, try XCTUnwrap(result.records["blocks.\(l).attn.pattern"]).maxAbsDifference(pattern))
        }
        var worstLogit: Float = 0
        if model.config.head == .maskedToken {
            let logits = try Fixtures.array(fixture, "logits.npy")
            XCTAssertEqual(result.logits.shape, logits.shape, file: file, line: line)
            worstLogit = result.logits.maxAbsDifference(logits)
        } else {
            XCTAssertEqual(result.logits.shape, [T, 0], file: file, line: line)
        }
        print(
            "\(fixture) (\(Parallelism.threads) threads): max |Δhidden| = \(worstHidden), |Δpattern| = \(worstPattern), |Δlogit| = \(worstLogit)"
        )
        XCTAssertLessThanOrEqual(worstHidden, Self.tolerance, "\(fixture) hidden states", file: file, line: line)
        XCTAssertLessThanOrEqual(worstPattern, Self.tolerance, "\(fixture) attention", file: file, line: line)
        XCTAssertLessThanOrEqual(worstLogit, Self.tolerance, "\(fixture) logits", file: file, line: line)

        // Every pattern row sees every key: no causal mask in an encoder.
        let pattern = try XCTUnwrap(result.records["blocks.0.attn.pattern"])
        XCTAssertGreaterThan(pattern.scalars[T - 1], 0, "row 0 attends to the last key", file: file, line: line)

        // The padded batch: each sentence alone gives HF's rows for it.
        struct Batch: Decodable {
            var ids: [[Int]]
            var last_hidden: [[[Float]]]
        }
        let batch = try JSONDecoder().decode(
            Batch.self, from: Data(contentsOf: Fixtures.folder(fixture).appendingPathComponent("reference/batch.json")))
        for (sentence, expected) in zip(batch.ids, batch.last_hidden) {
            let alone = model.encode(
                sentence, tokenTypes: Array(repeating: 0, count: sentence.count), capture: CaptureSpec(kinds: [.residPost]))
            let last = try XCTUnwrap(alone.records["blocks.\(model.config.layers - 1).resid_post"])
            XCTAssertLessThanOrEqual(
                last.maxAbsDifference(Tensor(shape: [sentence.count, C], scalars: expected.flatMap { $0 })), Self.tolerance,
                "padded batch row", file: file, line: line)
        }
    }

    func testMaskedLanguageModelMatchesHuggingFace() throws {
        let before = Parallelism.threads
        defer { Parallelism.setThreads(before) }
        for threads in [1, 2] {
            Parallelism.setThreads(threads)
            try check("bert-tiny-mlm")
        }
    }

    func testEncoderWithoutPrefixOrHeadMatchesHuggingFace() throws { try check("bert-tiny-base") }

    func testLogitLensOfTheLastLayerIsTheModelsLogits() throws {
        let model = try XCTUnwrap(ModelLoader.loadHuggingFace(folder: Fixtures.folder("bert-tiny-mlm")) as? BertModel)
        let ids = try Fixtures.ids("bert-tiny-mlm", "prompt_ids.json"), types = try Fixtures.ids("bert-tiny-mlm", "token_types.json")
        let result = model.encode(ids, tokenTypes: types, capture: CaptureSpec(kinds: [.residPost], layers: [model.config.layers - 1]))
        let lens = model.unembedResidual(try XCTUnwrap(result.records["blocks.\(model.config.layers - 1).resid_post"]))
        XCTAssertLessThanOrEqual(lens.maxAbsDifference(result.logits), 1e-5)
    }

    func testParameterCountMatchesPyTorch() throws {
        struct Meta: Decodable {
            var parameters: Int
            var pooler_parameters: Int
        }
        for fixture in ["bert-tiny-mlm", "bert-tiny-base"] {
            let model = try ModelLoader.loadHuggingFace(folder: Fixtures.folder(fixture))
            let meta = try JSONDecoder().decode(
                Meta.self, from: Data(contentsOf: Fixtures.folder(fixture).appendingPathComponent("reference/meta.json")))
            // The pooler (BertModel's dense + tanh over [CLS]) is not loaded: sentence encoders pool otherwise.
            XCTAssertEqual(model.config.parameterCount, meta.parameters - meta.pooler_parameters, fixture)
        }
    }
}
