import StrataCore
import StrataEngine
import StrataFormat
import Testing
import StrataTestSupport

/// Add/Sub/Mul/Div with numpy broadcasting (docs/FORMAT.md "Ops (1.2)"), against `Ref.broadcast`.
/// Tolerance: `Tolerance.f32` (one rounding per element).
struct BroadcastCase: Sendable, CustomTestStringConvertible {
    /// Sample dims of the graph input (value A).
    var x: [Int]
    /// Full shape of B: a tensor's dims, or for a value `[-1] + sample dims` (computed as `Relu(x2)`).
    var b: [Int]
    var bIsValue = false
    var testDescription: String { "\([-1] + x) ⊕ \(bIsValue ? "value" : "tensor") \(b)" }
}

let broadcastCases: [BroadcastCase] = [
    .init(x: [3, 4], b: [4]), .init(x: [3, 4], b: [3, 1]), .init(x: [3, 4], b: []), .init(x: [3, 4], b: [1, 3, 4]),
    .init(x: [2, 3, 5], b: [2, 1, 5]), .init(x: [8, 5, 5], b: [8, 1, 1]), .init(x: [1, 4], b: [3, 1]),
    .init(x: [17], b: [17]), .init(x: [2, 3, 4], b: [-1, 2, 3, 4], bIsValue: true),
    .init(x: [2, 1, 4], b: [-1, 1, 3, 1], bIsValue: true), .init(x: [9, 1], b: [-1, 1, 9], bIsValue: true),
]

@Suite("Broadcasting binary ops")
struct BroadcastTests {
    static func build(_ c: BroadcastCase, op: String, tensorFirst: Bool) throws -> (Model, GraphBuilder) {
        var g = GraphBuilder(seed: 31, [])
        g.spec.inputs = [ValueInfo(name: "x", dims: [-1] + c.x)]
        let h = g.node("Sigmoid", ["x"], "h")  // a computed value, positive (a divisor away from 0)
        var other: String
        if c.bIsValue {
            g.spec.inputs.append(ValueInfo(name: "x2", dims: c.b))
            other = g.node("Sigmoid", ["x2"], "s")
        } else {
            // Divisors away from 0, so Div stays well conditioned.
            var rng = SeededGenerator(seed: 32)
            other = g.tensor("b", c.b, values: rng.floats(c.b.reduce(1, *), in: 0.5...2))
        }
        let outDims = Ref.broadcastShape([1] + c.x, c.bIsValue ? [1] + c.b.dropFirst() : c.b).dropFirst()
        g.output(g.node(op, tensorFirst ? [other, h] : [h, other], "y"), Array(outDims))
        return (try g.model(), g)
    }

    @Test("Add, Sub, Mul, Div broadcast a tensor or a value, in either position", arguments: broadcastCases, ["Add", "Sub", "Mul", "Div"])
    func matchesReference(c: BroadcastCase, op: String) throws {
        for tensorFirst in [false, true] {
            let (model, g) = try Self.build(c, op: op, tensorFirst: tensorFirst)
            let batch = 3
            var rng = SeededGenerator(seed: 33)
            let x = rng.floats(batch * c.x.reduce(1, *))
            let hx = Ref.sigmoid(x.asDouble)
            var b: [Double], bd: [Int]
            var inputs = [x]
            if c.bIsValue {
                let x2 = rng.floats(batch * c.b.dropFirst().reduce(1, *))
                inputs.append(x2)
                b = x2.map { Ref.sigmoid(Double($0)) }; bd = [batch] + c.b.dropFirst()
            } else {
                b = g.values("b").asDouble; bd = c.b
            }
            let f: (Double, Double) -> Double = ["Add": { $0 + $1 }, "Sub": { $0 - $1 }, "Mul": { $0 * $1 }][op] ?? { $0 / $1 }
            let expected = tensorFirst ? Ref.broadcast(b, bd, hx, [batch] + c.x) { f($0, $1) }.0
                                       : Ref.broadcast(hx, [batch] + c.x, b, bd, f).0
            let y = try Session(model: model).runAll(batch: batch, inputs)[0]
            #expect(firstMismatch(y, expected) == nil, "tensor first: \(tensorFirst)")
        }
    }

    @Test("a 1.2 op makes the writer stamp format 1.2; 1.0 ops keep 1.0")
    func writerVersion() throws {
        var g = GraphBuilder(seed: 1, [4])
        g.output(g.node("Relu", ["x"], "y"), [4])
        #expect(ModelWriter.serialize(g.spec)[10] == 0)
        g.spec.nodes[0].op = "Silu"
        #expect(ModelWriter.serialize(g.spec)[10] == 2)
        #expect(try g.model().formatVersion == (1, 2))
    }

    @Test("division by zero follows IEEE 754")
    func divideByZero() throws {
        var g = GraphBuilder(seed: 1, [4])
        g.tensor("z", [4], values: [0, 0, 0, -0.0])
        g.output(g.node("Div", ["x", "z"], "y"), [4])
        let y = try runOnce(try g.model(), batch: 1, [1, -1, 0, 1])
        #expect(y[0] == .infinity && y[1] == -.infinity && y[2].isNaN && y[3] == -.infinity)
    }

    @Test("shapes that do not broadcast, tensors reaching the batch, values of different ranks are refused")
    func errors() throws {
        var g = GraphBuilder(seed: 1, [3, 4])
        g.tensor("t", [3])
        g.output(g.node("Mul", ["x", "t"], "y", name: "mul"), [3, 4])
        expectError(.shapeMismatch, "node 0 'mul' (Mul): Mul of [N, 3, 4] and tensor 't' [3]: shapes do not broadcast") { _ = try g.model() }

        g = GraphBuilder(seed: 1, [3, 4])
        g.tensor("t", [2, 3, 4])
        g.output(g.node("Sub", ["t", "x"], "y", name: "sub"), [3, 4])
        expectError(.unsupported, "the tensor would broadcast over the batch") { _ = try g.model() }

        g = GraphBuilder(seed: 1, [3, 4])
        g.spec.inputs.append(ValueInfo(name: "x2", dims: [-1, 4]))
        g.output(g.node("Add", ["x", "x2"], "y", name: "add"), [3, 4])
        expectError(.unsupported, "values of different ranks") { _ = try g.model() }

        g = GraphBuilder(seed: 1, [3])
        g.tensor("a", [3]); g.tensor("b", [3])
        g.output(g.node("Div", ["a", "b"], "y", name: "div"), [3])
        expectError(.unsupported, "input 0 'a' is a tensor") { _ = try g.model() }
    }
}
