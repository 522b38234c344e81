#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataCore
import StrataEngine
import StrataFormat
import Testing
import StrataTestSupport

/// Axes and keepdims of one reduction test.
struct ReduceCase: Sendable, CustomTestStringConvertible {
    var axes: [Int64], keep: Int64
    init(_ axes: [Int64], _ keep: Int64) { self.axes = axes; self.keep = keep }
    var testDescription: String { "axes \(axes) keepdims \(keep)" }
}

/// The ops of format 1.5, part A: the elementwise math alone and fused after Linear against Double
/// definitions, Transpose/Slice against index arithmetic, ReduceMean/Sum/Max against sums in
/// Double, and the errors that name the node.
@Suite("Format 1.5 ops: elementwise math, Transpose, Slice, reductions")
struct ZooOpTests {
    static let activations: [(op: String, attrs: [(key: String, value: AttributeValue)], ref: @Sendable (Double) -> Double)] = [
        ("Elu", [(key: "alpha", value: .float(0.5))], { $0 > 0 ? $0 : 0.5 * (exp($0) - 1) }),
        ("Selu", [], { 1.0507009873554805 * ($0 > 0 ? $0 : 1.6732632423543772 * (exp($0) - 1)) }),
        ("Softplus", [(key: "beta", value: .float(2)), (key: "threshold", value: .float(3))],
         { 2 * $0 > 3 ? $0 : log1p(exp(2 * $0)) / 2 }),
        ("Mish", [], { $0 * tanh(log1p(exp($0))) }),
        ("Abs", [], { abs($0) }),
        ("Neg", [], { -$0 }),
        ("Sqrt", [], { abs($0).squareRoot() }),
        ("Pow", [(key: "exponent", value: .float(1.5))], { pow(abs($0), 1.5) }),
        ("Pow", [(key: "exponent", value: .float(3))], { $0 * $0 * $0 }),
        ("Pow", [(key: "exponent", value: .float(-2))], { 1 / ($0 * $0) }),
        ("Exp", [], { exp($0) }),
        ("Log", [], { log(abs($0)) }),
        ("Reciprocal", [], { 1 / $0 }),
    ]

    /// Ops defined for x > 0 only get |x| (the test feeds them positive inputs).
    static let positiveOnly: Set<String> = ["Sqrt", "Log"]

    @Test("1.5 activations match the reference, alone and fused after Linear", arguments: 0..<13)
    func activation(index: Int) throws {
        let (op, attrs, ref) = Self.activations[index]
        let positive = Self.positiveOnly.contains(op) || (op == "Pow" && index == 7)
        var g = GraphBuilder(seed: 50, [37])
        g.output(g.node(op, ["x"], "y", attrs), [37])
        var rng = SeededGenerator(seed: 51)
        var x = rng.floats(3 * 37, in: -4...4).map { $0 == 0 ? 0.5 : $0 }
        if positive { x = x.map { abs($0) + 0.01 } }
        #expect(firstMismatch(try runOnce(try g.model(), batch: 3, x), x.asDouble.map(ref)) == nil, "\(op) alone")
        var f = GraphBuilder(seed: 52, [20])
        f.output(f.node(op, [f.linear("x", 20, 19, name: "fc")], "y", attrs), [19])
        let model = try f.model()
        #expect(model.steps.map(\.kind) == ["Linear+\(op)"])
        guard !positive else { return }  // a Linear's outputs have both signs
        let z = Ref.linear(x.asDouble.prefix(60).map { $0 }, k: 20, f.values("fc.weight"), f.values("fc.bias"))
        #expect(firstMismatch(try runOnce(model, batch: 3, Array(x.prefix(60))), z.map(ref)) == nil, "\(op) fused")
    }

