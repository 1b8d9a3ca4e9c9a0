import Foundation
import Transformer

/// Architecture pictures as Graphviz DOT text, built from a model's configuration.
///
/// Letters used in every edge label (the tensor flowing along that edge):
/// T = tokens in the sequence; numbers are the model's own sizes (width C, heads NH,
/// key/value heads NKV, head size hs, feed-forward width FF, vocabulary V).
/// The text is deterministic: the same configuration always gives the same bytes,
/// so it can be golden-tested and diffed.
public enum ArchitectureGraph {
    // MARK: - The loaded model

    /// Token ids → embeddings → one block expanded inside a "× N layers" cluster → final
    /// norm → unembedding → softmax → next-token probabilities.
    /// `model` (a name or path; its last component is shown) heads the title when given.
    public static func architecture(_ config: TransformerConfig, model: String? = nil) -> String {
        build(config, model: model).dot
    }

    /// The DOT text and the sum of every parameter count written on it (which must equal
    /// `config.parameterCount`: the picture accounts for every weight).
    static func build(_ config: TransformerConfig, model: String? = nil) -> (dot: String, labelledParameters: Int) {
        if config.isEncoderDecoder { return encoderDecoder(config, model: model) }
        let c = config, C = c.width, NH = c.heads, NKV = c.kvHeads, hs = c.headSize, FF = c.feedForwardWidth
        let V = c.vocabularySize, P = c.contextLength
        let bias = c.linearsHaveBias
        let learnedPositions = c.hasLearnedPositions, gelu = c.feedForward == .gelu
        let normName = c.normalization.rawValue
        let normParams = c.normalization == .layerNorm ? 2 * C : C  // LayerNorm: scale and shift; RMSNorm: scale only
        let qWidth = NH * hs, kvWidth = NKV * hs
        let grouped = NKV != NH

        let stream = shape("T", C)
        let qShape = "[\(NH) heads, T, \(hs)]", kvShape = "[\(NKV) heads, T, \(hs)]"
        let scoreShape = "[\(NH) heads, T, T]"

        var dot = DOTWriter(name: "architecture")
        let familyName = c.family.displayName
        let attentionSummary = grouped ? "\(NH) query heads, \(NKV) key/value heads" : "\(NH) heads"
        dot.graphLabel(
            titlePrefix(model)
                + "\(familyName): \(c.layers) layers, width \(C), \(attentionSummary), \(formatParameters(c.parameterCount))\n"
                + "edges show the tensor shape; T = number of tokens in the sequence")

        // Input and embeddings.
        dot.node("tokens", "token ids\n(the tokenizer's output)", kind: .data)
        dot.node("embed", "token embedding\nlookup table \(V) × \(C)\n\(formatParameters(V * C))", kind: .embedding)
        dot.edge("tokens", "embed", "[T]")
        if learnedPositions {
            dot.node(
                "pos_embed", "learned position embedding\nlookup table \(P) × \(C) (up to \(P) tokens)\n\(formatParameters(P * C))",
                kind: .embedding)
            dot.node("embed_add", "+", kind: .add)
            dot.edge("tokens", "pos_embed", "positions 0…T-1")
            dot.edge("embed", "embed_add", stream)
            dot.edge("pos_embed", "embed_add", stream)
        }
        var blockInput = learnedPositions ? "embed_add" : "embed"
        var embeddingParameters = V * C + (learnedPositions ? P * C : 0)
        if c.tokenTypes > 0 {
            // BERT: which segment (sentence A or B) each token belongs to, added too.
            let TT = c.tokenTypes
            dot.node(
                "type_embed", "token-type embedding\nlookup table \(TT) × \(C) (sentence A or B)\n\(formatParameters(TT * C))",
                kind: .embedding)
            dot.edge("tokens", "type_embed", "token types [T]")
            dot.edge("type_embed", blockInput, stream)
            embeddingParameters += TT * C
        }
        if c.normalizesEmbeddings {
            dot.node("embed_ln", "\(normName) of the embeddings\n\(formatParameters(normParams))", kind: .norm)
            dot.edge(blockInput, "embed_ln", stream)
            blockInput = "embed_ln"
            embeddingParameters += normParams
        }
        let postNorm = c.normalizesAfterSublayer

        // One block, expanded.
        let qkvBias = c.queryKeyValueHaveBias
        let q = C * qWidth + (qkvBias ? qWidth : 0), kv = C * kvWidth + (qkvBias ? kvWidth : 0)
        let out = qWidth * C + (bias ? C : 0)
        let ffn: [(id: String, label: String, params: Int)] =
            gelu
            ? [
                ("mlp_up", "feed-forward up\nLinear \(C) → \(FF)", C * FF + (bias ? FF : 0)),
                ("mlp_down", "feed-forward down\nLinear \(FF) → \(C)", FF * C + (bias ? C : 0))
            ]
            : [
                ("mlp_gate", "gate\nLinear \(C) → \(FF)", C * FF),
                ("mlp_up", "up\nLinear \(C) → \(FF)", C * FF),
                ("mlp_down", "down\nLinear \(FF) → \(C)", FF * C)
            ]
        let perLayer = 2 * normParams + q + 2 * kv + out + ffn.reduce(0) { $0 + $1.params }

        dot.beginCluster("block", "")
        dot.node("resid_in", "residual stream in", kind: .data)
        dot.clusterTitle(
            "block", "× \(c.layers) layers\nevery layer has this shape\nand its own weights:\n\(formatParameters(perLayer)) per layer",
            beside: "resid_in")
        // Pre-LN (GPT-2, Llama): each sub-block reads a normalised copy of the stream. Post-LN
        // (BERT): the sub-block reads the stream itself and the norm follows the addition.
        let attentionInput = postNorm ? "resid_in" : "ln1"
        if !postNorm {
            dot.node("ln1", "\(normName)\n\(formatParameters(normParams))", kind: .norm)
            dot.edge("resid_in", "ln1", stream)
        }

        dot.beginCluster("attention", "")
        dot.node("q_proj", "Q projection\nLinear \(C) → \(qWidth)\n\(formatParameters(q))", kind: .attention)
        dot.node("k_proj", "K projection\nLinear \(C) → \(kvWidth)\n\(formatParameters(kv))", kind: .attention)
        dot.node("v_proj", "V projection\nLinear \(C) → \(kvWidth)\n\(formatParameters(kv))", kind: .attention)
        dot.clusterTitle(
            "attention",
            (c.isCausal ? "causal self-attention:\n" : "self-attention both ways\n(encoder): ") + "\(attentionSummary)\nof size \(hs)"
                + (grouped ? "\n(each key/value head is\nshared by \(NH / max(NKV, 1)) query heads:\ngrouped-query)" : ""),
            beside: "v_proj")
        dot.sameRank(["q_proj", "k_proj", "v_proj"])
        dot.edge(attentionInput, "q_proj", stream)
        dot.edge(attentionInput, "k_proj", stream)
        dot.edge(attentionInput, "v_proj", stream)
        var qSource = "q_proj", kSource = "k_proj"
        if !learnedPositions {
            // No position table: positions enter here, by rotating q and k.
            dot.node("rope_q", "rotary positions (RoPE)\nrotate q by its position", kind: .operation)
            dot.node("rope_k", "rotary positions (RoPE)\nrotate k by its position", kind: .operation)
            dot.sameRank(["rope_q", "rope_k"])
            dot.edge("q_proj", "rope_q", qShape)
            dot.edge("k_proj", "rope_k", kvShape)
            qSource = "rope_q"; kSource = "rope_k"
        }
        // GPT-Neo: unscaled scores, and a sliding window on its local layers.
        let windows = Set((0..<c.layers).compactMap { c.attentionWindow(layer: $0) })
        let windowNote =
            windows.first.map { w in
                "\nlocal layers (\((0..<c.layers).filter { c.attentionWindow(layer: $0) != nil }.count) of \(c.layers)): "
                    + "only the latest \(w) tokens"
            } ?? ""
        dot.node(
            "scores",
            (c.scalesAttentionScores ? "scores = q · kᵀ / √\(hs)\n" : "scores = q · kᵀ (not scaled)\n")
                + (c.isCausal ? "causal mask: no looking ahead" : "no mask: every token sees every token") + windowNote,
            kind: .operation)
        dot.edge(qSource, "scores", qShape)
        dot.edge(kSource, "scores", kvShape)
        dot.node("softmax_attn", "softmax over keys\n(attention pattern, rows sum to 1)", kind: .softmax)
        dot.edge("scores", "softmax_attn", scoreShape)
        dot.node("mix", "weighted sum of values\n(pattern · v)", kind: .operation)
        dot.edge("softmax_attn", "mix", scoreShape)
        dot.edge("v_proj", "mix", kvShape)
        dot.node("o_proj", "output projection\nconcatenate heads, Linear \(qWidth) → \(C)\n\(formatParameters(out))", kind: .attention)
        dot.edge("mix", "o_proj", qShape)
        dot.endCluster()

        dot.node("add1", "+", kind: .add)
        dot.edge("o_proj", "add1", stream)
        dot.edge("resid_in", "add1", "\(stream) residual", style: .residual)
        // Post-LN: ln1 normalises the sum, and the normalised stream goes on (residual included).
        let mid = postNorm ? "ln1" : "add1", mlpInput = postNorm ? "ln1" : "ln2"
        dot.node(
            postNorm ? "ln1" : "ln2", "\(normName)\(postNorm ? " (after the addition)" : "")\n\(formatParameters(normParams))", kind: .norm)
        dot.edge("add1", postNorm ? "ln1" : "ln2", stream)

        dot.beginCluster("ffn", "")
        for part in ffn { dot.node(part.id, "\(part.label)\n\(formatParameters(part.params))", kind: .feedForward) }
        dot.clusterTitle("ffn", gelu ? "feed-forward\n(MLP with GELU)" : "feed-forward\n(SwiGLU)", beside: "mlp_up")
        if gelu {
            dot.node("gelu", "GELU", kind: .operation)
            dot.edge(mlpInput, "mlp_up", stream)
            dot.edge("mlp_up", "gelu", shape("T", FF))
            dot.edge("gelu", "mlp_down", shape("T", FF))
        } else {
            dot.sameRank(["mlp_gate", "mlp_up"])
            dot.node("swiglu", "SiLU(gate) × up", kind: .operation)
            dot.edge(mlpInput, "mlp_gate", stream)
            dot.edge(mlpInput, "mlp_up", stream)
            dot.edge("mlp_gate", "swiglu", shape("T", FF))
            dot.edge("mlp_up", "swiglu", shape("T", FF))
            dot.edge("swiglu", "mlp_down", shape("T", FF))
        }
        dot.endCluster()

        dot.node("add2", "+", kind: .add)
        dot.edge("mlp_down", "add2", stream)
        dot.edge(mid, "add2", "\(stream) residual", style: .residual)
        dot.node("resid_out", "residual stream out\n(input to the next layer)", kind: .data)
        if postNorm {
            dot.node("ln2", "\(normName) (after the addition)\n\(formatParameters(normParams))", kind: .norm)
            dot.edge("add2", "ln2", stream)
            dot.edge("ln2", "resid_out", stream)
        } else {
            dot.edge("add2", "resid_out", stream)
        }
        dot.endCluster()

        dot.edge(blockInput, "resid_in", stream)
        guard c.isCausal else {
            let head = encoderHead(c, dot: &dot, stream: stream)
            return (dot.finished, embeddingParameters + c.layers * perLayer + head)
        }

        // Output head.
        dot.node("ln_final", "final \(normName)\n\(formatParameters(normParams))", kind: .norm)
        dot.edge("resid_out", "ln_final", "\(stream) after \(c.layers) layers")
        let unembedLabel =
            c.tiedEmbeddings
            ? "unembedding\nLinear \(C) → \(V), tied: reuses the token embedding\n0 new params"
            : "unembedding\nLinear \(C) → \(V), its own matrix\n\(formatParameters(V * C))"
        dot.node("unembed", unembedLabel, kind: .embedding)
        dot.edge("ln_final", "unembed", stream)
        if c.tiedEmbeddings { dot.edge("embed", "unembed", "same \(V) × \(C) weights", style: .tied) }
        dot.node("softmax_out", "softmax\n(logits → probabilities)", kind: .softmax)
        dot.edge("unembed", "softmax_out", "logits " + shape("T", V))
        dot.node("probs", "next-token probabilities\n(each position predicts the token after it)", kind: .data)
        dot.edge("softmax_out", "probs", shape("T", V))
        let labelled = embeddingParameters + c.layers * perLayer + normParams + (c.tiedEmbeddings ? 0 : V * C)
        return (dot.finished, labelled)
    }

