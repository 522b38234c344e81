import StrataCore
import StrataEngine

/// `strata info FILE --json`: what `strata info` prints, as one JSON object (file, format, metadata,
/// class labels, inputs and outputs with the batch dimension as null, parameters by dtype, nodes,
/// the plan's steps after fusion, scratch bytes per sample).
func infoJSON(_ path: String) {
    let model = load(path)
    var dtypeCounts: [String: Int] = [:]
    for t in model.tensors { dtypeCounts[t.encoding, default: 0] += t.elementCount }
    func tensorValue(name: String, dims: [Int], dtype: String) -> JSON {
        .object([("name", .string(name)), ("shape", jsonShape(dims)), ("dtype", .string(dtype))])
    }
    let inputs: [JSON] = model.inputs.map { tensorValue(name: $0.name, dims: $0.dims, dtype: $0.dtype.description) }
    let outputs: [JSON] = model.outputs.map { tensorValue(name: $0.name, dims: $0.dims, dtype: $0.dtype.description) }
    var labels = JSON.null
    if let text = model.metadataValue("class_labels") {
        labels = .array(text.split(separator: "\n", omittingEmptySubsequences: false).map { .string(String($0)) })
    }
    let metadata: [(String, JSON)] = model.metadata.filter { $0.key != "class_labels" }.map { ($0.key, JSON.string($0.value)) }
    let byDtype: [(String, JSON)] = dtypeCounts.sorted { $0.key < $1.key }.map { ($0.key, JSON.int($0.value)) }
    var nodes: [JSON] = []
    for n in model.nodes {
        let ins: [JSON] = n.inputs.map { .string($0) }, outs: [JSON] = n.outputs.map { .string($0) }
        nodes.append(.object([("op", .string("\(n.op)")), ("name", .string(n.name)), ("inputs", .array(ins)), ("outputs", .array(outs))]))
    }
    var steps: [JSON] = []
    for step in model.steps {
        let names: [JSON] = step.nodes.map { .string($0) }
        steps.append(.object([("kind", .string("\(step.kind)")), ("nodes", .array(names)), ("shapes", .string("\(step.shapes)"))]))
    }
    var members: [(String, JSON)] = [("file", .string(path)), ("file_size", .int(model.fileSize))]
    members.append(("format", .string("\(model.formatVersion.major).\(model.formatVersion.minor)")))
    members.append(("metadata", .object(metadata)))
    members.append(("class_labels", labels))
    members.append(("inputs", .array(inputs)))
    members.append(("outputs", .array(outputs)))
    members.append(("parameters", .int(model.parameterCount)))
    members.append(("parameters_by_dtype", .object(byDtype)))
    members.append(("nodes", .array(nodes)))
    members.append(("steps", .array(steps)))
    members.append(("scratch_bytes_per_sample", .int(model.arenaFloatsPerSample * 4)))
    let object = JSON.object(members)
    print(object.text)
}
