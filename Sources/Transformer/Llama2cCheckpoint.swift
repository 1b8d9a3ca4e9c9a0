import Foundation
import Tensors

/// llama2.c's `.bin` checkpoint: seven int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
/// vocab_size, seq_len) then float32 weights in a fixed order — token embedding, rms_att, wq, wk,
/// wv, wo, rms_ffn, w1, w2, w3, rms_final, two legacy RoPE tables, and the classifier when
/// vocab_size is negative (otherwise the classifier shares the token embedding).
/// Its rotary embedding turns interleaved channel pairs (2j, 2j+1), unlike Hugging Face's half-split.
public enum Llama2cCheckpoint {
    public static func load(_ url: URL, format: WeightFormat = .f32) throws -> LlamaModel {
        let fail = { (problem: String) in ModelLoadError.malformedWeights(file: url.path, problem: problem) }
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelLoadError.missingPath(url.path, hint: "give a llama2.c checkpoint such as stories15M.bin")
        }
        let data: Data
        do { data = try RegularFile.read(url, mapped: true) } catch { throw ModelLoadError.unreadable(url.path, reason: error.reason) }
        guard data.count >= 28 else { throw fail("file is \(data.count) bytes, shorter than the 28-byte header") }
        let header: [Int] = data.withUnsafeBytes { raw in
            (0..<7).map { Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
        }
        let (C, FF, L, NH, NKV, signedV, P) = (header[0], header[1], header[2], header[3], header[4], header[5], header[6])
        let V = abs(signedV), sharedClassifier = signedV > 0
        guard [C, FF, L, NH, NKV, P].allSatisfy({ $0 > 0 && $0 < 1 << 20 }), V > 0,
            C % NH == 0, NH % NKV == 0, (C / NH) % 2 == 0
        else {
            throw ModelLoadError.unreadable(
                url.path,
                reason: "it is not a llama2.c checkpoint: its first 28 bytes read \(header) where "
                    + "dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size and seq_len belong")
        }
        let hs = C / NH, kvWidth = NKV * hs
        var config = TransformerConfig(
            family: .llama, layers: L, heads: NH, kvHeads: NKV, width: C, headSize: hs, feedForwardWidth: FF,
            vocabularySize: V, contextLength: P, normEpsilon: 1e-5,
            positional: .rotary(theta: 10000, layout: .interleaved), tiedEmbeddings: sharedClassifier,
            bosTokenId: 1, eosTokenId: 2)
        config.beginningOfSequenceEndsText = true

        // Every float the file must hold, in order. The sizes come from the file, so they are summed
        // in floating point first: an integer sum of a crafted header can wrap around (release
        // builds do not trap) and let a short file through to reads past its end.
        let (v, c, l, ff, kv, p) = (Double(V), Double(C), Double(L), Double(FF), Double(kvWidth), Double(P))
        let neededEstimate = 28 + 4 * 3 * (v * c + l * c * c + l * kv * c + l * ff * c + p * c)
        guard neededEstimate < Double(Int.max / 2) else {
            throw fail(
                "header \(header) describes a model of about \(String(format: "%.3g", neededEstimate)) bytes, far larger than any file")
        }
        let sizes =
            [
                V * C, L * C, L * C * C, L * kvWidth * C, L * kvWidth * C, L * C * C, L * C,
                L * FF * C, L * C * FF, L * FF * C, C, P * hs / 2, P * hs / 2
            ] + (sharedClassifier ? [] : [V * C])
        let needed = 28 + 4 * sizes.reduce(0, +)
        guard data.count >= needed else {
            throw fail("file is \(data.count) bytes but its header \(header) needs \(needed)")
        }
        var offset = 28
        var firstNonFinite: (offset: Int, value: Float)?
        func next(_ count: Int) -> [Float] {
            defer { offset += 4 * count }
            let values = data.withUnsafeBytes { raw in
                [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
                    memcpy(buffer.baseAddress!, raw.baseAddress! + offset, 4 * count)
                    initialized = count
                }
            }
            if firstNonFinite == nil, let index = values.firstIndex(where: { !$0.isFinite }) {
                firstNonFinite = (offset + 4 * index, values[index])
            }
            return values
        }
        /// Splits a `[L, …]` array into per-layer arrays.
        func perLayer(_ all: [Float]) -> [[Float]] {
            let size = all.count / L
            return (0..<L).map { Array(all[($0 * size)..<(($0 + 1) * size)]) }
        }
        let embedding = next(V * C)
        let rmsAtt = perLayer(next(L * C)), wq = perLayer(next(L * C * C)), wk = perLayer(next(L * kvWidth * C))
        let wv = perLayer(next(L * kvWidth * C)), wo = perLayer(next(L * C * C)), rmsFfn = perLayer(next(L * C))
        let w1 = perLayer(next(L * FF * C)), w2 = perLayer(next(L * C * FF)), w3 = perLayer(next(L * FF * C))
        let rmsFinal = next(C)
        offset += 4 * P * hs  // the unused legacy RoPE tables (cos and sin)
        let classifier = sharedClassifier ? nil : next(V * C)
        if let (at, value) = firstNonFinite {
            throw ModelLoadError.nonFiniteWeight(name: "at byte \(at)", value: value, file: url.path)
        }
        func matrix(_ values: [Float], _ rows: Int, _ columns: Int, _ name: String) throws -> WeightMatrix {
            do { return try WeightMatrix(values, rows: rows, columns: columns, format: format) } catch {
                throw ModelLoadError.weightOutOfRange(name: name, format: format.rawValue, largest: error.largest, file: url.path)
            }
        }
        let blocks = try (0..<L).map { l in
            LlamaBlockWeights(
                attentionNorm: rmsAtt[l], qWeight: try matrix(wq[l], C, C, "wq[\(l)]"),
                kWeight: try matrix(wk[l], kvWidth, C, "wk[\(l)]"), vWeight: try matrix(wv[l], kvWidth, C, "wv[\(l)]"),
                oWeight: try matrix(wo[l], C, C, "wo[\(l)]"), mlpNorm: rmsFfn[l],
                gateWeight: try matrix(w1[l], FF, C, "w1[\(l)]"), upWeight: try matrix(w3[l], FF, C, "w3[\(l)]"),
                downWeight: try matrix(w2[l], C, FF, "w2[\(l)]"))
        }
        return LlamaModel(
            config: config,
            weights: LlamaWeights(
                tokenEmbedding: try matrix(embedding, V, C, "token_embedding_table"), blocks: blocks, finalNorm: rmsFinal,
                separateUnembedding: try classifier.map { try matrix($0, V, C, "wcls") }))
    }
}
