import StrataCore

/// Structural graph rules of docs/FORMAT.md: SSA names, references to earlier values only,
/// known ops with the right arity and attribute types, defined outputs.
enum GraphValidator {
    static func validate(inputs: [ValueInfo], outputs: [ValueInfo], nodes: [Node], tensors: [TensorDescriptor]) throws(StrataError) {
        let tensorNames = Set(tensors.map { $0.name })
        var defined = Set<String>()
        func define(_ name: String, by who: String) throws(StrataError) {
            guard !tensorNames.contains(name) else {
                throw StrataError(.malformed, "\(who) defines value '\(name)', which is also a tensor name")
            }
            guard defined.insert(name).inserted else {
                throw StrataError(.malformed, "\(who) defines value '\(name)', which is already defined")
            }
        }
        for input in inputs { try define(input.name, by: "graph input") }
        for (i, node) in nodes.enumerated() {
            let label = node.label(index: i)
            guard let schema = OpSchema.all[node.op] else {
                throw StrataError(.unsupported, "\(label) uses op '\(node.op)', which this library does not know; known ops: \(OpSchema.all.keys.sorted().joined(separator: ", "))")
            }
            guard schema.inputCount.contains(node.inputs.count) else {
                throw StrataError(.malformed, "\(label) has \(node.inputs.count) inputs; \(node.op) takes \(schema.inputCount.lowerBound)…\(schema.inputCount.upperBound)")
            }
            guard node.outputs.count == schema.outputCount else {
                throw StrataError(.malformed, "\(label) has \(node.outputs.count) outputs; \(node.op) has \(schema.outputCount)")
            }
            for (k, name) in node.inputs.enumerated() {
                if name.isEmpty {
                    guard schema.optionalInputs.contains(k) else {
                        throw StrataError(.malformed, "\(label) input \(k) is empty but is required")
                    }
                    continue
                }
                guard defined.contains(name) || tensorNames.contains(name) else {
                    throw StrataError(.malformed, "\(label) input \(k) '\(name)' is not a tensor, a graph input or the output of an earlier node")
                }
            }
            for attr in node.attributes {
                guard let type = schema.attributes[attr.key] else {
                    throw StrataError(.unsupported, "\(label) has attribute '\(attr.key)', which \(node.op) does not take")
                }
                guard attr.value.typeID == type else {
                    throw StrataError(.malformed, "\(label) attribute '\(attr.key)' has type \(attr.value.typeID), expected \(type)")
                }
            }
            for out in node.outputs { try define(out, by: label) }
        }
        var seenOutputs = Set<String>()
        for output in outputs {
            guard defined.contains(output.name) else {
                throw StrataError(.malformed, "graph output '\(output.name)' is not defined by any node or graph input")
            }
            guard seenOutputs.insert(output.name).inserted else {
                throw StrataError(.malformed, "graph output '\(output.name)' is listed twice")
            }
        }
    }
}