    /// An encoder's output: no final norm (BERT's last block ends with one); the masked-language
    /// head, or the hidden states themselves for a sentence encoder. Returns the head's parameters.
    private static func encoderHead(_ c: TransformerConfig, dot: inout DOTWriter, stream: String) -> Int {
        let C = c.width, V = c.vocabularySize
        guard c.head == .maskedToken else {
            dot.node(
                "hidden", "hidden states, one vector per token\n(a sentence encoder pools them into one: `lantern embed`)", kind: .data)
            dot.edge("resid_out", "hidden", "\(stream) after \(c.layers) layers")
            return 0
        }
        let transform = C * C + C + 2 * C
        dot.node(
            "mlm_transform", "masked-language head: Linear \(C) → \(C), GELU,\nLayerNorm\n\(formatParameters(transform))",
            kind: .feedForward)
        dot.edge("resid_out", "mlm_transform", "\(stream) after \(c.layers) layers")
        let decoder = c.tiedEmbeddings ? V : V * C + V
        dot.node(
            "unembed",
            c.tiedEmbeddings
                ? "decoder\nLinear \(C) → \(V), tied: reuses the token embedding\n+ bias \(V): \(formatParameters(V))"
                : "decoder\nLinear \(C) → \(V), its own matrix, + bias\n\(formatParameters(decoder))",
            kind: .embedding)
        dot.edge("mlm_transform", "unembed", stream)
        if c.tiedEmbeddings { dot.edge("embed", "unembed", "same \(V) × \(C) weights", style: .tied) }
        dot.node("softmax_out", "softmax\n(logits → probabilities)", kind: .softmax)
        dot.edge("unembed", "softmax_out", "logits " + shape("T", V))
        dot.node("probs", "token probabilities at every position\n(for a [MASK]: the hidden word)", kind: .data)
        dot.edge("softmax_out", "probs", shape("T", V))
        return transform + decoder
    }

