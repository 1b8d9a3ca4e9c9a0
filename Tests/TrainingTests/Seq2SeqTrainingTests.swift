import Foundation
import LanternTestSupport
import Tensors
import Training
import Transformer
import XCTest

/// The sequence-to-sequence trainer (BART's layout): its forward pass is the engine's (an
/// exported checkpoint gives the same loss through EncoderDecoderModel), its gradients match
/// central finite differences on a tiny model and PyTorch's on the bart-tiny fixture
/// (scripts/make_encdec_fixtures.py: two pairs of different lengths as one padded batch).
final class Seq2SeqTrainingTests: XCTestCase {
    /// V = 13, C = 8, NH = 2, Le = Ld = 2, FF = 12, P = 8, positions offset by 2, embeddings × √C.
    static var config: TransformerConfig {
        var config = TransformerConfig(
            family: .bart, layers: 2, heads: 2, kvHeads: 2, width: 8, headSize: 4, feedForwardWidth: 12, vocabularySize: 13,
            contextLength: 8, normEpsilon: 1e-5, positional: .learnedAbsolute, tiedEmbeddings: true, bosTokenId: 0, eosTokenId: 2)
        config.encoderLayers = 2
        config.positionOffset = 2
        config.scalesEmbeddings = true
        config.decoderStartTokenId = 2
        return config
    }

    /// Every tensor far from its initialisation (matrices std 0.3, gains 1 ± 0.1, biases 0.1).
    static func scrambled(_ config: TransformerConfig, seed: UInt64) -> Seq2SeqParameters {
        var parameters = Seq2SeqParameters(zerosFor: config)
        var random = SplitMix64(seed: seed)
        for tensor in Seq2SeqParameterTensor.allCases {
            let count = parameters.layout.counts[tensor.rawValue]
            let isGain = ["Lnw"].contains { "\(tensor)".hasSuffix($0) }
            parameters[tensor] =
                isGain
                ? random.normals(count, standardDeviation: 0.1).map { 1 + $0 }
                : random.normals(count, standardDeviation: tensor.isMatrix ? 0.3 : 0.1)
        }
        return parameters
    }

    /// Two pairs, −1 padded, as a batch of B = 2 rows of width 6.
    static let batch: (inputs: [Int32], targets: [Int32]) = (
        inputs: [0, 5, 9, 11, 2, -1, 0, 7, 3, 8, 4, 2], targets: [6, 10, 2, -1, -1, -1, 12, 5, 9, 4, 2, -1]
    )

    func testTheTrainersLossIsTheEnginesOnAnExportedCheckpoint() throws {
        let config = Self.config
        let model = Seq2SeqTrainingModel(config: config, parameters: Self.scrambled(config, seed: 5))
        let loss = try XCTUnwrap(
            model.forward(inputs: Self.batch.inputs, targets: Self.batch.targets, B: 2, activations: Seq2SeqActivations(config: config)))
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-seq2seq-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try model.exportHuggingFace(to: folder)
        let engine = try XCTUnwrap(ModelLoader.loadHuggingFace(folder: folder) as? EncoderDecoderModel)
        XCTAssertEqual(engine.config.encoderLayers, 2)
        var total: Double = 0, count = 0
        for pair in SequencePair.pairs(inputs: Self.batch.inputs, targets: Self.batch.targets, B: 2) {
            var cache = try XCTUnwrap(engine.encode(source: pair.source, capture: .nothing)).cache
            let logits = engine.forward([2] + pair.labels.dropLast(), cache: &cache, capture: .nothing, allLogits: true).logits
            let V = config.vocabularySize
            for (t, label) in pair.labels.enumerated() {
                let row = Array(logits.scalars[(t * V)..<((t + 1) * V)])
                total -= Double(log(softmax(row)[label]))
                count += 1
            }
        }
        XCTAssertEqual(Double(loss), total / Double(count), accuracy: 1e-5)
        // And back: the folder loads into the training layout unchanged.
        let reloaded = try Seq2SeqTrainingModel(huggingFaceFolder: folder)
        XCTAssertEqual(reloaded.parameters.values, model.parameters.values)
    }

