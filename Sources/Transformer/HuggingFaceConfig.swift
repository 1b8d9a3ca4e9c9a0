import Foundation
import Tensors

/// Reads a Hugging Face `config.json` into a `TransformerConfig`. Checkpoint key names
/// (`n_embd`, `hidden_size`, …) appear here and nowhere else.
public enum HuggingFaceConfig {
    public static func load(_ url: URL) throws -> TransformerConfig {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelLoadError.missingFile(url.path, hint: "a Hugging Face model folder needs config.json beside its weights")
        }
        let data = try Data(contentsOf: url)
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ModelLoadError.malformedConfig(file: url.path, problem: "not a JSON object")
        }
        return try parse(json, file: url.path)
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
        default:
            throw ModelLoadError.unsupportedArchitecture(file: file, found: architecture ?? modelType ?? "(none named)")
        }
    }

    private static func gpt2(_ r: Reader) throws -> TransformerConfig {
        let C = try r.int("n_embd"), NH = try r.int("n_head")
        guard C % NH == 0 else { throw r.problem("n_embd \(C) is not divisible by n_head \(NH)") }
        let activation = r.json["activation_function"] as? String ?? "gelu_new"
        guard ["gelu_new", "gelu_pytorch_tanh"].contains(activation) else {
            throw r.problem("activation_function \"\(activation)\" is not supported (GPT-2 uses gelu_new)")
        }
        if r.json["scale_attn_by_inverse_layer_idx"] as? Bool == true {
            throw r.problem("scale_attn_by_inverse_layer_idx is not supported")
        }
        let vocabulary = try r.int("vocab_size")
        return TransformerConfig(
            family: .gpt2, layers: try r.int("n_layer"), heads: NH, kvHeads: NH, width: C, headSize: C / NH,
            feedForwardWidth: try r.optionalInt("n_inner") ?? 4 * C, vocabularySize: vocabulary,
            contextLength: try r.optionalInt("n_positions") ?? r.int("n_ctx"),
            normEpsilon: try r.optionalFloat("layer_norm_epsilon") ?? 1e-5, positional: .learnedAbsolute,
            tiedEmbeddings: r.json["tie_word_embeddings"] as? Bool ?? true,
            bosTokenId: try r.optionalInt("bos_token_id"), eosTokenId: try r.optionalInt("eos_token_id"))
    }

    private static func llama(_ r: Reader) throws -> TransformerConfig {
        let C = try r.int("hidden_size"), NH = try r.int("num_attention_heads")
        let NKV = try r.optionalInt("num_key_value_heads") ?? NH
        guard NH % NKV == 0 else { throw r.problem("num_attention_heads \(NH) is not a multiple of num_key_value_heads \(NKV)") }
        let hs = try r.optionalInt("head_dim") ?? C / NH
        guard hs * NH == C || r.json["head_dim"] != nil, hs % 2 == 0 else {
            throw r.problem("hidden_size \(C) does not split into \(NH) heads of even size")
        }
        if let scaling = r.json["rope_scaling"], !(scaling is NSNull) {
            throw r.problem("rope_scaling is not supported (only plain RoPE)")
        }
        let activation = r.json["hidden_act"] as? String ?? "silu"
        guard activation == "silu" else { throw r.problem("hidden_act \"\(activation)\" is not supported (Llama uses silu)") }
        if r.json["attention_bias"] as? Bool == true || r.json["mlp_bias"] as? Bool == true {
            throw r.problem("attention_bias / mlp_bias are not supported (Llama has no biases)")
        }
        return TransformerConfig(
            family: .llama, layers: try r.int("num_hidden_layers"), heads: NH, kvHeads: NKV, width: C, headSize: hs,
            feedForwardWidth: try r.int("intermediate_size"), vocabularySize: try r.int("vocab_size"),
            contextLength: try r.int("max_position_embeddings"),
            normEpsilon: try r.optionalFloat("rms_norm_eps") ?? 1e-6,
            positional: .rotary(theta: try r.optionalFloat("rope_theta") ?? 10000, layout: .halfSplit),
            tiedEmbeddings: r.json["tie_word_embeddings"] as? Bool ?? false,
            bosTokenId: try r.optionalInt("bos_token_id"), eosTokenId: try r.optionalInt("eos_token_id"))
    }

    /// Typed access to config values with errors naming the key.
    private struct Reader {
        let json: [String: Any], file: String

        func problem(_ text: String) -> ModelLoadError { .malformedConfig(file: file, problem: text) }

        func optionalInt(_ key: String) throws -> Int? {
            guard let value = json[key], !(value is NSNull) else { return nil }
            guard let number = value as? NSNumber, let int = Int(exactly: number.doubleValue), int >= 0 else {
                throw problem("\"\(key)\" should be a non-negative whole number, found \(value)")
            }
            return int
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
