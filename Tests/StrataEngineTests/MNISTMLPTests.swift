import StrataEngine
import Testing
import StrataTestSupport

/// The seed model: MNIST MLP 784-128-64-10, Linear+ReLU twice then a Linear to logits.
func mnistMLP(seed: UInt64 = 42) -> GraphBuilder {
    var g = GraphBuilder(seed: seed, [784])
    var h = g.linear("x", 784, 128, name: "fc1")
    h = g.node("Relu", [h], "relu1")
    h = g.linear(h, 128, 64, name: "fc2")
    h = g.node("Relu", [h], "relu2")
    g.output(g.linear(h, 64, 10, name: "fc3"), [10])
    return g
}

/// The same MLP in Double.
func mnistReference(_ g: GraphBuilder, _ x: [Float]) -> [Double] {
    var h = Ref.relu(Ref.linear(x.asDouble, k: 784, g.values("fc1.weight"), g.values("fc1.bias")))
    h = Ref.relu(Ref.linear(h, k: 128, g.values("fc2.weight"), g.values("fc2.bias")))
    return Ref.linear(h, k: 64, g.values("fc3.weight"), g.values("fc3.bias"))
}

/// `count` images with pixels in [0, 1].
func images(_ count: Int, seed: UInt64 = 7) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    return rng.floats(count * 784, in: 0...1)
}

@Suite("MNIST MLP")
struct MNISTMLPTests {
    @Test("784-128-64-10 matches a Double reference")
    func matchesReference() throws {
        let g = mnistMLP()
        let model = try g.model()
        let x = images(5)
        let y = try runOnce(model, batch: 5, x)
        #expect(firstMismatch(y, mnistReference(g, x)) == nil)
        #expect(model.parameterCount == 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10)
    }

    @Test("Linear+Relu is fused into one step; the plan has three steps")
    func fusion() throws {
        let steps = try mnistMLP().model().steps
        #expect(steps.map(\.kind) == ["Linear+Relu", "Linear+Relu", "Linear"])
        #expect(steps.map(\.nodes) == [["fc1", "relu1"], ["fc2", "relu2"], ["fc3"]])
        #expect(steps.map(\.shapes) == ["[N, 784] -> [N, 128]", "[N, 128] -> [N, 64]", "[N, 64] -> [N, 10]"])
    }

    @Test("one session runs batches 1, 2, 3, 17, 300 (growing, then smaller again), bitwise equal per sample")
    func growingBatches() throws {
        let g = mnistMLP()
        let model = try g.model()
        let pool = images(300)
        func sample(_ i: Int) -> ArraySlice<Float> { pool[(i * 784)..<((i + 1) * 784)] }
        // Batch b holds samples b, b+1, … (mod 300): every sample moves to a new row, and
        // batch 300 holds sample s at row s.
        func batchInput(_ b: Int) -> [Float] { (0..<b).flatMap { sample(($0 + b) % 300) } }

        let session = try Session(model: model)
        var results: [Int: [Float]] = [:]
        for b in [1, 2, 3, 17, 300, 2] { results[b] = try session.run(batch: b, batchInput(b)) }

        let full = results[300]!
        func row(_ y: [Float], _ r: Int) -> ArraySlice<Float> { y[(r * 10)..<((r + 1) * 10)] }
        for b in [1, 2, 3, 17] {
            for r in 0..<b {
                let s = (r + b) % 300
                #expect(bitwiseEqual(row(results[b]!, r), row(full, s)),
                        "sample \(s) at row \(r) of batch \(b)")
            }
        }
        #expect(firstMismatch(results[17]!, mnistReference(g, batchInput(17))) == nil)
        let fresh = try runOnce(model, batch: 1, Array(sample(123)))
        #expect(bitwiseEqual(fresh[...], row(full, 123)))
    }
}
