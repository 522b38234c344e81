import StrataEngine
import Testing
import StrataTestSupport

@Suite("Graph outputs")
struct GraphOutputTests {
    @Test("an output that is an Identity alias of another output gets its own copy")
    func aliasOfAnotherOutput() throws {
        var g = GraphBuilder(seed: 31, [6])
        let h = g.node("Relu", [g.linear("x", 6, 5, name: "fc")], "h")
        let alias = g.node("Identity", [h], "alias")
        g.output(h, [5])
        g.output(alias, [5])
        let model = try g.model()
        #expect(model.steps.map(\.kind) == ["Linear+Relu", "Copy"])
        var rng = SeededGenerator(seed: 32)
        let x = rng.floats(3 * 6)
        let outputs = try Session(model: model).runAll(batch: 3, [x])
        let expected = Ref.relu(Ref.linear(x.asDouble, k: 6, g.values("fc.weight"), g.values("fc.bias")))
        #expect(firstMismatch(outputs[0], expected) == nil)
        #expect(outputs[1] == outputs[0])
    }

    @Test("an output that is an alias of a non-output value is written in place, without a copy")
    func aliasOnlyOutput() throws {
        var g = GraphBuilder(seed: 33, [6])
        let h = g.linear("x", 6, 5, name: "fc")
        g.output(g.node("Identity", [h], "y"), [5])
        let model = try g.model()
        #expect(model.steps.map(\.kind) == ["Linear"])
        var rng = SeededGenerator(seed: 34)
        let x = rng.floats(2 * 6)
        #expect(firstMismatch(try runOnce(model, batch: 2, x),
                              Ref.linear(x.asDouble, k: 6, g.values("fc.weight"), g.values("fc.bias"))) == nil)
    }

    @Test("an output also read by a later node keeps its value, and its Linear is not fused")
    func outputReadLater() throws {
        var g = GraphBuilder(seed: 35, [7])
        let h = g.linear("x", 7, 8, name: "fc1")
        let r = g.node("Relu", [h], "r")
        let y = g.linear(r, 8, 3, name: "fc2")
        g.output(h, [8])
        g.output(y, [3])
        let model = try g.model()
        #expect(model.steps.map(\.kind) == ["Linear", "Relu", "Linear"])
        var rng = SeededGenerator(seed: 36)
        let x = rng.floats(4 * 7)
        let outputs = try Session(model: model).runAll(batch: 4, [x])
        let rh = Ref.linear(x.asDouble, k: 7, g.values("fc1.weight"), g.values("fc1.bias"))
        #expect(firstMismatch(outputs[0], rh) == nil)
        #expect(firstMismatch(outputs[1], Ref.linear(Ref.relu(rh), k: 8, g.values("fc2.weight"), g.values("fc2.bias"))) == nil)
    }

    @Test("a model with two inputs and two outputs runs through the buffer-list API")
    func twoInputs() throws {
        var g = GraphBuilder(seed: 37, [4])
        g.spec.inputs.append(.init(name: "x2", dims: [-1, 4]))
        let s = g.node("Add", ["x", "x2"], "s")
        g.output(s, [4])
        g.output(g.node("Sigmoid", [s], "p"), [4])
        let a: [Float] = [1, 2, 3, 4, 5, 6, 7, 8], b: [Float] = [-1, 0, 1, 2, 3, 4, 5, 6]
        let outputs = try Session(model: try g.model()).runAll(batch: 2, [a, b])
        let sum = Ref.add(a.asDouble, b.asDouble)
        #expect(firstMismatch(outputs[0], sum) == nil)
        #expect(firstMismatch(outputs[1], Ref.sigmoid(sum)) == nil)
    }
}
