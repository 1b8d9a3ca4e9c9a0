import Foundation

// MARK: - DOT text

/// Writes DOT in one fixed style, in the order calls are made (so the output is stable).
struct DOTWriter {
    enum NodeKind {
        case data, embedding, norm, attention, feedForward, operation, softmax, add, decision
    }
    enum EdgeStyle { case normal, residual, tied, loop }

    private(set) var text: String
    /// Edges are written after every node, at the top level: an edge statement inside a
    /// cluster would pull both of its ends into that cluster.
    private var edges: [String] = []
    private var depth = 1

    init(name: String) {
        text = """
            digraph \(name) {
              graph [rankdir=TB, fontname="DejaVu Sans", fontsize=14, labelloc=t, nodesep=0.35, ranksep=0.45, newrank=true];
              node [fontname="DejaVu Sans", fontsize=11, shape=box, style="rounded,filled", penwidth=1.2, margin="0.15,0.06"];
              edge [fontname="DejaVu Sans", fontsize=10, fontcolor="#333333", color="#555555", arrowsize=0.7];

            """
    }

    private var indent: String { String(repeating: "  ", count: depth) }

    mutating func graphLabel(_ label: String) {
        text += "\(indent)label=\(DOT.quote(label));\n"
    }

    mutating func node(_ id: String, _ label: String, kind: NodeKind) {
        let attributes: String
        switch kind {
        case .data: attributes = ##"fillcolor="#ffffff", style="rounded", color="#777777""##
        case .embedding: attributes = ##"fillcolor="#cfe2f3", color="#3d6e99""##
        case .norm: attributes = ##"fillcolor="#e6e6e6", color="#777777""##
        case .attention: attributes = ##"fillcolor="#fce5cd", color="#b45f06""##
        case .feedForward: attributes = ##"fillcolor="#d9ead3", color="#38761d""##
        case .operation: attributes = ##"fillcolor="#f3f3f3", color="#999999""##
        case .softmax: attributes = ##"fillcolor="#fff2cc", color="#bf9000""##
        case .add: attributes = ##"shape=circle, fillcolor="#ffffff", fontsize=16, width=0.35, fixedsize=true, margin=0"##
        case .decision: attributes = ##"shape=diamond, style="filled", fillcolor="#ead1dc", color="#741b47""##
        }
        text += "\(indent)\(id) [label=\(DOT.quote(label)), \(attributes)];\n"
    }

    mutating func edge(_ from: String, _ to: String, _ label: String, style: EdgeStyle = .normal) {
        var attributes = "label=\(DOT.quote(" " + label + " "))"
        switch style {
        case .normal: break
        case .residual: attributes += ##", style=dashed, color="#888888""##
        case .tied: attributes += ##", style=dotted, color="#3d6e99", fontcolor="#3d6e99", constraint=false"##
        case .loop: attributes += ##", color="#741b47", fontcolor="#741b47", penwidth=1.6, constraint=false"##
        }
        edges.append("  \(from) -> \(to) [\(attributes)];\n")
    }

    mutating func sameRank(_ ids: [String]) {
        text += "\(indent){ rank=same; \(ids.joined(separator: "; ")); }\n"
    }

    mutating func beginCluster(_ id: String, _ label: String, highlighted: Bool = false) {
        text += "\(indent)subgraph cluster_\(id) {\n"
        depth += 1
        text += "\(indent)label=\(DOT.quote(label));\n"
        text +=
            highlighted
            ? "\(indent)style=\"rounded,filled\"; fillcolor=\"#fff8e1\"; color=\"#e69138\"; penwidth=3;\n"
            : "\(indent)style=\"rounded\"; color=\"#999999\"; penwidth=1;\n"
    }

    /// A cluster's title as a text node beside `node` (in its rank) instead of the cluster's own
    /// label: Graphviz routes edges around nodes but straight through cluster labels, which
    /// struck edges through "444.9K params" and "6 heads of size 32".
    mutating func clusterTitle(_ cluster: String, _ title: String, beside node: String) {
        text += "\(indent)\(cluster)_title [label=\(DOT.quote(title)), shape=plaintext, style=\"\", fontsize=13, margin=0];\n"
        text += "\(indent){ rank=same; \(node); \(cluster)_title; }\n"
    }

    mutating func endCluster() {
        depth -= 1
        text += "\(indent)}\n"
    }

}

extension DOTWriter {
    /// The finished text, closing the graph.
    var finished: String { text + "\n" + edges.joined() + "}\n" }
}
