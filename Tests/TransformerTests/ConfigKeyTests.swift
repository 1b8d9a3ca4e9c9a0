import Foundation
import Tensors
import Transformer
import XCTest

/// Config keys that change what a model computes, against transformers on checkpoints it saved
/// (scripts/make_config_fixtures.py): RoPE θ and scaling read from transformers 5's
/// `rope_parameters` and from transformers 4's `rope_theta` + `rope_scaling`, GPT-2 without score
/// scaling; and the settings Lantern does not run, refused by name.
final class ConfigKeyTests: XCTestCase {
    static func folder(_ name: String) -> URL { Fixtures.folder("config-keys/\(name)") }

    /// Logits of the whole sequence at once and of every row decoded through the cache.
    func checkLogits(_ folder: URL, reference name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try ModelLoader.loadHuggingFace(folder: folder)
        let reference = Self.folder(name).appendingPathComponent("reference")
        let ids = try JSONDecoder().decode([Int].self, from: Data(contentsOf: reference.appendingPathComponent("ids.json")))
        let logits = try NPY.read(reference.appendingPathComponent("logits.npy"))  // [T, V]
        var cache = model.makeCache()
        let all = model.forward(ids, cache: &cache, capture: .nothing, allLogits: true).logits
        XCTAssertLessThanOrEqual(all.maxAbsDifference(logits), 1e-4, "\(name): prefill", file: file, line: line)
        var stepCache = model.makeCache()
        _ = model.forward(Array(ids.prefix(8)), cache: &stepCache, capture: .nothing, allLogits: false)
        var worst: Float = 0
        for position in 8..<ids.count {
            let row = model.forward([ids[position]], cache: &stepCache, capture: .nothing, allLogits: false).logits
            worst = max(worst, row.maxAbsDifference(logits.rows(position..<(position + 1))))
        }
        XCTAssertLessThanOrEqual(worst, 1e-4, "\(name): decode", file: file, line: line)
    }

    func testLlama3RoPEScalingFromRopeParameters() throws {
        let name = "llama-rope-llama3"
        let config = try HuggingFaceConfig.load(Self.folder(name).appendingPathComponent("config.json"))
        XCTAssertEqual(config.positional, .rotary(theta: 500_000, layout: .halfSplit))
        XCTAssertEqual(config.rotaryScaling, .llama3(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContext: 16))
        try checkLogits(Self.folder(name), reference: name)
    }

    func testLinearRoPEScalingFromRopeParameters() throws {
        let name = "llama-rope-linear"
        let config = try HuggingFaceConfig.load(Self.folder(name).appendingPathComponent("config.json"))
        XCTAssertEqual(config.positional, .rotary(theta: 1000, layout: .halfSplit))
        XCTAssertEqual(config.rotaryScaling, .linear(factor: 4))
        try checkLogits(Self.folder(name), reference: name)
    }