    @Test("Transpose of [N, 2, 3, 4] by [0, 3, 1, 2] and a channel shuffle's [0, 2, 1, 3, 4] move every value exactly")
    func transpose() throws {
        var g = GraphBuilder(seed: 1, [2, 3, 4])
        g.output(g.node("Transpose", ["x"], "y", [(key: "perm", value: .ints([0, 3, 1, 2]))]), [4, 2, 3])
        let x = (0..<48).map(Float.init)
        var expected: [Double] = []
        for n in 0..<2 { for d in 0..<4 { for a in 0..<2 { for b in 0..<3 { expected.append(Double(n * 24 + a * 12 + b * 4 + d)) } } } }
        #expect(try runOnce(try g.model(), batch: 2, x) == expected.map(Float.init))
        var s = GraphBuilder(seed: 1, [2, 3, 2, 2])
        s.output(s.node("Transpose", ["x"], "y", [(key: "perm", value: .ints([0, 2, 1, 3, 4]))]), [3, 2, 2, 2])
        var shuffled: [Float] = []
        for c in 0..<3 { for g2 in 0..<2 { for hw in 0..<4 { shuffled.append(Float(g2 * 12 + c * 4 + hw)) } } }
        #expect(try runOnce(try s.model(), batch: 1, Array(x.prefix(24))) == shuffled)
    }

    @Test("Slice with negative and clamped bounds, a step, and a negative step")
    func slice() throws {
        var g = GraphBuilder(seed: 1, [4, 5])
        g.output(g.node("Slice", ["x"], "y", [(key: "starts", value: .ints([-3, 0])), (key: "ends", value: .ints([100, 5])),
                                               (key: "axes", value: .ints([1, -1])), (key: "steps", value: .ints([1, 2]))]), [3, 3])
        let x = (0..<40).map(Float.init)
        var expected: [Float] = []
        for n in 0..<2 { for r in 1..<4 { for c in stride(from: 0, to: 5, by: 2) { expected.append(Float(n * 20 + r * 5 + c)) } } }
        #expect(try runOnce(try g.model(), batch: 2, x) == expected)
        var r = GraphBuilder(seed: 1, [4, 5])
        r.output(r.node("Slice", ["x"], "y", [(key: "starts", value: .ints([-1])), (key: "ends", value: .ints([-100])),
                                               (key: "axes", value: .ints([2])), (key: "steps", value: .ints([-2]))]), [4, 3])
        var reversed: [Float] = []
        for row in 0..<4 { for c in [4, 2, 0] { reversed.append(Float(row * 5 + c)) } }
        #expect(try runOnce(try r.model(), batch: 1, Array(x.prefix(20))) == reversed)
    }

    @Test("ReduceMean, ReduceSum and ReduceMax over inner, outer and several axes, keepdims 0 and 1",
          arguments: [ReduceCase([1], 1), ReduceCase([2], 0), ReduceCase([1, 3], 1), ReduceCase([-1], 0), ReduceCase([1, 2, 3], 0)])
    func reduce(c: ReduceCase) throws {
        let axes = c.axes, keep = c.keep
        let dims = [3, 4, 5]
        var rng = SeededGenerator(seed: 60)
        let x = rng.floats(2 * 60, in: -3...3)
        let reduced = Set(axes.map { Int($0 < 0 ? $0 + 4 : $0) - 1 })
        let outDims = dims.indices.compactMap { reduced.contains($0) ? (keep == 1 ? 1 : nil) : dims[$0] }
        for op in ["ReduceMean", "ReduceSum", "ReduceMax"] {
            var g = GraphBuilder(seed: 1, dims)
            g.output(g.node(op, ["x"], "y", [(key: "axes", value: .ints(axes)), (key: "keepdims", value: .int(keep))]), outDims)
            var groups: [[Int]: [Double]] = [:], order: [[Int]] = []
            for n in 0..<2 { for a in 0..<3 { for b in 0..<4 { for c in 0..<5 {
                let idx = [a, b, c], key = [n] + idx.indices.map { reduced.contains($0) ? 0 : idx[$0] }
                if groups[key] == nil { order.append(key) }
                groups[key, default: []].append(Double(x[n * 60 + a * 20 + b * 5 + c]))
            } } } }
            let expected = order.map { k -> Double in
                let v = groups[k]!
                return op == "ReduceMax" ? v.max()! : (op == "ReduceSum" ? v.reduce(0, +) : v.reduce(0, +) / Double(v.count))
            }
            #expect(firstMismatch(try runOnce(try g.model(), batch: 2, x), expected) == nil, "\(op) axes \(axes) keepdims \(keep)")
        }
    }