    // MARK: - Encoder–decoders

    /// The source through the encoder's stack, the target through the decoder's, and the
    /// encoder's output feeding every decoder block's cross-attention (keys and values).
    /// Sub-blocks are drawn whole (attention, feed-forward), each with its norm and residual.
    /// "lantern-tiny · " for a model's name or path, "" without one.
    static func titlePrefix(_ model: String?) -> String {
        model.map { URL(fileURLWithPath: $0).lastPathComponent + " · " } ?? ""
    }

    static func encoderDecoder(_ c: TransformerConfig, model: String? = nil) -> (dot: String, labelledParameters: Int) {
        let C = c.width, NH = c.heads, hs = c.headSize, A = NH * hs, FF = c.feedForwardWidth, V = c.vocabularySize
        let P = c.contextLength + c.positionOffset
        let bias = c.linearsHaveBias, postNorm = c.normalizesAfterSublayer
        let normName = c.normalization.rawValue
        let normParams = c.normalization == .layerNorm ? 2 * C : C
        let attentionParams = 4 * C * A + (bias ? 3 * A + C : 0)
        let ffParams = (c.feedForward == .gatedGELU ? 3 : 2) * C * FF + (bias ? FF + C : 0)
        let ffName: String
        switch c.feedForward {
        case .relu: ffName = "ReLU"
        case .gatedGELU: ffName = "gated GELU"
        default: ffName = "GELU"
        }
        var buckets = 0
        if case .relativeBuckets(let count, _) = c.positional { buckets = count * NH }
        let source = shape("S", C), target = shape("T", C)

        var dot = DOTWriter(name: "architecture")
        dot.graphLabel(
            titlePrefix(model)
                + "\(c.family.displayName): \(c.encoderLayers) encoder + \(c.layers) decoder layers, width \(C), \(NH) heads, \(formatParameters(c.parameterCount))\n"
                + "edges show the tensor shape; S = source tokens (read), T = target tokens (written)")
        var labelled = V * C

        /// One stack's input: embeddings (shared table), positions, the embedding norm.
        func inputs(_ prefix: String, _ what: String, _ rows: String, _ shapeText: String) -> String {
            dot.node("\(prefix)_tokens", what, kind: .data)
            var last = "embed"
            dot.edge("\(prefix)_tokens", "embed", "[\(rows)]")
            if c.hasLearnedPositions {
                dot.node(
                    "\(prefix)_pos",
                    "\(prefix) positions\nlookup table \(P) × \(C)\(c.positionOffset > 0 ? " (from row \(c.positionOffset))" : "")\n\(formatParameters(P * C))",
                    kind: .embedding)
                dot.node("\(prefix)_add", "+", kind: .add)
                dot.edge("\(prefix)_tokens", "\(prefix)_pos", "positions 0…\(rows)-1")
                dot.edge("embed", "\(prefix)_add", shapeText)
                dot.edge("\(prefix)_pos", "\(prefix)_add", shapeText)
                last = "\(prefix)_add"
                labelled += P * C
            }
            if c.normalizesEmbeddings {
                dot.node("\(prefix)_embed_ln", "\(normName) of the embeddings\n\(formatParameters(normParams))", kind: .norm)
                dot.edge(last, "\(prefix)_embed_ln", shapeText)
                last = "\(prefix)_embed_ln"
                labelled += normParams
            }
            return last
        }
        /// A sub-block with its norm and residual, from `input`; returns its output node.
        func sublayer(_ id: String, _ label: String, kind: DOTWriter.NodeKind, params: Int, input: String, shapeText: String) -> String {
            let normLabel = "\(normName)\(postNorm ? " (after the addition)" : "")\n\(formatParameters(normParams))"
            dot.node(id, "\(label)\n\(formatParameters(params))", kind: kind)
            dot.node("\(id)_add", "+", kind: .add)
            dot.node("\(id)_ln", normLabel, kind: .norm)
            if postNorm {
                dot.edge(input, id, shapeText)
                dot.edge(id, "\(id)_add", shapeText)
                dot.edge(input, "\(id)_add", "residual", style: .residual)
                dot.edge("\(id)_add", "\(id)_ln", shapeText)
                return "\(id)_ln"
            }
            dot.edge(input, "\(id)_ln", shapeText)
            dot.edge("\(id)_ln", id, shapeText)
            dot.edge(id, "\(id)_add", shapeText)
            dot.edge(input, "\(id)_add", "residual", style: .residual)
            return "\(id)_add"
        }

        dot.node(
            "embed",
            "token embedding (shared by both stacks\(c.tiedEmbeddings ? " and the output" : ""))\nlookup table \(V) × \(C)\n\(formatParameters(V * C))",
            kind: .embedding)
        let encoderIn = inputs("source", "source token ids\n(the prompt, read once)", "S", source)
        let positionNote =
            buckets > 0
            ? "; scores + a learned bias per head and distance bucket (\(formatParameters(buckets)), shared by the stack's layers)" : ""

        let encoderLayer = attentionParams + ffParams + 2 * normParams
        dot.beginCluster("encoder", "")
        dot.node("enc_in", "residual stream in", kind: .data)
        dot.clusterTitle("encoder", "encoder × \(c.encoderLayers) layers\n\(formatParameters(encoderLayer)) per layer", beside: "enc_in")
        var x = sublayer(
            "enc_attn",
            "self-attention both ways: \(NH) heads of \(hs)\nno mask: every source token sees every source token" + positionNote,
            kind: .attention, params: attentionParams, input: "enc_in", shapeText: source)
        x = sublayer(
            "enc_ff", "feed-forward (\(ffName))\nLinear \(C) → \(FF) → \(C)", kind: .feedForward, params: ffParams, input: x,
            shapeText: source)
        dot.node("enc_out", "encoder output\n(one vector per source token)", kind: .data)
        dot.edge(x, "enc_out", source)
        dot.endCluster()
        dot.edge(encoderIn, "enc_in", source)
        labelled += c.encoderLayers * encoderLayer + buckets
        var encoderOut = "enc_out"
        if c.hasFinalNorm {
            dot.node("enc_final", "final \(normName) of the encoder\n\(formatParameters(normParams))", kind: .norm)
            dot.edge("enc_out", "enc_final", "\(source) after \(c.encoderLayers) layers")
            encoderOut = "enc_final"
            labelled += normParams
        }

        let decoderIn = inputs("target", "target token ids\n(start token, then each word written)", "T", target)
        let decoderLayer = 2 * attentionParams + ffParams + 3 * normParams
        dot.beginCluster("decoder", "")
        dot.node("dec_in", "residual stream in", kind: .data)
        dot.clusterTitle("decoder", "decoder × \(c.layers) layers\n\(formatParameters(decoderLayer)) per layer", beside: "dec_in")
        x = sublayer(
            "dec_attn", "causal self-attention: \(NH) heads of \(hs)\nmask: a written token sees only the ones before it" + positionNote,
            kind: .attention, params: attentionParams, input: "dec_in", shapeText: target)
        x = sublayer(
            "cross", "cross-attention: \(NH) heads of \(hs)\nqueries from the target, keys and values from the encoder output",
            kind: .attention, params: attentionParams, input: x, shapeText: target)
        x = sublayer(
            "dec_ff", "feed-forward (\(ffName))\nLinear \(C) → \(FF) → \(C)", kind: .feedForward, params: ffParams, input: x,
            shapeText: target)
        dot.node("dec_out", "residual stream out", kind: .data)
        dot.edge(x, "dec_out", target)
        dot.endCluster()
        dot.edge(decoderIn, "dec_in", target)
        dot.edge(encoderOut, "cross", "keys, values from \(source)", style: .loop)
        labelled += c.layers * decoderLayer + buckets

        var last = "dec_out"
        if c.hasFinalNorm {
            dot.node(
                "dec_final", "final \(normName)\(c.scalesOutputsBeforeHead ? ", then × 1/√\(C)" : "")\n\(formatParameters(normParams))",
                kind: .norm)
            dot.edge("dec_out", "dec_final", "\(target) after \(c.layers) layers")
            last = "dec_final"
            labelled += normParams
        }
        let logitsBias = c.family == .bart
        dot.node(
            "unembed",
            (c.tiedEmbeddings
                ? "unembedding\nLinear \(C) → \(V), tied: reuses the token embedding" : "unembedding\nLinear \(C) → \(V), its own matrix")
                + (logitsBias ? "\n+ a bias per token" : "")
                + "\n\(formatParameters((c.tiedEmbeddings ? 0 : V * C) + (logitsBias ? V : 0)))",
            kind: .embedding)
        dot.edge(last, "unembed", target)
        if c.tiedEmbeddings { dot.edge("embed", "unembed", "same \(V) × \(C) weights", style: .tied) }
        labelled += (c.tiedEmbeddings ? 0 : V * C) + (logitsBias ? V : 0)
        dot.node("softmax_out", "softmax\n(logits → probabilities)", kind: .softmax)
        dot.edge("unembed", "softmax_out", "logits " + shape("T", V))
        dot.node("probs", "next-token probabilities\n(each written position predicts the next word)", kind: .data)
        dot.edge("softmax_out", "probs", shape("T", V))
        return (dot.finished, labelled)
    }

