import StrataCore
import StrataEngine
import StrataFormat
import Testing
import StrataTestSupport

/// RNN, GRU (both linear_before_reset) and LSTM, batch-first, against `Ref.recurrent`.
/// Tolerance: `Tolerance.f32` relative to max(1, |expected|) over every output.
struct RecurrentCase: Sendable, CustomTestStringConvertible {
    var op: String
    var t = 5, i = 7, h = 6
    var biases = true, h0 = false, c0 = false
    var linearBeforeReset = false, relu = false
    var testDescription: String {
        "\(op) T\(t) I\(i) H\(h)\(biases ? "" : " no bias")\(h0 ? " H0" : "")\(c0 ? " C0" : "")\(linearBeforeReset ? " lbr" : "")\(relu ? " relu" : "")"
    }
    var gates: Int { op == "RNN" ? 1 : op == "GRU" ? 3 : 4 }
}

let recurrentCases: [RecurrentCase] = [
    .init(op: "RNN"), .init(op: "RNN", h0: true, relu: true), .init(op: "RNN", biases: false),
    .init(op: "GRU"), .init(op: "GRU", h0: true, linearBeforeReset: true), .init(op: "GRU", t: 3, i: 20, h: 17, linearBeforeReset: true),
    .init(op: "GRU", t: 1, i: 3, h: 33, h0: true), .init(op: "GRU", biases: false, linearBeforeReset: true),
    .init(op: "LSTM"), .init(op: "LSTM", h0: true, c0: true), .init(op: "LSTM", h0: true), .init(op: "LSTM", t: 4, i: 16, h: 20, biases: false),
]

@Suite("Recurrent ops")
struct RecurrentTests {
    /// The model: inputs x (and h0, c0 as extra graph inputs), outputs Y, Y_h (, Y_c).
    static func build(_ c: RecurrentCase) throws -> (Model, GraphBuilder) {
        var g = GraphBuilder(seed: 60, [c.t, c.i])
        let scale = 1 / Float(c.h).squareRoot()
        g.tensor("W", [c.gates * c.h, c.i], scale: scale)
        g.tensor("R", [c.gates * c.h, c.h], scale: scale)
        var inputs = ["x", "W", "R", "", "", ""]
        if c.biases { inputs[3] = g.tensor("WB", [c.gates * c.h], scale: scale); inputs[4] = g.tensor("RB", [c.gates * c.h], scale: scale) }
        if c.h0 { g.spec.inputs.append(ValueInfo(name: "h0", dims: [-1, c.h])); inputs[5] = "h0" }
        if c.op == "LSTM" { inputs.append(c.c0 ? "c0" : "") }
        if c.c0 { g.spec.inputs.append(ValueInfo(name: "c0", dims: [-1, c.h])) }
        var attrs: [(key: String, value: AttributeValue)] = [(key: "hidden_size", value: .int(Int64(c.h)))]
        if c.op == "GRU" { attrs.append((key: "linear_before_reset", value: .int(c.linearBeforeReset ? 1 : 0))) }
        if c.relu { attrs.append((key: "activation", value: .string("relu"))) }
        let outputs = ["Y", "Y_h"] + (c.op == "LSTM" ? ["Y_c"] : [])
        g.spec.nodes.append(Node(op: c.op, name: "rnn", inputs: inputs, outputs: outputs, attributes: attrs))
        g.output("Y", [c.t, c.h])
        g.output("Y_h", [c.h])
        if c.op == "LSTM" { g.output("Y_c", [c.h]) }
        return (try g.model(), g)
    }

