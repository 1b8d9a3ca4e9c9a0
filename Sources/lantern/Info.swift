import ArgumentParser
import Foundation
import Generation
import Tensors
import Transformer

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe a model: architecture, parameters, context, vocabulary, positions, weights.",
        discussion: "Example: lantern info --model path/to/gpt2")

    @OptionGroup var model: ModelOptions

    @Flag(name: .long, help: "Print JSON instead of text.")
    var json = false

    @Flag(
        name: .long, help: "Also say which CPU this is and which kernels run the model's arithmetic (OpenBLAS core, matrix-vector kernels)."
    )
    var verbose = false

    func run() throws {
        let bundle = try model.load()
        let c = bundle.model.config
        let family = c.family.summary
        let local = (0..<c.layers).filter { c.attentionWindow(layer: $0) != nil }
        let attention =
            (c.kvHeads == c.heads
                ? "\(c.heads) heads × \(c.headSize)"
                : "\(c.heads) query heads sharing \(c.kvHeads) key/value heads (grouped-query) × \(c.headSize)")
            + (local.isEmpty
                ? ""
                : "; local layers \(local.map(String.init).joined(separator: ", ")) see only the latest "
                    + "\(c.attentionWindow(layer: local[0]) ?? 0) tokens, the others every earlier token")
        let inMemory = ["f32": "float32", "f16": "float16 (products in float32)", "bf16": "bfloat16 (products in float32)"][
            bundle.model.weightFormat.rawValue]!
        let megabytes = String(format: "%.1f", Double(bundle.model.decodeBytesPerToken) / 1e6)
        if json {
            try printJSON(
                [
                    "source": bundle.source, "family": c.family.rawValue, "layers": c.layers, "heads": c.heads,
                    "kv_heads": c.kvHeads, "width": c.width, "head_size": c.headSize, "feed_forward_width": c.feedForwardWidth,
                    "vocabulary_size": c.vocabularySize, "context_length": c.contextLength, "parameters": c.parameterCount,
                    "positional": c.positional.description, "rope_scaling": c.rotaryScaling.description,
                    "attention_score_scale": c.attentionScoreScale, "tied_embeddings": c.tiedEmbeddings,
                    "weight_dtypes": bundle.weightDTypes, "tokenizer_vocabulary_size": bundle.tokenizer.vocabularySize,
                    "weights_in_memory": bundle.model.weightFormat.rawValue,
                    "decode_bytes_per_token": bundle.model.decodeBytesPerToken, "causal": c.isCausal, "head": c.head.rawValue,
                    "token_types": c.tokenTypes, "encoder_decoder": c.isEncoderDecoder, "encoder_layers": c.encoderLayers
                ].merging(verbose ? ["kernels": KernelReport.current().jsonObject] : [:]) { a, _ in a })
            return
        }
        print(
            """
            model          \(bundle.source)
            architecture   \(family)
            parameters     \(c.parameterCount.formatted()) (\(String(format: "%.1f", Double(c.parameterCount) / 1e6))M)
            layers         \(c.isEncoderDecoder ? "\(c.encoderLayers) encoder + \(c.layers) decoder (each decoder block: self-attention, cross-attention, feed-forward)" : "\(c.layers)")
            width          \(c.width)
            attention      \(attention)
            feed-forward   \(c.feedForwardWidth)
            context        \(c.contextLength) tokens
            vocabulary     \(c.vocabularySize) tokens (tokenizer: \(bundle.tokenizer.vocabularySize))
            positions      \(c.positional)\(c.rotaryScaling == .none ? "" : "\nrope scaling   \(c.rotaryScaling)")
            score scale    \(c.scalesAttentionScores ? "q · k ÷ √\(c.headSize)" : "q · k, not divided by √\(c.headSize)\(c.family == .t5 ? " (T5 folds it into the weights)" : c.family == .gptNeo ? " (GPT-Neo never divides)" : " (scale_attn_weights: false)")")
            \(c.isEncoderDecoder ? encoderDecoderOutput(c) : c.isCausal ? decoderOutput(c) : encoderOutput(c))
            weights        \(bundle.weightDTypes.joined(separator: ", ")) on disk, \(inMemory) in memory\(c.isCausal ? " (\(megabytes) MB read per decoded token)" : "")
            """)
        if verbose { KernelReport.current().lines.forEach { print($0) } }
    }

    private func decoderOutput(_ c: TransformerConfig) -> String {
        "embeddings     " + (c.tiedEmbeddings ? "tied (the unembedding reuses the token embedding)" : "separate unembedding matrix")
    }

    /// An encoder–decoder: what it reads and writes, and where its decoder starts.
    private func encoderDecoderOutput(_ c: TransformerConfig) -> String {
        """
        \(decoderOutput(c))
        norms          \(c.normalizesAfterSublayer ? "LayerNorm after each residual addition (post-LN)\(c.normalizesEmbeddings ? ", and on the embeddings" : "")" : "\(c.normalization.rawValue) before each sub-block (pre-LN), and after each stack")
        output         \(c.head == .sequenceClassification ? classifierOutput(c) : "a new text written from the input: the encoder reads the prompt once, the decoder writes from token \(c.decoderStartTokenId.map(String.init) ?? "?") and looks back at it through cross-attention (`lantern generate`, `lantern attention --part cross`)")
        """
    }

    /// BartForSequenceClassification: classes, not text.
    private func classifierOutput(_ c: TransformerConfig) -> String {
        "\(c.classLabels?.count ?? 0) class scores (\((c.classLabels ?? []).joined(separator: ", "))) for the whole input, from "
            + "the decoder's state at its last end-of-text token (dense, tanh, out_proj): a sequence classifier"
            + ((c.classLabels ?? []).contains { $0.lowercased().hasPrefix("entail") }
                ? " for natural-language inference, the model zero-shot classification runs on" : "")
    }

    /// An encoder: its token types, where its norms sit, and what its output is.
    private func encoderOutput(_ c: TransformerConfig) -> String {
        let head: String
        switch c.head {
        case .maskedToken:
            head =
                "masked-language head (dense, GELU, LayerNorm, then the \(c.tiedEmbeddings ? "tied token embedding" : "decoder") + bias): `lantern fill`"
        case .none, .nextToken, .sequenceClassification:
            head = "none: a sentence encoder (hidden states, pooled into one vector by `lantern embed`)"
        }
        return """
            token types    \(c.tokenTypes) (sentence A / B, added to the embedding)
            norms          LayerNorm after each residual addition (post-LN), and on the embeddings
            output         \(head)
            """
    }
}