    /// The same checkpoints with the configuration as transformers 4 wrote it.
    func testTransformers4LayoutReadsTheSame() throws {
        for name in ["llama-rope-llama3", "llama-rope-linear"] {
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-\(name)-v4-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: copy) }
            try FileManager.default.copyItem(at: Self.folder(name), to: copy)
            try FileManager.default.removeItem(at: copy.appendingPathComponent("config.json"))
            try FileManager.default.copyItem(
                at: copy.appendingPathComponent("reference/config_transformers4.json"),
                to: copy.appendingPathComponent("config.json"))
            let legacy = try HuggingFaceConfig.load(copy.appendingPathComponent("config.json"))
            let current = try HuggingFaceConfig.load(Self.folder(name).appendingPathComponent("config.json"))
            XCTAssertEqual(legacy, current, name)
            try checkLogits(copy, reference: name)
        }
    }

    func testGPT2WithoutScoreScaling() throws {
        let name = "gpt2-unscaled-attention"
        let config = try HuggingFaceConfig.load(Self.folder(name).appendingPathComponent("config.json"))
        XCTAssertFalse(config.scalesAttentionScores)
        XCTAssertEqual(config.attentionScoreScale, 1)
        try checkLogits(Self.folder(name), reference: name)
    }

    func parse(_ json: [String: Any]) throws -> TransformerConfig { try HuggingFaceConfig.parse(json, file: "config.json") }

    static var llama: [String: Any] {
        [
            "architectures": ["LlamaForCausalLM"], "hidden_size": 32, "num_attention_heads": 4,
            "num_hidden_layers": 2, "intermediate_size": 48, "vocab_size": 320,
            "max_position_embeddings": 128
        ]
    }
    static var gpt2: [String: Any] {
        [
            "architectures": ["GPT2LMHeadModel"], "n_embd": 32, "n_head": 4, "n_layer": 2,
            "vocab_size": 297, "n_positions": 64
        ]
    }

    /// Valid settings Lantern does not run are refused by name, never run as something else.
    func testSettingsLanternDoesNotRunAreRefusedByName() throws {
        let refused: [([String: Any], String)] = [
            (
                Self.llama.merging(["rope_parameters": ["rope_type": "yarn", "rope_theta": 10000, "factor": 4]]) { $1 },
                "RoPE scaling \"yarn\" is not supported"
            ),
            (Self.llama.merging(["rope_scaling": ["type": "dynamic", "factor": 2]]) { $1 }, "RoPE scaling \"dynamic\" is not supported"),
            (Self.llama.merging(["partial_rotary_factor": 0.5]) { $1 }, "partial_rotary_factor 0.5 is not supported"),
            (Self.llama.merging(["attention_bias": true]) { $1 }, "attention_bias: true is not supported"),
            (Self.llama.merging(["hidden_act": "gelu"]) { $1 }, "hidden_act \"gelu\" is not supported"),
            (Self.gpt2.merging(["add_cross_attention": true]) { $1 }, "add_cross_attention: true is not supported"),
            (Self.gpt2.merging(["scale_attn_by_inverse_layer_idx": true]) { $1 }, "scale_attn_by_inverse_layer_idx: true is not supported"),
            (Self.gpt2.merging(["activation_function": "relu"]) { $1 }, "activation_function \"relu\" is not supported")
        ]
        for (json, message) in refused {
            XCTAssertThrowsError(try parse(json)) { error in
                XCTAssertTrue("\(error)".contains(message), "«\(error)» should say «\(message)»")
                XCTAssertFalse("\(error)".contains("malformed"), "a valid setting is not malformed: \(error)")
            }
        }
        // Zero heads or widths are malformed (num_key_value_heads: 0 used to divide by zero).
        for (json, key) in [
            (Self.llama.merging(["num_key_value_heads": 0]) { $1 }, "num_key_value_heads"),
            (Self.llama.merging(["head_dim": 0]) { $1 }, "head_dim"),
            (Self.gpt2.merging(["n_inner": 0]) { $1 }, "n_inner")
        ] {
            XCTAssertThrowsError(try parse(json)) { error in
                XCTAssertTrue("\(error)".contains("\"\(key)\" must be positive"), "\(error)")
            }
        }
        // A scaling missing its own keys is malformed, and says which key.
        XCTAssertThrowsError(try parse(Self.llama.merging(["rope_parameters": ["rope_type": "linear"]]) { $1 })) { error in
            XCTAssertTrue("\(error)".contains("rope parameter missing \"factor\""), "\(error)")
        }
        // Plain settings read as before.
        let plain = try parse(Self.llama.merging(["rope_parameters": ["rope_type": "default", "rope_theta": 250_000]]) { $1 })
        XCTAssertEqual(plain.positional, .rotary(theta: 250_000, layout: .halfSplit))
        XCTAssertEqual(plain.rotaryScaling, .none)
        XCTAssertEqual(
            try parse(Self.llama.merging(["rope_scaling": NSNull(), "rope_theta": 5000]) { $1 }).positional,
            .rotary(theta: 5000, layout: .halfSplit))
        XCTAssertTrue(try parse(Self.gpt2).scalesAttentionScores)
    }

    /// llama3 scaling keeps high frequencies, divides low ones by the factor and blends between
    /// (the rule transformers' `_compute_llama3_parameters` states).
    func testLlama3FrequenciesFollowTheirThreeBands() {
        let hs = 64, theta: Float = 500_000
        let plain = RotaryScaling.none.inverseFrequencies(headSize: hs, theta: theta)
        let scaled = RotaryScaling.llama3(factor: 8, lowFrequencyFactor: 1, highFrequencyFactor: 4, originalContext: 8192)
            .inverseFrequencies(headSize: hs, theta: theta)
        for j in 0..<(hs / 2) {
            let wavelength = 2 * Float.pi / plain[j]
            if wavelength < 8192 / 4 {
                XCTAssertEqual(scaled[j], plain[j])
            } else if wavelength > 8192 {
                XCTAssertEqual(scaled[j], plain[j] / 8, accuracy: plain[j] * 1e-6)
            } else {
                XCTAssertTrue(scaled[j] < plain[j] && scaled[j] > plain[j] / 8, "pair \(j) blends")
            }
        }
    }
}
