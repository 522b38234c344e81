/// The op table: the structural schema of each op of docs/FORMAT.md "Ops" — input and output
/// counts, optional inputs, attribute names and types, and the format minor that introduced it.
///
/// The one source of this fact in Swift: the reader checks nodes against it, the writer stamps
/// `since`, the engine plans exactly these ops (one op family per op, a test checks), and
/// `strata ops --json` prints it so that tests pin it to the converter's table
/// (tools/convert/strata_convert/format.py `OPS`) and to docs/FORMAT.md.
public struct OpSchema: Sendable {
    /// Op name as stored in the file.
    public var name: String
    /// Allowed number of inputs (absent optional inputs are written as "").
    public var inputCount: ClosedRange<Int>
    /// Indices of inputs that may be "" (absent).
    public var optionalInputs: Set<Int>
    /// Allowed attributes and their type ids (1 int, 2 float, 3 ints, 4 string).
    public var attributes: [String: UInt32]
    /// Number of outputs (every output is named; docs/FORMAT.md "Ops (1.2)").
    public var outputCount: Int = 1
    /// The format minor version that introduced the op (a writer stamps the highest one used).
    public var since: UInt16 = 0

    /// The schema of every op this library knows, by name.
    public static let all: [String: OpSchema] = {
        func s(_ n: String, _ c: ClosedRange<Int>, optional: Set<Int> = [], _ a: [String: UInt32] = [:],
               outputs: Int = 1, since: UInt16 = 0) -> (String, OpSchema) {
            (n, OpSchema(name: n, inputCount: c, optionalInputs: optional, attributes: a, outputCount: outputs, since: since))
        }
        let window: [String: UInt32] = ["kernel_shape": 3, "strides": 3, "pads": 3, "dilations": 3, "ceil_mode": 1]
        // state_index and direction: format 1.5 (docs/FORMAT.md "Ops (1.5)").
        let recurrent: [String: UInt32] = ["hidden_size": 1, "state_index": 1, "direction": 4]
        let schemas = [
            s("Linear", 2...3, optional: [2]),
            s("Relu", 1...1), s("Sigmoid", 1...1), s("Tanh", 1...1), s("Identity", 1...1),
            s("Softmax", 1...1, ["axis": 1]), s("LogSoftmax", 1...1, ["axis": 1]),
            s("Flatten", 1...1, ["axis": 1]), s("Reshape", 1...1, ["shape": 3]),
            s("Add", 2...2),
            // Format 1.2 (docs/FORMAT.md "Ops (1.2)").
            s("Sub", 2...2, since: 2), s("Mul", 2...2, since: 2), s("Div", 2...2, since: 2),
            s("LeakyRelu", 1...1, ["alpha": 2], since: 2), s("Gelu", 1...1, ["approximate": 4], since: 2),
            s("Silu", 1...1, since: 2), s("Erf", 1...1, since: 2),
            s("LayerNormalization", 2...3, optional: [2], ["axis": 1, "epsilon": 2], since: 2),
            s("Conv", 2...3, optional: [2], ["strides": 3, "pads": 3, "dilations": 3, "group": 1], since: 2),
            s("MaxPool", 1...1, window, since: 2),
            s("AveragePool", 1...1, window + ["count_include_pad": 1], since: 2),
            s("GlobalAveragePool", 1...1, since: 2),
            s("RNN", 3...6, optional: [3, 4, 5], recurrent + ["activation": 4], outputs: 2, since: 2),
            s("GRU", 3...6, optional: [3, 4, 5], recurrent + ["linear_before_reset": 1], outputs: 2, since: 2),
            s("LSTM", 3...7, optional: [3, 4, 5, 6], recurrent, outputs: 3, since: 2),
            // Format 1.4 (docs/FORMAT.md "Ops (1.4)").
            s("Clip", 1...1, ["min": 2, "max": 2], since: 4),
            s("HardSigmoid", 1...1, ["alpha": 2, "beta": 2], since: 4),
            s("HardSwish", 1...1, since: 4),
            s("Concat", 1...16, ["axis": 1], since: 4),
            // Format 1.5, elementwise, shape and reduction ops (docs/FORMAT.md "Ops (1.5)", issue 15 part A).
            s("Elu", 1...1, ["alpha": 2], since: 5), s("Selu", 1...1, since: 5),
            s("Softplus", 1...1, ["beta": 2, "threshold": 2], since: 5), s("Mish", 1...1, since: 5),
            s("Abs", 1...1, since: 5), s("Neg", 1...1, since: 5), s("Sqrt", 1...1, since: 5),
            s("Pow", 1...1, ["exponent": 2], since: 5), s("Exp", 1...1, since: 5), s("Log", 1...1, since: 5),
            s("Reciprocal", 1...1, since: 5),
            s("Transpose", 1...1, ["perm": 3], since: 5),
            s("Slice", 1...1, ["starts": 3, "ends": 3, "axes": 3, "steps": 3], since: 5),
            s("ReduceMean", 1...1, ["axes": 3, "keepdims": 1], since: 5),
            s("ReduceSum", 1...1, ["axes": 3, "keepdims": 1], since: 5),
            s("ReduceMax", 1...1, ["axes": 3, "keepdims": 1], since: 5),
            // Format 1.5, issue 15 part B (docs/FORMAT.md "Ops (1.5)"): spatial ops.
            s("ConvTranspose", 2...3, optional: [2],
              ["strides": 3, "pads": 3, "dilations": 3, "group": 1, "output_padding": 3], since: 5),
            s("Resize", 1...1, ["mode": 4, "coordinate_transformation_mode": 4, "sizes": 3, "scale_h": 2, "scale_w": 2],
              since: 5),
            s("Pad", 1...1, ["pads": 3, "mode": 4, "value": 2], since: 5),
        ]
        // Loops, not Dictionary(uniqueKeysWithValues:) or merging(_:uniquingKeysWith:): those
        // cast dynamically, which Embedded Swift cannot do.
        var byName: [String: OpSchema] = [:]
        for (name, schema) in schemas { byName[name] = schema }
        return byName
    }()
}

/// The attributes of both (`b` wins on a shared name).
private func + (a: [String: UInt32], b: [String: UInt32]) -> [String: UInt32] {
    var union = a
    for (name, type) in b { union[name] = type }
    return union
}
