import Tensors

/// Models with seeded random weights, built in memory: for `lantern bench` (no download needed)
/// and for tests. Initialised as GPT-2 does (normal, std 0.02; norms at 1, biases at 0).
public enum RandomModels {
    public static func make(_ config: TransformerConfig, seed: UInt64 = 1234) -> any LanguageModel {
        var random = SplitMix64(seed: seed)
        let C = config.width, FF = config.feedForwardWidth, V = config.vocabularySize
        let qWidth = config.heads * config.headSize, kvWidth = config.kvHeads * config.headSize
        func normal(_ count: Int) -> [Float] { random.normals(count, standardDeviation: 0.02) }
        let ones = [Float](repeating: 1, count: C), zeros = [Float](repeating: 0, count: C)
        switch config.family {
        case .gpt2:
            let blocks = (0..<config.layers).map { _ in
                GPT2BlockWeights(ln1Weight: ones, ln1Bias: zeros, qkvWeight: normal(3 * C * C), qkvBias: [Float](repeating: 0, count: 3 * C),
                                 attnProjWeight: normal(C * C), attnProjBias: zeros, ln2Weight: ones, ln2Bias: zeros,
                                 fcWeight: normal(FF * C), fcBias: [Float](repeating: 0, count: FF),
                                 mlpProjWeight: normal(C * FF), mlpProjBias: zeros)
            }
            return GPT2Model(config: config, weights: GPT2Weights(
                tokenEmbedding: normal(V * C), positionEmbedding: normal(config.contextLength * C), blocks: blocks,
                finalNormWeight: ones, finalNormBias: zeros, separateUnembedding: config.tiedEmbeddings ? nil : normal(V * C)))
        case .llama:
            let blocks = (0..<config.layers).map { _ in
                LlamaBlockWeights(attentionNorm: ones, qWeight: normal(qWidth * C), kWeight: normal(kvWidth * C),
                                  vWeight: normal(kvWidth * C), oWeight: normal(C * qWidth), mlpNorm: ones,
                                  gateWeight: normal(FF * C), upWeight: normal(FF * C), downWeight: normal(C * FF))
            }
            return LlamaModel(config: config, weights: LlamaWeights(
                tokenEmbedding: normal(V * C), blocks: blocks, finalNorm: ones,
                separateUnembedding: config.tiedEmbeddings ? nil : normal(V * C)))
        }
    }
}
