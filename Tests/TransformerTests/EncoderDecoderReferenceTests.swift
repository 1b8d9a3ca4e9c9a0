import Foundation
import Generation
import Tensors
import Transformer
import XCTest

/// T5 (v1.0 and v1.1 layouts) and BART against Hugging Face transformers (eager attention,
/// float32) on the random-weight checkpoints scripts/make_encdec_fixtures.py made: a 70-token
/// source (T5's logarithmic position buckets and the last one are reached), 12 decoder rows —
/// logits, every hidden state, encoder, decoder and cross-attention patterns within 1e-4 (of
/// the tensor's largest magnitude where that exceeds 1) — the
/// same rows decoded one at a time through the cache, and greedy generation token for token.
final class EncoderDecoderReferenceTests: XCTestCase {
    static let tolerance: Float = 1e-4

    private func check(_ fixture: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try XCTUnwrap(ModelLoader.loadHuggingFace(folder: Fixtures.folder(fixture)) as? EncoderDecoderModel)
        let c = model.config
        XCTAssertTrue(c.isEncoderDecoder, file: file, line: line)
        let source = try Fixtures.ids(fixture, "source_ids.json"), target = try Fixtures.ids(fixture, "decoder_ids.json")
        let S = source.count, T = target.count, C = c.width
        let capture = CaptureSpec(kinds: [.embed, .embedNorm, .residPost, .lnFinal, .pattern, .crossPattern])
        let encoded = try XCTUnwrap(model.encode(source: source, capture: capture))
        var cache = encoded.cache
        let result = model.forward(target, cache: &cache, capture: capture, allLogits: true)

        func rows(_ stacked: Tensor, _ index: Int, _ count: Int) -> Tensor {
            Tensor(shape: [count, C], scalars: Array(stacked.scalars[(index * count * C)..<((index + 1) * count * C)]))
        }
        // Hugging Face's hidden states: the stream entering block 0, then each block's output,
        // the last one after the stack's final norm where there is one (T5).
        func hiddenNames(scope: String, layers: Int) -> [String] {
            let first = c.normalizesEmbeddings ? "embed_ln" : "embed"
            return [scope + first]
                + (0..<layers).map { l in l == layers - 1 && c.hasFinalNorm ? scope + "ln_final" : scope + "blocks.\(l).resid_post" }
        }
        var worst: [String: Float] = [:]
        func compare(_ what: String, _ found: Tensor?, _ expected: Tensor) {
            guard let found else { return XCTFail("\(fixture): no \(what)", file: file, line: line) }
            XCTAssertEqual(found.shape, expected.shape, "\(fixture) \(what)", file: file, line: line)
            // Relative to the tensor's scale above 1: T5's stream is never normalised in place
            // and grows to ~20 in the fixture, where float32 rounding alone reaches 1e-4.
            let scale = max(1, expected.scalars.map(abs).max() ?? 0)
            worst[what] = max(worst[what] ?? 0, found.maxAbsDifference(expected) / scale)
        }
        let encoderHidden = try Fixtures.array(fixture, "encoder_hidden.npy")
        for (index, name) in hiddenNames(scope: RecordKind.encoderScope, layers: c.encoderLayers).enumerated() {
            compare("encoder hidden", encoded.records[name], rows(encoderHidden, index, S))
        }
        let decoderHidden = try Fixtures.array(fixture, "decoder_hidden.npy")
        for (index, name) in hiddenNames(scope: "", layers: c.layers).enumerated() {
            compare("decoder hidden", result.records[name], rows(decoderHidden, index, T))
        }
        for l in 0..<c.encoderLayers {
            compare(
                "encoder attention", encoded.records["encoder.blocks.\(l).attn.pattern"],
                try Fixtures.array(fixture, "encoder_attn.\(l).npy"))
        }
        for l in 0..<c.layers {
            compare("decoder attention", result.records["blocks.\(l).attn.pattern"], try Fixtures.array(fixture, "decoder_attn.\(l).npy"))
            compare("cross-attention", result.records["blocks.\(l).cross_attn.pattern"], try Fixtures.array(fixture, "cross_attn.\(l).npy"))
        }
        compare("logits", result.logits, try Fixtures.array(fixture, "logits.npy"))

        // The same rows one at a time through the cache.
        let cached = try Fixtures.array(fixture, "cached_logits.npy")
        var stepCache = encoded.cache
        for t in 0..<T {
            let step = model.forward([target[t]], cache: &stepCache, capture: .nothing, allLogits: false)
            compare("cached logits", step.logits, cached.rows(t..<(t + 1)))
        }
        print(
            "\(fixture) (\(Parallelism.threads) threads): "
                + worst.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        for (what, difference) in worst {
            XCTAssertLessThanOrEqual(difference, Self.tolerance, "\(fixture) \(what)", file: file, line: line)
        }

        // Greedy, with the forced first and last tokens of the generation config.
        struct Greedy: Decodable {
            var decoder_start: Int
            var generated: [Int]
        }
        let greedy = try JSONDecoder().decode(
            Greedy.self, from: Data(contentsOf: Fixtures.folder(fixture).appendingPathComponent("reference/greedy.json")))
        XCTAssertEqual(c.decoderStartTokenId, greedy.decoder_start, file: file, line: line)
        var greedyCache = encoded.cache
        var next = greedy.decoder_start, generated: [Int] = []
        for step in 0..<16 {
            let logits = model.forward([next], cache: &greedyCache, capture: .nothing, allLogits: false).logits.scalars
            if step == 0, let forced = c.forcedFirstTokenId {
                next = forced
            } else if step == 15, let forced = c.forcedLastTokenId {
                next = forced
            } else {
                next = logits.indices.max { logits[$0] < logits[$1] }!
            }
            generated.append(next)
            if next == c.eosTokenId { break }
        }
        XCTAssertEqual(generated, greedy.generated, "\(fixture) greedy", file: file, line: line)
    }

    func testT5MatchesHuggingFace() throws {
        let before = Parallelism.threads
        defer { Parallelism.setThreads(before) }
        for threads in [1, 2] {
            Parallelism.setThreads(threads)
            try check("t5-tiny")
        }
    }

    func testGatedT5WithUntiedHeadMatchesHuggingFace() throws { try check("t5-tiny-gated") }

    func testBARTMatchesHuggingFace() throws {
        let before = Parallelism.threads
        defer { Parallelism.setThreads(before) }
        for threads in [1, 2] {
            Parallelism.setThreads(threads)
            try check("bart-tiny")
        }
    }

    /// From text to text: T5-tiny with its Unigram tokenizer, greedy through Lantern's generator,
    /// gives transformers' ids and decoded text.
    func testT5FromTextToTextMatchesHuggingFace() throws {
        struct TextGreedy: Decodable {
            var text: String
            var ids: [Int]
            var generated: [Int]
            var decoded: String
        }
        let folder = Fixtures.folder("t5-tiny")
        let reference = try JSONDecoder().decode(
            TextGreedy.self, from: Data(contentsOf: folder.appendingPathComponent("reference/text_greedy.json")))
        let bundle = try ModelBundle.load(model: folder.path)
        XCTAssertEqual(bundle.tokenizer.encode(reference.text), reference.ids)
        let generator = Generator(model: bundle.model, tokenizer: bundle.tokenizer)
        let (result, _) = try generator.generate(
            prompt: reference.text, maxNewTokens: reference.generated.count, settings: SamplingSettings(greedy: true))
        XCTAssertEqual(result.promptIds, reference.ids)
        XCTAssertEqual(result.generatedIds, reference.generated)
        XCTAssertEqual(result.text, reference.decoded)
    }

    /// Transformers' bucket function on the fixture's settings (8 buckets, max distance 20) and
    /// T5's published ones (32, 128), worked by hand from its formula.
    func testRelativePositionBuckets() {
        // Bidirectional, 8 buckets: 4 per side, 2 exact, then log-spaced up to 20.
        XCTAssertEqual((-3...3).map { relativePositionBucket($0, bidirectional: true, buckets: 8, maxDistance: 20) }, [2, 2, 1, 0, 5, 6, 6])
        XCTAssertEqual(relativePositionBucket(-100, bidirectional: true, buckets: 8, maxDistance: 20), 3)
        XCTAssertEqual(relativePositionBucket(100, bidirectional: true, buckets: 8, maxDistance: 20), 7)
        // Unidirectional: keys after the query all fall in bucket 0.
        XCTAssertEqual(relativePositionBucket(5, bidirectional: false, buckets: 32, maxDistance: 128), 0)
        XCTAssertEqual(relativePositionBucket(-15, bidirectional: false, buckets: 32, maxDistance: 128), 15)
        // 16 + log(16/16)/log(8)·16 = 16 at distance 16; log(2)/log(8)·16 = 5.33 → 21 at 32.
        XCTAssertEqual(relativePositionBucket(-16, bidirectional: false, buckets: 32, maxDistance: 128), 16)
        XCTAssertEqual(relativePositionBucket(-32, bidirectional: false, buckets: 32, maxDistance: 128), 21)
        XCTAssertEqual(relativePositionBucket(-1000, bidirectional: false, buckets: 32, maxDistance: 128), 31)
    }
}
