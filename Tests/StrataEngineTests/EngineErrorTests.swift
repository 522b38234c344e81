import StrataCore
import StrataEngine
import StrataFormat
import Testing

/// Plans that must be refused, each with its specific status and a message naming the thing.
@Suite("Engine errors")
struct EngineErrorTests {
    @Test("an op the library does not know is unsupported, naming the op and node")
    func unknownOp() {
        var g = GraphBuilder(seed: 1, [1, 28, 28])
        g.output(g.node("Frobnicate", ["x"], "y", name: "frob1"), [1, 28, 28])
        expectError(.unsupported, "'Frobnicate'") { _ = try g.model() }
        expectError(.unsupported, "frob1") { _ = try g.model() }
    }

    @Test("Softmax or LogSoftmax on the batch axis is unsupported", arguments: ["Softmax", "LogSoftmax"])
    func softmaxAxis0(op: String) {
        var g = GraphBuilder(seed: 1, [10])
        g.output(g.node(op, ["x"], "y", [(key: "axis", value: .int(0))]), [10])
        expectError(.unsupported, "axis 0") { _ = try g.model() }
    }

    @Test("Softmax on an axis beyond the rank is malformed")
    func softmaxAxisOutOfRange() {
        var g = GraphBuilder(seed: 1, [10])
        g.output(g.node("Softmax", ["x"], "y", [(key: "axis", value: .int(2))]), [10])
        expectError(.malformed, "axis 2 is out of range") { _ = try g.model() }
    }

    @Test("Flatten at axis 2 is unsupported")
    func flattenAxis2() {
        var g = GraphBuilder(seed: 1, [1, 28, 28])
        g.output(g.node("Flatten", ["x"], "y", [(key: "axis", value: .int(2))]), [1, 784])
        expectError(.unsupported, "Flatten at axis 2") { _ = try g.model() }
    }

    @Test("Reshape that mixes batch and features, or fixes the batch, is unsupported",
          arguments: [[-1, 392], [2, 392], [-1, -1]])
    func reshapeMixingBatch(target: [Int64]) {
        var g = GraphBuilder(seed: 1, [1, 28, 28])
        g.output(g.node("Reshape", ["x"], "y", [(key: "shape", value: .ints(target))]), [392])
        expectError(.unsupported, "Reshape") { _ = try g.model() }
    }

    @Test("Reshape whose inferred dim does not divide is a shape mismatch")
    func reshapeNotDividing() {
        var g = GraphBuilder(seed: 1, [784])
        g.output(g.node("Reshape", ["x"], "y", [(key: "shape", value: .ints([0, -1, 5]))]), [156, 5])
        expectError(.shapeMismatch, "do not divide") { _ = try g.model() }
    }

    @Test("Linear weights whose K differs from the input features are a shape mismatch")
    func linearWeightShape() {
        var g = GraphBuilder(seed: 1, [784])
        let w = g.tensor("fc1.weight", [128, 783])
        g.output(g.node("Linear", ["x", w], "y"), [128])
        expectError(.shapeMismatch, "weight 'fc1.weight' has shape [128, 783]") { _ = try g.model() }
    }

    @Test("a Linear bias of the wrong length is a shape mismatch")
    func linearBiasShape() {
        var g = GraphBuilder(seed: 1, [8])
        let w = g.tensor("w", [4, 8]), b = g.tensor("b", [5])
        g.output(g.node("Linear", ["x", w, b], "y"), [4])
        expectError(.shapeMismatch, "bias 'b' has shape [5]") { _ = try g.model() }
    }

    @Test("a declared output shape that differs from the computed one is a shape mismatch")
    func declaredOutputShape() {
        var g = GraphBuilder(seed: 1, [8])
        g.output(g.linear("x", 8, 10, name: "fc"), [11])
        expectError(.shapeMismatch, "graph output 'fc' is declared [N, 11]") { _ = try g.model() }
    }

    @Test("a tensor where a computed value is needed is unsupported")
    func tensorAsValue() {
        var g = GraphBuilder(seed: 1, [4])
        let t = g.tensor("t", [4])
        g.output(g.node("Relu", [t], "y"), [4])
        expectError(.unsupported, "'t' is a tensor") { _ = try g.model() }
    }

    @Test("a computed value where Linear needs stored weights is unsupported")
    func valueAsWeights() {
        var g = GraphBuilder(seed: 1, [4])
        g.output(g.node("Linear", ["x", "x"], "y"), [4])
        expectError(.unsupported, "must be a stored tensor") { _ = try g.model() }
    }

    @Test("Add of a tensor that is not the value's trailing dims is a shape mismatch")
    func addTensorShape() {
        var g = GraphBuilder(seed: 1, [3, 4])
        let b = g.tensor("b", [3])
        g.output(g.node("Add", ["x", b], "y"), [3, 4])
        expectError(.shapeMismatch, "tensor 'b' [3]") { _ = try g.model() }
    }

    @Test("Add of two computed values whose shapes do not broadcast is a shape mismatch")
    func addValueBroadcast() {
        var g = GraphBuilder(seed: 1, [4])
        let h = g.linear("x", 4, 2, name: "fc")
        g.output(g.node("Add", ["x", h], "y"), [4])
        expectError(.shapeMismatch, "Add of [N, 4] and [N, 2]: shapes do not broadcast") { _ = try g.model() }
    }

    @Test("batch 0 or less is an invalid argument, for a run and for a session's initial batch",
          arguments: [0, -1])
    func batchBelowOne(batch: Int) throws {
        let model = try mnistMLP().model()
        let session = try Session(model: model)
        expectError(.invalidArgument, "batch is \(batch)") { _ = try session.run(batch: batch, []) }
        expectError(.invalidArgument, "initial batch is \(batch)") { _ = try Session(model: model, initialBatch: batch) }
    }

    @Test("a batch so large that buffer sizes overflow is an invalid argument")
    func hugeBatch() throws {
        let session = try Session(model: try mnistMLP().model())
        expectError(.invalidArgument, "too large") { try session.reserve(batch: Int.max / 2) }
        var x: Float = 0, y: Float = 0
        expectError(.invalidArgument, "too large") { try session.run(batch: Int.max / 100, input: &x, output: &y) }
    }

    @Test("the single-buffer run refuses a model with two outputs; the buffer-list run checks counts")
    func bufferCounts() throws {
        var g = GraphBuilder(seed: 1, [4])
        g.output("x", [4])
        g.output(g.node("Relu", ["x"], "y"), [4])
        let session = try Session(model: try g.model())
        expectError(.unsupported, "2 outputs") { _ = try session.run(batch: 1, [1, 2, 3, 4]) }
        expectError(.invalidArgument, "expected 1 input and 2 output buffers") { _ = try session.runAll(batch: 1, [[1, 2, 3, 4], [5, 6, 7, 8]]) }
    }

    @Test("a session stays usable after a failed run")
    func usableAfterFailure() throws {
        let model = try mnistMLP().model()
        let session = try Session(model: model)
        let x = images(2)
        let before = try session.run(batch: 2, x)
        expectError(.invalidArgument, "batch") { _ = try session.run(batch: 0, x) }
        #expect(try session.run(batch: 2, x) == before)
    }
}
