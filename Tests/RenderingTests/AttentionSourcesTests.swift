import Foundation
import Generation
import LanternTestSupport
import Rendering
import Tensors
import Transformer
import XCTest

/// Attention pictures' sources from a live run: the recorded layers of one forward pass, the
/// prompt's pieces, and a layer the model does not have refused by name.
final class AttentionSourcesTests: XCTestCase {
    func testALiveRunGivesTheLayersPatternAndPieces() throws {
        let bundle = try ModelBundle.load(model: Repository.fixtures.appendingPathComponent("gpt2-bytes-noprefix").path)
        let prompt = "Once upon a time"
        let ids = PromptEncoder.ids(for: prompt, tokenizer: bundle.tokenizer)
        var cache = bundle.model.makeCache()
        let reference = bundle.model.forward(ids, cache: &cache, capture: CaptureSpec(kinds: [.pattern]), allLogits: false).records

        let one = try AttentionSources.layer(1, prompt: prompt, bundle: bundle)
        XCTAssertEqual(one.layer, 1)
        XCTAssertEqual(one.pieces, ids.map { bundle.tokenizer.displayPiece($0) })
        XCTAssertEqual(one.pattern.scalars, reference["blocks.1.attn.pattern"]!.scalars)

        let every = try AttentionSources.everyLayer(prompt: prompt, bundle: bundle)
        XCTAssertEqual(every.map(\.layer), Array(0..<bundle.model.config.layers))
        for source in every {
            XCTAssertEqual(source.pattern.scalars, reference[RecordKind.pattern.name(layer: source.layer)]!.scalars)
        }

        let layers = bundle.model.config.layers
        XCTAssertThrowsError(try AttentionSources.layer(layers, prompt: prompt, bundle: bundle)) { error in
            XCTAssertEqual(error as? AttentionSourceError, .layerOutOfRange(layers, layers: layers, of: "this model"))
            XCTAssertEqual("\(error)", "layer \(layers) is out of range: this model has layers 0 to \(layers - 1)")
        }
    }
}
