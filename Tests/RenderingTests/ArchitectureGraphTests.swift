import Foundation
import LanternTestSupport
@testable import Rendering
import Tensors
import Transformer
import XCTest

/// DOT text of the architecture pictures, compared byte for byte with golden files in
/// Golden/ (re-record with LANTERN_RECORD_GOLDEN=1 after a deliberate change, then review the diff).
final class ArchitectureGraphTests: XCTestCase {
    /// GPT-2 small as published: 12 layers, width 768, 12 heads, tied embeddings.
    static let gpt2Small = TransformerConfig.gpt2()

    /// A Llama-shaped model with grouped-query attention: 12 query heads share 4 key/value heads.
    static let llamaGQA = TransformerConfig(
        family: .llama, layers: 6, heads: 12, kvHeads: 4, width: 768, headSize: 64, feedForwardWidth: 2048,
        vocabularySize: 32000, contextLength: 2048, normEpsilon: 1e-5,
        positional: .rotary(theta: 10000, layout: .halfSplit), tiedEmbeddings: false)

    func testGPT2SmallMatchesGolden() throws {
        try assertGolden(ArchitectureGraph.architecture(Self.gpt2Small), "architecture-gpt2-small.dot")
    }

    func testLlamaGroupedQueryMatchesGolden() throws {
        try assertGolden(ArchitectureGraph.architecture(Self.llamaGQA), "architecture-llama-gqa.dot")
    }

    func testVariationsAndLoopMatchGolden() throws {
        try assertGolden(ArchitectureGraph.variations(highlighting: .gpt2), "variations-gpt2.dot")
        try assertGolden(ArchitectureGraph.generationLoop(Self.gpt2Small), "generation-loop-gpt2.dot")
    }

    func testSameConfigGivesSameBytes() {
        XCTAssertEqual(ArchitectureGraph.architecture(Self.llamaGQA), ArchitectureGraph.architecture(Self.llamaGQA))
        XCTAssertEqual(ArchitectureGraph.variations(), ArchitectureGraph.variations())
    }

    func testGPT2LabelsShapesAndParameterCounts() {
        let dot = ArchitectureGraph.architecture(Self.gpt2Small)
        for fragment in [
            "124.4M params",  // the whole model, in the title
            "lookup table 50257 × 768\\n38.6M params",  // token embedding: V × C
            "lookup table 1024 × 768",  // learned positions: P × C
            "786.4K params",  // 1024 × 768
            "× 12 layers", "7.1M params per layer",
            "LayerNorm\\n1.5K params",  // scale and shift (1536)
            "Linear 768 → 768\\n590.6K params",  // Q projection with bias
            "feed-forward up\\nLinear 768 → 3072\\n2.4M params",
            "\" [T, 768] \"", "\" [12 heads, T, 64] \"", "\" [12 heads, T, T] \"", "\" [T, 3072] \"",
            "\" logits [T, 50257] \"", "tied: reuses the token embedding\\n0 new params",
            "GELU", "next-token probabilities"
        ] {
            XCTAssertTrue(dot.contains(fragment), "missing «\(fragment)»")
        }
        XCTAssertFalse(dot.contains("RoPE"))
        XCTAssertFalse(dot.contains("RMSNorm"))
    }

    func testLlamaLabelsGroupedQueryRotaryAndSwiGLU() {
        let dot = ArchitectureGraph.architecture(Self.llamaGQA)
        for fragment in [
            "12 query heads, 4 key/value heads", "shared by 3 query heads",
            "\" [12 heads, T, 64] \"", "\" [4 heads, T, 64] \"", "\" [12 heads, T, T] \"",
            "rotate q by its position", "rotate k by its position",
            "RMSNorm\\n768 params", "gate\\nLinear 768 → 2048", "SiLU(gate) × up", "down\\nLinear 2048 → 768",
            "K projection\\nLinear 768 → 256\\n196.6K params",  // 768 × (4 × 64), no bias
            "its own matrix\\n24.6M params",  // separate unembedding 32000 × 768
            "× 6 layers"
        ] {
            XCTAssertTrue(dot.contains(fragment), "missing «\(fragment)»")
        }
        XCTAssertFalse(dot.contains("learned position embedding"))
        XCTAssertFalse(dot.contains("GELU"))
    }

