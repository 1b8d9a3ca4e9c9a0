import Foundation
import LanternTestSupport
import Generation
import Tokenizers
import Transformer
import XCTest

enum TestData {
    static let fixtures = Repository.fixtures

    static func shared(_ path: String) throws -> URL { try ReferenceData.url(path) }

    static func stories() throws -> ModelBundle {
        try ModelBundle.load(model: shared("stories260K/stories260K.bin").path)
    }
}

final class GeneratorTests: XCTestCase {
    func testGreedyFromAnEmptyPromptMatchesLlama2cTextAndIds() throws {
        let bundle = try TestData.stories()
        let expectedIds = try String(contentsOf: TestData.shared("stories260K/greedy-from-bos-200.ids"), encoding: .utf8)
            .split(whereSeparator: \.isWhitespace).compactMap { Int($0) }.drop { $0 == 1 }
        let expectedText = try String(contentsOf: TestData.shared("stories260K/greedy-from-bos-200.txt"), encoding: .utf8)
        var streamed = ""
        let result = try Generator(model: bundle.model, tokenizer: bundle.tokenizer)
            .generate(prompt: "", maxNewTokens: 200, settings: SamplingSettings(greedy: true), onText: { streamed += $0 }).result
        XCTAssertEqual(result.promptIds, [1])
        XCTAssertEqual(result.generatedIds, Array(expectedIds.prefix(result.generatedIds.count)))
        XCTAssertEqual(result.stopReason, result.generatedIds.count == 200 ? .maxTokens : .endOfText)
        XCTAssertEqual(streamed, result.text)
        XCTAssertTrue(
            expectedText.hasPrefix(result.text)
                || expectedText.trimmingCharacters(in: .whitespacesAndNewlines)
                    .hasPrefix(result.text.trimmingCharacters(in: .whitespacesAndNewlines)),
            "«\(result.text.prefix(80))» vs «\(expectedText.prefix(80))»")
        XCTAssertEqual(result.steps.count, result.generatedIds.count + (result.stopReason == .endOfText ? 1 : 0))
    }

    func testSameSeedSameTextDifferentSeedDifferentText() throws {
        let bundle = try TestData.stories()
        let generator = Generator(model: bundle.model, tokenizer: bundle.tokenizer)
        func run(_ seed: UInt64) throws -> [Int] {
            try generator.generate(
                prompt: "Once upon a time", maxNewTokens: 40,
                settings: SamplingSettings(temperature: 1.0, topK: 40, topP: 0.95, seed: seed)
            ).result.generatedIds
        }
        XCTAssertEqual(try run(7), try run(7))
        XCTAssertNotEqual(try run(7), try run(8))
    }

    func testStopStringEndsGenerationAndIsNotPrinted() throws {
        let bundle = try TestData.stories()
        var streamed = ""
        let result = try Generator(model: bundle.model, tokenizer: bundle.tokenizer)
            .generate(
                prompt: "Once upon a time", maxNewTokens: 100, settings: SamplingSettings(greedy: true),
                stopStrings: ["Lily"], onText: { streamed += $0 }
            ).result
        XCTAssertEqual(result.stopReason, .stopString)
        XCTAssertEqual(result.text, ", there was a little girl named ")
        XCTAssertEqual(streamed, result.text)
    }

    func testContextFullStopsWithItsReason() throws {
        let bundle = try TestData.stories()
        // 506 tokens of 512: greedy then writes 6 more without a <s>, which would end the text earlier.
        let prompt = String(repeating: "Lily and Ben played in the park. ", count: 42)
        let result = try Generator(model: bundle.model, tokenizer: bundle.tokenizer)
            .generate(prompt: prompt, maxNewTokens: 200, settings: SamplingSettings(greedy: true)).result
        XCTAssertLessThanOrEqual(result.promptIds.count, 512)
        XCTAssertEqual(result.stopReason, .contextFull)
        XCTAssertEqual(result.promptIds.count + result.generatedIds.count, 512, "the sequence fills the context exactly")
    }

