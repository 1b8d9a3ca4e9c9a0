import Foundation
import Generation
import LanternTestSupport
import Rendering
import Tensors
import Tracing
import Transformer
import XCTest

/// What `embeddings` and `positions` choose to draw, decided in the library: the embedding
/// table's rows for the prompt's tokens and the chosen words, and a model's own position tables.
final class SelectionTests: XCTestCase {
    func bundle(_ name: String) throws -> ModelBundle {
        try ModelBundle.load(model: Repository.fixtures.appendingPathComponent(name).path)
    }

    func testEmbeddingsAreTheTablesRowsForThePromptAndTheWords() throws {
        let gpt2 = try bundle("gpt2-bytes-noprefix")
        let table = gpt2.model.tokenEmbeddingTable, C = table.shape[1]
        let prompt = "the cat and the dog"
        let selection = try EmbeddingSelection(prompt: prompt, bundle: gpt2)
        let ids = gpt2.tokenizer.encode(prompt)
        XCTAssertEqual(selection.pieces, ids.map { gpt2.tokenizer.displayPiece($0) })
        for (id, vector) in zip(ids, selection.vectors) { XCTAssertEqual(vector, Array(table.scalars[(id * C)..<((id + 1) * C)])) }
        XCTAssertEqual(selection.width, C)
        // The scatter keeps each token once, in first-seen order.
        XCTAssertEqual(selection.scatterLabels.count, Set(ids).count)
        XCTAssertEqual(selection.numbers.similarity.count, ids.count)
        XCTAssertEqual(selection.numbers.similarity[0][0], 1, accuracy: 1e-4)

        let words = try EmbeddingSelection(prompt: prompt, bundle: gpt2, words: ["cat", "elephant", "cat"])
        // Each word's first token, named with the word when the word takes several; a word given
        // twice is one point.
        func label(_ word: String) -> String {
            let ids = gpt2.tokenizer.encode(word)
            return gpt2.tokenizer.displayPiece(ids[0]) + (ids.count > 1 ? " ← \(word)" : "")
        }
        XCTAssertEqual(words.scatterLabels, [label("cat"), label("elephant")])
        XCTAssertTrue(label("elephant").hasSuffix(" ← elephant"), "the byte-level fixture splits a long word")

        XCTAssertThrowsError(try EmbeddingSelection(prompt: String(repeating: "a b ", count: 40), bundle: gpt2)) { error in
            guard case EmbeddingSelectionError.promptTooLong(_, 64) = error else { return XCTFail("\(error)") }
        }
        XCTAssertThrowsError(try EmbeddingSelection(prompt: "a", bundle: gpt2)) { error in
            XCTAssertEqual(error as? EmbeddingSelectionError, .fewerThanTwoTokens(count: 1, fromTrace: false))
        }
    }

    func testPositionTablesAreTheModelsOwn() throws {
        let gpt2 = try bundle("gpt2-bytes-noprefix")
        let all = try PositionTableSelection.tables(schemes: nil, positions: 32, width: nil, bundle: gpt2)
        XCTAssertEqual(all.map(\.scheme), [.learned, .sinusoidal, .rotary])
        XCTAssertEqual(all[1].origin, "width 48 as in gpt2-bytes-noprefix")
        let textbook = try PositionTableSelection.tables(schemes: nil, positions: 32, width: nil, bundle: nil)
        XCTAssertEqual(textbook.map(\.scheme), [.sinusoidal, .rotary], "no learned table without a model")
        XCTAssertThrowsError(try PositionTableSelection.tables(schemes: .learned, positions: 129, width: nil, bundle: gpt2)) { error in
            XCTAssertEqual(error as? PositionTableError, .beyondContext(positions: 129, model: "gpt2-bytes-noprefix", context: 128))
        }
        let llama = try bundle("llama-tiny-gqa")
        XCTAssertThrowsError(try PositionTableSelection.tables(schemes: .learned, positions: 16, width: nil, bundle: llama)) { error in
            XCTAssertEqual(error as? PositionTableError, .noLearnedTable(model: "llama-tiny-gqa", family: "llama"))
        }
        let rotary = try PositionTableSelection.tables(schemes: .rotary, positions: 16, width: nil, bundle: llama)
        XCTAssertTrue(rotary[0].origin.hasPrefix("llama-tiny-gqa: head size \(llama.model.config.headSize), θ = "), rotary[0].origin)
    }

    /// A trace's embed record is read as [positions, width] only after its shape is checked (a
    /// rank-1 tensor used to trap on `shape[1]`).
    func testAMisshapenEmbedRecordIsRefused() throws {
        let gpt2 = try bundle("gpt2-bytes-noprefix")
        let ids = gpt2.tokenizer.encode("the cat")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-embed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let trace = Trace(
            forward: ids, records: ["embed": Tensor(shape: [ids.count], scalars: [Float](repeating: 0, count: ids.count))],
            tokenizer: gpt2.tokenizer, config: gpt2.model.config, prompt: "the cat", source: "fixture", request: CaptureRequest())
        try TraceFile.write(trace, to: folder)
        XCTAssertThrowsError(try EmbeddingSelection(trace: folder)) { error in
            XCTAssertTrue("\(error)".contains("embed.npy has the shape [\(ids.count)], not [positions, width]"), "\(error)")
        }
    }
}
