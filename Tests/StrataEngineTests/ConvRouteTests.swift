import StrataCore
@testable import StrataEngine
import StrataFormat
import StrataKernels
import Testing
import StrataTestSupport

/// The stride-1 Conv routes without im2col (1×1 planes read in place; k×k on a zero-padded grid)
/// give the bits of the im2col route — `im2col_panel16_f32_simd8` + `gemm_f32_packed16_simd8`,
/// then the residual add and the activation — at any thread count and batch position.
struct ConvRouteCase: Sendable, CustomTestStringConvertible {
    var c: Int, h: Int, w: Int, m: Int, k: Int
    var pads = [0, 0, 0, 0], dilation = 1, group = 1, residual = false
    var testDescription: String {
        "C\(c) \(h)×\(w) M\(m) k\(k) p\(pads) d\(dilation) g\(group)\(residual ? " +skip" : "")"
    }
    var ho: Int { h + pads[0] + pads[2] - dilation * (k - 1) }
    /// The route the plan must pick: 1×1 unpadded → pointwise, else the padded grid.
    var pointwise: Bool { k == 1 && pads == [0, 0, 0, 0] }
    var wo: Int { w + pads[1] + pads[3] - dilation * (k - 1) }
}

let convRouteCases: [ConvRouteCase] = [
    ConvRouteCase(c: 2, h: 1, w: 1, m: 1, k: 1),                                          // 1×1 on one position (C/group 1 is depthwise)
    ConvRouteCase(c: 16, h: 15, w: 17, m: 17, k: 1),                                      // pointwise, edge panel
    ConvRouteCase(c: 17, h: 16, w: 16, m: 15, k: 1, group: 1),
    ConvRouteCase(c: 16, h: 8, w: 8, m: 16, k: 1, pads: [1, 1, 1, 1]),                    // 1×1 with padding: grid
    ConvRouteCase(c: 4, h: 17, w: 19, m: 6, k: 1, group: 2),                              // pointwise, 2 groups
    ConvRouteCase(c: 3, h: 7, w: 6, m: 5, k: 3),
    ConvRouteCase(c: 15, h: 17, w: 16, m: 16, k: 3, pads: [1, 1, 1, 1], residual: false),
    ConvRouteCase(c: 16, h: 17, w: 19, m: 16, k: 3, pads: [1, 1, 1, 1], residual: true),  // Conv+Add+Relu
    ConvRouteCase(c: 8, h: 19, w: 17, m: 8, k: 5, pads: [2, 2, 2, 2], residual: true),
    ConvRouteCase(c: 4, h: 11, w: 13, m: 6, k: 3, pads: [2, 1, 0, 2], dilation: 2, group: 2),
    ConvRouteCase(c: 2, h: 23, w: 29, m: 3, k: 5, pads: [0, 1, 2, 0]),                    // LeNet-like 5×5
    ConvRouteCase(c: 6, h: 12, w: 12, m: 16, k: 5, pads: [2, 2, 2, 2], dilation: 2),
    ConvRouteCase(c: 16, h: 20, w: 20, m: 32, k: 3, pads: [1, 1, 1, 1], group: 2),        // split between threads
    ConvRouteCase(c: 32, h: 20, w: 20, m: 32, k: 3, pads: [1, 1, 1, 1], residual: true),  // split, fused residual
]

@Suite("Conv routes without im2col")
struct ConvRouteTests {
    static func model(_ c: ConvRouteCase) throws -> (Model, GraphBuilder) {
        var g = GraphBuilder(seed: 173, [c.c, c.h, c.w])
        g.tensor("w", [c.m, c.c / c.group, c.k, c.k], scale: 0.5)
        g.tensor("b", [c.m])
        var y = g.node("Conv", ["x", "w", "b"], "conv", [(key: "pads", value: .ints(c.pads.map(Int64.init))),
                                                          (key: "dilations", value: .ints([Int64(c.dilation), Int64(c.dilation)])),
                                                          (key: "group", value: .int(Int64(c.group)))])
        if c.residual { y = g.node("Add", [y, "x"], "add") }
        y = g.node("Relu", [y], "relu")
        g.output(y, [c.m, c.ho, c.wo])
        return (try g.model(), g)
    }

    /// One sample through im2col + the packed GEMM per group, then `+ x` and ReLU (residual) or
    /// ReLU in the GEMM's epilogue.
    static func viaIm2col(_ c: ConvRouteCase, _ g: GraphBuilder, _ x: [Float]) -> [Float] {
        let window = Window2D(h: c.h, w: c.w, kh: c.k, kw: c.k, sh: 1, sw: 1, dh: c.dilation, dw: c.dilation,
                              padTop: c.pads[0], padLeft: c.pads[1], ho: c.ho, wo: c.wo)
        let cg = c.c / c.group, mg = c.m / c.group, k = cg * c.k * c.k, positions = c.ho * c.wo
        let weights = g.values("w"), bias = g.values("b")
        var y = [Float](repeating: 0, count: c.m * positions)
        var col = [Float](repeating: 0, count: Panel16.panelCount(positions) * 16 * k)
        for group in 0..<c.group {
            x.withUnsafeBufferPointer { xp in
                im2col_panel16_f32_simd8(x: xp.baseAddress! + group * cg * c.h * c.w, channels: cg, window: window, p0: 0,
                                         count: positions, out: &col)
            }
            weights.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer { yp in
                gemm_f32_packed16_simd8(x: wp.baseAddress! + group * mg * k, lda: k, packed: col, bias: nil,
                                        rowBias: bp.baseAddress! + group * mg, y: yp.baseAddress! + group * mg * positions,
                                        ldy: positions, m: mg, n: positions, k: k, activation: c.residual ? .identity : .relu)
            } } }
        }
        if c.residual { for i in y.indices { let s = y[i] + x[i]; y[i] = s < 0 ? 0 : s } }  // ReLU as the kernels: only x < 0 → 0
        return y
    }

    @Test("same bits as im2col + the packed GEMM, at 1 and 2 threads and every batch position", arguments: convRouteCases)
    func sameBitsAsIm2col(c: ConvRouteCase) throws {
        let (model, g) = try Self.model(c)
        #expect(model.steps.map(\.kind) == [c.residual ? "Conv+Add+Relu" : "Conv+Relu"])
        guard case .conv(let plan) = model.plan.steps[0].kernel else { Issue.record("not a Conv step"); return }
        if c.pointwise {
            #expect(plan.route == .pointwise)
        } else if case .paddedGrid = plan.route {} else {
            Issue.record("route \(plan.route), not the padded grid")
        }
        var rng = SeededGenerator(seed: 174)
        let batch = 3, sample = c.c * c.h * c.w, out = c.m * c.ho * c.wo
        let x = rng.floats(batch * sample)
        let expected = (0..<batch).flatMap { Self.viaIm2col(c, g, Array(x[($0 * sample)..<(($0 + 1) * sample)])) }
        for threads in [1, 2] {
            let session = try Session(model: model, threads: threads)
            let y = try session.run(batch: batch, x)
            for n in 0..<batch {
                let range = (n * out)..<((n + 1) * out)
                #expect(bitwiseEqual(y[range], expected[range]), "threads \(threads) sample \(n)")
            }
            // Alone at batch 1 (another chunking of the same sample).
            let alone = try session.run(batch: 1, Array(x[sample..<(2 * sample)]))
            #expect(bitwiseEqual(alone[...], expected[out..<(2 * out)]), "threads \(threads) sample 1 alone")
        }
    }
}