    func testPromptLongerThanTheContextIsAClearError() throws {
        let bundle = try TestData.stories()
        let prompt = String(repeating: "Lily and Ben played in the park. ", count: 100)
        XCTAssertThrowsError(
            try Generator(model: bundle.model, tokenizer: bundle.tokenizer)
                .generate(prompt: prompt, maxNewTokens: 5, settings: SamplingSettings())
        ) { error in
            XCTAssertTrue("\(error)".contains("context holds 512"), "\(error)")
        }
    }

    func testGPT2FixtureEndToEndWithItsOwnTokenizer() throws {
        let bundle = try ModelBundle.load(model: TestData.fixtures.appendingPathComponent("gpt2-bytes-noprefix").path)
        let reference = try JSONDecoder().decode(
            [Int].self,
            from: Data(
                contentsOf:
                    TestData.fixtures.appendingPathComponent("gpt2-bytes-noprefix/reference/generated_ids.json")))
        let promptIds = try JSONDecoder().decode(
            [Int].self,
            from: Data(
                contentsOf:
                    TestData.fixtures.appendingPathComponent("gpt2-bytes-noprefix/reference/prompt_ids.json")))
        let meta =
            try JSONSerialization.jsonObject(
                with: Data(
                    contentsOf:
                        TestData.fixtures.appendingPathComponent("gpt2-bytes-noprefix/reference/meta.json"))) as! [String: Any]
        let prompt = try XCTUnwrap(meta["prompt_text"] as? String)
        let result = try Generator(model: bundle.model, tokenizer: bundle.tokenizer)
            .generate(prompt: prompt, maxNewTokens: reference.count, settings: SamplingSettings(greedy: true)).result
        XCTAssertEqual(result.promptIds, promptIds)
        // transformers' generate does not stop at EOS in the fixture; compare up to an EOS if one came.
        XCTAssertEqual(result.generatedIds, Array(reference.prefix(result.generatedIds.count)))
    }
}

/// A checkpoint whose activations overflow (finite weights near Float's largest value; NaN
/// weights are refused when loading): generation says the logits are not numbers instead of
/// "choosing" a token (it used to stop with "end-of-text").
final class NonFiniteLogitTests: XCTestCase {
    func testNonFiniteLogitsAreReportedNotSampled() throws {
        let source = TestData.fixtures.appendingPathComponent("gpt2-bytes-noprefix")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-nan-\(UUID().uuidString)")
        try FileManager.default.copyItem(at: source, to: folder)
        defer { try? FileManager.default.removeItem(at: folder) }
        let weights = folder.appendingPathComponent("model.safetensors")
        var data = try Data(contentsOf: weights)
        let headerLength = data.withUnsafeBytes { Int($0.loadUnaligned(as: UInt64.self)) }
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: data[8..<(8 + headerLength)]) as? [String: Any])
        let entry = try XCTUnwrap(header["h.1.mlp.c_fc.weight"] as? [String: Any])
        let start = 8 + headerLength + (try XCTUnwrap(entry["data_offsets"] as? [Int]))[0]
        for i in 0..<64 {  // a whole row's worth, so every position meets it
            withUnsafeBytes(of: Float(3e38).bitPattern.littleEndian) {
                data.replaceSubrange((start + 4 * i)..<(start + 4 * i + 4), with: $0)
            }
        }
        try data.write(to: weights)
        let bundle = try ModelBundle.load(model: folder.path)
        let generator = Generator(model: bundle.model, tokenizer: bundle.tokenizer)
        for settings in [SamplingSettings(greedy: true), SamplingSettings(temperature: 0.8, seed: 1)] {
            XCTAssertThrowsError(try generator.generate(prompt: "the cat", maxNewTokens: 5, settings: settings)) { error in
                XCTAssertTrue("\(error)".contains("among the logits") && "\(error)".contains("NaN or infinity"), "\(error)")
            }
        }
    }
}

