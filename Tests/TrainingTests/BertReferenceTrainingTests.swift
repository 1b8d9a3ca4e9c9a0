import Foundation
import LanternTestSupport
import Tensors
import Training
import Transformer
import XCTest

/// The masked-language trainer against PyTorch (BertForMaskedLM with labels, float32, eval mode)
/// on the committed bert-tiny-mlm fixture and one batch made by
/// scripts/make_bert_training_fixture.py; and the training layout against the inference engine.
final class BertReferenceTrainingTests: XCTestCase {
    private struct Batch: Decodable {
        var inputs: [Int32], targets: [Int32], B: Int, T: Int, loss: Double
    }

    private let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/bert-mlm-step")
    private let modelFolder = Repository.fixtures.appendingPathComponent("bert-tiny-mlm")

    func testLossAndGradientsMatchPyTorch() throws {
        let model = try BertTrainingModel(huggingFaceFolder: modelFolder)
        let batch = try JSONDecoder().decode(Batch.self, from: Data(contentsOf: folder.appendingPathComponent("batch.json")))
        let a = BertActivations(config: model.config, B: batch.B, T: batch.T)
        let g = BertActivations(config: model.config, B: batch.B, T: batch.T)
        let loss = try XCTUnwrap(model.forward(inputs: batch.inputs, targets: batch.targets, activations: a))
        var gradients = BertParameters(zerosFor: model.config)
        model.backward(inputs: batch.inputs, targets: batch.targets, activations: a, activationGradients: g, gradients: &gradients)
        XCTAssertEqual(Double(loss), batch.loss, accuracy: 1e-5 * batch.loss)

        let file = try SafetensorsFile(url: folder.appendingPathComponent("gradients.safetensors"))
        let reference = try BertParameters(config: model.config, store: WeightStore(files: [file], strippingPrefixes: ["bert."]))
        var report: [String] = [], worst: Float = 0
        for tensor in BertParameterTensor.allCases {
            let ours = gradients[tensor], theirs = reference[tensor]
            var maxDifference: Float = 0, maxReference: Float = 0
            for i in ours.indices {
                maxDifference = max(maxDifference, abs(ours[i] - theirs[i]))
                maxReference = max(maxReference, abs(theirs[i]))
            }
            let relative = maxDifference / max(maxReference, 1e-30)
            worst = max(worst, relative)
            report.append("\(tensor): relative \(relative)")
            XCTAssertLessThan(relative, 1e-4, "\(tensor): gradient disagrees with PyTorch")
        }
        print(
            "BERT gradients vs PyTorch, loss \(loss) (PyTorch \(batch.loss)): worst relative error \(worst)\n  "
                + report.joined(separator: "\n  "))
    }

    /// Training's forward (flat layout, batched attention kernels) gives the inference engine's
    /// numbers, and an export loads back into the engine with the same outputs.
    func testTrainingLayoutMatchesTheEngineAndExportsLoadBack() throws {
        let trainer = try BertTrainingModel(huggingFaceFolder: modelFolder)
        let engine = try XCTUnwrap(ModelLoader.loadHuggingFace(folder: modelFolder) as? BertModel)
        let tokens: [Int32] = [2, 40, 57, 4, 99, 120, 8, 3]
        let capture = CaptureSpec(kinds: [.residPost, .pattern])
        let trained = trainer.records(of: tokens, capture: capture)
        let inferred = engine.encode(tokens.map(Int.init), tokenTypes: Array(repeating: 0, count: tokens.count), capture: capture)
        for l in 0..<trainer.config.layers {
            for kind in [RecordKind.residPost, .pattern] {
                let name = kind.name(layer: l)
                XCTAssertLessThan(try XCTUnwrap(trained[name]).maxAbsDifference(try XCTUnwrap(inferred.records[name])), 1e-5, name)
            }
        }

        let exported = FileManager.default.temporaryDirectory.appendingPathComponent("bert-export-\(UUID())")
        defer { try? FileManager.default.removeItem(at: exported) }
        try trainer.exportHuggingFace(to: exported)
        let reloaded = try XCTUnwrap(ModelLoader.loadHuggingFace(folder: exported) as? BertModel)
        let again = reloaded.encode(tokens.map(Int.init), tokenTypes: Array(repeating: 0, count: tokens.count), capture: .nothing)
        XCTAssertEqual(again.logits.maxAbsDifference(inferred.logits), 0)
        XCTAssertEqual(try BertTrainingModel(huggingFaceFolder: exported).parameters, trainer.parameters)
    }
}
