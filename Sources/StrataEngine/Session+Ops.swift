import StrataCore
import StrataKernels

/// Running the steps of format 1.2 (`OpStep`). Everything a step needs was sized at load: the
/// arena (per-sample scratch) and `threadScratch` (per thread), so a run allocates nothing.
extension Session {
    func run(_ op: OpStep, batch: Int, _ ptr: RunBuffers) {
        switch op.kernel {
        case .binary(let f, let plan):
            // Value operands are `op.inputs` in order; a tensor operand is in the plan.
            let a = plan.aConstant ?? UnsafePointer(ptr(op.inputs[0]))
            let b = plan.bConstant ?? UnsafePointer(ptr(op.inputs[plan.aConstant == nil ? 1 : 0]))
            let y = ptr(op.outputs[0])
            for n in 0..<batch {
                Session.broadcast(f, plan, dim: 0, a + n * plan.aBatchStride, b + n * plan.bBatchStride, y + n * plan.count)
            }
        case .softmaxAxis(let outer, let n, let inner, let log):
            softmax_strided_f32_simd8(x: ptr(op.inputs[0]), y: ptr(op.outputs[0]), outer: outer * batch, n: n, inner: inner, log: log)
        case .layerNorm(let rows, let cols, let scale, let bias, let epsilon):
            layernorm_f32_simd8(x: ptr(op.inputs[0]), y: ptr(op.outputs[0]), rows: rows * batch, cols: cols,
                                scale: scale, bias: bias, epsilon: epsilon)
        case .conv(let plan):
            runConv(plan, batch: batch, x: ptr(op.inputs[0]), y: ptr(op.outputs[0]))
        case .pool(let plan):
            pool2d_f32(x: ptr(op.inputs[0]), y: ptr(op.outputs[0]), planes: plan.channels * batch, window: plan.window,
                       isMax: plan.isMax, countIncludePad: plan.countIncludePad, padBottom: plan.padBottom, padRight: plan.padRight)
        case .globalAveragePool(let planes, let size):
            mean_rows_f32_simd8(x: ptr(op.inputs[0]), y: ptr(op.outputs[0]), rows: planes * batch, cols: size)
        case .recurrent(let plan):
            runRecurrent(plan, op, batch: batch, ptr)
        }
    }

    /// One sample's broadcast, dims `dim…` (the last through `binary_f32_simd8`).
    static func broadcast(_ f: BinaryOp, _ plan: BroadcastPlan, dim: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
                          _ y: UnsafeMutablePointer<Float>) {
        let n = plan.dims[dim]
        if dim == plan.dims.count - 1 {
            binary_f32_simd8(f, a: a, aStep: plan.aStrides[dim], b: b, bStep: plan.bStrides[dim], y: y, count: n)
            return
        }
        let ys = plan.yStrides[dim], as_ = plan.aStrides[dim], bs = plan.bStrides[dim]
        for i in 0..<n { broadcast(f, plan, dim: dim + 1, a + i * as_, b + i * bs, y + i * ys) }
    }

    // MARK: Conv

    private func runConv(_ plan: ConvPlan, batch: Int, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>) {
        if plan.depthwise {
            runDepthwise(plan, batch: batch, x: x, y: y)
            return
        }
        let positions = plan.positions
        var chunk = plan.chunk
        let splitPool = pool(forWork: Double(batch) * Double(positions) * Double(plan.k) * Double(plan.outChannels))
        let threads = splitPool?.threads ?? 1
        if batch * ((positions + chunk - 1) / chunk) < threads {
            // Few samples: smaller chunks so every thread gets some (results do not change).
            let perSample = (threads + batch - 1) / batch
            chunk = max(1, min(chunk, (positions + perSample - 1) / perSample))
        }
        var job = ConvJob(plan: plan, x: x, y: y, batch: batch, chunk: chunk,
                          chunks: (positions + chunk - 1) / chunk, threads: threads,
                          scratch: threadScratch)
        if let splitPool {
            withUnsafePointer(to: &job) { splitPool.run(context: UnsafeRawPointer($0), ConvJob.execute) }
        } else {
            job.run(0, slot: 0)
        }
    }

    /// A depthwise Conv: one direct-kernel plane per (sample, output channel), split between
    /// threads by planes.
    private func runDepthwise(_ plan: ConvPlan, batch: Int, x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>) {
        let splitPool = pool(forWork: Double(batch) * Double(plan.positions) * Double(plan.k) * Double(plan.outChannels))
        var job = DepthwiseJob(plan: plan, x: x, y: y, planes: batch * plan.outChannels, threads: splitPool?.threads ?? 1)
        if let splitPool {
            withUnsafePointer(to: &job) { splitPool.run(context: UnsafeRawPointer($0), DepthwiseJob.execute) }
        } else {
            job.run(0, slot: 0)
        }
    }

    // MARK: Recurrent

