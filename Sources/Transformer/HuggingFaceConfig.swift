import Foundation
import Tensors

/// Reads a Hugging Face `config.json` into a `TransformerConfig`. Checkpoint key names
/// (`n_embd`, `hidden_size`, …) appear here and nowhere else.
///
/// Every key that changes what a model computes is either implemented or refused by name:
/// - GPT-2: `n_embd`, `n_head`, `n_layer`, `n_inner`, `n_positions`/`n_ctx`, `vocab_size`,
///   `layer_norm_epsilon`, `activation_function` (gelu_new, gelu_pytorch_tanh), `scale_attn_weights`,
///   `tie_word_embeddings`; refused: `scale_attn_by_inverse_layer_idx`, `add_cross_attention`.
///   (`reorder_and_upcast_attn` only upcasts to float32, which Lantern always computes in.)
/// - Llama: `hidden_size`, `num_attention_heads`, `num_key_value_heads`, `head_dim`,
///   `num_hidden_layers`, `intermediate_size`, `vocab_size`, `max_position_embeddings`,
///   `rms_norm_eps`, `hidden_act` (silu), `tie_word_embeddings`, RoPE θ and scaling (default,
///   linear, llama3) from transformers 5's `rope_parameters` or transformers 4's `rope_theta` +
///   `rope_scaling`; refused: other RoPE kinds, `partial_rotary_factor` ≠ 1, `attention_bias`,
///   `mlp_bias`. (`pretraining_tp` only splits the same products.)
/// - BERT: see `bert(_:head:)`; T5: `t5(_:)`; BART: `bart(_:)`.
public enum HuggingFaceConfig {
    public static func load(_ url: URL) throws -> TransformerConfig {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelLoadError.missingFile(url.path, hint: "a Hugging Face model folder needs config.json beside its weights")
        }
        let data: Data
        do { data = try RegularFile.read(url) } catch {
            throw ModelLoadError.unreadable(url.path, reason: error.reason)
        }
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelLoadError.malformedConfig(file: url.path, problem: "not a JSON object")
        }
        var config = try parse(json, file: url.path)
        if config.isEncoderDecoder {
            try readGenerationConfig(beside: url, into: &config)
        }
        return config
    }

    /// transformers 5 keeps generation settings (BART's forced first and last tokens) in
    /// `generation_config.json`; where it names them, they win over `config.json`'s.
    static func readGenerationConfig(beside url: URL, into config: inout TransformerConfig) throws {
        let file = url.deletingLastPathComponent().appendingPathComponent("generation_config.json")
        guard FileManager.default.fileExists(atPath: file.path) else { return }
        guard let data = try? RegularFile.read(file), let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        else { throw ModelLoadError.malformedConfig(file: file.path, problem: "not a JSON object") }
        let r = Reader(json: json, file: file.path)
        config.forcedFirstTokenId = try r.optionalInt("forced_bos_token_id") ?? config.forcedFirstTokenId
        config.forcedLastTokenId = try r.optionalInt("forced_eos_token_id") ?? config.forcedLastTokenId
        config.decoderStartTokenId = try r.optionalInt("decoder_start_token_id") ?? config.decoderStartTokenId
    }

    public static func parse(_ json: [String: Any], file: String) throws -> TransformerConfig {
        let reader = Reader(json: json, file: file)
        let architecture = (json["architectures"] as? [String])?.first
        let modelType = json["model_type"] as? String
        switch (architecture, modelType) {
        case ("GPT2LMHeadModel", _), (nil, "gpt2"):
            return try gpt2(reader)
        case ("LlamaForCausalLM", _), (nil, "llama"):
            return try llama(reader)
        case ("GPTNeoForCausalLM", _), (nil, "gpt_neo"):
            return try gptNeo(reader)
        case ("GPT2Model", _):
            // GPT-2 without its LM head: the tied embedding unembeds, as GPT2LMHeadModel's head does.
            return try gpt2(reader)
        case ("MistralForCausalLM", _), (nil, "mistral"):
            // Llama's shape with a sliding window on every layer (`sliding_window`; null: none).
            var config = try llama(reader)
            if let window = try reader.optionalPositiveInt("sliding_window") {
                config.attentionWindows = Array(repeating: window, count: config.layers)
            }
            return config
        case ("Qwen2ForCausalLM", _), (nil, "qwen2"):
            throw ModelLoadError.unsupportedSetting(
                file: file, setting: "architectures [\"Qwen2ForCausalLM\"]",
                hint: "Qwen2 is Llama's shape with biases on the query, key and value projections, which Lantern's Llama does not add")
        case ("BertForMaskedLM", _), ("BertForPreTraining", _):
            return try bert(reader, head: .maskedToken)
        case ("BertModel", _), (nil, "bert"):
            return try bert(reader, head: .none)
        case ("T5ForConditionalGeneration", _), (nil, "t5"):
            return try t5(reader)
        case ("BartForConditionalGeneration", _), (nil, "bart"):
            return try bart(reader)
        case ("BartForSequenceClassification", _):
            var config = try bart(reader)
            config.head = .sequenceClassification
            config.classLabels = try classLabels(reader)
            return config
        case (let name?, "t5"), (let name?, "bart"):
            throw ModelLoadError.unsupportedSetting(
                file: file, setting: "architectures [\"\(name)\"]",
                hint:
                    "Lantern runs T5 and BART as T5ForConditionalGeneration and BartForConditionalGeneration (encoder, decoder and head), and BART as BartForSequenceClassification (an NLI model such as bart-large-mnli)"
            )
        case (let name?, "bert"):
            throw ModelLoadError.unsupportedSetting(
                file: file, setting: "architectures [\"\(name)\"]",
                hint: "Lantern runs BERT checkpoints as BertModel (an encoder) or BertForMaskedLM (with its MLM head)")
        default:
            throw ModelLoadError.unsupportedArchitecture(file: file, found: architecture ?? modelType ?? "(none named)")
        }
    }

    private static func gpt2(_ r: Reader) throws -> TransformerConfig {
        let C = try r.int("n_embd"), NH = try r.int("n_head")
        guard C % NH == 0 else { throw r.problem("n_embd \(C) is not divisible by n_head \(NH)") }
        let activation = r.json["activation_function"] as? String ?? "gelu_new"
        guard ["gelu_new", "gelu_pytorch_tanh"].contains(activation) else {
            throw r.unsupported("activation_function \"\(activation)\"", "Lantern's GPT-2 runs gelu_new (the tanh approximation)")
        }
        if r.json["scale_attn_by_inverse_layer_idx"] as? Bool == true {
            throw r.unsupported("scale_attn_by_inverse_layer_idx: true", "GPT-2 divides every layer's scores by √head size alone")
        }
        if r.json["add_cross_attention"] as? Bool == true {
            throw r.unsupported("add_cross_attention: true", "Lantern's GPT-2 is decoder-only, without cross-attention")
        }
        let vocabulary = try r.int("vocab_size")
        var config = TransformerConfig(
            family: .gpt2, layers: try r.int("n_layer"), heads: NH, kvHeads: NH, width: C, headSize: C / NH,
            feedForwardWidth: try r.optionalPositiveInt("n_inner") ?? 4 * C, vocabularySize: vocabulary,
            contextLength: try r.optionalInt("n_positions") ?? r.int("n_ctx"),
            normEpsilon: try r.optionalFloat("layer_norm_epsilon") ?? 1e-5, positional: .learnedAbsolute,
            tiedEmbeddings: r.json["tie_word_embeddings"] as? Bool ?? true,
            bosTokenId: try r.optionalInt("bos_token_id"), eosTokenId: try r.optionalInt("eos_token_id"))
        config.scalesAttentionScores = try r.optionalBool("scale_attn_weights") ?? true
        return config
    }

    /// GPT-Neo (`GPTNeoForCausalLM`). Read: `hidden_size`, `num_heads`, `num_layers`,
    /// `intermediate_size` (null: 4 × hidden), `vocab_size`, `max_position_embeddings`,
    /// `layer_norm_epsilon`, `window_size`, and which layers are global or local:
    /// `attention_layers` (one per layer) or `attention_types` (`[[["global", "local"], 12]]`:
    /// the pattern repeated). Refused: activations other than gelu_new.
    private static func gptNeo(_ r: Reader) throws -> TransformerConfig {
        let C = try r.int("hidden_size"), NH = try r.int("num_heads"), L = try r.int("num_layers")
        guard C % NH == 0 else { throw r.problem("hidden_size \(C) is not divisible by num_heads \(NH)") }
        let activation = r.json["activation_function"] as? String ?? "gelu_new"
        guard ["gelu_new", "gelu_pytorch_tanh"].contains(activation) else {
            throw r.unsupported("activation_function \"\(activation)\"", "Lantern's GPT-Neo runs gelu_new (the tanh approximation)")
        }
        var kinds = r.json["attention_layers"] as? [String] ?? []
        if kinds.isEmpty, let types = r.json["attention_types"] as? [[Any]] {
            for item in types {
                guard item.count == 2, let pattern = item[0] as? [String], let repeats = item[1] as? Int, repeats >= 0 else {
                    throw r.problem("attention_types \(item) is not [[\"global\", \"local\"], count]")
                }
                for _ in 0..<repeats { kinds += pattern }
            }
        }
        guard kinds.count == L else { throw r.problem("attention_layers names \(kinds.count) layers, num_layers is \(L)") }
        let window = try r.optionalPositiveInt("window_size") ?? 256
        var config = TransformerConfig(
            family: .gptNeo, layers: L, heads: NH, kvHeads: NH, width: C, headSize: C / NH,
            feedForwardWidth: try r.optionalPositiveInt("intermediate_size") ?? 4 * C, vocabularySize: try r.int("vocab_size"),
            contextLength: try r.int("max_position_embeddings"), normEpsilon: try r.optionalFloat("layer_norm_epsilon") ?? 1e-5,
            positional: .learnedAbsolute, tiedEmbeddings: r.json["tie_word_embeddings"] as? Bool ?? true,
            bosTokenId: try r.optionalInt("bos_token_id"), eosTokenId: try r.optionalInt("eos_token_id"))
        config.scalesAttentionScores = false  // GPT-Neo does not divide q · k by √head size
        config.attentionWindows = try kinds.map { kind -> Int? in
            switch kind {
            case "global": return nil
            case "local": return window
            default: throw r.unsupported("attention type \"\(kind)\"", "GPT-Neo's layers are \"global\" or \"local\"")
            }
        }
        return config
    }

    /// BERT-family encoders (BERT, MiniLM…). Read: `hidden_size`, `num_attention_heads`,
    /// `num_hidden_layers`, `intermediate_size`, `vocab_size`, `max_position_embeddings`,
    /// `type_vocab_size`, `layer_norm_eps`, `hidden_act` (gelu), `tie_word_embeddings`,
    /// `pad_token_id`; refused: other activations, `position_embedding_type` other than absolute,
    /// `is_decoder`, `add_cross_attention`. (Dropout probabilities do nothing at inference;
    /// `chunk_size_feed_forward` splits the same products.)
    private static func bert(_ r: Reader, head: OutputHead) throws -> TransformerConfig {
        let C = try r.int("hidden_size"), NH = try r.int("num_attention_heads")
        guard C % NH == 0 else { throw r.problem("hidden_size \(C) is not divisible by num_attention_heads \(NH)") }
        let activation = r.json["hidden_act"] as? String ?? "gelu"
        guard activation == "gelu" else {
            throw r.unsupported("hidden_act \"\(activation)\"", "Lantern's BERT runs the exact (erf) GELU, \"gelu\"")
        }
        let positions = r.json["position_embedding_type"] as? String ?? "absolute"
        guard positions == "absolute" else {
            throw r.unsupported("position_embedding_type \"\(positions)\"", "Lantern's BERT adds learned absolute positions")
        }
        for key in ["is_decoder", "add_cross_attention"] where r.json[key] as? Bool == true {
            throw r.unsupported("\(key): true", "Lantern runs BERT as an encoder, attending both ways, without cross-attention")
        }
        var config = TransformerConfig(
            family: .bert, layers: try r.int("num_hidden_layers"), heads: NH, kvHeads: NH, width: C, headSize: C / NH,
            feedForwardWidth: try r.int("intermediate_size"), vocabularySize: try r.int("vocab_size"),
            contextLength: try r.int("max_position_embeddings"), normEpsilon: try r.optionalFloat("layer_norm_eps") ?? 1e-12,
            positional: .learnedAbsolute, tiedEmbeddings: r.json["tie_word_embeddings"] as? Bool ?? true)
        config.head = head
        config.tokenTypes = try r.optionalPositiveInt("type_vocab_size") ?? 2
        config.paddingTokenId = try r.optionalInt("pad_token_id")
        return config
    }

    /// T5 (v1.0, v1.1, FLAN-T5). Read: `d_model`, `d_kv`, `d_ff`, `num_heads`, `num_layers`,
    /// `num_decoder_layers`, `vocab_size`, `relative_attention_num_buckets`,
    /// `relative_attention_max_distance`, `feed_forward_proj` (relu, gated-gelu),
    /// `layer_norm_epsilon`, `tie_word_embeddings`, `scale_decoder_outputs`, `n_positions` (the
    /// longest input Lantern accepts: T5's relative positions set no limit of their own),
    /// `decoder_start_token_id`, `eos_token_id`; refused: other feed-forwards, `is_decoder`.
    private static func t5(_ r: Reader) throws -> TransformerConfig {
        let C = try r.int("d_model"), NH = try r.int("num_heads"), hs = try r.int("d_kv")
        let projection = r.json["feed_forward_proj"] as? String ?? "relu"
        let feedForward: FeedForwardKind
        switch projection {
        case "relu": feedForward = .relu
        case "gated-gelu": feedForward = .gatedGELU
        default:
            throw r.unsupported(
                "feed_forward_proj \"\(projection)\"", "Lantern's T5 runs \"relu\" (T5 v1.0) and \"gated-gelu\" (v1.1, FLAN-T5)")
        }
        if r.json["is_decoder"] as? Bool == true {
            throw r.unsupported("is_decoder: true", "Lantern runs T5 as an encoder–decoder")
        }
        let layers = try r.int("num_layers")
        let tied = r.json["tie_word_embeddings"] as? Bool ?? true
        var config = TransformerConfig(
            family: .t5, layers: try r.optionalPositiveInt("num_decoder_layers") ?? layers, heads: NH, kvHeads: NH, width: C,
            headSize: hs, feedForwardWidth: try r.int("d_ff"), vocabularySize: try r.int("vocab_size"),
            contextLength: try r.optionalPositiveInt("n_positions") ?? 512,
            normEpsilon: try r.optionalFloat("layer_norm_epsilon") ?? 1e-6,
            positional: .relativeBuckets(
                buckets: try r.optionalPositiveInt("relative_attention_num_buckets") ?? 32,
                maxDistance: try r.optionalPositiveInt("relative_attention_max_distance") ?? 128),
            tiedEmbeddings: tied, eosTokenId: try r.optionalInt("eos_token_id") ?? 1)
        config.encoderLayers = layers
        config.feedForwardChoice = feedForward
        // T5 folds 1/√d into its initialisation: scores are plain q · k.
        config.scalesAttentionScores = false
        config.scalesOutputsBeforeHead = try r.optionalBool("scale_decoder_outputs") ?? tied
        config.decoderStartTokenId = try r.optionalInt("decoder_start_token_id") ?? r.optionalInt("pad_token_id") ?? 0
        config.paddingTokenId = try r.optionalInt("pad_token_id")
        return config
    }

    /// BART. Read: `d_model`, `encoder_layers`, `decoder_layers`, `encoder_attention_heads` and
    /// `decoder_attention_heads` (equal), `encoder_ffn_dim` and `decoder_ffn_dim` (equal),
    /// `max_position_embeddings`, `vocab_size`, `activation_function` (gelu), `scale_embedding`,
    /// `tie_word_embeddings`, `decoder_start_token_id`, `forced_bos_token_id`,
    /// `forced_eos_token_id`, `bos/eos/pad_token_id`; refused: other activations,
    /// `normalize_before` and `add_final_layer_norm` (mBART's pre-LN layout), `add_bias_logits`,
    /// `static_position_embeddings`. LayerNorm ε is PyTorch's default, 1e-5.
    /// `id2label` as a list by id: every id from 0 up, each named once.
    private static func classLabels(_ r: Reader) throws -> [String] {
        guard let table = r.json["id2label"] as? [String: Any], !table.isEmpty else {
            throw r.problem("a sequence-classification model needs id2label (the name of each class)")
        }
        var labels = [String?](repeating: nil, count: table.count)
        for (key, value) in table {
            guard let id = Int(key), labels.indices.contains(id), labels[id] == nil, let name = value as? String else {
                throw r.problem("id2label must name each class id 0…\(table.count - 1) once; it has \"\(key)\"")
            }
            labels[id] = name
        }
        return labels.map { $0! }
    }

    private static func bart(_ r: Reader) throws -> TransformerConfig {
        let C = try r.int("d_model"), NH = try r.int("decoder_attention_heads")
        guard try r.int("encoder_attention_heads") == NH else {
            throw r.unsupported("encoder_attention_heads ≠ decoder_attention_heads", "Lantern's BART gives both stacks the same heads")
        }
        guard C % NH == 0 else { throw r.problem("d_model \(C) is not divisible by decoder_attention_heads \(NH)") }
        let FF = try r.int("decoder_ffn_dim")
        guard try r.int("encoder_ffn_dim") == FF else {
            throw r.unsupported("encoder_ffn_dim ≠ decoder_ffn_dim", "Lantern's BART gives both stacks the same feed-forward width")
        }
        let activation = r.json["activation_function"] as? String ?? "gelu"
        guard activation == "gelu" else {
            throw r.unsupported("activation_function \"\(activation)\"", "Lantern's BART runs the exact (erf) GELU, \"gelu\"")
        }
        for key in ["normalize_before", "add_final_layer_norm", "add_bias_logits", "static_position_embeddings"]
        where r.json[key] as? Bool == true {
            throw r.unsupported("\(key): true", "Lantern runs BART's own layout (LayerNorm after each sub-block, learned positions)")
        }
        var config = TransformerConfig(
            family: .bart, layers: try r.int("decoder_layers"), heads: NH, kvHeads: NH, width: C, headSize: C / NH,
            feedForwardWidth: FF, vocabularySize: try r.int("vocab_size"), contextLength: try r.int("max_position_embeddings"),
            normEpsilon: 1e-5, positional: .learnedAbsolute, tiedEmbeddings: r.json["tie_word_embeddings"] as? Bool ?? true,
            bosTokenId: try r.optionalInt("bos_token_id"), eosTokenId: try r.optionalInt("eos_token_id"))
        config.encoderLayers = try r.int("encoder_layers")
        config.positionOffset = 2
        config.scalesEmbeddings = try r.optionalBool("scale_embedding") ?? false
        config.decoderStartTokenId = try r.optionalInt("decoder_start_token_id") ?? config.eosTokenId
        config.forcedFirstTokenId = try r.optionalInt("forced_bos_token_id")
        config.forcedLastTokenId = try r.optionalInt("forced_eos_token_id")
        config.paddingTokenId = try r.optionalInt("pad_token_id")
        return config
    }

    private static func llama(_ r: Reader) throws -> TransformerConfig {
        let C = try r.int("hidden_size"), NH = try r.int("num_attention_heads")
        let NKV = try r.optionalPositiveInt("num_key_value_heads") ?? NH
        guard NH % NKV == 0 else { throw r.problem("num_attention_heads \(NH) is not a multiple of num_key_value_heads \(NKV)") }
        let hs = try r.optionalPositiveInt("head_dim") ?? C / NH
        guard hs * NH == C || r.json["head_dim"] != nil, hs % 2 == 0 else {
            throw r.problem("hidden_size \(C) does not split into \(NH) heads of even size")
        }
        let (theta, scaling) = try rope(r)
        let activation = r.json["hidden_act"] as? String ?? "silu"
        guard activation == "silu" else { throw r.unsupported("hidden_act \"\(activation)\"", "Lantern's Llama runs silu (SwiGLU)") }
        for key in ["attention_bias", "mlp_bias"] where r.json[key] as? Bool == true {
            throw r.unsupported("\(key): true", "Lantern's Llama has no biases")
        }
        var config = TransformerConfig(
            family: .llama, layers: try r.int("num_hidden_layers"), heads: NH, kvHeads: NKV, width: C, headSize: hs,
            feedForwardWidth: try r.int("intermediate_size"), vocabularySize: try r.int("vocab_size"),
            contextLength: try r.int("max_position_embeddings"),
            normEpsilon: try r.optionalFloat("rms_norm_eps") ?? 1e-6,
            positional: .rotary(theta: theta, layout: .halfSplit),
            tiedEmbeddings: r.json["tie_word_embeddings"] as? Bool ?? false,
            bosTokenId: try r.optionalInt("bos_token_id"), eosTokenId: try r.optionalInt("eos_token_id"))
        config.rotaryScaling = scaling
        return config
    }

    /// RoPE's θ and scaling. transformers 5 writes them together as `rope_parameters`
    /// (`rope_theta`, `rope_type`, and the type's own keys); transformers 4 wrote `rope_theta` at
    /// the top and `rope_scaling` (`rope_type` or `type`, …) beside it.
    private static func rope(_ r: Reader) throws -> (theta: Float, scaling: RotaryScaling) {
        var parameters: [String: Any] = [:]
        for key in ["rope_scaling", "rope_parameters"] {
            guard let value = r.json[key], !(value is NSNull) else { continue }
            guard let object = value as? [String: Any] else { throw r.problem("\"\(key)\" should be an object, found \(value)") }
            parameters.merge(object) { _, new in new }
        }
        let p = Reader(json: parameters, file: r.file, prefix: "rope parameter ")
        let theta = try p.optionalFloat("rope_theta") ?? r.optionalFloat("rope_theta") ?? 10000
        if let partial = try p.optionalFloat("partial_rotary_factor") ?? r.optionalFloat("partial_rotary_factor"), partial != 1 {
            throw r.unsupported("partial_rotary_factor \(partial)", "Lantern's Llama rotates every channel of a head")
        }
        let kind = (parameters["rope_type"] ?? parameters["type"]) as? String ?? "default"
        switch kind {
        case "default":
            return (theta, .none)
        case "linear":
            return (theta, .linear(factor: try p.float("factor")))
        case "llama3":
            return (
                theta,
                .llama3(
                    factor: try p.float("factor"), lowFrequencyFactor: try p.float("low_freq_factor"),
                    highFrequencyFactor: try p.float("high_freq_factor"),
                    originalContext: try p.int("original_max_position_embeddings"))
            )
        default:
            throw r.unsupported("RoPE scaling \"\(kind)\"", "Lantern runs plain RoPE and the linear and llama3 scalings")
        }
    }

    /// Typed access to config values with errors naming the key.
    private struct Reader {
        let json: [String: Any], file: String
        /// Put before key names in messages (e.g. "rope parameter ").
        var prefix = ""

        func problem(_ text: String) -> ModelLoadError { .malformedConfig(file: file, problem: prefix + text) }

        func unsupported(_ setting: String, _ hint: String) -> ModelLoadError {
            .unsupportedSetting(file: file, setting: setting, hint: hint)
        }

        func optionalBool(_ key: String) throws -> Bool? {
            guard let value = json[key], !(value is NSNull) else { return nil }
            guard let bool = value as? Bool else { throw problem("\"\(key)\" should be true or false, found \(value)") }
            return bool
        }

        func float(_ key: String) throws -> Float {
            guard let value = try optionalFloat(key) else { throw problem("missing \"\(key)\"") }
            return value
        }

        func optionalInt(_ key: String) throws -> Int? {
            guard let value = json[key], !(value is NSNull) else { return nil }
            guard let number = value as? NSNumber, let int = Int(exactly: number.doubleValue), int >= 0 else {
                throw problem("\"\(key)\" should be a non-negative whole number, found \(value)")
            }
            return int
        }

        /// A whole number that must be at least 1 when present (a head count, a width).
        func optionalPositiveInt(_ key: String) throws -> Int? {
            guard let value = try optionalInt(key) else { return nil }
            guard value > 0 else { throw problem("\"\(key)\" must be positive, found 0") }
            return value
        }

        func int(_ key: String) throws -> Int {
            guard let value = try optionalInt(key) else { throw problem("missing \"\(key)\"") }
            guard value > 0 else { throw problem("\"\(key)\" must be positive, found 0") }
            return value
        }

        func optionalFloat(_ key: String) throws -> Float? {
            guard let value = json[key], !(value is NSNull) else { return nil }
            guard let number = value as? NSNumber, number.doubleValue > 0 else {
                throw problem("\"\(key)\" should be a positive number, found \(value)")
            }
            return number.floatValue
        }
    }
}
