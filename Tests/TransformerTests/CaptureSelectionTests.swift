import Tensors
import Transformer
import XCTest

/// Capturing chosen heads and positions keeps exactly those slices of the full records, for
/// both families (Llama's keys and values keep the key/value heads the chosen heads read).
final class CaptureSelectionTests: XCTestCase {
    func testChosenHeadsAndPositionsAreSlicesOfTheFullRecords() {
        let gpt2 = TransformerConfig.gpt2(layers: 2, heads: 4, width: 32, vocabularySize: 40, contextLength: 32)
        let llama = TransformerConfig.tinyLlama()
        for config in [gpt2, llama] {
            let model = RandomModels.make(config, seed: 3)
            var random = SplitMix64(seed: 8)
            let tokens = (0..<10).map { _ in Int(random.next() % 40) }
            let everything = CaptureSpec.everything
            var chosen = CaptureSpec.everything
            chosen.heads = [2, 3]
            chosen.positions = 3..<9
            let group = config.heads / config.kvHeads
            let kvHeads = Array(Set([2, 3].map { $0 / group })).sorted()

            var fullCache = model.makeCache(), chosenCache = model.makeCache()
            // A prefill of 8 rows (positions 0…7), then two decoded rows (8 and 9).
            for (offset, call) in [(0, Array(tokens.prefix(8))), (8, [tokens[8]]), (9, [tokens[9]])] {
                let full = model.forward(call, cache: &fullCache, capture: everything, allLogits: false).records
                let part = model.forward(call, cache: &chosenCache, capture: chosen, allLogits: false).records
                let rows = max(offset, 3)..<min(offset + call.count, 9)
                let what = "\(config.family) call at \(offset)"
                guard !rows.isEmpty else {
                    XCTAssertTrue(part.isEmpty, "\(what): no row inside the positions, no records")
                    continue
                }
                let local = (rows.lowerBound - offset)..<(rows.upperBound - offset)
                for (name, whole) in full {
                    let kind = RecordKind(recordName: name)!
                    let got = part[name]
                    XCTAssertNotNil(got, "\(what): \(name)")
                    guard let got else { continue }
                    let expected: Tensor
                    switch kind.axes {
                    case .positionRows: expected = slice(whole, heads: nil, rows: local)
                    case .headPositions, .headQueryKey:
                        expected = slice(whole, heads: kind == .k || kind == .v ? kvHeads : [2, 3], rows: local)
                    }
                    XCTAssertEqual(got.shape, expected.shape, "\(what): \(name)")
                    if kind == .logits {
                        // The unembedding multiplies only the rows kept: BLAS may round another
                        // number of rows differently in the last bit.
                        XCTAssertLessThanOrEqual(got.maxAbsDifference(expected), 1e-5, "\(what): \(name)")
                    } else {
                        XCTAssertEqual(got.scalars, expected.scalars, "\(what): \(name)")
                    }
                }
            }
        }
    }

    /// Rows `rows` (and, for per-head records, the heads `heads`) of a record of the whole call.
    private func slice(_ tensor: Tensor, heads: [Int]?, rows: Range<Int>) -> Tensor {
        guard let heads else {
            let width = tensor.shape[1]
            return Tensor(shape: [rows.count, width], scalars: Array(tensor.scalars[(rows.lowerBound * width)..<(rows.upperBound * width)]))
        }
        let (T, inner) = (tensor.shape[1], tensor.shape[2])
        var out: [Float] = []
        for h in heads {
            out += tensor.scalars[((h * T + rows.lowerBound) * inner)..<((h * T + rows.upperBound) * inner)]
        }
        return Tensor(shape: [heads.count, rows.count, inner], scalars: out)
    }
}
