import Foundation
import Tracing

// A counterfactual branch as a tree in DOT: the prompt, the generated tokens both lines share
// as a chain, then the fork into the main line (what the model did) and the branch (the forced
// token and what followed). Every edge is labelled with the probability of the token it leads
// to; the forced token is drawn in red with "forced" on it.

public enum BranchGraph {
    /// The DOT text for `record`; the same record always gives the same bytes.
    public static func dot(_ record: BranchRecord) -> String {
        let f = record.fork
        let p = { (value: Float) in String(format: "p %.4f", value) }
        let shared = Array(record.main.tokens.prefix(f.at))
        // Left to right while the lines are short; a long tree goes top to bottom, the two lines
        // side by side, so the picture does not become one row thousands of pixels wide.
        let direction = max(record.main.tokens.count, record.branch.tokens.count) > 10 ? "TB" : "LR"
        var out = """
            digraph branch {
              graph [rankdir=\(direction), fontname="DejaVu Sans", fontsize=13, labelloc=t, nodesep=0.3, ranksep=0.35, bgcolor="#ffffff"];
              node [fontname="DejaVu Sans", fontsize=11, shape=box, style="rounded,filled", penwidth=1.2, margin="0.12,0.05"];
              edge [fontname="DejaVu Sans", fontsize=9, fontcolor="#333333", color="#555555", arrowsize=0.6];

            """
        let modelName = URL(fileURLWithPath: record.model).lastPathComponent
        out +=
            "  label=\(DOT.quote("Counterfactual branch · \(modelName) · fork at step \(f.at + 1): “\(f.originalPiece)” → “\(f.forcedPiece)”"));\n"
        out += "  prompt [label=\(DOT.quote("prompt\n“\(excerpt(record.prompt))”")), fillcolor=\"#cfe2f3\", color=\"#3d6e99\"];\n"
        var edges: [String] = []
        var previous = "prompt"
        for (index, token) in shared.enumerated() {
            let id = "s\(index)"
            out += "  \(id) [label=\(DOT.quote("\(index + 1) \(token.piece)")), fillcolor=\"#f3f3f3\", color=\"#999999\"];\n"
            edges.append("  \(previous) -> \(id) [label=\(DOT.quote(" " + p(token.probability) + " "))];\n")
            previous = id
        }
        let fork = previous
        func line(_ tokens: [BranchToken], prefix: String, fill: String, color: String, title: String) {
            var last = fork
            for index in f.at..<max(f.at, tokens.count) {
                let token = tokens[index]
                let id = "\(prefix)\(index)"
                var label = "\(index + 1) \(token.piece)"  // steps count from 1, as everywhere
                if index == f.at { label = title + "\n" + label }
                if token.forced {
                    label += "\nforced (rank \(token.rank))"
                    out += "  \(id) [label=\(DOT.quote(label)), fillcolor=\"#f4cccc\", color=\"#cc0000\", penwidth=2.4];\n"
                    edges.append(
                        "  \(last) -> \(id) [label=\(DOT.quote(" " + p(token.probability) + " forced ")), color=\"#cc0000\", fontcolor=\"#cc0000\", penwidth=1.8];\n"
                    )
                } else {
                    out += "  \(id) [label=\(DOT.quote(label)), fillcolor=\"\(fill)\", color=\"\(color)\"];\n"
                    edges.append("  \(last) -> \(id) [label=\(DOT.quote(" " + p(token.probability) + " "))];\n")
                }
                last = id
            }
            let end = "\(prefix)end"
            let reason = prefix == "m" ? record.main.stopReason.rawValue : record.branch.stopReason.rawValue
            out += "  \(end) [label=\(DOT.quote("stopped: \(reason)")), shape=plaintext, style=\"\", fontcolor=\"#666666\"];\n"
            edges.append("  \(last) -> \(end) [style=dotted, arrowhead=none];\n")
        }
        line(record.main.tokens, prefix: "m", fill: "#d9ead3", color: "#38761d", title: "main line")
        line(record.branch.tokens, prefix: "b", fill: "#fce5cd", color: "#b45f06", title: "branch")
        return out + "\n" + edges.joined() + "}\n"
    }

    /// Renders `record`'s tree through Graphviz and writes it to `url`.
    public static func write(_ record: BranchRecord, as format: GraphFormat = .png, to url: URL) throws {
        try Graphviz.write(dot(record), as: format, to: url)
    }

    static func excerpt(_ text: String) -> String {
        let flat = text.replacingOccurrences(of: "\n", with: " ")
        return flat.count > 40 ? String(flat.prefix(39)) + "…" : flat
    }

}
