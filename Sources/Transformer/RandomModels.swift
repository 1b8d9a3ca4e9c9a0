import Tensors

/// Models with seeded random weights, built in memory: for `lantern bench` (no download needed)
/// and for tests. Initialised as GPT-2 does (normal, std 0.02; norms at 1, biases at 0).
public enum RandomModels {
    public static func make(_ config: TransformerConfig, seed: UInt64 = 1234, format: WeightFormat = .f32) -> any LanguageModel {
        var random = SplitMix64(seed: seed)
        let C = config.width, FF = config.feedForwardWidth, V = config.vocabularySize
        let qWidth = config.heads * config.headSize, kvWidth = config.kvHeads * config.headSize
        func normal(_ count: Int) -> [Float] { random.normals(count, standardDeviation: 0.02) }
        // Values of std 0.02 fit every format, so the conversion cannot fail.
        func matrix(_ rows: Int, _ columns: Int) -> WeightMatrix {
            try! WeightMatrix(normal(rows * columns), rows: rows, columns: columns, format: format)
        }
        let ones = [Float](repeating: 1, count: C)
        func filled(_ value: Float, _ count: Int = C) -> ParameterVector { ParameterVector([Float](repeating: value, count: count)) }
        switch config.family {
        case .gpt2, .gptNeo:
            let blocks = (0..<config.layers).map { _ in
                GPT2BlockWeights(
                    ln1Weight: filled(1), ln1Bias: filled(0), qkvWeight: matrix(3 * C, C), qkvBias: filled(0, 3 * C),
                    attnProjWeight: matrix(C, C), attnProjBias: filled(0), ln2Weight: filled(1), ln2Bias: filled(0),
                    fcWeight: matrix(FF, C), fcBias: filled(0, FF),
                    mlpProjWeight: matrix(C, FF), mlpProjBias: filled(0))
            }
            return GPT2Model(
                config: config,
                weights: GPT2Weights(
                    tokenEmbedding: matrix(V, C), positionEmbedding: ParameterVector(normal(config.contextLength * C)), blocks: blocks,
                    finalNormWeight: filled(1), finalNormBias: filled(0), separateUnembedding: config.tiedEmbeddings ? nil : matrix(V, C)))
        case .llama:
            let blocks = (0..<config.layers).map { _ in
                LlamaBlockWeights(
                    attentionNorm: ones, qWeight: matrix(qWidth, C), kWeight: matrix(kvWidth, C),
                    vWeight: matrix(kvWidth, C), oWeight: matrix(C, qWidth), mlpNorm: ones,
                    gateWeight: matrix(FF, C), upWeight: matrix(FF, C), downWeight: matrix(C, FF))
            }
            return LlamaModel(
                config: config,
                weights: LlamaWeights(
                    tokenEmbedding: matrix(V, C), blocks: blocks, finalNorm: ones,
                    separateUnembedding: config.tiedEmbeddings ? nil : matrix(V, C)))
        case .bert:
            let blocks = (0..<config.layers).map { _ in
                BertBlockWeights(
                    qkvWeight: matrix(3 * C, C), qkvBias: filled(0, 3 * C), attnProjWeight: matrix(C, C), attnProjBias: filled(0),
                    attnNormWeight: filled(1), attnNormBias: filled(0), fcWeight: matrix(FF, C), fcBias: filled(0, FF),
                    mlpProjWeight: matrix(C, FF), mlpProjBias: filled(0), mlpNormWeight: filled(1), mlpNormBias: filled(0))
            }
            let head =
                config.head == .maskedToken
                ? BertMaskedLanguageHead(
                    denseWeight: matrix(C, C), denseBias: filled(0), normWeight: filled(1), normBias: filled(0),
                    decoderBias: filled(0, V), separateDecoder: config.tiedEmbeddings ? nil : matrix(V, C)) : nil
            return BertModel(
                config: config,
                weights: BertWeights(
                    tokenEmbedding: matrix(V, C), positionEmbedding: ParameterVector(normal(config.contextLength * C)),
                    typeEmbedding: ParameterVector(normal(max(1, config.tokenTypes) * C)), embedNormWeight: filled(1),
                    embedNormBias: filled(0), blocks: blocks, maskedLanguageHead: head))
        case .t5, .bart:
            let biased = config.linearsHaveBias
            func bias(_ count: Int) -> ParameterVector? { biased ? filled(0, count) : nil }
            func norm() -> NormWeights { NormWeights(weight: filled(1), bias: config.normalization == .layerNorm ? filled(0) : nil) }
            func attention() -> AttentionWeights {
                AttentionWeights(
                    q: matrix(qWidth, C), k: matrix(qWidth, C), v: matrix(qWidth, C), o: matrix(C, qWidth), qBias: bias(qWidth),
                    kBias: bias(qWidth), vBias: bias(qWidth), oBias: bias(C))
            }
            func stack(layers: Int, decoder: Bool) -> StackWeights {
                let blocks = (0..<layers).map { _ in
                    EncoderDecoderBlockWeights(
                        selfAttention: attention(), selfNorm: norm(), cross: decoder ? attention() : nil, crossNorm: decoder ? norm() : nil,
                        feedForward: FeedForwardWeights(
                            up: matrix(FF, C), upBias: bias(FF), gate: config.feedForward == .gatedGELU ? matrix(FF, C) : nil,
                            down: matrix(C, FF), downBias: bias(C)),
                        feedForwardNorm: norm())
                }
                var relativeBias: ParameterVector? = nil
                if case .relativeBuckets(let buckets, _) = config.positional {
                    relativeBias = ParameterVector(normal(buckets * config.heads))
                }
                return StackWeights(
                    positions: config.hasLearnedPositions
                        ? ParameterVector(normal((config.contextLength + config.positionOffset) * C)) : nil,
                    embedNorm: config.normalizesEmbeddings ? norm() : nil, relativeBias: relativeBias, blocks: blocks,
                    finalNorm: config.hasFinalNorm ? norm() : nil)
            }
            return EncoderDecoderModel(
                config: config,
                weights: EncoderDecoderWeights(
                    tokenEmbedding: matrix(V, C), encoder: stack(layers: config.encoderLayers, decoder: false),
                    decoder: stack(layers: config.layers, decoder: true), head: config.tiedEmbeddings ? nil : matrix(V, C),
                    logitsBias: config.family == .bart ? filled(0, V) : nil))
        }
    }
}
