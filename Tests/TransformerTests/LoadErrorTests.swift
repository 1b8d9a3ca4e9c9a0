import Foundation
import Tensors
import Transformer
import XCTest

/// Every malformed model a user can hand Lantern gives a typed error that names the file
/// and the problem — never a crash.
final class LoadErrorTests: XCTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-load-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    /// A tiny GPT-2 config: 1 layer, width 4, 2 heads, 8 positions, vocabulary 5.
    let tinyConfig = #"{"architectures": ["GPT2LMHeadModel"], "n_embd": 4, "n_layer": 1, "n_head": 2, "n_positions": 8, "vocab_size": 5}"#

    func tinyTensors() -> [(name: String, shape: [Int], values: [Float])] {
        let shapes: [(String, [Int])] = [
            ("wte.weight", [5, 4]), ("wpe.weight", [8, 4]), ("ln_f.weight", [4]), ("ln_f.bias", [4]),
            ("h.0.ln_1.weight", [4]), ("h.0.ln_1.bias", [4]), ("h.0.attn.c_attn.weight", [4, 12]),
            ("h.0.attn.c_attn.bias", [12]), ("h.0.attn.c_proj.weight", [4, 4]), ("h.0.attn.c_proj.bias", [4]),
            ("h.0.ln_2.weight", [4]), ("h.0.ln_2.bias", [4]), ("h.0.mlp.c_fc.weight", [4, 16]),
            ("h.0.mlp.c_fc.bias", [16]), ("h.0.mlp.c_proj.weight", [16, 4]), ("h.0.mlp.c_proj.bias", [4])
        ]
        return shapes.map { ($0.0, $0.1, (0..<$0.1.reduce(1, *)).map { Float($0 % 7) * 0.1 }) }
    }

    func write(config: String? = nil, tensors: [(name: String, shape: [Int], values: [Float])]? = nil) throws {
        try Data((config ?? tinyConfig).utf8).write(to: folder.appendingPathComponent("config.json"))
        try SafetensorsFile.write(tensors ?? tinyTensors(), to: folder.appendingPathComponent("model.safetensors"))
    }

    func expectError(_ fragments: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try ModelLoader.loadHuggingFace(folder: folder), file: file, line: line) { error in
            let text = "\(error)"
            for fragment in fragments {
                XCTAssertTrue(text.contains(fragment), "«\(text)» should mention «\(fragment)»", file: file, line: line)
            }
        }
    }

    func testWellFormedTinyModelLoadsAndRuns() throws {
        try write()
        let model = try ModelLoader.loadHuggingFace(folder: folder)
        var cache = model.makeCache()
        let logits = model.nextTokenLogits([1, 2, 3], cache: &cache)
        XCTAssertEqual(logits.count, 5)
        XCTAssertTrue(logits.allSatisfy(\.isFinite))
    }

    /// NaN or infinite weights are refused at load, naming the tensor: every command used to run
    /// on (the stepper chose a token with "p nan", evaluate printed "loss nan", --json failed).
    func testNonFiniteWeightsAreRefusedByName() throws {
        for (bad, shown) in [(Float.nan, "nan"), (Float.infinity, "inf")] {
            var tensors = tinyTensors()
            tensors[4].values[1] = bad  // h.0.ln_1.weight
            try write(tensors: tensors)
            expectError(["tensor h.0.ln_1.weight holds \(shown)", "NaN or infinite weights"])
        }
        // Safetensors shapes whose byte count overflows are refused, not trapped on.
        var huge = tinyTensors()
        huge[0] = ("wte.weight", [5, 4], huge[0].values)
        try write(tensors: huge)
        let url = folder.appendingPathComponent("model.safetensors")
        var bytes = try Data(contentsOf: url)
        let header = String(decoding: bytes[8..<(8 + Int(bytes[0]) + Int(bytes[1]) << 8)], as: UTF8.self)
        let crafted = header.replacingOccurrences(of: "[5,4]", with: "[4294967296,4294967296]")
        XCTAssertNotEqual(crafted, header)
        var length = UInt64(crafted.utf8.count).littleEndian
        bytes = Data(bytes: &length, count: 8) + Data(crafted.utf8) + bytes[(8 + header.utf8.count)...]
        try bytes.write(to: url)
        expectError(["wte.weight has shape [4294967296, 4294967296], far larger than any file"])
    }

    /// A pipe or a device given as the model is refused by name (Foundation said "You don't have
    /// permission" inside an NSError dump; reading /dev/zero would never end).
    func testPipesAndDevicesAreNotModels() throws {
        let pipe = folder.appendingPathComponent("model.bin")
        XCTAssertEqual(mkfifo(pipe.path, 0o644), 0)
        for (url, reason) in [(pipe, "it is a pipe, not a file"), (URL(fileURLWithPath: "/dev/zero"), "it is a device, not a file")] {
            XCTAssertThrowsError(try Llama2cCheckpoint.load(url)) { error in
                XCTAssertEqual("\(error)", "cannot read \(url.path): \(reason); give a model folder or a llama2.c .bin file")
            }
        }
        try FileManager.default.removeItem(at: pipe)
        XCTAssertEqual(mkfifo(folder.appendingPathComponent("config.json").path, 0o644), 0)
        XCTAssertThrowsError(try ModelLoader.loadHuggingFace(folder: folder)) { error in
            XCTAssertTrue("\(error)".contains("config.json: it is a pipe, not a file"), "\(error)")
        }
    }

    func testMissingFolder() {
        folder = folder.appendingPathComponent("nope")
        expectError(["no model at", "nope"])
    }

    func testMissingConfig() throws {
        try SafetensorsFile.write(tinyTensors(), to: folder.appendingPathComponent("model.safetensors"))
        expectError(["config.json"])
    }

    func testMalformedConfig() throws {
        try write(config: "{ not json")
        expectError(["config.json", "not a JSON object"])
        try write(config: #"{"architectures": ["GPT2LMHeadModel"], "n_embd": 4}"#)
        expectError(["config.json", "missing \"n_head\""])
        try write(
            config: #"{"architectures": ["GPT2LMHeadModel"], "n_embd": 6, "n_layer": 1, "n_head": 4, "n_positions": 8, "vocab_size": 5}"#)
        expectError(["not divisible"])
        try write(
            config:
                #"{"architectures": ["GPT2LMHeadModel"], "n_embd": "four", "n_layer": 1, "n_head": 2, "n_positions": 8, "vocab_size": 5}"#)
        expectError(["n_embd", "whole number"])
    }

    func testUnknownArchitecture() throws {
        try write(config: #"{"architectures": ["MambaForCausalLM"], "hidden_size": 4}"#)
        expectError(["unsupported architecture MambaForCausalLM"])
        // A known family's other heads are refused by name.
        try write(config: #"{"architectures": ["T5EncoderModel"], "model_type": "t5", "d_model": 4}"#)
        expectError(["T5EncoderModel", "T5ForConditionalGeneration"])
        // A sequence classifier must name every class once.
        let bart =
            #""model_type": "bart", "d_model": 8, "encoder_attention_heads": 2, "decoder_attention_heads": 2, "encoder_ffn_dim": 8, "decoder_ffn_dim": 8, "encoder_layers": 1, "decoder_layers": 1, "vocab_size": 10, "max_position_embeddings": 8"#
        try write(config: #"{"architectures": ["BartForSequenceClassification"], "# + bart + #", "id2label": {"0": "a", "2": "b"}}"#)
        expectError(["id2label must name each class id 0…1 once"])
        try write(config: #"{"architectures": ["BartForSequenceClassification"], "# + bart + "}")
        expectError(["needs id2label"])
    }

    func testMissingWeights() throws {
        try Data(tinyConfig.utf8).write(to: folder.appendingPathComponent("config.json"))
        expectError(["model.safetensors"])
    }

    func testMissingTensor() throws {
        try write(tensors: tinyTensors().filter { $0.name != "h.0.mlp.c_fc.bias" })
        expectError(["h.0.mlp.c_fc.bias", "missing"])
    }

    func testWrongShape() throws {
        var tensors = tinyTensors()
        tensors[0] = ("wte.weight", [4, 5], tensors[0].values)
        try write(tensors: tensors)
        expectError(["wte.weight", "[4, 5]", "[5, 4]"])
    }

    func testTruncatedFile() throws {
        try write()
        let url = folder.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: url)
        try data.prefix(data.count - 10).write(to: url)
        expectError(["model.safetensors", "corrupted or truncated"])
        try data.prefix(5).write(to: url)
        expectError(["shorter than the 8-byte header"])
    }

    /// Rewrites the JSON header of a valid file (keeping the data section).
    func patchHeader(_ transform: (inout [String: Any]) -> Void) throws {
        let url = folder.appendingPathComponent("model.safetensors")
        let data = try Data(contentsOf: url)
        let length = Int(data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        var header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as! [String: Any]
        transform(&header)
        let json = try JSONSerialization.data(withJSONObject: header)
        var patched = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { patched.append(contentsOf: $0) }
        patched.append(json)
        patched.append(data.suffix(from: 8 + length))
        try patched.write(to: url)
    }

    func testHeaderLengthThatLies() throws {
        try write()
        let url = folder.appendingPathComponent("model.safetensors")
        var data = try Data(contentsOf: url)
        data.replaceSubrange(0..<8, with: withUnsafeBytes(of: UInt64(1 << 40).littleEndian) { Data($0) })
        try data.write(to: url)
        expectError(["header length", "does not fit"])
    }

    func testOffsetsOutsideTheFile() throws {
        try write()
        try patchHeader { header in
            header["wte.weight"] = ["dtype": "F32", "shape": [5, 4], "data_offsets": [0, 1_000_000]]
        }
        expectError(["wte.weight", "data section"])
    }

    func testSizeThatDisagreesWithShape() throws {
        try write()
        try patchHeader { header in
            var entry = header["wpe.weight"] as! [String: Any]
            entry["shape"] = [8, 3]
            header["wpe.weight"] = entry
        }
        expectError(["wpe.weight", "needs"])
    }

    func testOverlappingTensors() throws {
        try write()
        try patchHeader { header in
            header["ln_f.bias"] = ["dtype": "F32", "shape": [4], "data_offsets": [0, 16]]
        }
        expectError(["overlap"])
    }

    func testGarbageHeader() throws {
        try write()
        let url = folder.appendingPathComponent("model.safetensors")
        var data = Data()
        withUnsafeBytes(of: UInt64(4).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array("{{{{".utf8))
        try data.write(to: url)
        expectError(["not valid JSON"])
    }

    func testRoundTripOfTheWriter() throws {
        let tensors = tinyTensors()
        try write(tensors: tensors)
        let file = try SafetensorsFile(url: folder.appendingPathComponent("model.safetensors"))
        for tensor in tensors {
            XCTAssertEqual(file.entries[tensor.name]?.shape, tensor.shape)
            XCTAssertEqual(try file.floats(tensor.name), tensor.values)
        }
    }
}
