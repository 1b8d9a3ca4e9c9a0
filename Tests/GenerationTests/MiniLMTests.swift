import Foundation
import LanternTestSupport
import Tensors
import Tokenizers
import Transformer
import XCTest

@testable import Generation

/// all-MiniLM-L6-v2, a real pretrained encoder, against the values transformers and
/// sentence-transformers compute on it (scripts/make_minilm_reference.py, committed under
/// Fixtures/minilm-reference). The model comes from scripts/fetch_minilm.sh; without it these
/// tests skip, saying so.
final class MiniLMTests: XCTestCase {
    static let reference = Repository.fixtures.appendingPathComponent("minilm-reference")

    struct Sentences: Decodable {
        var sentences: [String]
        var ids: [[Int]]
        var embeddings: [[Float]]
    }

    private func load() throws -> (bundle: ModelBundle, sentences: Sentences) {
        let folder = try TestCache.miniLM()
        let bundle = try ModelBundle.load(model: folder.path)
        let sentences = try JSONDecoder().decode(
            Sentences.self, from: Data(contentsOf: Self.reference.appendingPathComponent("sentences.json")))
        return (bundle, sentences)
    }

    func testHiddenStatesAndAttentionMatchTransformers() throws {
        let (bundle, sentences) = try load()
        let model = bundle.model, ids = sentences.ids[0]
        XCTAssertEqual(bundle.tokenizer.encode(sentences.sentences[0]), ids)
        let hidden = try NPY.read(Self.reference.appendingPathComponent("hidden_states.npy"))  // [7, T, 384]
        let attentions = try NPY.read(Self.reference.appendingPathComponent("attentions.npy"))  // [6, 12, T, T]
        var cache = model.makeCache()
        let result = model.forward(ids, cache: &cache, capture: CaptureSpec(kinds: [.embedNorm, .residPost, .pattern]), allLogits: false)
        let T = ids.count, C = model.config.width, NH = model.config.heads
        func slice(_ tensor: Tensor, _ index: Int, _ shape: [Int]) -> Tensor {
            let size = shape.reduce(1, *)
            return Tensor(shape: shape, scalars: Array(tensor.scalars[(index * size)..<((index + 1) * size)]))
        }
        var worstHidden = try XCTUnwrap(result.records["embed_ln"]).maxAbsDifference(slice(hidden, 0, [T, C]))
        var worstPattern: Float = 0
        for l in 0..<model.config.layers {
            worstHidden = max(
                worstHidden, try XCTUnwrap(result.records["blocks.\(l).resid_post"]).maxAbsDifference(slice(hidden, l + 1, [T, C])))
            worstPattern = max(
                worstPattern, try XCTUnwrap(result.records["blocks.\(l).attn.pattern"]).maxAbsDifference(slice(attentions, l, [NH, T, T])))
        }
        print("all-MiniLM-L6-v2: max |Δhidden| = \(worstHidden), max |Δpattern| = \(worstPattern) over \(T) tokens")
        XCTAssertLessThanOrEqual(worstHidden, 1e-4)
        XCTAssertLessThanOrEqual(worstPattern, 1e-4)
    }

    func testSentenceEmbeddingsMatchSentenceTransformers() throws {
        let (bundle, reference) = try load()
        let pooling = try SentencePooling.load(folder: URL(fileURLWithPath: bundle.source))
        XCTAssertEqual(pooling.mode, .mean)
        XCTAssertTrue(pooling.normalizes)
        XCTAssertEqual(pooling.maximumTokens, 256)
        let result = try SentenceEmbeddings.embed(reference.sentences, model: bundle.model, tokenizer: bundle.tokenizer, pooling: pooling)
        var worstCosine: Float = 1
        for (ours, theirs) in zip(result.vectors, reference.embeddings) {
            worstCosine = min(worstCosine, SentenceEmbeddings.cosineSimilarity(ours, theirs))
            XCTAssertLessThanOrEqual(
                Tensor(shape: [ours.count], scalars: ours).maxAbsDifference(Tensor(shape: [theirs.count], scalars: theirs)), 1e-5)
        }
        print("all-MiniLM-L6-v2: worst cosine(Lantern, sentence-transformers) = \(worstCosine) over \(reference.sentences.count) sentences")
        XCTAssertGreaterThanOrEqual(worstCosine, 1 - 1e-5)
        // The two sentences about a cat on a mat are the closest pair.
        XCTAssertGreaterThan(result.cosine[0][1], result.cosine[0][2])
    }

    func testTokenizerMatchesTheRealVocabulary() throws {
        let (bundle, _) = try load()
        struct Case: Decodable {
            var text: String
            var ids: [Int]
        }
        let cases = try JSONDecoder().decode(
            [Case].self, from: Data(contentsOf: Self.reference.appendingPathComponent("tokenizer_ids.json")))
        XCTAssertGreaterThan(cases.count, 90)
        for item in cases {
            XCTAssertEqual(bundle.tokenizer.encode(item.text), item.ids, item.text.debugDescription)
        }
    }

    func testGenerationIsRefusedWithWhatToRunInstead() throws {
        let (bundle, _) = try load()
        XCTAssertThrowsError(
            try Generator(model: bundle.model, tokenizer: bundle.tokenizer).generate(
                prompt: "Hello", maxNewTokens: 5, settings: SamplingSettings())
        ) { error in
            XCTAssertTrue("\(error)".contains("encoder"), "\(error)")
            XCTAssertTrue("\(error)".contains("lantern embed"), "\(error)")
        }
        XCTAssertThrowsError(try MaskFilling.fill("The [MASK] sat.", model: bundle.model, tokenizer: bundle.tokenizer, top: 5)) { error in
            XCTAssertEqual(error as? EncoderTaskError, .noMaskedLanguageHead)
        }
    }
}
