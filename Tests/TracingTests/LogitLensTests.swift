import Foundation
import LanternTestSupport
import Generation
import Tensors
import Tokenizers
import Tracing
import Transformer
import XCTest

/// Committed fixtures (Tests/TransformerTests/Fixtures, made by scripts/make_fixtures.py) and ../shared/data.
enum AnalysisFixtures {
    static let fixtures = Repository.fixtures

    static func bundle(_ name: String) throws -> ModelBundle {
        try ModelBundle.load(model: fixtures.appendingPathComponent(name).path)
    }

    static func ids(_ fixture: String, _ file: String) throws -> [Int] {
        try JSONDecoder().decode([Int].self, from: Data(contentsOf: fixtures.appendingPathComponent("\(fixture)/reference/\(file)")))
    }

    static func array(_ fixture: String, _ file: String) throws -> Tensor {
        try NPY.read(fixtures.appendingPathComponent("\(fixture)/reference/\(file)"))
    }

    /// The real pretrained stories260K model, or a skip naming what is missing.
    static func stories() throws -> ModelBundle {
        try ModelBundle.load(model: ReferenceData.url("stories260K/stories260K.bin").path)
    }

    static func temporaryFolder() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("lantern-analysis-\(UUID())")
    }
}

final class LogitLensTests: XCTestCase {
    static let fixtureNames = ["gpt2-bytes-noprefix", "llama-tiny-gqa"]

    /// At the last layer the lens is the model's own prediction: the unembedded last `resid_post`
    /// equals transformers' logits and Lantern's forward logits, and the lens's probabilities are their softmax.
    func testLastLayerLensEqualsTheModelsLogits() throws {
        for fixture in Self.fixtureNames {
            let bundle = try AnalysisFixtures.bundle(fixture)
            let model = bundle.model
            let sequence = try AnalysisFixtures.ids(fixture, "prompt_ids.json") + AnalysisFixtures.ids(fixture, "generated_ids.json")
            let reference = try AnalysisFixtures.array(fixture, "logits.npy")  // [T, V], transformers
            let referenceResidual = try AnalysisFixtures.array(fixture, "resid_final.npy")  // [T, C]
            let N = sequence.count, V = model.config.vocabularySize, L = model.config.layers

            // The unembedding of transformers' own last residual stream gives transformers' logits.
            let fromReference = model.unembedResidual(referenceResidual)
            XCTAssertEqual(fromReference.shape, [N, V])
            let worstReference = fromReference.maxAbsDifference(reference)
            XCTAssertLessThanOrEqual(worstReference, 1e-4, "\(fixture): unembedResidual(resid_final) vs transformers' logits")

            // And of Lantern's own, Lantern's forward logits.
            var cache = model.makeCache()
            let result = model.forward(sequence, cache: &cache, capture: LogitLens.capture, allLogits: true)
            let lastResidual = try XCTUnwrap(result.records["blocks.\(L - 1).resid_post"])
            let worstForward = model.unembedResidual(lastResidual).maxAbsDifference(result.logits)
            XCTAssertLessThanOrEqual(worstForward, 1e-4, "\(fixture): unembedResidual(resid_post) vs forward logits")

            // The lens row of the last layer: top tokens and probabilities are the softmax of those logits.
            let lens = try LogitLens(records: result.records, tokens: sequence, model: model, top: 5)
            XCTAssertEqual(lens.layers.map(\.layer), Array(-1..<L))
            XCTAssertEqual(lens.layers.last?.record, "blocks.\(L - 1).resid_post")
            let last = try XCTUnwrap(lens.layer(L - 1))
            var worstProbability: Float = 0
            for position in 0..<N {
                let probabilities = softmax(Array(reference.row(position)))
                let cell = last.cells[position]
                XCTAssertEqual(cell.top.count, 5)
                XCTAssertEqual(
                    cell.top.first?.id, probabilities.indices.max { probabilities[$0] < probabilities[$1] },
                    "\(fixture) position \(position)")
                for prediction in cell.top {
                    worstProbability = max(worstProbability, abs(prediction.probability - probabilities[prediction.id]))
                }
                XCTAssertEqual(zip(cell.top, cell.top.dropFirst()).allSatisfy { $0.probability >= $1.probability }, true)
                if position + 1 < N {
                    let next = sequence[position + 1]
                    worstProbability = max(worstProbability, abs(try XCTUnwrap(cell.nextTokenProbability) - probabilities[next]))
                    XCTAssertEqual(cell.nextTokenRank, 1 + probabilities.filter { $0 > probabilities[next] }.count)
                } else {
                    XCTAssertNil(cell.nextTokenProbability)
                }
            }
            XCTAssertLessThanOrEqual(worstProbability, 1e-4, "\(fixture) lens probabilities")
            print(
                "\(fixture): max |Δlogit| lens vs transformers \(worstReference), vs forward \(worstForward); max |Δp| \(worstProbability)")
        }
    }