    @Test("squeeze-excitation x · sigmoid(mean(x)) of [N, 8, 5, 5] is one broadcasting Mul step, no copy of the gate")
    func squeezeExcitation() throws {
        var g = GraphBuilder(seed: 1, [8, 5, 5])
        let pooled = g.node("ReduceMean", ["x"], "m", [(key: "axes", value: .ints([2, 3])), (key: "keepdims", value: .int(1))])
        g.output(g.node("Mul", ["x", g.node("Sigmoid", [pooled], "s")], "y"), [8, 5, 5])
        let model = try g.model()
        #expect(model.steps.map(\.kind) == ["ReduceMean", "Sigmoid", "Mul"])
        var rng = SeededGenerator(seed: 70)
        let x = rng.floats(2 * 200, in: -2...2)
        var expected: [Double] = []
        for n in 0..<2 {
            for c in 0..<8 {
                let plane = x[(n * 200 + c * 25)..<(n * 200 + c * 25 + 25)].map(Double.init)
                let gate = 1 / (1 + exp(-plane.reduce(0, +) / 25))
                expected += plane.map { $0 * gate }
            }
        }
        #expect(firstMismatch(try runOnce(model, batch: 2, x), expected) == nil)
    }

    @Test("the batch axis, a broken perm, Slice steps of 0 and a missing exponent are refused naming the node")
    func errors() {
        var g = GraphBuilder(seed: 1, [3, 4])
        g.output(g.node("Transpose", ["x"], "y", name: "t", [(key: "perm", value: .ints([1, 0, 2]))]), [3, 4])
        expectError(.unsupported, "node 0 't' (Transpose): perm [1, 0, 2] moves the batch") { _ = try g.model() }
        g = GraphBuilder(seed: 1, [3, 4])
        g.output(g.node("Transpose", ["x"], "y", name: "t", [(key: "perm", value: .ints([0, 1, 1]))]), [3, 4])
        expectError(.malformed, "node 0 't' (Transpose): perm [0, 1, 1] is not a permutation") { _ = try g.model() }
        g = GraphBuilder(seed: 1, [3, 4])
        g.output(g.node("Slice", ["x"], "y", name: "s", [(key: "starts", value: .ints([0])), (key: "ends", value: .ints([1])),
                                                          (key: "axes", value: .ints([0]))]), [3, 4])
        expectError(.unsupported, "node 0 's' (Slice): Slice along axis 0") { _ = try g.model() }
        g = GraphBuilder(seed: 1, [3, 4])
        g.output(g.node("Slice", ["x"], "y", name: "s", [(key: "starts", value: .ints([0])), (key: "ends", value: .ints([1])),
                                                          (key: "axes", value: .ints([1])), (key: "steps", value: .ints([0]))]), [1, 4])
        expectError(.malformed, "node 0 's' (Slice): step 0 on axis 1") { _ = try g.model() }
        g = GraphBuilder(seed: 1, [3, 4])
        g.output(g.node("ReduceSum", ["x"], "y", name: "r", [(key: "axes", value: .ints([0, 1]))]), [3, 4])
        expectError(.unsupported, "node 0 'r' (ReduceSum): ReduceSum over axis 0") { _ = try g.model() }
        g = GraphBuilder(seed: 1, [3, 4])
        g.output(g.node("Pow", ["x"], "y", name: "p"), [3, 4])
        expectError(.malformed, "node 0 'p' (Pow): Pow needs a finite float attribute 'exponent'") { _ = try g.model() }
    }
}
