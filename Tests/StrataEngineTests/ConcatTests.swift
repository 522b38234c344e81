import StrataCore
import StrataEngine
import StrataFormat
import StrataKernels
import Testing
import StrataTestSupport

/// Concat (format 1.4) against a plain concatenation of the inputs, at several batch sizes, and
/// its errors.
@Suite("Concat")
struct ConcatTests {
    /// `[N, 2, 3, 4]` split into branches by Relu and Tanh, joined along `axis` (1, 2 or 3) with a
    /// third branch (the input itself): the output is the three branches' values interleaved row by row.
    @Test("joins values along any non-batch axis, bitwise the same at every batch size", arguments: [1, 2, 3, -1])
    func joins(axis: Int) throws {
        let dims = [2, 3, 4]
        var g = GraphBuilder(seed: 7, dims)
        let a = g.node("Relu", ["x"], "a"), b = g.node("Tanh", ["x"], "b")
        let p = axis < 0 ? dims.count + 1 + axis : axis
        var outDims = dims
        outDims[p - 1] *= 3
        g.output(g.node("Concat", [a, "x", b], "y", [(key: "axis", value: .int(Int64(axis)))]), outDims)
        let model = try g.model()
        var rng = SeededGenerator(seed: 8)
        let batch = 5, per = dims.reduce(1, *)
        let x = rng.floats(batch * per, in: -2...2)
        let got = try runOnce(model, batch: batch, x)
        // Expected: for each sample and each row of dims[..<p-1], the three blocks in order.
        let outer = dims[..<(p - 1)].reduce(1, *), block = dims[(p - 1)...].reduce(1, *)
        var expected: [Float] = []
        for n in 0..<batch {
            for o in 0..<outer {
                let row = Array(x[(n * per + o * block)..<(n * per + (o + 1) * block)])
                expected += row.map { $0 < 0 ? 0 : $0 } + row + row.map { Activation.tanh.apply($0) }
            }
        }
        #expect(got == expected)
        for n in [0, 3] {
            let alone = try runOnce(model, batch: 1, Array(x[(n * per)..<((n + 1) * per)]))
            #expect(alone == Array(got[(n * alone.count)..<((n + 1) * alone.count)]))
        }
    }

    @Test("the batch axis, mismatched shapes, a stored tensor and a missing axis are refused")
    func errors() {
        func graph(_ inputs: [String], axis: Int64?, _ extra: (inout GraphBuilder) -> Void = { _ in }) -> GraphBuilder {
            var g = GraphBuilder(seed: 1, [2, 3])
            extra(&g)
            g.output(g.node("Concat", inputs, "y", name: "cat", axis.map { [(key: "axis", value: .int($0))] } ?? []), [4, 3])
            return g
        }
        expectError(.unsupported, "node 0 'cat' (Concat): Concat over axis 0 of [N, 2, 3] is not supported: axis 0 is the batch") {
            _ = try graph(["x", "x"], axis: 0).model()
        }
        expectError(.malformed, "Concat needs the int attribute 'axis'") { _ = try graph(["x", "x"], axis: nil).model() }
        expectError(.shapeMismatch, "input 1 'h' has shape [N, 3, 2]; joined along axis 1 with [N, 2, 3] it must match in every other dimension") {
            var g = GraphBuilder(seed: 1, [2, 3])
            let h = g.node("Reshape", ["x"], "h", [(key: "shape", value: .ints([-1, 3, 2]))])
            g.output(g.node("Concat", ["x", h], "y", name: "cat", [(key: "axis", value: .int(1))]), [5, 3])
            _ = try g.model()
        }
        expectError(.unsupported, "input 1 't' is a tensor; this op needs a computed value there") {
            _ = try graph(["x", "t"], axis: 1) { _ = $0.tensor("t", [1, 2, 3]) }.model()
        }
    }
}
