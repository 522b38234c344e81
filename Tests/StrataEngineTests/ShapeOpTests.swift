import StrataEngine
import StrataFormat
import Testing
import StrataTestSupport

/// `[N, 1, 28, 28]` images through a shape op to `[N, 784]`, then Linear 784 → 10.
func imageClassifier(shapeOp op: String, _ attributes: [(key: String, value: AttributeValue)] = []) -> GraphBuilder {
    var g = GraphBuilder(seed: 11, [1, 28, 28])
    let flat = g.node(op, ["x"], "flat", attributes)
    g.output(g.linear(flat, 784, 10, name: "fc"), [10])
    return g
}

@Suite("Shape-only ops")
struct ShapeOpTests {
    static let shapeOps: [(op: String, attributes: [(key: String, value: AttributeValue)])] = [
        ("Flatten", []),
        ("Flatten", [(key: "axis", value: .int(1))]),
        ("Flatten", [(key: "axis", value: .int(-3))]),
        ("Reshape", [(key: "shape", value: .ints([-1, 784]))]),
        ("Reshape", [(key: "shape", value: .ints([0, -1]))]),
    ]

    @Test("Flatten and Reshape of [N, 1, 28, 28] feed a Linear as [N, 784], without a copy step",
          arguments: shapeOps.indices)
    func flattenAndReshape(index: Int) throws {
        let (op, attributes) = Self.shapeOps[index]
        let g = imageClassifier(shapeOp: op, attributes)
        let model = try g.model()
        #expect(model.steps.map(\.kind) == ["Linear"])
        let x = images(3)
        let y = try runOnce(model, batch: 3, x)
        #expect(firstMismatch(y, Ref.linear(x.asDouble, k: 784, g.values("fc.weight"), g.values("fc.bias"))) == nil)
    }

    @Test("Reshape resolves 0 (copy the input dim) and -1 (infer) against [N, 4, 6]")
    func reshapeDims() throws {
        for (target, dims) in [([0, 0, -1], [4, 6]), ([0, -1, 3], [8, 3]), ([-1, 24], [24]), ([0, 2, 12], [2, 12])] {
            var g = GraphBuilder(seed: 12, [4, 6])
            g.output(g.node("Reshape", ["x"], "y", [(key: "shape", value: .ints(target.map(Int64.init)))]), dims)
            let x = (0..<48).map(Float.init)
            #expect(try runOnce(try g.model(), batch: 2, x) == x, "target \(target)")
        }
    }

    @Test("Identity passes values through, alone or between ops")
    func identity() throws {
        var g = GraphBuilder(seed: 13, [5])
        let a = g.node("Identity", ["x"], "a")
        let h = g.linear(a, 5, 4, name: "fc")
        let r = g.node("Relu", [h], "r")
        g.output(g.node("Identity", [r], "y"), [4])
        let model = try g.model()
        #expect(model.steps.map(\.kind) == ["Linear+Relu"])
        var rng = SeededGenerator(seed: 14)
        let x = rng.floats(3 * 5)
        let expected = Ref.relu(Ref.linear(x.asDouble, k: 5, g.values("fc.weight"), g.values("fc.bias")))
        #expect(firstMismatch(try runOnce(model, batch: 3, x), expected) == nil)
    }

    @Test("a graph whose output is an Identity of its input copies the input")
    func identityOfInput() throws {
        var g = GraphBuilder(seed: 15, [3])
        g.output(g.node("Identity", ["x"], "y"), [3])
        let model = try g.model()
        #expect(model.steps.map(\.kind) == ["Copy"])
        #expect(try runOnce(model, batch: 2, [1, 2, 3, 4, 5, 6]) == [1, 2, 3, 4, 5, 6])
    }
}
