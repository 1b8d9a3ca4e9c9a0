import Foundation
import Tensors
import Training
import Transformer
import XCTest

/// `--precision bf16`: GPT-2 and BERT training with the linear layers' and attention's products on
/// bfloat16 operands. It must follow the float32 run closely (same gradients up to rounding, the
/// same fall in loss), run the native kernel and the emulation to the same numbers, survive a
/// resume, and be refused where it is not built (the encoder–decoder).
final class MixedPrecisionTrainingTests: XCTestCase {
    let config = TransformerConfig.gpt2(layers: 2, heads: 2, width: 32, vocabularySize: 13, contextLength: 16)

    func stream() throws -> TokenStream {
        let pattern: [Int32] = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4, 3, 3, 8, 3, 2, 7, 9, 5, 12, 0]
        return try TokenStream(tokens: Array((0..<40).map { _ in pattern }.joined()), context: 16, validationFraction: 0.1)
    }

    func settings(steps: Int, precision: ProductPrecision) -> TrainingSettings {
        var s = TrainingSettings()
        s.steps = steps; s.batchSize = 4; s.learningRate = 1e-2; s.minLearningRate = 1e-3; s.warmupSteps = 5
        s.evaluationInterval = 1000; s.evaluationBatches = 1; s.seed = 9; s.precision = precision
        return s
    }

    /// One batch's gradients (and loss) in f32 and in bf16, through the family's own
    /// forward and backward as a training run drives them.
    func gradients<Model: TrainableModel>(
        _ model: Model, inputs: [Int32], targets: [Int32], B: Int, T: Int, _ precision: ProductPrecision
    ) -> (loss: Float, values: [Float]) {
        var model = model
        model.products = precision
        let a = Model.activations(config: model.config, B: B, T: T)
        let g = Model.activationGradients(config: model.config, B: B, T: T)
        var d = FlatParameters<Model.Kind>(zerosFor: model.config)
        let loss = model.forward(inputs: inputs, targets: targets, activations: a) ?? .nan
        model.backward(inputs: inputs, targets: targets, activations: a, activationGradients: g, gradients: &d)
        return (loss, d.values)
    }

    /// bf16's loss within 1 % of f32's, its gradient pointing the same way (cosine > 0.999) with a
    /// norm within 1 %, and not equal to f32's (the rounding must show).
    func assertFollowsFloat32<Model: TrainableModel>(
        _ model: Model, inputs: [Int32], targets: [Int32], B: Int, T: Int, file: StaticString = #filePath, line: UInt = #line
    ) {
        let f32 = gradients(model, inputs: inputs, targets: targets, B: B, T: T, .f32)
        let bf16 = gradients(model, inputs: inputs, targets: targets, B: B, T: T, .bf16)
        func norm(_ x: [Float]) -> Double { x.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() }
        let dot = zip(f32.values, bf16.values).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let cosine = dot / (norm(f32.values) * norm(bf16.values))
        print("\(Model.self) bf16 vs f32: loss \(bf16.loss) vs \(f32.loss), gradient cosine \(cosine)")
        XCTAssertEqual(bf16.loss, f32.loss, accuracy: 0.01 * f32.loss, file: file, line: line)
        XCTAssertGreaterThan(cosine, 0.999, file: file, line: line)
        XCTAssertEqual(norm(bf16.values), norm(f32.values), accuracy: 0.01 * norm(f32.values), file: file, line: line)
        XCTAssertNotEqual(bf16.values, f32.values, "bf16 products should round something", file: file, line: line)
    }

    func testGradientsFollowFloat32() {
        var random = SplitMix64(seed: 4)
        let B = 4, T = config.contextLength
        let inputs = (0..<(B * T)).map { _ in Int32(random.next() % 13) }
        assertFollowsFloat32(GPT2TrainingModel(config: config, seed: 3), inputs: inputs, targets: inputs.map { ($0 + 1) % 13 }, B: B, T: T)
    }

    /// 60 steps from the same seed: the loss falls as far in bf16 as in float32.
    func testTrainingLearnsAsFloat32Does() throws {
        var finals: [ProductPrecision: [Float]] = [:]
        for precision in ProductPrecision.allCases {
            let run = try TrainingRun(config: config, settings: settings(steps: 60, precision: precision), stream: try stream())
            while !run.isFinished { run.step() }
            finals[precision] = run.log.map(\.loss)
        }
        let f32 = finals[.f32]!, bf16 = finals[.bf16]!
        let mean = { (losses: ArraySlice<Float>) in losses.reduce(0, +) / Float(losses.count) }
        print("first loss f32 \(f32[0]) bf16 \(bf16[0]); mean of the last 10: f32 \(mean(f32.suffix(10))) bf16 \(mean(bf16.suffix(10)))")
        XCTAssertEqual(bf16[0], f32[0], accuracy: 0.01 * f32[0])
        XCTAssertLessThan(mean(bf16.suffix(10)), 0.5 * bf16[0], "the bf16 run should learn the repeated pattern")
        XCTAssertEqual(mean(bf16.suffix(10)), mean(f32.suffix(10)), accuracy: 0.1 * mean(f32.suffix(10)) + 0.05)
    }

    /// The AVX-512 BF16 kernel and the emulated product train to the same numbers (sums reordered).
    func testNativeAndEmulatedRunsAgree() throws {
        guard ProductPrecision.bf16IsNative else {
            throw XCTSkip("this CPU has no AVX-512 BF16: bf16 runs are emulated here (testTrainingLearnsAsFloat32Does covers them)")
        }
        var losses: [[Float]] = []
        for emulated in [false, true] {
            ProductPrecision.forceEmulatedBF16 = emulated
            defer { ProductPrecision.forceEmulatedBF16 = false }
            let run = try TrainingRun(config: config, settings: settings(steps: 8, precision: .bf16), stream: try stream())
            while !run.isFinished { run.step() }
            losses.append(run.log.map(\.loss))
        }
        for (native, emulated) in zip(losses[0], losses[1]) { XCTAssertEqual(native, emulated, accuracy: 1e-3 * emulated) }
    }

    /// A saved bf16 run resumes in bf16, and a resume may change the precision.
    func testPrecisionIsSavedAndCanChangeOnResume() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-bf16-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = try TrainingRun(config: config, settings: settings(steps: 10, precision: .bf16), stream: try stream())
        run.step()
        try run.save(to: folder)
        XCTAssertEqual(try TrainingRun.resume(from: folder, stream: try stream()).settings.precision, .bf16)
        let changed = try TrainingPlan.resume(from: folder, stream: try stream(), steps: nil, precision: .f32)
        XCTAssertNil(changed.settings.precision, "f32 is saved as the default")
    }

    /// A BERT's masked-word gradients in bf16 follow float32's as GPT-2's do.
    func testEncoderGradientsFollowFloat32() {
        let bert = MaskedLanguageSetup.config(layers: 2, heads: 2, width: 32, context: 12, vocabulary: 17, padding: nil)
        var random = SplitMix64(seed: 6)
        let B = 3, T = bert.contextLength
        let inputs = (0..<(B * T)).map { _ in Int32(5 + random.next() % 12) }
        let targets = inputs.indices.map { $0 % 4 == 1 ? inputs[$0] : -1 }
        assertFollowsFloat32(BertTrainingModel(config: bert, seed: 3), inputs: inputs, targets: targets, B: B, T: T)
    }

    /// The encoder–decoder's passes take no precision: a bf16 run is refused by name, not run in f32.
    func testEncoderDecoderRunsRefuseBF16() throws {
        let format = PairFormat(start: 2, end: 3)
        var s = settings(steps: 5, precision: .bf16)
        s.objective = .sequenceToSequence(format)
        let bart = SequenceToSequenceSetup.config(layers: 1, heads: 2, width: 16, context: 16, vocabulary: 17, format: format, padding: nil)
        XCTAssertThrowsError(try TrainingRun(config: bart, settings: s, stream: try stream())) { error in
            XCTAssertTrue("\(error)".contains("bf16 is built for next-token and mlm runs so far; this is a seq2seq run"), "\(error)")
        }
    }
}
