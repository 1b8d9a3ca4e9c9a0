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

    /// One batch's gradients in bf16 point the same way as float32's and differ by rounding only.
    func testGradientsFollowFloat32() {
        var model = GPT2TrainingModel(config: config, seed: 3)
        var random = SplitMix64(seed: 4)
        let B = 4, T = config.contextLength
        let inputs = (0..<(B * T)).map { _ in Int32(random.next() % 13) }, targets = inputs.map { ($0 + 1) % 13 }
        func gradients(_ precision: ProductPrecision) -> (loss: Float, values: [Float]) {
            model.products = precision
            let a = GPT2Activations(config: config, B: B, T: T), g = GPT2Activations(config: config, B: B, T: T, forGradients: true)
            var d = GPT2Parameters(zerosFor: config)
            let loss = model.forward(inputs: inputs, targets: targets, activations: a)!
            model.backward(inputs: inputs, targets: targets, activations: a, activationGradients: g, gradients: &d)
            return (loss, d.values)
        }
        let f32 = gradients(.f32), bf16 = gradients(.bf16)
        let dot = zip(f32.values, bf16.values).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let norm32 = sqrt(f32.values.reduce(0.0) { $0 + Double($1) * Double($1) })
        let norm16 = sqrt(bf16.values.reduce(0.0) { $0 + Double($1) * Double($1) })
        let cosine = dot / (norm32 * norm16)
        print("bf16 vs f32: loss \(bf16.loss) vs \(f32.loss), gradient cosine \(cosine), norms \(norm16) vs \(norm32)")
        XCTAssertEqual(bf16.loss, f32.loss, accuracy: 0.01 * f32.loss)
        XCTAssertGreaterThan(cosine, 0.999)
        XCTAssertEqual(norm16, norm32, accuracy: 0.01 * norm32)
        XCTAssertNotEqual(bf16.values, f32.values, "bf16 products should round something")
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
        var model = BertTrainingModel(config: bert, seed: 3)
        var random = SplitMix64(seed: 6)
        let B = 3, T = bert.contextLength
        let inputs = (0..<(B * T)).map { _ in Int32(5 + random.next() % 12) }
        let targets = inputs.indices.map { $0 % 4 == 1 ? inputs[$0] : -1 }
        func gradients(_ precision: ProductPrecision) -> (loss: Float, values: [Float]) {
            model.products = precision
            let a = BertActivations(config: bert, B: B, T: T), g = BertActivations(config: bert, B: B, T: T, forGradients: true)
            var d = BertParameters(zerosFor: bert)
            let loss = model.forward(inputs: inputs, targets: targets, activations: a)!
            model.backward(inputs: inputs, targets: targets, activations: a, activationGradients: g, gradients: &d)
            return (loss, d.values)
        }
        let f32 = gradients(.f32), bf16 = gradients(.bf16)
        let cosine = Self.cosine(f32.values, bf16.values)
        print("BERT bf16 vs f32: loss \(bf16.loss) vs \(f32.loss), gradient cosine \(cosine)")
        XCTAssertEqual(bf16.loss, f32.loss, accuracy: 0.01 * f32.loss)
        XCTAssertGreaterThan(cosine, 0.999)
        XCTAssertNotEqual(bf16.values, f32.values, "bf16 products should round something")
    }

    static func cosine(_ x: [Float], _ y: [Float]) -> Double {
        let dot = zip(x, y).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let xx = x.reduce(0.0) { $0 + Double($1) * Double($1) }, yy = y.reduce(0.0) { $0 + Double($1) * Double($1) }
        return dot / (xx * yy).squareRoot()
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