    // MARK: - The three architecture variations

    /// Encoder-only, encoder–decoder (with cross-attention) and decoder-only side by side
    /// in one style; decoder-only is highlighted and named after `family` when given.
    public static func variations(highlighting family: ModelFamily? = nil) -> String {
        var dot = DOTWriter(name: "variations")
        let here =
            family.map { "this model: \($0.displayName)" }
            ?? "the kind Lantern runs (" + ModelFamily.allCases.map(\.displayName).joined(separator: ", ") + ")"
        dot.graphLabel(
            "Three transformer architectures (the highlighted one is \(here))\n"
                + "a block in a box is repeated × N layers; T = input tokens, S = source tokens, C = width, V = vocabulary size")

        dot.beginCluster("encoder_only", "encoder-only (e.g. BERT)\nreads the whole text at once")
        dot.node("e_tokens", "input tokens", kind: .data)
        dot.node("e_embed", "token + position embedding", kind: .embedding)
        dot.beginCluster("e_block", "× N layers")
        dot.node("e_attn", "bidirectional self-attention\n(every token sees every token)", kind: .attention)
        dot.node("e_ffn", "feed-forward", kind: .feedForward)
        dot.endCluster()
        dot.node("e_out", "one vector per token\n(classify, tag, fill in masked words)", kind: .data)
        dot.edge("e_tokens", "e_embed", "[T]")
        dot.edge("e_embed", "e_attn", "[T, C]")
        dot.edge("e_attn", "e_ffn", "[T, C]")
        dot.edge("e_ffn", "e_out", "[T, C]")
        dot.endCluster()

        dot.beginCluster(
            "encoder_decoder", "encoder–decoder (e.g. the original Transformer, T5)\ntranslates a source text into a target text")
        dot.node("ed_source", "source tokens", kind: .data)
        dot.node(
            "ed_embed_s", "token embedding\n(+ positions: added here in the original;\nT5 adds relative biases to attention)",
            kind: .embedding)
        dot.beginCluster("ed_encoder", "encoder × N layers")
        dot.node("ed_enc_attn", "bidirectional self-attention", kind: .attention)
        dot.node("ed_enc_ffn", "feed-forward", kind: .feedForward)
        dot.endCluster()
        dot.node("ed_target", "target tokens so far", kind: .data)
        dot.node(
            "ed_embed_t", "token embedding\n(+ positions: added here in the original;\nT5 adds relative biases to attention)",
            kind: .embedding)
        dot.beginCluster("ed_decoder", "decoder × N layers")
        dot.node("ed_dec_attn", "causal self-attention\n(no looking ahead)", kind: .attention)
        dot.node("ed_cross", "cross-attention\nqueries from the decoder,\nkeys and values from the encoder", kind: .attention)
        dot.node("ed_dec_ffn", "feed-forward", kind: .feedForward)
        dot.endCluster()
        dot.node("ed_out", "next-token probabilities", kind: .data)
        dot.edge("ed_source", "ed_embed_s", "[S]")
        dot.edge("ed_embed_s", "ed_enc_attn", "[S, C]")
        dot.edge("ed_enc_attn", "ed_enc_ffn", "[S, C]")
        dot.edge("ed_target", "ed_embed_t", "[T]")
        dot.edge("ed_embed_t", "ed_dec_attn", "[T, C]")
        dot.edge("ed_dec_attn", "ed_cross", "[T, C]")
        dot.edge("ed_enc_ffn", "ed_cross", "encoded source [S, C]", style: .residual)
        dot.edge("ed_cross", "ed_dec_ffn", "[T, C]")
        dot.edge("ed_dec_ffn", "ed_out", "[T, V]")
        dot.endCluster()

        dot.beginCluster(
            "decoder_only", "decoder-only (e.g. GPT-2, Llama)\ncontinues a text one token at a time\n★ \(here)", highlighted: true)
        dot.node("d_tokens", "input tokens", kind: .data)
        dot.node("d_embed", "token embedding\n(+ positions)", kind: .embedding)
        dot.beginCluster("d_block", "× N layers")
        dot.node("d_attn", "causal self-attention\n(no looking ahead)", kind: .attention)
        dot.node("d_ffn", "feed-forward", kind: .feedForward)
        dot.endCluster()
        dot.node("d_out", "next-token probabilities", kind: .data)
        dot.edge("d_tokens", "d_embed", "[T]")
        dot.edge("d_embed", "d_attn", "[T, C]")
        dot.edge("d_attn", "d_ffn", "[T, C]")
        dot.edge("d_ffn", "d_out", "[T, V]")
        dot.endCluster()
        return dot.finished
    }

