import StrataCore
import StrataFormat
import StrataKernels

/// MaxPool, AveragePool and GlobalAveragePool (docs/FORMAT.md "Ops") over `[N, C, H, W]` planes.
enum PoolPlan {
    /// A sliding window (MaxPool, AveragePool).
    case window(WindowPoolPlan)
    /// The mean of each of `planes` planes of `size` values per sample.
    case globalAverage(planes: Int, size: Int)
}

/// MaxPool or AveragePool over `channels` planes per sample.
struct WindowPoolPlan {
    var channels: Int
    var window: Window2D
    var padBottom: Int, padRight: Int
    var isMax: Bool
    var countIncludePad: Bool
}

extension PlanBuilder {
    static let poolOps: Set<String> = ["MaxPool", "AveragePool", "GlobalAveragePool"]

    mutating func planPool(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        r.node.op == "GlobalAveragePool" ? try planGlobalAveragePool(r) : try planWindowPool(r)
    }

    mutating func planWindowPool(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        let (x, c, h, w) = try planes(r)
        let kernel = try r.ints("kernel_shape", count: 2, minimum: 1, default: nil)
        let (strides, pads, dilations) = try windowAttributes(r)
        let ceil = try r.flag("ceil_mode")
        let countIncludePad = r.node.op == "AveragePool" ? try r.flag("count_include_pad") : false
        for (i, p) in pads.enumerated() {
            let d = i % 2, extent = dilations[d] * (kernel[d] - 1) + 1
            guard p < extent else {
                throw r.fail(.malformed, "pads \(describeList(pads)): pad \(p) is not smaller than the window extent \(extent) of its dimension")
            }
        }
        let ho = try outputExtent(r, size: h, padBefore: pads[0], padAfter: pads[2], kernel: kernel[0], stride: strides[0],
                                  dilation: dilations[0], ceil: ceil, dim: "height")
        let wo = try outputExtent(r, size: w, padBefore: pads[1], padAfter: pads[3], kernel: kernel[1], stride: strides[1],
                                  dilation: dilations[1], ceil: ceil, dim: "width")
        let window = Window2D(h: h, w: w, kh: kernel[0], kw: kernel[1], sh: strides[0], sw: strides[1], dh: dilations[0],
                              dw: dilations[1], padTop: pads[0], padLeft: pads[1], ho: ho, wo: wo)
        let pool = WindowPoolPlan(channels: c, window: window, padBottom: pads[2], padRight: pads[3],
                                  isMax: r.node.op == "MaxPool", countIncludePad: countIncludePad)
        return try step(r, inputs: [r.node.inputs[0]], .pool(.window(pool)), inputDims: x.dims, outputs: [[c, ho, wo]])
    }

    mutating func planGlobalAveragePool(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        let x = try r.value(0)
        guard x.dims.count >= 2 else {
            throw r.fail(.shapeMismatch, "GlobalAveragePool input '\(r.node.inputs[0])' has shape \(r.full(x.dims)); it needs [N, C, spatial…]")
        }
        let out = [x.dims[0]] + [Int](repeating: 1, count: x.dims.count - 1)
        return try step(r, inputs: [r.node.inputs[0]], .pool(.globalAverage(planes: x.dims[0], size: x.count / x.dims[0])),
                        inputDims: x.dims, outputs: [out])
    }
}

extension Session {
    func runPool(_ p: PoolPlan, _ step: Step, batch: Int, _ ptr: RunBuffers) {
        let x = ptr(step.inputs[0]), y = ptr(step.outputs[0])
        switch p {
        case .window(let plan):
            pool2d_f32_simd8(x: x, y: y, planes: plan.channels * batch, window: plan.window, isMax: plan.isMax,
                       countIncludePad: plan.countIncludePad, padBottom: plan.padBottom, padRight: plan.padRight)
        case .globalAverage(let planes, let size):
            mean_rows_f32_simd8(x: x, y: y, rows: planes * batch, cols: size)
        }
    }
}
