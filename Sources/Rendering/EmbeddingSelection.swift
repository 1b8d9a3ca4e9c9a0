import Foundation
import Generation
import Tensors
import Tokenizers
import Tracing
import Transformer

/// What `lantern embeddings` draws, chosen from a model's embedding table or a trace's `embed`
/// record: the prompt's tokens for the similarity heatmap, and distinct tokens (or one token per
/// chosen word) for the PCA scatter. Every vector is a row of the table, C numbers.
public struct EmbeddingSelection: Sendable {
    /// At most this many tokens, so every row and column of the heatmap keeps its label.
    public static let maximumTokens = 64

    /// The heatmap's tokens: display pieces and their vectors.
    public var pieces: [String]
    public var vectors: [[Float]]
    /// The scatter's points: labels ("␣cat", or "␣ele ← elephant" when a word takes several
    /// tokens) and their vectors.
    public var scatterLabels: [String]
    public var scatterVectors: [[Float]]
    /// The model's name for titles, the prompt for the subtitle, the embedding width C.
    public var model: String
    public var prompt: String
    public var width: Int
    /// The prompt's length in tokens when only its first `maximumTokens` are drawn (a trace's).
    public var promptTokens: Int?

    /// From `bundle`'s embedding table: the prompt's tokens, and `words` (each word's first
    /// token) or else the prompt's distinct tokens for the scatter.
    public init(prompt: String, bundle: ModelBundle, words: [String]? = nil) throws(EmbeddingSelectionError) {
        let table = bundle.model.tokenEmbeddingTable, tokenizer = bundle.tokenizer
        let C = table.shape[1]
        func vector(_ id: Int) -> [Float] { Array(table.scalars[(id * C)..<((id + 1) * C)]) }
        let ids = PromptEncoder.ids(for: prompt, tokenizer: tokenizer)
        guard ids.count <= Self.maximumTokens else { throw .promptTooLong(tokens: ids.count, limit: Self.maximumTokens) }
        var chosen: [(id: Int, label: String)] = []
        if let words {
            for word in words {
                let encoded = tokenizer.encode(word).filter { $0 != tokenizer.beginningOfText }
                guard let first = encoded.first else { throw .wordWithoutToken(word) }
                let piece = tokenizer.displayPiece(first)
                chosen.append((first, encoded.count > 1 ? "\(piece) ← \(word)" : piece))
            }
        } else {
            chosen = ids.map { ($0, tokenizer.displayPiece($0)) }
        }
        var seen = Set<Int>()
        chosen = chosen.filter { seen.insert($0.id).inserted }
        guard chosen.count >= 2 else { throw .fewerThanTwoTokens(count: chosen.count, fromTrace: false) }
        pieces = ids.map { tokenizer.displayPiece($0) }
        vectors = ids.map(vector)
        scatterLabels = chosen.map(\.label)
        scatterVectors = chosen.map { vector($0.id) }
        model = URL(fileURLWithPath: bundle.source).lastPathComponent
        self.prompt = prompt
        width = C
    }

    /// From a trace's `embed` record: its first `maximumTokens` prompt tokens, the distinct
    /// ones in the scatter.
    public init(trace folder: URL) throws {
        let metadata = try TraceFile.readMetadata(folder)
        let embed = try TraceFile.read(folder, metadata: metadata, names: ["embed"]).tensor("embed", folder: folder.path)
        // A trace file is input: its embed record must be [positions, width] before it is indexed.
        guard embed.rank == 2, embed.shape[1] >= 1, embed.scalars.count == embed.shape[0] * embed.shape[1] else {
            throw TraceError.notATrace(folder.path, problem: "embed.npy has the shape \(embed.shape), not [positions, width]")
        }
        let C = embed.shape[1]
        let count = min(metadata.promptIds.count, embed.shape[0], Self.maximumTokens)
        let ids = Array(metadata.promptIds.prefix(count))
        let pieces = Array(metadata.pieces.prefix(count))
        let vectors = (0..<count).map { Array(embed.scalars[($0 * C)..<(($0 + 1) * C)]) }
        var seen = Set<Int>()
        let distinct = (0..<count).filter { seen.insert(ids[$0]).inserted }
        guard distinct.count >= 2 else { throw EmbeddingSelectionError.fewerThanTwoTokens(count: distinct.count, fromTrace: true) }
        self.pieces = pieces
        self.vectors = vectors
        scatterLabels = distinct.map { pieces[$0] }
        scatterVectors = distinct.map { vectors[$0] }
        model = URL(fileURLWithPath: metadata.model.source).lastPathComponent
        prompt = metadata.prompt
        width = C
        if count < metadata.promptIds.count { promptTokens = metadata.promptIds.count }
    }

    /// The cosine similarity of every pair of the prompt's tokens.
    public var similarityPicture: Heatmap {
        EmbeddingPicture.similarity(vectors: vectors, pieces: pieces, model: model, prompt: prompt, of: promptTokens)
    }
    /// The scatter's tokens on their two principal directions.
    public var pcaPicture: ScatterPlot { EmbeddingPicture.pca(vectors: scatterVectors, pieces: scatterLabels, model: model, width: width) }

    /// The numbers behind both pictures, cosine similarities rounded to 4 decimals.
    public struct Numbers: Encodable, Sendable {
        public var pieces: [String]
        public var similarity: [[Double]]
        public var tokens: [String]
        public var tokenSimilarity: [[Double]]
        /// The scatter's PCA: each token's coordinates on the two components, and each
        /// component's share of the variance.
        public var pca: PCANumbers

        enum CodingKeys: String, CodingKey { case pieces, similarity, tokens, tokenSimilarity = "token_similarity", pca }
    }

    public struct PCANumbers: Encodable, Sendable {
        public var explained: [Float]
        public var coordinates: [[Float]]
    }

    public var numbers: Numbers {
        func matrix(_ vectors: [[Float]]) -> [[Double]] {
            let flat = EmbeddingMath.cosineMatrix(vectors), P = vectors.count
            return (0..<P).map { i in (0..<P).map { j in (Double(flat[i * P + j]) * 10_000).rounded() / 10_000 } }
        }
        let pca = PCA(points: scatterVectors, count: 2)
        return Numbers(
            pieces: pieces, similarity: matrix(vectors), tokens: scatterLabels, tokenSimilarity: matrix(scatterVectors),
            pca: PCANumbers(explained: pca.explained, coordinates: pca.coordinates))
    }
}

public enum EmbeddingSelectionError: Error, Equatable, CustomStringConvertible, LocalizedError {
    case promptTooLong(tokens: Int, limit: Int)
    case wordWithoutToken(String)
    case fewerThanTwoTokens(count: Int, fromTrace: Bool)

    public var description: String {
        switch self {
        case .promptTooLong(let tokens, let limit):
            return "the prompt is \(tokens) tokens: use at most \(limit) so every token keeps its label"
        case .wordWithoutToken(let word):
            return "\(UserSetting.scatterWords): \"\(word)\" gives no token with this tokenizer; choose another word"
        case .fewerThanTwoTokens(_, fromTrace: true):
            return "the trace's prompt has fewer than two different tokens: the PCA picture needs at least two"
        case .fewerThanTwoTokens(let count, fromTrace: false):
            return "the PCA picture needs at least two different tokens, and there \(count == 1 ? "is one" : "are none"): "
                + "use a longer prompt or set \(UserSetting.scatterWords), e.g. \"cat,dog,red\""
        }
    }

    public var errorDescription: String? { description }
}
