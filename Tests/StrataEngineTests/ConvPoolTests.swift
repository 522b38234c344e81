import StrataCore
import StrataEngine
import StrataFormat
import Testing
import StrataTestSupport

/// Conv (im2row + packed GEMM), MaxPool, AveragePool, GlobalAveragePool against the Double
/// references. Tolerance: `Tolerance.f32` relative to max(1, |expected|).
struct ConvCase: Sendable, CustomTestStringConvertible {
    var c = 3, h = 7, w = 6, m = 5, kh = 3, kw = 3
    var strides = [1, 1], pads = [0, 0, 0, 0], dilations = [1, 1], group = 1
    var bias = true
    var testDescription: String { "C\(c) \(h)×\(w) M\(m) k\(kh)×\(kw) s\(strides) p\(pads) d\(dilations) g\(group)\(bias ? "" : " no bias")" }
}

let convCases: [ConvCase] = [
    ConvCase(),
    ConvCase(pads: [1, 1, 1, 1]),
    ConvCase(strides: [2, 2], pads: [1, 0, 2, 1]),
    ConvCase(h: 9, w: 10, dilations: [2, 3]),
    ConvCase(c: 4, m: 6, strides: [2, 1], pads: [2, 2, 2, 2], dilations: [2, 2], group: 2),
    ConvCase(c: 6, h: 5, w: 5, m: 6, pads: [1, 1, 1, 1], group: 6, bias: false),    // depthwise
    ConvCase(c: 4, h: 12, w: 21, m: 4, pads: [1, 2, 1, 2], group: 4),                 // depthwise, SIMD rows
    ConvCase(c: 3, h: 11, w: 19, m: 6, strides: [2, 2], pads: [1, 1, 1, 1], group: 3), // depthwise ×2, stride 2
    ConvCase(c: 4, h: 14, w: 30, m: 4, kh: 5, kw: 5, pads: [2, 2, 2, 2], dilations: [2, 1], group: 4),
    ConvCase(c: 2, h: 9, w: 40, m: 2, dilations: [1, 3], group: 2, bias: false),    // depthwise, no padding
    ConvCase(c: 16, h: 8, w: 8, m: 33, kh: 1, kw: 1),                                   // 1×1, edge panel
    ConvCase(c: 2, h: 4, w: 4, m: 17, kh: 4, kw: 4),                                    // output 1×1
    ConvCase(c: 8, h: 30, w: 30, m: 16, pads: [1, 1, 1, 1]),                            // several chunks
]

struct PoolCase: Sendable, CustomTestStringConvertible {
    var h = 7, w = 8, kernel = [3, 3], strides = [2, 2], pads = [0, 0, 0, 0], dilations = [1, 1]
    var ceil = false, countIncludePad = false
    var testDescription: String { "\(h)×\(w) k\(kernel) s\(strides) p\(pads) d\(dilations)\(ceil ? " ceil" : "")\(countIncludePad ? " count_include_pad" : "")" }
}

let poolCases: [PoolCase] = [
    PoolCase(),
    PoolCase(kernel: [2, 2], strides: [2, 2]),
    PoolCase(pads: [1, 1, 1, 1]),
    PoolCase(pads: [1, 1, 1, 1], countIncludePad: true),
    PoolCase(ceil: true),
    PoolCase(pads: [1, 0, 1, 2], ceil: true, countIncludePad: true),
    PoolCase(h: 6, w: 6, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil: true),
    PoolCase(h: 9, w: 9, kernel: [2, 3], strides: [1, 2], dilations: [2, 2]),
    PoolCase(h: 5, w: 5, kernel: [5, 5], strides: [1, 1]),
    // 2-wide, stride-2 windows: interior columns in 8 (w 40) or 4 (w 14) lanes, overlapping groups
    PoolCase(h: 6, w: 40, kernel: [2, 2], strides: [2, 2], pads: [0, 1, 1, 1], countIncludePad: true),
    PoolCase(h: 7, w: 14, kernel: [3, 2], strides: [2, 2], pads: [1, 0, 1, 0], ceil: true),
    PoolCase(h: 4, w: 27, kernel: [2, 2], strides: [2, 2], pads: [0, 1, 0, 0]),
]