    func testEveryParameterGradientMatchesFiniteDifferences() {
        let config = Self.config
        var model = Seq2SeqTrainingModel(config: config, parameters: Self.scrambled(config, seed: 7))
        let (inputs, targets) = Self.batch
        let a = Seq2SeqActivations(config: config), g = Seq2SeqActivations(config: config)
        let loss = model.forward(inputs: inputs, targets: targets, B: 2, activations: a)!
        var gradients = Seq2SeqParameters(zerosFor: config)
        model.backward(inputs: inputs, targets: targets, B: 2, activations: a, activationGradients: g, gradients: &gradients)

        let h: Float = 1e-2
        var report: [String] = []
        for tensor in Seq2SeqParameterTensor.allCases {
            var maxDifference: Float = 0, maxNumeric: Float = 0
            // Every element of small tensors; a spread of 40 of the large ones.
            let range = gradients.layout.range(tensor)
            for i in stride(from: range.lowerBound, to: range.upperBound, by: max(1, range.count / 40)) {
                let original = model.parameters.values[i]
                model.parameters.values[i] = original + h
                let plus = model.forward(inputs: inputs, targets: targets, B: 2, activations: a)!
                model.parameters.values[i] = original - h
                let minus = model.forward(inputs: inputs, targets: targets, B: 2, activations: a)!
                model.parameters.values[i] = original
                let numeric = (plus - minus) / (2 * h)
                maxDifference = max(maxDifference, abs(numeric - gradients.values[i]))
                maxNumeric = max(maxNumeric, abs(numeric))
            }
            if [.encKb, .decKb, .crossKb].contains(tensor) {
                // A key bias adds the same amount to every score of a query: softmax cancels it,
                // so its gradient is zero (up to rounding) and the finite differences are noise.
                let largest = gradients.values[range].map(abs).max() ?? 0
                report.append("\(tensor): |gradient| ≤ \(largest) (softmax cancels it)")
                XCTAssertLessThan(largest, 1e-5, "\(tensor)")
                continue
            }
            let relative = maxDifference / maxNumeric
            report.append("\(tensor): relative \(relative)")
            XCTAssertGreaterThan(maxNumeric, 1e-4, "\(tensor): the loss should depend on every tensor")
            XCTAssertLessThan(relative, 3e-3, "\(tensor): gradient disagrees with finite differences")
        }
        print("Seq2seq gradient check (h = \(h)), loss \(loss):\n  " + report.joined(separator: "\n  "))
    }

    /// PyTorch's loss and gradients for the bart-tiny fixture's two pairs as one padded batch.
    func testGradientsMatchPyTorch() throws {
        struct Reference: Decodable {
            struct Pair: Decodable { var source: [Int], labels: [Int] }
            struct Gradient: Decodable { var name: String, count: Int }
            var pairs: [Pair]
            var loss: Float
            var gradients: [Gradient]
        }
        let folder = Repository.fixtures.appendingPathComponent("bart-tiny")
        let reference = try JSONDecoder().decode(
            Reference.self, from: Data(contentsOf: folder.appendingPathComponent("reference/training.json")))
        let expected = try NPY.read(folder.appendingPathComponent("reference/gradients.npy")).scalars
        let model = try Seq2SeqTrainingModel(huggingFaceFolder: folder)
        let width = reference.pairs.map { max($0.source.count, $0.labels.count) }.max()!
        func rows(_ key: KeyPath<Reference.Pair, [Int]>) -> [Int32] {
            reference.pairs.flatMap { pair in
                pair[keyPath: key].map(Int32.init) + Array(repeating: -1, count: width - pair[keyPath: key].count)
            }
        }
        let (inputs, targets) = (rows(\.source), rows(\.labels)), B = reference.pairs.count
        let a = Seq2SeqActivations(config: model.config), g = Seq2SeqActivations(config: model.config)
        let loss = try XCTUnwrap(model.forward(inputs: inputs, targets: targets, B: B, activations: a))
        XCTAssertEqual(loss, reference.loss, accuracy: 1e-5)
        var gradients = Seq2SeqParameters(zerosFor: model.config)
        model.backward(inputs: inputs, targets: targets, B: B, activations: a, activationGradients: g, gradients: &gradients)
        let ours = Dictionary(uniqueKeysWithValues: gradients.huggingFaceTensors().map { ($0.name, $0.values) })
        var start = 0, worst: (name: String, difference: Float) = ("", 0)
        for gradient in reference.gradients {
            defer { start += gradient.count }
            let theirs = Array(expected[start..<(start + gradient.count)])
            let mine = try XCTUnwrap(ours[gradient.name], "no gradient for \(gradient.name)")
            let difference = zip(mine, theirs).map { abs($0 - $1) }.max() ?? 0
            if difference > worst.difference { worst = (gradient.name, difference) }
        }
        print(
            "seq2seq vs PyTorch: loss \(loss) (PyTorch \(reference.loss)), largest gradient difference \(worst.difference) in \(worst.name)"
        )
        XCTAssertEqual(start, expected.count)
        XCTAssertLessThan(worst.difference, 1e-5, worst.name)
    }
}