/// llama2.c treats a generated BOS (`<s>`, id 1) as the end of a text, as run.c does; a checkpoint
/// whose classifier always prefers BOS must stop at once, not write on past it.
final class Llama2cBeginningOfSequenceTests: XCTestCase {
    func testGeneratedBOSEndsTheText() throws {
        let tokenizer = try TestData.shared("stories260K/tok512.bin")
        // dim 8, hidden 8, 1 layer, 2 heads, 2 KV heads, vocabulary 512 (negative: own classifier), context 16.
        let (C, FF, V, P, hs) = (8, 8, 512, 16, 4)
        var values: [Float] = []
        values += [Float](repeating: 1, count: V * C)  // token embedding: every row ones
        values += [Float](repeating: 1, count: C)  // rms_att
        values += [Float](repeating: 0, count: 4 * C * C)  // wq, wk, wv, wo: attention adds nothing
        values += [Float](repeating: 1, count: C)  // rms_ffn
        values += [Float](repeating: 0, count: 3 * FF * C)  // w1, w2, w3: the MLP adds nothing
        values += [Float](repeating: 1, count: C)  // rms_final
        values += [Float](repeating: 0, count: P * hs)  // legacy RoPE tables
        var classifier = [Float](repeating: 0, count: V * C)
        for c in 0..<C { classifier[1 * C + c] = 1 }  // only <s> scores above 0
        values += classifier
        var data = Data()
        for field in [Int32(C), Int32(FF), 1, 2, 2, Int32(-V), Int32(P)] {
            withUnsafeBytes(of: field.littleEndian) { data.append(contentsOf: $0) }
        }
        values.withUnsafeBytes { data.append(contentsOf: $0) }
        let checkpoint = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-bos-\(UUID().uuidString).bin")
        try data.write(to: checkpoint)
        defer { try? FileManager.default.removeItem(at: checkpoint) }
        let bundle = try ModelBundle.load(model: checkpoint.path, tokenizer: tokenizer.path)
        let (result, _) = try Generator(model: bundle.model, tokenizer: bundle.tokenizer)
            .generate(prompt: "Once", maxNewTokens: 5, settings: SamplingSettings(greedy: true))
        XCTAssertEqual(result.stopReason, .endOfText)
        XCTAssertEqual(result.generatedIds, [])

        // --ignore-eos: the text ends only at the limit; neither <s> nor the end-of-text id is drawn.
        let generator = Generator(model: bundle.model, tokenizer: bundle.tokenizer)
        for settings in [SamplingSettings(greedy: true), SamplingSettings(temperature: 1, seed: 3)] {
            let (kept, _) = try generator.generate(prompt: "Once", maxNewTokens: 5, settings: settings, ignoringEndOfText: true)
            XCTAssertEqual(kept.stopReason, .maxTokens)
            XCTAssertEqual(kept.generatedIds.count, 5)
            XCTAssertFalse(kept.generatedIds.contains { generator.isEndOfText($0) }, "\(kept.generatedIds)")
        }
    }
}

/// A model whose vocabulary is larger than its tokenizer's (padded embedding rows): ids with no
/// piece are never sampled (they used to be, and printed as nothing).
final class PaddedVocabularyTests: XCTestCase {
    func testIdsWithoutAPieceAreNeverChosen() throws {
        // The Llama fixture has 320 rows; the byte-level GPT-2 fixture's tokenizer has 297 entries.
        let bundle = try ModelBundle.load(
            model: TestData.fixtures.appendingPathComponent("llama-tiny-gqa").path,
            tokenizer: TestData.fixtures.appendingPathComponent("gpt2-bytes-noprefix").path)
        XCTAssertEqual(bundle.model.config.vocabularySize, 320)
        XCTAssertEqual(bundle.tokenizer.vocabularySize, 297)
        let generator = Generator(model: bundle.model, tokenizer: bundle.tokenizer)
        var generated: [Int] = []
        for seed in UInt64(1)...4 {
            let (result, _) = try generator.generate(
                prompt: "the cat sat", maxNewTokens: 40,
                settings: SamplingSettings(temperature: 3, seed: seed))
            generated += result.generatedIds
        }
        XCTAssertGreaterThan(generated.count, 100)
        XCTAssertTrue(generated.allSatisfy { $0 < 297 }, "sampled ids without a piece: \(generated.filter { $0 >= 297 })")
    }
}