    func testEveryEdgeHasAShapeOrWordsAndEveryParameterisedPartAPairCount() {
        for config in [Self.gpt2Small, Self.llamaGQA] {
            let dot = ArchitectureGraph.architecture(config)
            let edges = dot.split(separator: "\n").filter { $0.contains(" -> ") }
            XCTAssertGreaterThan(edges.count, 15)
            for edge in edges { XCTAssertTrue(edge.contains("label=\" "), "unlabelled edge: \(edge)") }
            for line in dot.split(separator: "\n") where line.contains("Linear ") || line.contains("lookup table") {
                XCTAssertTrue(line.contains(" params"), "no parameter count: \(line)")
            }
        }
    }

    func testThePictureAccountsForEveryParameter() {
        for config in [
            Self.gpt2Small, Self.llamaGQA, TransformerConfig.gpt2(layers: 2, heads: 2, width: 8, vocabularySize: 11, contextLength: 5)
        ] {
            XCTAssertEqual(ArchitectureGraph.build(config).labelledParameters, config.parameterCount, "\(config.family)")
        }
        var untied = Self.gpt2Small
        untied.tiedEmbeddings = false
        XCTAssertEqual(ArchitectureGraph.build(untied).labelledParameters, untied.parameterCount)
        // Encoders: a masked-language head (tied or not) or none (a sentence encoder).
        for (head, tied) in [(OutputHead.maskedToken, true), (.maskedToken, false), (.none, true)] {
            let config = Self.bert(head: head, tied: tied)
            XCTAssertEqual(ArchitectureGraph.build(config).labelledParameters, config.parameterCount, "BERT \(head), tied \(tied)")
        }
    }

    /// Encoder–decoders (the fixtures' T5 v1.0 and v1.1 and BART): the picture accounts for every
    /// parameter, the count is Hugging Face's (torch's `parameters()`, which leaves out BART's
    /// `final_logits_bias` buffer), and the encoder's output feeds the cross-attention.
    func testEncoderDecodersAccountForEveryParameter() throws {
        for fixture in ["t5-tiny", "t5-tiny-gated", "bart-tiny"] {
            let folder = Repository.fixtures.appendingPathComponent(fixture)
            let config = try HuggingFaceConfig.load(folder.appendingPathComponent("config.json"))
            let (dot, labelled) = ArchitectureGraph.build(config)
            XCTAssertEqual(labelled, config.parameterCount, fixture)
            struct Meta: Decodable { var parameters: Int }
            let meta = try JSONDecoder().decode(Meta.self, from: Data(contentsOf: folder.appendingPathComponent("reference/meta.json")))
            let buffers = config.family == .bart ? config.vocabularySize : 0
            XCTAssertEqual(config.parameterCount - buffers, meta.parameters, fixture)
            XCTAssertTrue(dot.contains("enc_out -> cross") || dot.contains("enc_final -> cross"), fixture)
            XCTAssertTrue(dot.contains("encoder × 2 layers") && dot.contains("decoder × 3 layers") || fixture == "bart-tiny", fixture)
        }
    }

    /// bert-base's shape (BertConfig's defaults: 12 layers, 768 wide, 3,072 feed-forward, 2 token types).
    static func bert(head: OutputHead, tied: Bool = true) -> TransformerConfig {
        var config = TransformerConfig(
            family: .bert, layers: 12, heads: 12, kvHeads: 12, width: 768, headSize: 64, feedForwardWidth: 3072,
            vocabularySize: 30522, contextLength: 512, normEpsilon: 1e-12, positional: .learnedAbsolute, tiedEmbeddings: tied)
        config.head = head
        config.tokenTypes = 2
        return config
    }

