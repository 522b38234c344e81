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

/// LeakyRelu, Gelu, Silu, Erf, Softmax/LogSoftmax on any non-batch axis and LayerNormalization
/// against the Double references. Tolerance: `Tolerance.f32` relative to max(1, |expected|).
@Suite("Activations, Softmax axis, LayerNorm")
struct ElementwiseOpTests {
    static let activations: [(op: String, attrs: [(key: String, value: AttributeValue)], ref: @Sendable (Double) -> Double)] = [
        ("LeakyRelu", [], { $0 < 0 ? 0.01 * $0 : $0 }),
        ("LeakyRelu", [(key: "alpha", value: .float(0.2))], { $0 < 0 ? Double(Float(0.2)) * $0 : $0 }),
        ("Gelu", [], { Ref.gelu($0) }),
        ("Gelu", [(key: "approximate", value: .string("tanh"))], { Ref.geluTanh($0) }),
        ("Silu", [], { Ref.silu($0) }),
        ("Erf", [], { erf($0) }),
        // The clamp family (format 1.4).
        ("Clip", [(key: "min", value: .float(0)), (key: "max", value: .float(6))], { min(max($0, 0), 6) }),
        ("Clip", [(key: "min", value: .float(-0.5))], { max($0, Double(Float(-0.5))) }),
        ("Clip", [(key: "min", value: .float(1)), (key: "max", value: .float(-1))], { _ in -1 }),
        ("HardSigmoid", [], { min(max(Double(Float(0.2)) * $0 + 0.5, 0), 1) }),
        ("HardSigmoid", [(key: "alpha", value: .float(1.0 / 6)), (key: "beta", value: .float(0.5))],
         { min(max(Double(Float(1.0 / 6)) * $0 + 0.5, 0), 1) }),
        ("HardSwish", [], { $0 * min(max($0 / 6 + 0.5, 0), 1) }),
    ]

    @Test("unary activations match the reference, alone and fused after Linear", arguments: 0..<12)
    func activation(index: Int) throws {
        let (op, attrs, ref) = Self.activations[index]
        // Alone, on 3 × 37 values (SIMD8 body and tail), inputs in ±4.
        var g = GraphBuilder(seed: 40, [37])
        g.output(g.node(op, ["x"], "y", attrs), [37])
        var rng = SeededGenerator(seed: 41)
        let x = rng.floats(3 * 37, in: -4...4)
        #expect(firstMismatch(try runOnce(try g.model(), batch: 3, x), x.asDouble.map(ref)) == nil)
        // Fused: Linear+op is one step and matches the reference.
        var f = GraphBuilder(seed: 42, [20])
        f.output(f.node(op, [f.linear("x", 20, 19, name: "fc")], "y", attrs), [19])
        let model = try f.model()
        #expect(model.steps.map(\.kind) == ["Linear+\(op)"])
        let z = Ref.linear(x.asDouble.prefix(60).map { $0 }, k: 20, f.values("fc.weight"), f.values("fc.bias"))
        #expect(firstMismatch(try runOnce(model, batch: 3, Array(x.prefix(60))), z.map(ref)) == nil)
    }

    @Test("Gelu with another approximation is unsupported; LeakyRelu alpha, Clip bounds and HardSigmoid alpha, beta are checked")
    func activationErrors() {
        var g = GraphBuilder(seed: 1, [4])
        g.output(g.node("Gelu", ["x"], "y", name: "gelu", [(key: "approximate", value: .string("erf"))]), [4])
        expectError(.unsupported, "node 0 'gelu' (Gelu): Gelu approximation 'erf' is not supported") { _ = try g.model() }
        g = GraphBuilder(seed: 1, [4])
        g.output(g.node("LeakyRelu", ["x"], "y", name: "lr", [(key: "alpha", value: .float(.nan))]), [4])
        expectError(.malformed, "node 0 'lr' (LeakyRelu): attribute 'alpha' is nan") { _ = try g.model() }
        g = GraphBuilder(seed: 1, [4])
        g.output(g.node("Clip", ["x"], "y", name: "clip", [(key: "max", value: .float(.nan))]), [4])
        expectError(.malformed, "node 0 'clip' (Clip): Clip bounds min -inf, max nan: each must be a number") { _ = try g.model() }
        g = GraphBuilder(seed: 1, [4])
        g.output(g.node("HardSigmoid", ["x"], "y", name: "hs", [(key: "beta", value: .float(.infinity))]), [4])
        expectError(.malformed, "node 0 'hs' (HardSigmoid): HardSigmoid alpha 0.2, beta inf: each must be finite") { _ = try g.model() }
        g = GraphBuilder(seed: 1, [4])
        g.output(g.node("Clip", ["x"], "y", name: "c", [(key: "min", value: .int(0))]), [4])
        expectError(.malformed, "node 0 'c' (Clip) attribute 'min' has type 1, expected 2") { _ = try g.model() }
    }

