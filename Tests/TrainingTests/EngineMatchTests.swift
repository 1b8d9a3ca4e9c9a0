import Foundation
import Tensors
import Training
import Transformer
import XCTest

/// The training model and the engine are two implementations of one GPT-2: exported weights load
/// in the engine, and both give the same logits.
final class EngineMatchTests: XCTestCase {
    private func temporaryFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-training-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    func testTrainingForwardEqualsEngineForwardOnExportedWeights() throws {
        let config = TransformerConfig.gpt2(layers: 2, heads: 4, width: 32, vocabularySize: 50, contextLength: 16)
        let model = GPT2TrainingModel(config: config, parameters: Tiny.scrambledParameters(config, seed: 21))
        let folder = try temporaryFolder()
        try model.exportHuggingFace(to: folder)
        let engine = try ModelLoader.loadHuggingFace(folder: folder)
        XCTAssertEqual(engine.config, config)

        let B = 2, T = 11, V = config.vocabularySize
        let inputs = Tiny.tokens(B * T, V: V, seed: 5)
        let activations = GPT2Activations(config: config, B: B, T: T)
        model.forward(inputs: inputs, targets: nil, activations: activations)

        var worst: Float = 0
        for b in 0..<B {
            var cache = engine.makeCache()
            let row = inputs[(b * T)..<((b + 1) * T)].map { Int($0) }
            let logits = engine.forward(row, cache: &cache, capture: .nothing, allLogits: true).logits
            XCTAssertEqual(logits.shape, [T, V])
            for i in 0..<(T * V) { worst = max(worst, abs(logits.scalars[i] - activations.logits[b * T * V + i])) }
        }
        print("training forward vs engine forward: max |Δ logits| = \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-4)
    }

    /// One definition records alike: every record of a training forward (same weights, same
    /// tokens) matches the engine's, scores masked with −∞ as the engine masks them.
    func testTrainingRecordsMatchTheEngineRecords() throws {
        let config = TransformerConfig.gpt2(layers: 2, heads: 4, width: 32, vocabularySize: 50, contextLength: 16)
        let model = GPT2TrainingModel(config: config, parameters: Tiny.scrambledParameters(config, seed: 22))
        let folder = try temporaryFolder()
        try model.exportHuggingFace(to: folder)
        let engine = try ModelLoader.loadHuggingFace(folder: folder)
        let tokens = Tiny.tokens(13, V: config.vocabularySize, seed: 6)
        let everything = CaptureSpec.everything
        let trained = model.records(of: tokens, capture: everything)
        var cache = engine.makeCache()
        let reference = engine.forward(tokens.map { Int($0) }, cache: &cache, capture: everything, allLogits: true).records
        XCTAssertEqual(Set(trained.keys), Set(reference.keys))
        for (name, expected) in reference {
            let got = try XCTUnwrap(trained[name], name)
            XCTAssertEqual(got.shape, expected.shape, name)
            let masked = zip(got.scalars, expected.scalars).filter { $0.1 == -.infinity }
            XCTAssertTrue(masked.allSatisfy { $0.0 == -.infinity }, "\(name): masked cells are −∞ in both")
            let worst = zip(got.scalars, expected.scalars).filter { $0.1.isFinite }.map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(worst, 1e-4, name)
        }
    }

    func testExportThenImportGivesTheSameParameters() throws {
        let config = Tiny.config
        let model = GPT2TrainingModel(config: config, parameters: Tiny.scrambledParameters(config, seed: 4))
        let folder = try temporaryFolder()
        try model.exportHuggingFace(to: folder)
        let reloaded = try GPT2TrainingModel(huggingFaceFolder: folder)
        XCTAssertEqual(reloaded.config, config)
        XCTAssertEqual(reloaded.parameters.values, model.parameters.values)

        // The checkpoint holds Hugging Face's names with Conv1D's [in, out] layout.
        let file = try SafetensorsFile(url: folder.appendingPathComponent("model.safetensors"))
        XCTAssertEqual(file.entries["h.1.attn.c_attn.weight"]?.shape, [8, 24])
        XCTAssertEqual(file.entries["h.0.mlp.c_proj.weight"]?.shape, [32, 8])
        XCTAssertEqual(file.entries["wte.weight"]?.shape, [11, 8])
        XCTAssertNil(file.entries["lm_head.weight"])
        XCTAssertEqual(file.entries.count, 2 + 12 * config.layers + 2)
    }

    func testLogitsWithoutTargetsAndLossWithTargets() {
        let config = Tiny.config
        let model = GPT2TrainingModel(config: config, seed: 1)
        let a = GPT2Activations(config: config, B: 1, T: 4)
        XCTAssertNil(model.forward(inputs: [1, 2, 3, 4], targets: nil, activations: a))
        // Fresh GPT-2 weights predict almost uniformly: the loss starts near ln V.
        let loss = model.forward(inputs: [1, 2, 3, 4], targets: [2, 3, 4, 5], activations: a)!
        XCTAssertEqual(loss, logf(11), accuracy: 0.05)
    }
}

/// The training forward against Hugging Face transformers' own logits, on the engine's committed
/// GPT-2 fixtures (made by scripts/make_fixtures.py, read in place from TransformerTests).
final class HuggingFaceFixtureTests: XCTestCase {
    private let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("TransformerTests/Fixtures")