@Suite("Conv and pools")
struct ConvPoolTests {
    static func convModel(_ c: ConvCase, activation: String? = nil) throws -> (Model, GraphBuilder, Int, Int) {
        var g = GraphBuilder(seed: 50, [c.c, c.h, c.w])
        let weight = g.tensor("w", [c.m, c.c / c.group, c.kh, c.kw], scale: 0.5)
        var inputs = ["x", weight]
        if c.bias { inputs.append(g.tensor("b", [c.m])) }
        var y = g.node("Conv", inputs, "conv", [(key: "strides", value: .ints(c.strides.map(Int64.init))),
                                                (key: "pads", value: .ints(c.pads.map(Int64.init))),
                                                (key: "dilations", value: .ints(c.dilations.map(Int64.init))),
                                                (key: "group", value: .int(Int64(c.group)))])
        if let activation { y = g.node(activation, [y], "act") }
        let ho = (c.h + c.pads[0] + c.pads[2] - c.dilations[0] * (c.kh - 1) - 1) / c.strides[0] + 1
        let wo = (c.w + c.pads[1] + c.pads[3] - c.dilations[1] * (c.kw - 1) - 1) / c.strides[1] + 1
        g.output(y, [c.m, ho, wo])
        return (try g.model(), g, ho, wo)
    }

    static func convReference(_ c: ConvCase, _ g: GraphBuilder, _ x: [Float], batch: Int) -> [Double] {
        Ref.conv(x.asDouble, n: batch, c: c.c, h: c.h, w: c.w, weight: g.values("w"), m: c.m, kh: c.kh, kw: c.kw,
                 bias: c.bias ? g.values("b") : nil, strides: c.strides, pads: c.pads, dilations: c.dilations, group: c.group).y
    }

    @Test("Conv matches the reference: padding, stride, dilation, groups, 1×1, depthwise", arguments: convCases)
    func conv(c: ConvCase) throws {
        let (model, g, _, _) = try Self.convModel(c)
        var rng = SeededGenerator(seed: 51)
        let batch = 3
        let x = rng.floats(batch * c.c * c.h * c.w)
        #expect(firstMismatch(try runOnce(model, batch: batch, x), Self.convReference(c, g, x, batch: batch)) == nil)
    }

    @Test("Conv+Relu and Conv+Silu are one fused step", arguments: ["Relu", "Silu"])
    func convFused(activation: String) throws {
        let c = ConvCase(pads: [1, 1, 1, 1])
        let (model, g, _, _) = try Self.convModel(c, activation: activation)
        #expect(model.steps.map(\.kind) == ["Conv+\(activation)"])
        var rng = SeededGenerator(seed: 52)
        let x = rng.floats(2 * c.c * c.h * c.w)
        let ref = Self.convReference(c, g, x, batch: 2).map { activation == "Relu" ? max($0, 0) : Ref.silu($0) }
        #expect(firstMismatch(try runOnce(model, batch: 2, x), ref) == nil)
    }

    @Test("MaxPool and AveragePool: padding, ceil_mode, count_include_pad, dilation", arguments: poolCases)
    func pool(c: PoolCase) throws {
        for op in ["MaxPool", "AveragePool"] {
            var g = GraphBuilder(seed: 53, [2, c.h, c.w])
            var attrs: [(key: String, value: AttributeValue)] = [
                (key: "kernel_shape", value: .ints(c.kernel.map(Int64.init))), (key: "strides", value: .ints(c.strides.map(Int64.init))),
                (key: "pads", value: .ints(c.pads.map(Int64.init))), (key: "dilations", value: .ints(c.dilations.map(Int64.init))),
                (key: "ceil_mode", value: .int(c.ceil ? 1 : 0))]
            if op == "AveragePool" { attrs.append((key: "count_include_pad", value: .int(c.countIncludePad ? 1 : 0))) }
            var rng = SeededGenerator(seed: 54)
            let x = rng.floats(3 * 2 * c.h * c.w)
            let ref = Ref.pool(x.asDouble, planes: 6, h: c.h, w: c.w, kernel: c.kernel, strides: c.strides, pads: c.pads,
                               dilations: c.dilations, ceil: c.ceil, isMax: op == "MaxPool", countIncludePad: c.countIncludePad)
            g.output(g.node(op, ["x"], "y", attrs), [2, ref.ho, ref.wo])
            #expect(firstMismatch(try runOnce(try g.model(), batch: 3, x), ref.y) == nil, "\(op)")
        }
    }