    @Test("Softmax and LogSoftmax over any non-batch axis", arguments: [([3, 4, 5], 1), ([3, 4, 5], 2), ([3, 4, 5], -1),
                                                                         ([4, 16], 1), ([2, 9, 11], -2), ([5], 1)])
    func softmaxAxis(dims: [Int], axis: Int) throws {
        for op in ["Softmax", "LogSoftmax"] {
            var g = GraphBuilder(seed: 43, dims)
            g.output(g.node(op, ["x"], "y", [(key: "axis", value: .int(Int64(axis)))]), dims)
            var rng = SeededGenerator(seed: 44)
            let x = rng.floats(2 * dims.reduce(1, *), in: -5...5)
            let a = axis < 0 ? axis + dims.count + 1 : axis
            let expected = Ref.softmax(x.asDouble, dims: [2] + dims, axis: a, log: op == "LogSoftmax")
            #expect(firstMismatch(try runOnce(try g.model(), batch: 2, x), expected) == nil, "\(op) axis \(axis)")
        }
    }

    @Test("LayerNormalization over the last one or two dims, with and without B",
          arguments: [([6, 10], -1, true), ([6, 10], -2, true), ([3, 4, 20], 2, false), ([33], 1, true), ([2, 3, 5], 1, false)])
    func layerNorm(dims: [Int], axis: Int, bias: Bool) throws {
        var g = GraphBuilder(seed: 45, dims)
        let a = axis < 0 ? axis + dims.count + 1 : axis
        let normalized = Array(dims[(a - 1)...])
        g.tensor("scale", normalized)
        if bias { g.tensor("b", normalized) }
        g.output(g.node("LayerNormalization", ["x", "scale", bias ? "b" : ""], "y",
                        [(key: "axis", value: .int(Int64(axis))), (key: "epsilon", value: .float(1e-3))]), dims)
        var rng = SeededGenerator(seed: 46)
        let x = rng.floats(3 * dims.reduce(1, *), in: -3...3)
        let expected = Ref.layerNorm(x.asDouble, cols: normalized.reduce(1, *), scale: g.values("scale"),
                                     bias: bias ? g.values("b") : nil, epsilon: Double(Float(1e-3)))
        #expect(firstMismatch(try runOnce(try g.model(), batch: 3, x), expected) == nil)
    }

    @Test("LayerNormalization refuses the batch axis, epsilon ≤ 0 and a Scale of the wrong shape")
    func layerNormErrors() {
        func model(axis: Int64 = -1, epsilon: Float = 1e-5, scale: [Int] = [8]) throws {
            var g = GraphBuilder(seed: 1, [8])
            g.tensor("scale", scale)
            g.output(g.node("LayerNormalization", ["x", "scale"], "y", name: "ln",
                            [(key: "axis", value: .int(axis)), (key: "epsilon", value: .float(epsilon))]), [8])
            _ = try g.model()
        }
        expectError(.unsupported, "node 0 'ln' (LayerNormalization): LayerNormalization over axis 0 of [N, 8] is not supported") { try model(axis: 0) }
        expectError(.malformed, "attribute 'epsilon' is 0.0; it must be > 0") { try model(epsilon: 0) }
        expectError(.shapeMismatch, "Scale 'scale' has shape [4]; for input [N, 8] and axis 1 it must be [8]") { try model(scale: [4]) }
        expectError(.malformed, "axis 2 is out of range for rank 2") { try model(axis: 2) }
    }
}