    private func fixture(_ name: String) throws -> URL {
        let folder = fixtures.appendingPathComponent(name)
        // The fixtures are committed: a missing one is a broken checkout, not a reason to skip.
        guard FileManager.default.fileExists(atPath: folder.path) else {
            throw FixtureMissing(path: folder.path)
        }
        return folder
    }

    private func checkLogits(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let folder = try fixture(name)
        let model = try GPT2TrainingModel(huggingFaceFolder: folder)
        func ids(_ file: String) throws -> [Int32] {
            try JSONDecoder().decode([Int32].self, from: Data(contentsOf: folder.appendingPathComponent("reference/\(file)")))
        }
        let sequence = try ids("prompt_ids.json") + ids("generated_ids.json")
        let reference = try NPY.read(folder.appendingPathComponent("reference/logits.npy"))  // [T, V]
        let T = sequence.count, V = model.config.vocabularySize
        XCTAssertEqual(reference.shape, [T, V], file: file, line: line)
        let activations = GPT2Activations(config: model.config, B: 1, T: T)
        model.forward(inputs: sequence, targets: nil, activations: activations)
        var worst: Float = 0
        for i in 0..<(T * V) { worst = max(worst, abs(activations.logits[i] - reference.scalars[i])) }
        print("\(name): training forward vs Hugging Face logits, max |Δ| = \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-4, file: file, line: line)
    }

    func testBFloat16ShardedCheckpointLogitsMatchHuggingFace() throws { try checkLogits("gpt2-bytes-bf16-sharded") }

    func testRealVocabularyCheckpointLogitsMatchHuggingFace() throws { try checkLogits("gpt2-realvocab-f16") }

    func testUntiedAndNonGPT2CheckpointsAreRefusedWithAHint() throws {
        for name in ["gpt2-bytes-noprefix", "llama-tiny-gqa"] {
            let folder = try fixture(name)
            XCTAssertThrowsError(try GPT2TrainingModel(huggingFaceFolder: folder)) { error in
                guard case TrainingError.unsupportedModel = error else { return XCTFail("\(name): unexpected \(error)") }
                XCTAssertTrue("\(error)".contains("tied embeddings"), "\(error)")
            }
        }
    }
}

/// A committed fixture that is not there (regenerate with scripts/make_fixtures.py).
struct FixtureMissing: Error, CustomStringConvertible {
    let path: String
    var description: String { "fixture \(path) is missing: regenerate it with scripts/make_fixtures.py" }
}