    @Test("GlobalAveragePool averages every plane", arguments: [[3, 5, 7], [4, 1, 1], [2, 9], [17, 3, 3, 2]])
    func globalAveragePool(dims: [Int]) throws {
        var g = GraphBuilder(seed: 55, dims)
        g.output(g.node("GlobalAveragePool", ["x"], "y"), [dims[0]] + [Int](repeating: 1, count: dims.count - 1))
        var rng = SeededGenerator(seed: 56)
        let x = rng.floats(2 * dims.reduce(1, *))
        let size = dims.dropFirst().reduce(1, *)
        let xd = x.asDouble
        var expected: [Double] = []
        for start in stride(from: 0, to: xd.count, by: size) {
            let sum: Double = xd[start..<(start + size)].reduce(0, +)
            expected.append(sum / Double(size))
        }
        #expect(firstMismatch(try runOnce(try g.model(), batch: 2, x), expected) == nil)
    }

    @Test("a small CNN (Conv-Relu-MaxPool-Conv-Relu-GlobalAveragePool-Flatten-Linear) is bitwise deterministic across batch sizes, positions and threads")
    func cnnDeterminism() throws {
        var g = GraphBuilder(seed: 57, [1, 12, 12])
        g.tensor("w1", [8, 1, 3, 3], scale: 0.5); g.tensor("b1", [8])
        g.tensor("w2", [24, 8, 3, 3], scale: 0.2); g.tensor("b2", [24])
        var h = g.node("Conv", ["x", "w1", "b1"], "c1", [(key: "pads", value: .ints([1, 1, 1, 1]))])
        h = g.node("Relu", [h], "r1")
        h = g.node("MaxPool", [h], "p1", [(key: "kernel_shape", value: .ints([2, 2])), (key: "strides", value: .ints([2, 2]))])
        h = g.node("Conv", [h, "w2", "b2"], "c2", [(key: "pads", value: .ints([1, 1, 1, 1]))])
        h = g.node("Relu", [h], "r2")
        h = g.node("GlobalAveragePool", [h], "gap")
        h = g.node("Flatten", [h], "flat", [(key: "axis", value: .int(1))])
        g.output(g.linear(h, 24, 10, name: "fc"), [10])
        let model = try g.model()
        #expect(model.steps.map(\.kind) == ["Conv+Relu", "MaxPool", "Conv+Relu", "GlobalAveragePool", "Linear"])
        try expectDeterministic(model, sampleCount: 144)
    }

    @Test("a Conv large enough to split between threads (by sample and by output chunk) is bitwise deterministic")
    func wideConvDeterminism() throws {
        // 1.8 M multiply-adds per sample: above the parallel threshold even at batch 1.
        let c = ConvCase(c: 16, h: 20, w: 20, m: 32, pads: [1, 1, 1, 1], group: 2)
        let (model, g, _, _) = try Self.convModel(c, activation: "Relu")
        try expectDeterministic(model, sampleCount: c.c * c.h * c.w)
        var rng = SeededGenerator(seed: 58)
        let x = rng.floats(2 * c.c * c.h * c.w)
        let y = try Session(model: model, threads: 2).run(batch: 2, x)
        #expect(firstMismatch(y, Self.convReference(c, g, x, batch: 2).map { max($0, 0) }) == nil)
    }

    @Test("a depthwise Conv (direct kernel) split between threads by planes is bitwise deterministic and matches the reference")
    func depthwiseDeterminism() throws {
        // 32 planes × 22·22 outputs × 9 taps ≈ 140 K multiply-adds per sample: parallel from batch 8.
        let c = ConvCase(c: 32, h: 24, w: 24, m: 32, pads: [0, 1, 0, 1], group: 32)
        let (model, g, _, _) = try Self.convModel(c, activation: "Relu")
        #expect(model.steps.map(\.kind) == ["Conv+Relu"])
        try expectDeterministic(model, sampleCount: c.c * c.h * c.w)
        var rng = SeededGenerator(seed: 61)
        let x = rng.floats(9 * c.c * c.h * c.w)
        let y = try Session(model: model, threads: 2).run(batch: 9, x)
        #expect(firstMismatch(y, Self.convReference(c, g, x, batch: 9).map { max($0, 0) }) == nil)
    }

    @Test("MaxPool keeps NaN in the 8-lane, 4-lane and one-by-one paths", arguments: [20, 9, 6])
    func maxPoolNaN(w: Int) throws {
        var g = GraphBuilder(seed: 55, [1, 4, w])
        let wo = w / 2
        g.output(g.node("MaxPool", ["x"], "y", [(key: "kernel_shape", value: .ints([2, 2])),
                                                (key: "strides", value: .ints([2, 2]))]), [1, 2, wo])
        var x = (0..<(4 * w)).map { Float($0 % 7) - 3 }
        x[1 * w + 3] = .nan           // window (0, 1)
        x[3 * w + 2 * wo - 1] = .nan  // the last window of row 1
        let y = try runOnce(try g.model(), batch: 1, x)
        for (i, v) in y.enumerated() {
            let nanExpected = i == 1 || i == 2 * wo - 1
            #expect(v.isNaN == nanExpected, "w \(w): output \(i) is \(v)")
        }
    }

