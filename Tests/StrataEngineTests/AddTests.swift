import StrataEngine
import Testing
import StrataTestSupport

@Suite("Add")
struct AddTests {
    @Test("residual block x + relu(linear(x)) matches the reference")
    func residual() throws {
        var g = GraphBuilder(seed: 21, [16])
        let h = g.node("Relu", [g.linear("x", 16, 16, name: "fc")], "h")
        g.output(g.node("Add", ["x", h], "y"), [16])
        let model = try g.model()
        #expect(model.steps.map(\.kind) == ["Linear+Relu", "Add"])
        var rng = SeededGenerator(seed: 22)
        let x = rng.floats(3 * 16)
        let expected = Ref.add(x.asDouble, Ref.relu(Ref.linear(x.asDouble, k: 16, g.values("fc.weight"), g.values("fc.bias"))))
        #expect(firstMismatch(try runOnce(model, batch: 3, x), expected) == nil)
    }

    @Test("a value kept alive across layers is not overwritten: a + relu(L3(relu(L2(a))))")
    func longResidual() throws {
        var g = GraphBuilder(seed: 23, [12])
        let a = g.node("Relu", [g.linear("x", 12, 12, name: "l1")], "a")
        let b = g.node("Relu", [g.linear(a, 12, 12, name: "l2")], "b")
        let c = g.node("Relu", [g.linear(b, 12, 12, name: "l3")], "c")
        let d = g.node("Add", [c, a], "d")
        g.output(g.linear(d, 12, 4, name: "l4"), [4])
        var rng = SeededGenerator(seed: 24)
        let x = rng.floats(5 * 12)
        func layer(_ v: [Double], _ n: String) -> [Double] { Ref.linear(v, k: 12, g.values("\(n).weight"), g.values("\(n).bias")) }
        let ra = Ref.relu(layer(x.asDouble, "l1"))
        let rc = Ref.relu(layer(Ref.relu(layer(ra, "l2")), "l3"))
        let expected = layer(Ref.add(rc, ra), "l4")
        #expect(firstMismatch(try runOnce(try g.model(), batch: 5, x), expected) == nil)
    }

    @Test("Add of a value and itself doubles it")
    func selfAdd() throws {
        var g = GraphBuilder(seed: 25, [10])
        let h = g.linear("x", 10, 10, name: "fc")
        g.output(g.node("Add", [h, h], "y"), [10])
        var rng = SeededGenerator(seed: 26)
        let x = rng.floats(2 * 10)
        let z = Ref.linear(x.asDouble, k: 10, g.values("fc.weight"), g.values("fc.bias"))
        #expect(firstMismatch(try runOnce(try g.model(), batch: 2, x), z.map { 2 * $0 }) == nil)
    }

    @Test("Add broadcasts a tensor over the value's trailing dims, in either operand order",
          arguments: [[4], [3, 4], []], [false, true])
    func broadcastTensor(tensorDims: [Int], tensorFirst: Bool) throws {
        var g = GraphBuilder(seed: 27, [3, 4])
        let b = g.tensor("b", tensorDims)
        let h = g.node("Relu", ["x"], "h")
        g.output(g.node("Add", tensorFirst ? [b, h] : [h, b], "y"), [3, 4])
        let model = try g.model()
        var rng = SeededGenerator(seed: 28)
        let x = rng.floats(2 * 12)
        let expected = Ref.add(Ref.relu(x.asDouble), g.values("b").asDouble)
        #expect(firstMismatch(try runOnce(model, batch: 2, x), expected) == nil)
    }
}
