import Foundation
import Tensors
import Transformer
import XCTest

/// `--weights f16|bf16` against Hugging Face transformers computing the same checkpoint with the
/// same matrices rounded to 16 bits and everything else float32 (scripts/make_half_weight_fixture.py):
/// logits within 1e-4 for a prefill of the whole sequence and for every row decoded through the
/// KV cache (the matrix–vector kernels), on the AVX2 kernels and the portable ones. The distance
/// from the float32-weight logits is printed: it is what the README reports.
final class HalfWeightTests: XCTestCase {
    override func tearDown() {
        HalfPrecision.forcePortable = false
        Parallelism.setThreads(1)
    }

    func check(_ fixture: String, _ format: WeightFormat, file: StaticString = #filePath, line: UInt = #line) throws {
        let model = try ModelLoader.loadHuggingFace(folder: Fixtures.folder(fixture), format: format)
        XCTAssertEqual(model.weightFormat, format, file: file, line: line)
        let prompt = try Fixtures.ids(fixture, "prompt_ids.json")
        let sequence = prompt + (try Fixtures.ids(fixture, "generated_ids.json"))
        let reference = try Fixtures.array(fixture, "logits_weights_\(format).npy")  // [T, V]
        let exact = try Fixtures.array(fixture, "logits.npy")  // float32 weights
        for portable in [false, true] {
            HalfPrecision.forcePortable = portable
            for threads in [1, 2] {
                Parallelism.setThreads(threads)
                var cache = model.makeCache()
                let prefill = model.forward(sequence, cache: &cache, capture: .nothing, allLogits: true).logits
                let worstPrefill = prefill.maxAbsDifference(reference)

                var stepCache = model.makeCache()
                _ = model.forward(prompt, cache: &stepCache, capture: .nothing, allLogits: false)
                var worstDecode: Float = 0
                for position in prompt.count..<sequence.count {
                    let row = model.forward([sequence[position]], cache: &stepCache, capture: .nothing, allLogits: false).logits
                    worstDecode = max(worstDecode, row.maxAbsDifference(reference.rows(position..<(position + 1))))
                }
                let label = "\(fixture) \(format), portable \(portable), \(threads) threads"
                XCTAssertLessThanOrEqual(worstPrefill, 1e-4, "\(label): prefill", file: file, line: line)
                XCTAssertLessThanOrEqual(worstDecode, 1e-4, "\(label): decode", file: file, line: line)
                if !portable && threads == 1 {
                    print(
                        "\(label): max |Δlogit| vs HF (rounded weights) prefill \(worstPrefill), decode \(worstDecode); vs float32 weights \(prefill.maxAbsDifference(exact))"
                    )
                }
            }
        }
    }

    func testGPT2Float16() throws { try check("gpt2-bytes-noprefix", .f16) }
    func testGPT2BFloat16() throws { try check("gpt2-bytes-noprefix", .bf16) }
    func testLlamaFloat16() throws { try check("llama-tiny-gqa", .f16) }
    func testLlamaBFloat16() throws { try check("llama-tiny-gqa", .bf16) }

    /// A checkpoint value beyond f16's range is refused with the tensor's name, not turned into infinity.
    func testFloat16OverflowNamesTheTensor() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lantern-f16-overflow-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = Fixtures.folder("llama-tiny-gqa")
        try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: folder.appendingPathComponent("config.json"))
        // Rewrite the safetensors file with one weight set to 1e5.
        var data = try Data(contentsOf: source.appendingPathComponent("model.safetensors"))
        let headerLength = data.withUnsafeBytes { Int($0.loadUnaligned(as: UInt64.self)) }
        let header = try XCTUnwrap(JSONSerialization.jsonObject(with: data[8..<(8 + headerLength)]) as? [String: Any])
        let entry = try XCTUnwrap(header["model.layers.1.mlp.up_proj.weight"] as? [String: Any])
        let offsets = try XCTUnwrap(entry["data_offsets"] as? [Int])
        let position = 8 + headerLength + offsets[0] + 4 * 5
        withUnsafeBytes(of: Float(1e5).bitPattern.littleEndian) { data.replaceSubrange(position..<(position + 4), with: $0) }
        try data.write(to: folder.appendingPathComponent("model.safetensors"))

        XCTAssertNoThrow(try ModelLoader.loadHuggingFace(folder: folder, format: .bf16))
        XCTAssertThrowsError(try ModelLoader.loadHuggingFace(folder: folder, format: .f16)) { error in
            let message = "\(error)"
            XCTAssertTrue(message.contains("model.layers.1.mlp.up_proj.weight"), message)
            XCTAssertTrue(message.contains("set the weight format to bf16 or f32"), message)
        }
    }
}
