import Tensors
import Transformer
import XCTest

/// `attn.z`, each head's output before the output projection, is its pattern times its values:
/// checked against the `attn.pattern` and `attn.v` records of the same run, for both families
/// (Llama with grouped keys and values), over a prefill and a decoded row.
final class HeadOutputTests: XCTestCase {
    func testHeadOutputIsThePatternTimesTheValues() {
        let gpt2 = TransformerConfig.gpt2(layers: 2, heads: 3, width: 24, vocabularySize: 40, contextLength: 32)
        let llama = TransformerConfig.tinyLlama()
        for config in [gpt2, llama] {
            let model = RandomModels.make(config, seed: 9)
            var random = SplitMix64(seed: 4)
            let tokens = (0..<9).map { _ in Int(random.next() % 40) }
            let every = CaptureSpec(kinds: [.pattern, .v, .z])
            var cache = model.makeCache()
            let prefill = model.forward(Array(tokens.prefix(8)), cache: &cache, capture: every, allLogits: false).records
            let prefillValues = prefill.filter { $0.key.hasSuffix("attn.v") }
            let decoded = model.forward(
                [tokens[8]], cache: &cache, capture: CaptureSpec(kinds: [.pattern, .v, .z], lastRowOnly: true),
                allLogits: false
            ).records
            for l in 0..<config.layers {
                let name = { (kind: RecordKind) in kind.name(layer: l) }
                check(
                    config, z: prefill[name(.z)]!, pattern: prefill[name(.pattern)]!, values: prefill[name(.v)]!,
                    "\(config.family) prefill layer \(l)")
                // A decoded row attends over every cached value: the prefill's and its own.
                let allValues = concatenatePositions(prefillValues[name(.v)]!, decoded[name(.v)]!)
                check(
                    config, z: decoded[name(.z)]!, pattern: decoded[name(.pattern)]!, values: allValues,
                    "\(config.family) decoded layer \(l)")
            }
        }
    }

    /// `z[h, t, :] = Σ_k pattern[h, t, k] · v[h / group, k, :]`.
    private func check(_ config: TransformerConfig, z: Tensor, pattern: Tensor, values: Tensor, _ what: String) {
        let NH = config.heads, hs = config.headSize, group = config.heads / config.kvHeads
        let rows = pattern.shape[1], K = pattern.shape[2]
        XCTAssertEqual(z.shape, [NH, rows, hs], what)
        XCTAssertEqual(values.shape, [config.kvHeads, K, hs], what)
        var worst: Float = 0
        for h in 0..<NH {
            for t in 0..<rows {
                for i in 0..<hs {
                    var sum: Float = 0
                    for k in 0..<K { sum += pattern.scalars[(h * rows + t) * K + k] * values.scalars[((h / group) * K + k) * hs + i] }
                    worst = max(worst, abs(sum - z.scalars[(h * rows + t) * hs + i]))
                }
            }
        }
        XCTAssertLessThan(worst, 1e-5, what)
    }

    /// Joins two `[heads, positions, hs]` tensors along positions.
    private func concatenatePositions(_ a: Tensor, _ b: Tensor) -> Tensor {
        let H = a.shape[0], hs = a.shape[2], na = a.shape[1], nb = b.shape[1]
        var out: [Float] = []
        for h in 0..<H {
            out += a.scalars[(h * na * hs)..<((h + 1) * na * hs)]
            out += b.scalars[(h * nb * hs)..<((h + 1) * nb * hs)]
        }
        return Tensor(shape: [H, na + nb, hs], scalars: out)
    }
}
