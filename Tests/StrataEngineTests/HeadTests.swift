import StrataEngine
import Testing
import StrataTestSupport

/// An output op applied after a Linear 20 → 6, and its Double definition.
struct Head: Sendable, CustomTestStringConvertible {
    var op: String
    var testDescription: String { op }

    func reference(_ z: [Double]) -> [Double] {
        switch op {
        case "Relu": return Ref.relu(z)
        case "Sigmoid": return Ref.sigmoid(z)
        case "Tanh": return Ref.tanh(z)
        case "Softmax": return Ref.softmax(z, cols: 6)
        case "LogSoftmax": return Ref.softmax(z, cols: 6, log: true)
        default: return z
        }
    }
}

@Suite("Linear and output heads")
struct HeadTests {
    @Test("Linear followed by a head matches the Double reference",
          arguments: ["Relu", "Sigmoid", "Tanh", "Softmax", "LogSoftmax"].map(Head.init))
    func head(_ head: Head) throws {
        var g = GraphBuilder(seed: 3, [20])
        let z = g.linear("x", 20, 6, name: "fc")
        g.output(g.node(head.op, [z], "y"), [6])
        var rng = SeededGenerator(seed: 4)
        let x = rng.floats(4 * 20, in: -3...3)
        let y = try runOnce(try g.model(), batch: 4, x)
        let expected = head.reference(Ref.linear(x.asDouble, k: 20, g.values("fc.weight"), g.values("fc.bias")))
        #expect(firstMismatch(y, expected) == nil)
    }

    @Test("Sigmoid and Tanh after a Linear fuse like Relu; Softmax stays a separate step")
    func fusedActivations() throws {
        for (op, kinds) in [("Sigmoid", ["Linear+Sigmoid"]), ("Tanh", ["Linear+Tanh"]), ("Softmax", ["Linear", "Softmax"])] {
            var g = GraphBuilder(seed: 3, [20])
            g.output(g.node(op, [g.linear("x", 20, 6, name: "fc")], "y"), [6])
            #expect(try g.model().steps.map(\.kind) == kinds)
        }
    }

    @Test("Linear without bias, with no third input or with an empty one", arguments: [false, true])
    func linearWithoutBias(emptyThirdInput: Bool) throws {
        var g = GraphBuilder(seed: 5, [9])
        let w = g.tensor("w", [3, 9])
        g.output(g.node("Linear", emptyThirdInput ? ["x", w, ""] : ["x", w], "y"), [3])
        var rng = SeededGenerator(seed: 6)
        let x = rng.floats(2 * 9)
        let y = try runOnce(try g.model(), batch: 2, x)
        #expect(firstMismatch(y, Ref.linear(x.asDouble, k: 9, g.values("w"), nil)) == nil)
    }

    @Test("Linear applies to the last axis of a rank-3 value; Softmax to its last axis")
    func rank3() throws {
        var g = GraphBuilder(seed: 8, [3, 8])
        let z = g.linear("x", 8, 5, name: "fc")
        g.output(g.node("Softmax", [z], "y"), [3, 5])
        var rng = SeededGenerator(seed: 9)
        let x = rng.floats(2 * 3 * 8)
        let y = try runOnce(try g.model(), batch: 2, x)
        let expected = Ref.softmax(Ref.linear(x.asDouble, k: 8, g.values("fc.weight"), g.values("fc.bias")), cols: 5)
        #expect(firstMismatch(y, expected) == nil)
    }
}