    @Test("Conv and pool attribute and shape errors name the node")
    func errors() throws {
        func conv(_ attrs: [(key: String, value: AttributeValue)], weight: [Int] = [4, 3, 3, 3], input: [Int] = [3, 8, 8]) throws {
            var g = GraphBuilder(seed: 1, input)
            g.tensor("w", weight)
            g.output(g.node("Conv", ["x", "w"], "y", name: "conv", attrs), [4, 6, 6])
            _ = try g.model()
        }
        expectError(.malformed, "node 0 'conv' (Conv): attribute 'strides' is [0, 1]; each value must be in 1…") { try conv([(key: "strides", value: .ints([0, 1]))]) }
        expectError(.malformed, "attribute 'pads' has 3 values [1, 1, 1]; Conv takes 4") { try conv([(key: "pads", value: .ints([1, 1, 1]))]) }
        expectError(.malformed, "attribute 'group' is 0; it must be ≥ 1") { try conv([(key: "group", value: .int(0))]) }
        expectError(.shapeMismatch, "group 2 it must be [M, C/group, kH, kW]") { try conv([(key: "group", value: .int(2))]) }
        expectError(.shapeMismatch, "weight 'w' has shape [4, 2, 3, 3]; for input [N, 3, 8, 8] and group 1 it must be [M, 3, kH, kW]") { try conv([], weight: [4, 2, 3, 3]) }
        expectError(.shapeMismatch, "input 'x' has shape [N, 3, 8]; it needs [N, C, H, W]") { try conv([], input: [3, 8]) }
        expectError(.shapeMismatch, "is larger than the padded input height (8 + 0 + 0)") { try conv([(key: "dilations", value: .ints([4, 1]))]) }
        expectError(.shapeMismatch, "graph output 'y' is declared [N, 4, 6, 6] but the graph computes [N, 4, 8, 8]") { try conv([(key: "pads", value: .ints([1, 1, 1, 1]))]) }

        func pool(_ attrs: [(key: String, value: AttributeValue)]) throws {
            var g = GraphBuilder(seed: 1, [2, 6, 6])
            g.output(g.node("AveragePool", ["x"], "y", name: "pool", attrs), [2, 3, 3])
            _ = try g.model()
        }
        let k2: (key: String, value: AttributeValue) = (key: "kernel_shape", value: .ints([2, 2]))
        expectError(.malformed, "node 0 'pool' (AveragePool): AveragePool needs the ints attribute 'kernel_shape'") { try pool([]) }
        expectError(.malformed, "attribute 'ceil_mode' is 2; it must be 0 or 1") { try pool([k2, (key: "ceil_mode", value: .int(2))]) }
        expectError(.malformed, "pad 2 is not smaller than the window extent 2") { try pool([k2, (key: "pads", value: .ints([2, 0, 0, 0]))]) }
        expectError(.malformed, "attribute 'count_include_pad' is -1") { try pool([k2, (key: "count_include_pad", value: .int(-1))]) }
    }
}

/// Runs `model` (one input of `sampleCount` floats per sample) at several batch sizes and thread
/// counts: every sample's output is bitwise equal to the same sample run alone on one thread.
func expectDeterministic(_ model: Model, sampleCount: Int, sourceLocation: SourceLocation = #_sourceLocation) throws {
    var rng = SeededGenerator(seed: 99)
    let maxBatch = 13
    let pool = rng.floats(maxBatch * sampleCount)
    let single = try Session(model: model)
    let outCount = model.outputs.map(\.sampleCount)
    let alone = try (0..<maxBatch).map { i in try single.runAll(batch: 1, [Array(pool[(i * sampleCount)..<((i + 1) * sampleCount)])]) }
    for threads in [1, 2, 3] {
        let s = try Session(model: model, threads: threads)
        for batch in [1, 2, 7, 13] {
            let outs = try s.runAll(batch: batch, [Array(pool[0..<(batch * sampleCount)])])
            for i in 0..<batch {
                for (k, out) in outs.enumerated() {
                    let mine = out[(i * outCount[k])..<((i + 1) * outCount[k])]
                    #expect(bitwiseEqual(mine, alone[i][k][...]), "threads \(threads) batch \(batch) sample \(i) output \(k)",
                            sourceLocation: sourceLocation)
                }
            }
        }
    }
}
