import Foundation
import LanternTestSupport
import Tensors
import Transformer
import XCTest

/// Locations of committed fixtures (made by scripts/make_fixtures.py) and of ../shared/data.
enum Fixtures {
    static let root = Repository.fixtures

    static func folder(_ name: String) -> URL { root.appendingPathComponent(name) }

    /// `reference` is the fixture's folder of Hugging Face outputs: `reference` (the fixture's
    /// own prompt) or `reference/long` (96 tokens, scripts/make_long_prompt_fixtures.py).
    static func ids(_ fixture: String, _ file: String, reference: String = "reference") throws -> [Int] {
        let data = try Data(contentsOf: folder(fixture).appendingPathComponent("\(reference)/\(file)"))
        return try JSONDecoder().decode([Int].self, from: data)
    }

    static func array(_ fixture: String, _ file: String, reference: String = "reference") throws -> Tensor {
        try NPY.read(folder(fixture).appendingPathComponent("\(reference)/\(file)"))
    }

    /// The shared data folder, or a skip naming what is missing.
    static func shared(_ path: String) throws -> URL { try ReferenceData.url(path) }
}

extension Tensor {
    /// Rows `range` of a `[rows, width]` tensor.
    func rows(_ range: Range<Int>) -> Tensor {
        let width = count / shape[0]
        return Tensor(
            shape: [range.count] + shape.dropFirst(), scalars: Array(scalars[(range.lowerBound * width)..<(range.upperBound * width)]))
    }

    /// `[head, query, key]` → the rows `queries` of every head, keys cut to `keys`.
    func attentionRows(_ queries: Range<Int>, keys: Int) -> Tensor {
        let (H, Q, K) = (shape[0], shape[1], shape[2])
        var out: [Float] = []
        for h in 0..<H { for q in queries { for k in 0..<keys { out.append(scalars[(h * Q + q) * K + k]) } } }
        _ = Q
        return Tensor(shape: [H, queries.count, keys], scalars: out)
    }
}

extension TransformerConfig {
    /// A small Llama with grouped-query attention (4 query heads over 2 key/value heads), for
    /// tests that need both families.
    static func tinyLlama(vocabularySize: Int = 40, contextLength: Int = 32) -> TransformerConfig {
        TransformerConfig(
            family: .llama, layers: 2, heads: 4, kvHeads: 2, width: 16, headSize: 4, feedForwardWidth: 24,
            vocabularySize: vocabularySize, contextLength: contextLength, normEpsilon: 1e-5,
            positional: .rotary(theta: 10000, layout: .halfSplit), tiedEmbeddings: false)
    }
}
