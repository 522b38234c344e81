import StrataCore
import StrataEngine
import StrataFormat
import StrataTestSupport

/// Builds a `ModelSpec` node by node with seeded random weights, and turns it into a `Model`
/// the way a file would: `ModelWriter.serialize` → `ModelReader.read(copying:)` → `Model(file:)`.
struct GraphBuilder {
    var spec = ModelSpec()
    var rng: SeededGenerator

    /// A graph with one input `name` of shape `[-1] + sampleDims`.
    init(seed: UInt64, input name: String = "x", _ sampleDims: [Int]) {
        rng = SeededGenerator(seed: seed)
        spec.inputs = [ValueInfo(name: name, dims: [-1] + sampleDims)]
        spec.metadata = [(key: "producer", value: "StrataEngineTests")]
    }

    /// Adds a tensor with the given values, or uniform values in ±`scale` when nil.
    @discardableResult
    mutating func tensor(_ name: String, _ dims: [Int], values: [Float]? = nil, scale: Float = 1) -> String {
        let count = dims.reduce(1, *)
        spec.tensors.append(.init(name: name, dims: dims, values: values ?? rng.floats(count, in: -scale...scale)))
        return name
    }

    /// Adds a node with one output and returns that output's name.
    @discardableResult
    mutating func node(_ op: String, _ inputs: [String], _ output: String, name: String? = nil,
                       _ attributes: [(key: String, value: AttributeValue)] = []) -> String {
        spec.nodes.append(Node(op: op, name: name ?? output, inputs: inputs, outputs: [output], attributes: attributes))
        return output
    }

    /// Adds `name.weight` `[n, k]` (PyTorch-style ±1/√k init), `name.bias` `[n]` when `bias`,
    /// and a Linear node whose output is `name`.
    @discardableResult
    mutating func linear(_ x: String, _ k: Int, _ n: Int, name: String, bias: Bool = true) -> String {
        let scale = 1 / Float(k).squareRoot()
        let w = tensor("\(name).weight", [n, k], scale: scale)
        let inputs = bias ? [x, w, tensor("\(name).bias", [n], scale: scale)] : [x, w]
        return node("Linear", inputs, name)
    }

    /// Declares a graph output of shape `[-1] + sampleDims`.
    mutating func output(_ name: String, _ sampleDims: [Int]) {
        spec.outputs.append(ValueInfo(name: name, dims: [-1] + sampleDims))
    }

    /// The stored values of tensor `name`.
    func values(_ name: String) -> [Float] { spec.tensors.first { $0.name == name }!.values }

    /// Serializes, reads back and plans the model.
    func model() throws -> Model {
        let bytes = ModelWriter.serialize(spec)
        let file = try bytes.withUnsafeBytes { try ModelReader.read(copying: $0) }
        return try Model(file: file)
    }
}

extension Session {
    /// Runs a one-input, one-output model on `batch` samples and returns the outputs.
    /// (Any batch may be passed, so that the session's own checks can be tested.)
    func run(batch: Int, _ input: [Float]) throws -> [Float] {
        let outCount = max(0, batch) * model.outputs[0].sampleCount
        let i = UnsafeMutablePointer<Float>.allocate(capacity: max(input.count, 1))
        let o = UnsafeMutablePointer<Float>.allocate(capacity: max(outCount, 1))
        defer { i.deallocate(); o.deallocate() }
        i.initialize(from: input, count: input.count)
        o.initialize(repeating: .nan, count: outCount)
        try run(batch: batch, input: i, output: o)
        return Array(UnsafeBufferPointer(start: o, count: outCount))
    }

    /// Runs a model with any number of inputs and outputs; returns one array per output.
    func runAll(batch: Int, _ inputs: [[Float]]) throws -> [[Float]] {
        var outputs = model.outputs.map { [Float](repeating: .nan, count: max(0, batch) * $0.sampleCount) }
        let inPointers = inputs.map { a -> UnsafeMutablePointer<Float> in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: max(a.count, 1))
            p.initialize(from: a, count: a.count)
            return p
        }
        let outPointers = outputs.map { UnsafeMutablePointer<Float>.allocate(capacity: max($0.count, 1)) }
        defer { (inPointers + outPointers).forEach { $0.deallocate() } }
        try inPointers.map { UnsafePointer($0) }.withUnsafeBufferPointer { i in
            try outPointers.withUnsafeBufferPointer { o in try run(batch: batch, inputs: i, outputs: o) }
        }
        for k in outputs.indices { outputs[k] = Array(UnsafeBufferPointer(start: outPointers[k], count: outputs[k].count)) }
        return outputs
    }
}

/// A fresh session on `model` running `batch` samples of `input`.
func runOnce(_ model: Model, batch: Int, _ input: [Float]) throws -> [Float] {
    try Session(model: model).run(batch: batch, input)
}