    private func runRecurrent(_ plan: RecurrentPlan, _ op: OpStep, batch: Int, _ ptr: RunBuffers) {
        let hidden = plan.hidden, t = plan.steps, gh = plan.gates * hidden, sc = plan.stateColumns
        let x = ptr(op.inputs[0])
        var nextInput = 1
        let h0: UnsafeMutablePointer<Float>? = plan.hasH0 ? ptr(op.inputs[nextInput]) : nil
        if plan.hasH0 { nextInput += 1 }
        let c0: UnsafeMutablePointer<Float>? = plan.hasC0 ? ptr(op.inputs[nextInput]) : nil
        let y = ptr(op.outputs[0])
        let h = ptr(op.outputs[1])  // Y_h holds the running state
        let c: UnsafeMutablePointer<Float>? = op.outputs.count > 2 ? ptr(op.outputs[2]) : nil  // Y_c likewise
        let xg = ptr(op.scratch[0]), hr = ptr(op.scratch[1])
        let rh: UnsafeMutablePointer<Float>? = op.scratch.count > 2 ? ptr(op.scratch[2]) : nil
        let hh = rh.map { $0 + batch * hidden }
        // X·Wᵀ (+ biases) for every step at once.
        linear(x: x, packed: plan.w, bias: plan.xBias, y: xg, m: batch * t, n: gh, k: plan.inputSize, activation: .identity)
        if let h0 { h.update(from: h0, count: batch * hidden) } else { h.update(repeating: 0, count: batch * hidden) }
        if let c { if let c0 { c.update(from: c0, count: batch * hidden) } else { c.update(repeating: 0, count: batch * hidden) } }
        for step in 0..<t {
            linear(x: h, packed: plan.r, bias: plan.hBias, y: hr, m: batch, n: sc, k: hidden, activation: .identity)
            @inline(__always) func rows(_ n: Int) -> (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) {
                (xg + (n * t + step) * gh, y + (n * t + step) * hidden)
            }
            switch plan.cell {
            case .rnn(let activation):
                for n in 0..<batch {
                    let (g, out) = rows(n)
                    rnn_cell_f32(xg: g, hr: hr + n * sc, h: h + n * hidden, y: out, hidden: hidden, activation: activation)
                }
            case .gru(let linearBeforeReset):
                if !linearBeforeReset, let rh, let hh, let rhPacked = plan.rh {
                    for n in 0..<batch {
                        gru_reset_f32(xg: rows(n).0, hr: hr + n * sc, h: h + n * hidden, rh: rh + n * hidden, hidden: hidden)
                    }
                    linear(x: rh, packed: rhPacked, bias: nil, y: hh, m: batch, n: hidden, k: hidden, activation: .identity)
                }
                for n in 0..<batch {
                    let (g, out) = rows(n)
                    gru_cell_f32(xg: g, hr: hr + n * sc, hh: linearBeforeReset ? nil : UnsafePointer(hh! + n * hidden),
                                 h: h + n * hidden, y: out, hidden: hidden)
                }
            case .lstm:
                for n in 0..<batch {
                    let (g, out) = rows(n)
                    lstm_cell_f32(xg: g, hr: hr + n * sc, h: h + n * hidden, c: c! + n * hidden, y: out, hidden: hidden)
                }
            }
        }
    }
}

/// A Conv step's work in `threads` parts: items are (sample, chunk of output positions), part
/// `i` of `t` is items `[items·i/t, items·(i+1)/t)`, computed in the scratch of the thread that
/// claims it. Each output element is computed by the same code whatever the split, so results
/// do not depend on it.
struct ConvJob {
    let plan: ConvPlan
    let x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>
    let batch: Int, chunk: Int, chunks: Int, threads: Int
    /// Session scratch: the thread in slot `i` uses `plan.scratchFloats` floats at
    /// `i · plan.scratchFloats` (the session holds `threads · Plan.threadScratchFloats`, the largest any step needs).
    let scratch: UnsafeMutablePointer<Float>

    static let execute: ThreadPool.JobFunction = { context, part, slot in
        context.assumingMemoryBound(to: ConvJob.self).pointee.run(part, slot: slot)
    }

    /// Computes part `index` of `threads`, in the scratch of thread slot `slot`.
    func run(_ index: Int, slot: Int) {
        let items = batch * chunks
        let i0 = items * index / threads, i1 = items * (index + 1) / threads
        guard i1 > i0 else { return }
        let p = plan, w = p.window, positions = p.positions, k = p.k
        let cg = p.channels / p.group, mg = p.outChannels / p.group
        let col = scratch + slot * p.scratchFloats
        for item in i0..<i1 {
            let n = item / chunks, p0 = (item % chunks) * chunk, rows = min(chunk, positions - p0)
            let sample = x + n * p.channels * w.h * w.w
            let out = y + n * p.outChannels * positions + p0
            for g in 0..<p.group {
                im2col_panel16_f32(x: sample + g * cg * w.h * w.w, channels: cg, window: w, p0: p0, count: rows, out: col)
                gemm_f32_packed16_simd8(x: p.weights + g * mg * k, lda: k, packed: col, bias: nil,
                                        y: out + g * mg * positions, ldy: positions, m: mg, n: rows, k: k,
                                        activation: .identity)
            }
            bias_rows_activation_f32(y: out, ldy: positions, rows: p.outChannels, cols: rows, bias: p.bias,
                                     activation: p.activation)
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

    static let execute: ThreadPool.JobFunction = { context, part, slot in
        context.assumingMemoryBound(to: DepthwiseJob.self).pointee.run(part, slot: slot)
    }

    /// Computes part `index` of `threads` (`slot` unused: no scratch).
    func run(_ index: Int, slot: Int) {
        let p = plan, w = p.window, taps = p.weights
        let perGroup = p.outChannels / p.group, inPlane = w.h * w.w, outPlane = w.ho * w.wo, k = w.kh * w.kw
        for plane in (planes * index / threads)..<(planes * (index + 1) / threads) {
            let n = plane / p.outChannels, oc = plane % p.outChannels
            depthwise_conv2d_f32(x: x + (n * p.channels + oc / perGroup) * inPlane, taps: taps + oc * k,
                                 bias: p.bias?[oc], y: y + plane * outPlane, window: w, activation: p.activation)
        }
    }
}