    func testTheEncoderIsDrawnPostNormWithoutAMask() {
        let dot = ArchitectureGraph.architecture(Self.bert(head: .maskedToken))
        XCTAssertTrue(dot.contains("self-attention both ways\\n(encoder)"))
        XCTAssertTrue(dot.contains("no mask: every token sees every token"))
        XCTAssertFalse(dot.contains("causal"))
        XCTAssertTrue(dot.contains("LayerNorm (after the addition)"))
        XCTAssertTrue(dot.contains("token-type embedding"))
        XCTAssertFalse(dot.contains("final LayerNorm"))
        XCTAssertTrue(dot.contains("masked-language head"))
        // bert-base-uncased as torch counts BertForMaskedLM's parameters (tied decoder, no pooler).
        XCTAssertEqual(Self.bert(head: .maskedToken).parameterCount, 109_514_298)
    }

    /// The title names the model; cluster titles are text nodes beside the cluster's first node
    /// (Graphviz draws edges through cluster labels, never through nodes).
    func testTheTitleNamesTheModelAndClusterTitlesAreNodes() {
        let dot = ArchitectureGraph.architecture(Self.gpt2Small, model: "/models/gpt2")
        XCTAssertTrue(dot.contains("label=\"gpt2 · GPT-2: 12 layers"), dot)
        for (cluster, first) in [("block", "resid_in"), ("attention", "v_proj"), ("ffn", "mlp_up")] {
            XCTAssertTrue(dot.contains("\(cluster)_title [label="), cluster)
            XCTAssertTrue(dot.contains("{ rank=same; \(first); \(cluster)_title; }"), cluster)
        }
        XCTAssertTrue(dot.contains("subgraph cluster_block {\n    label=\"\";"), "the layer count is not the cluster's label")
    }

    func testParameterFormatting() {
        XCTAssertEqual(ArchitectureGraph.formatParameters(768), "768 params")
        XCTAssertEqual(ArchitectureGraph.formatParameters(9_999), "10.0K params")
        XCTAssertEqual(ArchitectureGraph.formatParameters(4_096), "4.1K params")  // one format from 1,000 up
        XCTAssertEqual(ArchitectureGraph.formatParameters(12_345), "12.3K params")
        XCTAssertEqual(ArchitectureGraph.formatParameters(2_362_368), "2.4M params")
        XCTAssertEqual(ArchitectureGraph.formatParameters(6_738_415_616), "6.7B params")
    }

    func testVariationsHighlightDecoderOnly() {
        let dot = ArchitectureGraph.variations(highlighting: .llama)
        for fragment in [
            "encoder-only", "encoder–decoder", "cross-attention", "decoder-only", "★ this model: Llama",
            "bidirectional self-attention", "causal self-attention"
        ] {
            XCTAssertTrue(dot.contains(fragment), "missing «\(fragment)»")
        }
        // Only the decoder-only cluster is drawn thick.
        XCTAssertEqual(dot.components(separatedBy: "penwidth=3").count - 1, 1)
        let highlighted = try? XCTUnwrap(dot.range(of: "penwidth=3"))
        let decoderOnly = try? XCTUnwrap(dot.range(of: "subgraph cluster_decoder_only"))
        if let highlighted, let decoderOnly { XCTAssertGreaterThan(highlighted.lowerBound, decoderOnly.lowerBound) }
    }

    func testLoopFeedsTheTokenBack() {
        let dot = ArchitectureGraph.generationLoop()
        for fragment in [
            "prompt", "next-token distribution", "sample one token", "append the token",
            "append -> model", "[T + 1], fed back in", "probabilities [V]"
        ] {
            XCTAssertTrue(dot.contains(fragment), "missing «\(fragment)»")
        }
        XCTAssertTrue(ArchitectureGraph.generationLoop(Self.gpt2Small).contains("probabilities [50257]"))
    }

    // MARK: - Golden files

    private func assertGolden(_ text: String, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        try assertMatchesGolden(
            text, name, in: URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden"),
            file: file, line: line)
    }
}