    @Test("RNN, GRU and LSTM match the reference (with and without biases and initial states)", arguments: recurrentCases)
    func matchesReference(c: RecurrentCase) throws {
        let (model, g) = try Self.build(c)
        let batch = 3
        var rng = SeededGenerator(seed: 61)
        var inputs = [rng.floats(batch * c.t * c.i)]
        if c.h0 { inputs.append(rng.floats(batch * c.h, in: -0.5...0.5)) }
        if c.c0 { inputs.append(rng.floats(batch * c.h, in: -0.5...0.5)) }
        let (y, yh, yc) = Ref.recurrent(c.op, x: inputs[0].asDouble, n: batch, t: c.t, i: c.i, hidden: c.h, w: g.values("W"),
                                        r: g.values("R"), wb: c.biases ? g.values("WB") : nil, rb: c.biases ? g.values("RB") : nil,
                                        h0: c.h0 ? inputs[1].asDouble : nil, c0: c.c0 ? inputs[2].asDouble : nil,
                                        linearBeforeReset: c.linearBeforeReset, relu: c.relu)
        let outs = try Session(model: model).runAll(batch: batch, inputs)
        #expect(firstMismatch(outs[0], y) == nil, "Y")
        #expect(firstMismatch(outs[1], yh) == nil, "Y_h")
        if c.op == "LSTM" { #expect(firstMismatch(outs[2], yc) == nil, "Y_c") }
    }

    @Test("a GRU classifier (GRU → Y_h → Linear) is bitwise deterministic across batch sizes, positions and threads",
          arguments: [false, true])
    func gruDeterminism(linearBeforeReset: Bool) throws {
        // Wide enough that X·Wᵀ crosses the parallel threshold at batch 13.
        var g = GraphBuilder(seed: 62, [12, 64])
        g.tensor("W", [3 * 128, 64], scale: 0.1); g.tensor("R", [3 * 128, 128], scale: 0.1)
        g.tensor("WB", [3 * 128], scale: 0.1); g.tensor("RB", [3 * 128], scale: 0.1)
        g.spec.nodes.append(Node(op: "GRU", name: "gru", inputs: ["x", "W", "R", "WB", "RB"], outputs: ["seq", "last"],
                                 attributes: [(key: "hidden_size", value: .int(128)),
                                              (key: "linear_before_reset", value: .int(linearBeforeReset ? 1 : 0))]))
        g.output(g.linear("last", 128, 5, name: "fc"), [5])
        try expectDeterministic(try g.model(), sampleCount: 12 * 64)
    }

    @Test("an LSTM whose outputs are all graph outputs is deterministic too")
    func lstmDeterminism() throws {
        var c = RecurrentCase(op: "LSTM", t: 4, i: 9, h: 11)
        c.biases = true
        let (model, _) = try Self.build(c)
        try expectDeterministic(model, sampleCount: c.t * c.i)
    }

    @Test("recurrent attribute and shape errors name the node")
    func errors() throws {
        func rnn(_ op: String = "RNN", attrs: [(key: String, value: AttributeValue)], w: [Int] = [4, 3], r: [Int] = [4, 4], outputs: Int = 2) throws {
            var g = GraphBuilder(seed: 1, [5, 3])
            g.tensor("W", w); g.tensor("R", r)
            let outs = ["Y", "Y_h", "Y_c"].prefix(outputs).map { $0 }
            g.spec.nodes.append(Node(op: op, name: "cell", inputs: ["x", "W", "R"], outputs: outs, attributes: attrs))
            g.output("Y_h", [4])
            _ = try g.model()
        }
        let h4: (key: String, value: AttributeValue) = (key: "hidden_size", value: .int(4))
        expectError(.malformed, "node 0 'cell' (RNN): RNN needs the int attribute 'hidden_size'") { try rnn(attrs: []) }
        expectError(.malformed, "attribute 'hidden_size' is 0; it must be ≥ 1") { try rnn(attrs: [(key: "hidden_size", value: .int(0))]) }
        expectError(.unsupported, "RNN activation 'sigmoid' is not supported") { try rnn(attrs: [h4, (key: "activation", value: .string("sigmoid"))]) }
        expectError(.shapeMismatch, "W 'W' has shape [4, 3]; for input [N, 5, 3] and hidden_size 4 it must be [12, 3]") { try rnn("GRU", attrs: [h4]) }
        expectError(.shapeMismatch, "R 'R' has shape [4, 3]; it must be [4, 4]") { try rnn(attrs: [h4], r: [4, 3]) }
        expectError(.malformed, "attribute 'linear_before_reset' is 3") {
            try rnn("GRU", attrs: [h4, (key: "linear_before_reset", value: .int(3))], w: [12, 3], r: [12, 4])
        }
        expectError(.malformed, "has 2 outputs; LSTM has 3") { try rnn("LSTM", attrs: [h4], w: [16, 3], r: [16, 4]) }
    }
}