    // MARK: - The generation loop

    /// prompt → model → next-token distribution → sample → append → back into the model.
    public static func generationLoop(_ config: TransformerConfig? = nil) -> String {
        var dot = DOTWriter(name: "generation_loop")
        let V = config.map { String($0.vocabularySize) } ?? "V"
        dot.graphLabel(
            "The generation loop: each new token is fed back in\nT = tokens so far"
                + (config == nil ? ", V = vocabulary size" : ""))
        dot.node("prompt", "prompt\n(text → token ids)", kind: .data)
        dot.node("model", "model\n(one forward pass)", kind: .attention)
        dot.node("dist", "next-token distribution\nsoftmax(logits ÷ temperature)", kind: .softmax)
        dot.node("sample", "sample one token\n(greedy, top-k, top-p, seeded)", kind: .operation)
        dot.node("stop", "stop?", kind: .decision)
        dot.node("append", "append the token\nto the sequence", kind: .operation)
        dot.node("done", "generated text", kind: .data)
        dot.edge("prompt", "model", "[T]")
        dot.edge("model", "dist", "last position's logits [\(V)]")
        dot.edge("dist", "sample", "probabilities [\(V)]")
        dot.edge("sample", "stop", "one token id")
        dot.edge("stop", "append", "no")
        dot.edge("stop", "done", "yes: end-of-text token,\nstop string or length limit")
        dot.edge("append", "model", "[T + 1], fed back in", style: .loop)
        return dot.finished
    }

    // MARK: - Formatting

    /// "[T, 768]": a shape with the token letter first.
    static func shape(_ letter: String, _ size: Int) -> String { "[\(letter), \(size)]" }

    /// A parameter count for a label, one format at every size: "2.4M params", "38.6M params",
    /// "4.1K params", "768 params".
    public static func formatParameters(_ count: Int) -> String {
        let value = Double(count)
        let text: String
        switch count {
        case 1_000_000_000...: text = String(format: "%.1fB", value / 1e9)
        case 1_000_000...: text = String(format: "%.1fM", value / 1e6)
        case 1_000...: text = String(format: "%.1fK", value / 1e3)
        default: text = String(count)
        }
        return "\(text) params"
    }
}
