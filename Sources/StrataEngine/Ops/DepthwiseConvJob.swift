import StrataKernels

// The depthwise Conv (one input channel per group): `ConvPlan.depthwise` steps, run by
// `Session.runConv` through `runDepthwise`, one direct-kernel plane at a time
// (StrataKernels/SIMD/DepthwiseConv.swift).

extension Session {
    /// A depthwise Conv: one direct-kernel plane per (sample, output channel), split between
    /// threads by planes.
    func runDepthwise(_ plan: ConvPlan, batch: Int, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let splitPool = pool(forWork: Double(batch) * Double(plan.positions) * Double(plan.k) * Double(plan.outChannels))
        var job = DepthwiseJob(plan: plan, x: x, y: y, planes: batch * plan.outChannels, threads: splitPool?.threads ?? 1,
                               scratch: threadScratch)
        if let splitPool {
            withUnsafePointer(to: &job) { splitPool.run(context: UnsafeRawPointer($0), DepthwiseJob.execute) }
        } else {
            job.run(0, slot: 0)
        }
    }
}

/// A depthwise Conv step's planes in `threads` parts: part `i` of `t` is planes
/// `[planes·i/t, planes·(i+1)/t)` of the `batch × outChannels` output planes. Each plane is
/// computed by the same code whatever the split, so results do not depend on it.
struct DepthwiseJob {
    let plan: ConvPlan
    let x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>
    let planes: Int, threads: Int
    /// Session scratch: the thread in slot `i` pads each plane into the `plan.scratchFloats`
    /// floats at `i · plan.scratchFloats`.
    let scratch: UnsafeMutablePointer<Float>

    static let execute: ThreadPool.JobFunction = { context, part, slot in
        context.assumingMemoryBound(to: DepthwiseJob.self).pointee.run(part, slot: slot)
    }

    /// Computes part `index` of `threads`, in the scratch of thread slot `slot`.
    func run(_ index: Int, slot: Int) {
        let p = plan, w = p.window, taps = p.weights, padded = scratch + slot * p.scratchFloats
        let perGroup = p.outChannels / p.group, inPlane = w.h * w.w, outPlane = w.ho * w.wo, k = w.kh * w.kw
        for plane in (planes * index / threads)..<(planes * (index + 1) / threads) {
            let n = plane / p.outChannels, oc = plane % p.outChannels
            depthwise_conv2d_f32_simd8(x: x + (n * p.channels + oc / perGroup) * inPlane, taps: taps + oc * k,
                                 bias: p.bias?[oc], y: y + plane * outPlane, window: w, activation: p.activation,
                                       scratch: padded, paddingReady: plane > planes * index / threads)
        }
    }
}
