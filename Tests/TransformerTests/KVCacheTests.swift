import Tensors
import Transformer
import XCTest

/// The cache grows as positions arrive instead of holding the whole context from the start; what
/// it stored must survive each regrowth.
final class KVCacheTests: XCTestCase {
    /// Decoding one token at a time across the regrowths (256 → 512 → 600) gives the logits of one
    /// prefill over the whole sequence, for both families.
    func testDecodingAcrossRegrowthMatchesOnePrefill() {
        for family in [ModelFamily.gpt2, .llama] {
            var config = TransformerConfig.gpt2(layers: 2, heads: 2, width: 16, vocabularySize: 50, contextLength: 600)
            if family == .llama {
                config = .tinyLlama(vocabularySize: 50, contextLength: 600)
            }
            let model = RandomModels.make(config, seed: 5)
            var random = SplitMix64(seed: 3)
            let tokens = (0..<600).map { _ in Int(random.next() % 50) }
            var whole = model.makeCache()
            let reference = model.forward(tokens, cache: &whole, capture: .nothing, allLogits: true).logits
            XCTAssertEqual(whole.capacity, 600)

            var stepping = model.makeCache()
            XCTAssertEqual(stepping.capacity, 256, "the cache starts small")
            _ = model.forward(Array(tokens.prefix(10)), cache: &stepping, capture: .nothing, allLogits: false)
            var worst: Float = 0
            for position in 10..<600 {
                let row = model.forward([tokens[position]], cache: &stepping, capture: .nothing, allLogits: false).logits
                worst = max(worst, row.maxAbsDifference(Tensor(shape: [1, 50], scalars: Array(reference.row(position)))))
            }
            XCTAssertLessThanOrEqual(worst, 1e-4, "\(family)")
            XCTAssertEqual(stepping.capacity, 600)
            XCTAssertTrue(stepping.isFull)
        }
    }

    /// A context of a billion positions costs only what is used.
    func testAHugeContextAllocatesOnlyWhatIsUsed() {
        let cache = KVCache(layers: 2, kvHeads: 2, capacity: 1_000_000_000, headSize: 64)
        XCTAssertEqual(cache.capacity, 256)
        XCTAssertEqual(cache.keys[0].count, 2 * 256 * 64)
        XCTAssertFalse(cache.isFull)
    }
}