    /// Layer −1 reads the stream entering block 0: embeddings (+ positions for GPT-2), as transformers' hidden_states[0].
    func testEmbeddingRowReadsTheStreamEnteringBlockZero() throws {
        for fixture in Self.fixtureNames {
            let bundle = try AnalysisFixtures.bundle(fixture)
            let sequence = try AnalysisFixtures.ids(fixture, "prompt_ids.json")
            let hidden = try AnalysisFixtures.array(fixture, "hidden_states.npy")  // [L+1, T, C]
            let T = hidden.shape[1], C = hidden.shape[2], N = sequence.count
            let embedded = Tensor(shape: [N, C], scalars: Array(hidden.scalars[0..<(N * C)]))
            _ = T
            let expected = bundle.model.unembedResidual(embedded)
            let lens = try LogitLens.run(model: bundle.model, tokens: sequence, top: 3)
            let row = try XCTUnwrap(lens.layer(-1))
            XCTAssertEqual(row.record, "embed")
            for position in 0..<N {
                let probabilities = softmax(Array(expected.row(position)))
                for prediction in row.cells[position].top {
                    XCTAssertEqual(prediction.probability, probabilities[prediction.id], accuracy: 1e-4, "\(fixture) position \(position)")
                }
            }
        }
    }

    /// The lens of a saved trace (prompt prefilled, then one cached row per token) equals the lens of
    /// one forward pass over the same tokens, and so does the lens of the live session.
    func testLensFromATraceAndFromASessionMatchesOneForwardPass() throws {
        for fixture in Self.fixtureNames {
            let bundle = try AnalysisFixtures.bundle(fixture)
            let request = try CaptureRequest.parse(["+resid_post"])
            let (result, session) = try Generator(model: bundle.model, tokenizer: bundle.tokenizer)
                .generate(
                    prompt: "Once upon a time", maxNewTokens: 6, settings: SamplingSettings(temperature: 0.9, seed: 5),
                    capture: request.spec)
            let trace = Trace(
                session: session, prompt: "Once upon a time", source: fixture, request: request, stopReason: result.stopReason)
            let folder = AnalysisFixtures.temporaryFolder()
            defer { try? FileManager.default.removeItem(at: folder) }
            try TraceFile.write(trace, to: folder)
            let loaded = try TraceFile.read(folder)

            let fromTrace = try LogitLens(trace: loaded, model: bundle.model, top: 4, folder: folder.path)
            let fromSession = try LogitLens(session: session, top: 4)
            let live = try LogitLens.run(model: bundle.model, tokens: session.tokens, top: 4)
            XCTAssertEqual(fromTrace.tokens, session.tokens)
            for other in [fromTrace, fromSession] {
                XCTAssertEqual(other.layers.count, live.layers.count)
                for (a, b) in zip(other.layers, live.layers) {
                    XCTAssertEqual(a.record, b.record)
                    for (x, y) in zip(a.cells, b.cells) {
                        for (p, q) in zip(x.top, y.top) {
                            XCTAssertEqual(p.probability, q.probability, accuracy: 1e-4, "\(fixture) \(a.record)")
                        }
                        XCTAssertEqual(x.nextTokenProbability ?? -1, y.nextTokenProbability ?? -1, accuracy: 1e-4)
                    }
                }
            }
        }
    }

    func testATraceWithoutTheResidualStreamSaysHowToCaptureIt() throws {
        let bundle = try AnalysisFixtures.bundle("gpt2-bytes-noprefix")
        let (_, session) = try Generator(model: bundle.model, tokenizer: bundle.tokenizer)
            .generate(prompt: "Hi", maxNewTokens: 2, settings: SamplingSettings(greedy: true), capture: CaptureRequest().spec)
        let trace = Trace(session: session, prompt: "Hi", source: "fixture", request: CaptureRequest())
        XCTAssertThrowsError(try LogitLens(trace: trace, model: bundle.model)) { error in
            XCTAssertTrue("\(error)".contains("add +resid_post to the capture list"), "\(error)")
        }
        // A trace of another model is refused before any arithmetic.
        let llama = try AnalysisFixtures.bundle("llama-tiny-gqa")
        XCTAssertThrowsError(try LogitLens(trace: trace, model: llama.model)) { error in
            XCTAssertTrue("\(error)".contains("different model"), "\(error)")
        }
        XCTAssertThrowsError(try LogitLens.run(model: bundle.model, tokens: [1, 2], top: 0))
    }
}
