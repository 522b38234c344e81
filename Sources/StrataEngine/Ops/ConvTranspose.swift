import StrataCore
import StrataFormat
import StrataKernels

/// ConvTranspose (docs/FORMAT.md "Ops (1.5)"): the transposed 2-D convolution of autoencoders and
/// decoders (PyTorch `ConvTranspose2d`, and `ConvTranspose1d` through a unit height), with
/// strides, pads, dilations, groups and output padding, one sample at a time through
/// `conv_transpose2d_f32`; the bias is added in the kernel, an activation after it is its own step.
struct ConvTransposePlan {
    var channels: Int, outChannels: Int, group: Int
    /// Input `h × w`, output `ho × wo`, taps, strides, dilations, top/left pads.
    var window: Window2D
    /// The weights as stored, `[C, M/group, kH, kW]`.
    var weights: UnsafePointer<Float>
    var bias: UnsafePointer<Float>?
}

extension PlanBuilder {
    static let convTransposeOps: Set<String> = ["ConvTranspose"]

    mutating func planConvTranspose(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        let (x, c, h, w) = try planes(r)
        let (wt, wp) = try r.requiredTensor(1, "a weight tensor")
        let g = try convGroup(r)
        guard wt.dims.count == 4, wt.dims[0] == c, c % g == 0, wt.dims[1] >= 1, wt.dims[2] >= 1, wt.dims[3] >= 1 else {
            throw r.fail(.shapeMismatch, "weight '\(wt.name)' has shape \(describeShape(wt.dims)); for input \(r.full(x.dims)) and group \(g) it must be [\(c), M/group, kH, kW] with \(c) divisible by the group")
        }
        let m = wt.dims[1] * g, kh = wt.dims[2], kw = wt.dims[3]
        let bp = try convBias(r, channels: m)
        let (strides, pads, dilations) = try windowAttributes(r)
        let extra = try r.ints("output_padding", count: 2, minimum: 0, default: [0, 0])
        for d in 0..<2 where extra[d] >= max(strides[d], dilations[d]) {
            throw r.fail(.malformed, "output_padding \(describeList(extra)): \(extra[d]) must be smaller than the stride or the dilation of its dimension (\(max(strides[d], dilations[d])))")
        }
        // (size − 1)·stride − pads + dilation·(kernel − 1) + output_padding + 1, in checked arithmetic.
        func extent(_ size: Int, _ d: Int, _ kernel: Int, _ name: String) throws(StrataError) -> Int {
            guard let span = checkedMul(size - 1, strides[d]), let taps = checkedMul(dilations[d], kernel - 1),
                  let total = checkedAdd(span, taps + extra[d] + 1) else {
                throw r.fail(.shapeMismatch, "the output \(name) overflows")
            }
            let out = total - pads[d] - pads[d + 2]
            guard out >= 1 else {
                throw r.fail(.shapeMismatch, "the output \(name) is \(out): pads \(describeList(pads)) remove more than the transposed convolution produces (\(total))")
            }
            return out
        }
        let ho = try extent(h, 0, kh, "height"), wo = try extent(w, 1, kw, "width")
        let window = Window2D(h: h, w: w, kh: kh, kw: kw, sh: strides[0], sw: strides[1], dh: dilations[0], dw: dilations[1],
                              padTop: pads[0], padLeft: pads[1], ho: ho, wo: wo)
        let plan = ConvTransposePlan(channels: c, outChannels: m, group: g, window: window, weights: wp, bias: bp)
        return try step(r, inputs: [r.node.inputs[0]], .convTranspose(plan), inputDims: x.dims, outputs: [[m, ho, wo]])
    }
}

extension Session {
    func runConvTranspose(_ p: ConvTransposePlan, _ step: Step, batch: Int, _ ptr: RunBuffers) {
        let x = ptr(step.inputs[0]), y = ptr(step.outputs[0]), g = p.window
        let inSample = p.channels * g.h * g.w, outSample = p.outChannels * g.ho * g.wo
        for n in 0..<batch {
            conv_transpose2d_f32(x: x + n * inSample, channels: p.channels, weights: p.weights, bias: p.bias,
                                 y: y + n * outSample, outChannels: p.outChannels, group: p.group, window: g)
        }
    }
}
