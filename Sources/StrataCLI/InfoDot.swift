import StrataCore
import StrataEngine

/// `strata info FILE --dot`: prints the model as a Graphviz digraph (render with
/// `dot -Tsvg`). Graph inputs and outputs are ellipses, nodes are boxes labelled with their op,
/// name and stored weights (dashed when no plan step runs them), edges carry the value names, and
/// the nodes one plan step runs together (a fused step such as Linear+Relu) share a dashed
/// cluster labelled with the step.
func infoDot(_ path: String) {
    print(dotGraph(load(path)), terminator: "")
}

/// The DOT text of `model`'s graph and plan (see `infoDot`).
func dotGraph(_ model: Model) -> String {
    let nodes = model.nodes
    var nodeIndex: [String: Int] = [:]
    for (i, node) in nodes.enumerated() where !node.name.isEmpty && nodeIndex[node.name] == nil { nodeIndex[node.name] = i }
    // Which plan step runs each node.
    var stepOf = [Int?](repeating: nil, count: nodes.count)
    for (s, step) in model.steps.enumerated() {
        for name in step.nodes { if let i = nodeIndex[name], stepOf[i] == nil { stepOf[i] = s } }
    }
    var producer: [String: String] = [:]
    var out = "digraph strata {\n  rankdir=TB;\n"
    out += "  node [shape=box, style=\"rounded,filled\", fillcolor=\"#eef3fb\", fontname=\"Helvetica\", fontsize=11];\n"
    out += "  edge [fontname=\"Helvetica\", fontsize=9, color=\"#555555\"];\n"
    for (k, input) in model.inputs.enumerated() {
        let id = "input\(k)"
        producer[input.name] = id
        out += "  \(id) [shape=ellipse, fillcolor=\"#ffffff\", label=\(dotQuote("\(input.name)\n\(describeShape(input.dims)) \(input.dtype)"))];\n"
    }
    for (i, node) in nodes.enumerated() {
        var lines = [node.name.isEmpty ? node.op : "\(node.op) '\(node.name)'"]
        for name in node.inputs {
            if let t = model.tensor(named: name) { lines.append("\(name) \(describeShape(t.dims)) \(t.encoding)") }
        }
        if let s = stepOf[i], model.steps[s].nodes.count == 1 { lines.append(model.steps[s].shapes) }
        // A node no step runs (a reshape that only renames the data, …) is drawn dashed.
        let style = stepOf[i] == nil ? "style=\"rounded,dashed\", " : ""
        out += "  node\(i) [\(style)label=\(dotQuote(lines.joined(separator: "\n")))];\n"
        for name in node.outputs where !name.isEmpty { producer[name] = "node\(i)" }
    }
    for (s, step) in model.steps.enumerated() {
        let members = nodes.indices.filter { stepOf[$0] == s }
        guard members.count > 1 else { continue }
        out += "  subgraph cluster_step\(s) {\n    style=\"rounded,dashed\"; color=\"#3366aa\"; fontname=\"Helvetica\"; fontsize=10;\n"
        out += "    label=\(dotQuote("step \(s): \(step.kind) (fused)\n\(step.shapes)"));\n"
        out += "    " + members.map { "node\($0);" }.joined(separator: " ") + "\n  }\n"
    }
    for (i, node) in nodes.enumerated() {
        for name in node.inputs {
            guard let from = producer[name], model.tensor(named: name) == nil else { continue }
            out += "  \(from) -> node\(i) [label=\(dotQuote(name))];\n"
        }
    }
    for (k, output) in model.outputs.enumerated() {
        out += "  output\(k) [shape=ellipse, fillcolor=\"#ffffff\", label=\(dotQuote("\(output.name)\n\(describeShape(output.dims)) \(output.dtype)"))];\n"
        if let from = producer[output.name] { out += "  \(from) -> output\(k);\n" }
    }
    return out + "}\n"
}

/// `s` as a DOT string literal: quotes and backslashes escaped, newlines as centred line breaks.
func dotQuote(_ s: String) -> String {
    var out = "\""
    for c in s {
        switch c {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        default: out.append(c)
        }
    }
    return out + "\""
}
