import Foundation
import Tensors
import Training
import Transformer
import XCTest

/// BERT's masking and a whole masked-language run: batches, learning, checkpoints and resuming.
final class MaskedLanguageTrainingTests: XCTestCase {
    static let policy = MaskingPolicy(mask: 4, cls: 2, sep: 3, firstOrdinaryId: 5, vocabularySize: 17)

    static let config = MaskedLanguageSetup.config(layers: 2, heads: 2, width: 16, context: 10, vocabulary: 17, padding: nil)

    func testMaskingFollowsBERTsRecipe() {
        let B = 64, T = 34
        var random = SplitMix64(seed: 1)
        let tokens = (0..<(B * T)).map { _ in Int32(5 + random.next() % 12) }
        var chosen = 0, masked = 0, replaced = 0, kept = 0, positions = 0
        for step in 0..<20 {
            let (inputs, targets) = Self.policy.mask(tokens, B: B, T: T, step: step, seed: 7)
            for b in 0..<B {
                let row = b * T
                XCTAssertEqual(inputs[row], 2, "[CLS] first")
                XCTAssertEqual(inputs[row + T - 1], 3, "[SEP] last")
                XCTAssertEqual(targets[row], -1)
                XCTAssertEqual(targets[row + T - 1], -1)
                for t in 1..<(T - 1) {
                    positions += 1
                    let original = tokens[row + t - 1]
                    guard targets[row + t] >= 0 else {
                        XCTAssertEqual(inputs[row + t], original, "an unchosen token stays")
                        continue
                    }
                    chosen += 1
                    XCTAssertEqual(targets[row + t], original)
                    if inputs[row + t] == 4 { masked += 1 } else if inputs[row + t] == original { kept += 1 } else { replaced += 1 }
                    XCTAssertGreaterThanOrEqual(inputs[row + t], 4)
                }
            }
        }
        let rate = Double(chosen) / Double(positions)
        let maskShare = Double(masked) / Double(chosen)
        // A random replacement can draw the original token (1 in 12 here): it counts as kept.
        let keptShare = Double(kept) / Double(chosen), replacedShare = Double(replaced) / Double(chosen)
        print(
            "masking over \(positions) positions: chosen \(rate), of which [MASK] \(maskShare), random \(replacedShare), kept \(keptShare)")
        XCTAssertEqual(rate, 0.15, accuracy: 0.01)
        XCTAssertEqual(maskShare, 0.8, accuracy: 0.03)
        XCTAssertEqual(replacedShare, 0.1 * 11 / 12, accuracy: 0.03)
        XCTAssertEqual(keptShare, 0.1 + 0.1 / 12, accuracy: 0.03)
        // The same (seed, step) masks the same way; another step does not.
        XCTAssertEqual(
            Self.policy.mask(tokens, B: B, T: T, step: 3, seed: 7).inputs, Self.policy.mask(tokens, B: B, T: T, step: 3, seed: 7).inputs)
        XCTAssertNotEqual(
            Self.policy.mask(tokens, B: B, T: T, step: 3, seed: 7).inputs, Self.policy.mask(tokens, B: B, T: T, step: 4, seed: 7).inputs)
    }

    func stream() throws -> TokenStream {
        // "a b c d e f g h" cycles: each token is fixed by its neighbours on either side.
        let pattern: [Int32] = [5, 6, 7, 8, 9, 10, 11, 12]
        return try TokenStream(tokens: Array((0..<80).map { _ in pattern }.joined()), context: 10, validationFraction: 0.1)
    }

    func settings(steps: Int) -> TrainingSettings {
        var s = TrainingSettings()
        s.steps = steps; s.batchSize = 16; s.learningRate = 3e-3; s.minLearningRate = 3e-4; s.warmupSteps = 20
        s.evaluationInterval = 200; s.evaluationBatches = 2; s.seed = 3
        s.objective = .maskedLanguage(Self.policy)
        return s
    }

    /// The encoder learns the cycle (the loss falls far), a stopped and resumed run equals an
    /// uninterrupted one, and the checkpoint is a BertForMaskedLM the engine fills blanks with.
    func testAMaskedLanguageRunLearnsSavesAndResumes() throws {
        let whole = try TrainingRun(config: Self.config, settings: settings(steps: 800), stream: try stream())
        while !whole.isFinished { whole.step() }
        let early = whole.log.prefix(5).map(\.loss).reduce(0, +) / 5, late = whole.log.suffix(5).map(\.loss).reduce(0, +) / 5
        print("800 masked-language steps on a cycle: mean loss of the first 5 steps \(early), of the last 5 \(late)")
        XCTAssertLessThan(late, early * 0.6, "the loss should fall")

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-mlm-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try TrainingRun(config: Self.config, settings: settings(steps: 800), stream: try stream())
        for _ in 0..<300 { first.step() }
        try first.save(to: folder)
        XCTAssertEqual(try TrainingRun.checkpointConfig(in: folder).family, .bert)
        let resumed = try TrainingRun.resume(from: folder, stream: try stream())
        XCTAssertEqual(resumed.objective, .maskedLanguage(Self.policy))
        while !resumed.isFinished { resumed.step() }
        XCTAssertEqual(resumed.parameterValues, whole.parameterValues)
        XCTAssertEqual(resumed.log.compactMap(\.validationLoss), whole.log.compactMap(\.validationLoss))

        try whole.save(to: folder)
        let engine = try XCTUnwrap(ModelLoader.loadHuggingFace(folder: folder) as? BertModel)
        // [CLS] a b c [MASK] e f [SEP]: the blank is d (8), between c and e.
        let result = engine.encode([2, 5, 6, 7, 4, 9, 10, 3], tokenTypes: Array(repeating: 0, count: 8), capture: .nothing)
        let row = Array(result.logits.scalars[(4 * 17)..<(5 * 17)])
        XCTAssertEqual(row.indices.max { row[$0] < row[$1] }, 8, "the trained encoder fills the blank")
    }

    func testObjectiveAndFamilyMustMatch() throws {
        var decoderSettings = settings(steps: 5)
        decoderSettings.objective = .nextToken
        XCTAssertThrowsError(try TrainingRun(config: Self.config, settings: decoderSettings, stream: try stream())) { error in
            XCTAssertTrue("\(error)".contains("BERT encoders learning masked tokens"), "\(error)")
        }
    }
}
