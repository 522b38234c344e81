import StrataCore
import StrataFormat
import StrataKernels

/// Conv, MaxPool, AveragePool and GlobalAveragePool (docs/FORMAT.md "Ops (1.2)").
extension PlanBuilder {
    /// Floats of per-thread im2col scratch a Conv aims for (1 MiB), unless a chunk of 96 positions
    /// needs more.
    static let convScratchTarget = 1 << 18

    /// `[C, H, W]` of a 4-D input value.
    func planes(_ r: NodeReader) throws(StrataError) -> (ValueState, c: Int, h: Int, w: Int) {
        let x = try r.value(0)
        guard x.dims.count == 3 else {
            throw r.fail(.shapeMismatch, "\(r.node.op) input '\(r.node.inputs[0])' has shape \(r.full(x.dims)); it needs [N, C, H, W]")
        }
        return (x, x.dims[0], x.dims[1], x.dims[2])
    }

    /// Output extent of a window: `⌊(size + pads − extent)/stride⌋ + 1` (or ⌈⌉ with `ceil`, not
    /// starting a window past the padded input), ≥ 1.
    func outputExtent(_ r: NodeReader, size: Int, padBefore: Int, padAfter: Int, kernel: Int, stride: Int, dilation: Int,
                      ceil: Bool = false, dim: String) throws(StrataError) -> Int {
        let extent = dilation * (kernel - 1) + 1
        let span = size + padBefore + padAfter - extent
        guard span >= 0 else {
            throw r.fail(.shapeMismatch, "the window (extent \(extent) = dilation \(dilation) × (kernel \(kernel) − 1) + 1) is larger than the padded input \(dim) (\(size) + \(padBefore) + \(padAfter))")
        }
        var out = (ceil ? (span + stride - 1) / stride : span / stride) + 1
        if ceil && (out - 1) * stride >= size + padBefore { out -= 1 }
        return out
    }

    mutating func inferConv(_ r: NodeReader, index: Int) throws(StrataError) -> PlannedOp {
        let (x, c, h, w) = try planes(r)
        let (wt, wp) = try r.requiredTensor(1, "a weight tensor")
        let group = try r.int("group", default: 1)
        guard group >= 1, group <= Int64(FormatLimits.maxDim) else { throw r.fail(.malformed, "attribute 'group' is \(group); it must be ≥ 1") }
        let g = Int(group)
        guard wt.dims.count == 4 else {
            throw r.fail(.shapeMismatch, "weight '\(wt.name)' has shape \(describeShape(wt.dims)); it must be [M, C/group, kH, kW]")
        }
        let m = wt.dims[0], kh = wt.dims[2], kw = wt.dims[3]
        guard c % g == 0, m % g == 0, m >= 1, kh >= 1, kw >= 1, wt.dims[1] == c / g else {
            throw r.fail(.shapeMismatch, "weight '\(wt.name)' has shape \(describeShape(wt.dims)); for input \(r.full(x.dims)) and group \(g) it must be [M, \(c % g == 0 ? String(c / g) : "C/group"), kH, kW] with M and C divisible by the group")
        }
        var bp: UnsafePointer<Float>? = nil
        if let (b, p) = try r.tensor(2) {
            guard b.dims == [m] else { throw r.fail(.shapeMismatch, "bias '\(b.name)' has shape \(describeShape(b.dims)); it must be [\(m)]") }
            bp = p
        }
        let strides = try r.ints("strides", count: 2, minimum: 1, default: [1, 1])
        let pads = try r.ints("pads", count: 4, minimum: 0, default: [0, 0, 0, 0])
        let dilations = try r.ints("dilations", count: 2, minimum: 1, default: [1, 1])
        let ho = try outputExtent(r, size: h, padBefore: pads[0], padAfter: pads[2], kernel: kh, stride: strides[0], dilation: dilations[0], dim: "height")
        let wo = try outputExtent(r, size: w, padBefore: pads[1], padAfter: pads[3], kernel: kw, stride: strides[1], dilation: dilations[1], dim: "width")
        let window = Window2D(h: h, w: w, kh: kh, kw: kw, sh: strides[0], sw: strides[1], dh: dilations[0], dw: dilations[1],
                              padTop: pads[0], padLeft: pads[1], ho: ho, wo: wo)
        // The GEMM reads each group's [M/g, K] weight rows in place; im2col panels of 16 positions.
        let mg = m / g, k = c / g * kh * kw
        guard let positions = checkedMul(ho, wo), let panelK = checkedMul(k, 16), checkedMul(mg, k) != nil else {
            throw r.fail(.shapeMismatch, "weight '\(wt.name)' \(describeShape(wt.dims)) or the output \(ho)×\(wo) is too large")
        }
        let target = max(96, PlanBuilder.convScratchTarget / panelK * 16)
        let chunk = positions <= target ? positions : target
        let conv = ConvPlan(channels: c, outChannels: m, group: g, window: window, weights: wp, depthwise: c / g == 1,
                            bias: bp, activation: .identity, chunk: chunk)
        guard checkedMul(Panel16.panelCount(chunk) * 16, k) != nil else { throw r.fail(.shapeMismatch, "Conv scratch overflows") }
        plan.threadScratchFloats = max(plan.threadScratchFloats, conv.scratchFloats)
        return try finish(r, index: index, kind: opKind(r, inputs: [r.node.inputs[0]], .conv(conv)),
                          inputDims: x.dims, outputs: [[m, ho, wo]])
    }

    mutating func inferPool(_ r: NodeReader, index: Int) throws(StrataError) -> PlannedOp {
        let (x, c, h, w) = try planes(r)
        let kernel = try r.ints("kernel_shape", count: 2, minimum: 1, default: nil)
        let strides = try r.ints("strides", count: 2, minimum: 1, default: [1, 1])
        let pads = try r.ints("pads", count: 4, minimum: 0, default: [0, 0, 0, 0])
        let dilations = try r.ints("dilations", count: 2, minimum: 1, default: [1, 1])
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
        let pool = PoolPlan(channels: c, window: window, padBottom: pads[2], padRight: pads[3],
                            isMax: r.node.op == "MaxPool", countIncludePad: countIncludePad)
        return try finish(r, index: index, kind: opKind(r, inputs: [r.node.inputs[0]], .pool(pool)),
                          inputDims: x.dims, outputs: [[c, ho, wo]])
    }

    mutating func inferGlobalAveragePool(_ r: NodeReader, index: Int) throws(StrataError) -> PlannedOp {
        let x = try r.value(0)
        guard x.dims.count >= 2 else {
            throw r.fail(.shapeMismatch, "GlobalAveragePool input '\(r.node.inputs[0])' has shape \(r.full(x.dims)); it needs [N, C, spatial…]")
        }
        let out = [x.dims[0]] + [Int](repeating: 1, count: x.dims.count - 1)
        return try finish(r, index: index, kind: opKind(r, inputs: [r.node.inputs[0]],
                                                         .globalAveragePool(planes: x.dims[0], size: x.count / x.dims[0])),
                          inputDims: x.dims, outputs: [out])
    }
}
