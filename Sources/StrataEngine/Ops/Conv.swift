import StrataCore
import StrataFormat
import StrataKernels

/// Conv (docs/FORMAT.md "Ops"): 2-D convolution with strides, padding, dilation and groups, as a
/// GEMM `Y = W · Col` per group and chunk of output positions, or the direct depthwise kernel;
/// bias and a following activation run in its epilogue.
/// A 2-D convolution: per group and chunk, one GEMM `Y = W · Col` whose columns are read as
/// `route` says — in place (1×1), from a zero-padded grid (stride-1 k×k) or from im2col panels
/// in per-thread scratch (strided) — the bias (along the output channels, the GEMM's rows) and
/// activation in the GEMM's epilogue; a depthwise Conv runs the direct kernel instead.
struct ConvPlan {
    var channels: Int, outChannels: Int, group: Int
    var window: Window2D
    /// The weights as stored, `[M, C/group, kH, kW]`: the rows of the GEMM `Y = W · Col` (`M/group`
    /// rows of `K` per group), or a depthwise Conv's taps.
    var weights: UnsafePointer<Float>
    /// One input channel per group: the direct depthwise kernel (no im2col, no scratch).
    var depthwise: Bool
    var bias: UnsafePointer<Float>?
    /// The step's second input (same shape as the output) is added to the output after the bias
    /// and before the activation: a fused residual `Conv → Add(skip)` (`fuseConvResidualAdds`).
    var residual = false
    var activation: Activation
    /// Output positions per chunk at most (a multiple of 16, or all of them) on the im2col and
    /// pointwise routes (the padded grid chunks output rows: `ConvRoute.paddedGrid`); per-thread
    /// scratch is `scratchFloats` (im2col: one chunk of panels, `⌈chunk/16⌉ · 16 · K` floats; a
    /// depthwise Conv: one zero-padded input plane, `Window2D.depthwisePaddedFloats`).
    var chunk: Int
    /// How the GEMM reads its columns (`ConvRoute`).
    var route: ConvRoute = .im2col
    /// GEMM depth: `C/group · kH · kW`.
    var k: Int { channels / group * window.kh * window.kw }
    var positions: Int { window.ho * window.wo }
    var scratchFloats: Int {
        if depthwise { return window.depthwisePaddedFloats }
        switch route {
        case .im2col: return Panel16.panelCount(chunk) * 16 * k
        case .pointwise: return (pointwiseColumns.workspaceFloats + 15) / 16 * 16
        case .paddedGrid(let rows):
            let grid = PaddedGrid(self, chunkRows: rows)
            return (grid.columns.workspaceFloats + 15) / 16 * 16 + grid.paddedFloats + grid.outputFloats
        }
    }

    /// The columns of a 1×1, stride-1, unpadded Conv: the input planes of one group, read in place.
    var pointwiseColumns: IndirectColumns {
        IndirectColumns(channels: channels / group, kh: 1, kw: 1, channelPitch: window.h * window.w, rowStep: 0, columnStep: 0)
    }
}

/// How a GEMM-path Conv gets its column matrix `Col` (`K × positions`).
enum ConvRoute: Equatable {
    /// im2col panels in per-thread scratch (strides other than 1).
    case im2col
    /// A 1×1, stride-1, unpadded Conv: the input planes are `Col`; the indirect GEMM reads them in
    /// place and writes `y` directly.
    case pointwise
    /// A stride-1 k×k Conv (any padding and dilation), in chunks of this many output rows: the
    /// chunk's input rows are copied once into a zero-padded plane of row pitch
    /// `Wp = wo + (kw − 1)·dw`, where output `(oy, ox)` is grid column `oy·Wp + ox` and its column
    /// `kk = (c, ky, kx)` is `padded[c·pitch + ky·dh·Wp + kx·dw + oy·Wp + ox]`; the indirect GEMM
    /// computes the grid (its `ox ≥ wo` columns are junk) into scratch, and the `wo` real columns
    /// of each row are copied out (the residual add and activation folded in when fused).
    case paddedGrid(chunkRows: Int)
}

extension PlanBuilder {
    static let convOps: Set<String> = ["Conv"]

    /// Floats of per-thread im2col scratch a Conv aims for (1 MiB), unless a chunk of 96 positions
    /// needs more.
    static let convScratchTarget = 1 << 18

    /// Floats of output a chunk aims for (512 KiB, half an L2): a 1×1 Conv with a small K would
    /// otherwise take thousands of positions per chunk, and a thread's share of a small layer
    /// would come in one chunk.
    static let convOutputTarget = 1 << 17

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

    /// The `group` attribute of a Conv or ConvTranspose node (default 1): MALFORMED below 1.
    func convGroup(_ r: NodeReader) throws(StrataError) -> Int {
        let group = try r.int("group", default: 1)
        guard group >= 1, group <= Int64(FormatLimits.maxDim) else { throw r.fail(.malformed, "attribute 'group' is \(group); it must be ≥ 1") }
        return Int(group)
    }

    /// The optional bias (input 2) of a Conv or ConvTranspose node with `m` output channels: a
    /// stored `[m]` tensor, or nil; SHAPE_MISMATCH for any other shape.
    func convBias(_ r: NodeReader, channels m: Int) throws(StrataError) -> UnsafePointer<Float>? {
        guard let (b, p) = try r.tensor(2) else { return nil }
        guard b.dims == [m] else { throw r.fail(.shapeMismatch, "bias '\(b.name)' has shape \(describeShape(b.dims)); it must be [\(m)]") }
        return p
    }

    /// A 2-D window's `strides` (default 1, 1), `pads` (top, left, bottom, right; default 0s) and
    /// `dilations` (default 1, 1), as Conv, ConvTranspose and the pools read them.
    func windowAttributes(_ r: NodeReader) throws(StrataError) -> (strides: [Int], pads: [Int], dilations: [Int]) {
        (try r.ints("strides", count: 2, minimum: 1, default: [1, 1]),
         try r.ints("pads", count: 4, minimum: 0, default: [0, 0, 0, 0]),
         try r.ints("dilations", count: 2, minimum: 1, default: [1, 1]))
    }

    mutating func planConv(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        let (x, c, h, w) = try planes(r)
        let (wt, wp) = try r.requiredTensor(1, "a weight tensor")
        let g = try convGroup(r)
        guard wt.dims.count == 4 else {
            throw r.fail(.shapeMismatch, "weight '\(wt.name)' has shape \(describeShape(wt.dims)); it must be [M, C/group, kH, kW]")
        }
        let m = wt.dims[0], kh = wt.dims[2], kw = wt.dims[3]
        guard c % g == 0, m % g == 0, m >= 1, kh >= 1, kw >= 1, wt.dims[1] == c / g else {
            throw r.fail(.shapeMismatch, "weight '\(wt.name)' has shape \(describeShape(wt.dims)); for input \(r.full(x.dims)) and group \(g) it must be [M, \(c % g == 0 ? String(c / g) : "C/group"), kH, kW] with M and C divisible by the group")
        }
        let bp = try convBias(r, channels: m)
        let (strides, pads, dilations) = try windowAttributes(r)
        let ho = try outputExtent(r, size: h, padBefore: pads[0], padAfter: pads[2], kernel: kh, stride: strides[0], dilation: dilations[0], dim: "height")
        let wo = try outputExtent(r, size: w, padBefore: pads[1], padAfter: pads[3], kernel: kw, stride: strides[1], dilation: dilations[1], dim: "width")
        let window = Window2D(h: h, w: w, kh: kh, kw: kw, sh: strides[0], sw: strides[1], dh: dilations[0], dw: dilations[1],
                              padTop: pads[0], padLeft: pads[1], ho: ho, wo: wo)
        // The GEMM reads each group's [M/g, K] weight rows in place; im2col panels of 16 positions.
        let mg = m / g, k = c / g * kh * kw
        guard let positions = checkedMul(ho, wo), let panelK = checkedMul(k, 16), checkedMul(mg, k) != nil else {
            throw r.fail(.shapeMismatch, "weight '\(wt.name)' \(describeShape(wt.dims)) or the output \(ho)×\(wo) is too large")
        }
        let byOutput = max(16, PlanBuilder.convOutputTarget / m / 16 * 16)
        let target = max(96, min(PlanBuilder.convScratchTarget / panelK * 16, byOutput))
        let chunk = positions <= target ? positions : target
        var conv = ConvPlan(channels: c, outChannels: m, group: g, window: window, weights: wp, depthwise: c / g == 1,
                            bias: bp, activation: .identity, chunk: chunk)
        guard checkedMul(Panel16.panelCount(chunk) * 16, k) != nil else { throw r.fail(.shapeMismatch, "Conv scratch overflows") }
        if !conv.depthwise, strides == [1, 1] { conv.route = Self.strideOneRoute(conv) }
        plan.threadScratchFloats = max(plan.threadScratchFloats, conv.scratchFloats)
        return try step(r, inputs: [r.node.inputs[0]], .conv(conv), inputDims: x.dims, outputs: [[m, ho, wo]])
    }

    /// The im2col-free route of a stride-1 GEMM-path Conv: 1×1 unpadded → `.pointwise`; otherwise
    /// `.paddedGrid` with chunks of output rows whose padded input and grid output fit the scratch
    /// target (and whose output the output target), at least one row.
    static func strideOneRoute(_ conv: ConvPlan) -> ConvRoute {
        let w = conv.window
        if w.kh == 1, w.kw == 1, w.padTop == 0, w.padLeft == 0, w.ho == w.h, w.wo == w.w { return .pointwise }
        let one = PaddedGrid(conv, chunkRows: 1)
        let cg = one.channels, mg = one.outChannels
        let byScratch = (convScratchTarget / one.pitch - cg * one.halo) / (cg + mg)
        let byOutput = convOutputTarget / (conv.outChannels * one.pitch)
        let rows = max(1, min(w.ho, byScratch, byOutput))
        // A huge halo (dilation) or width: keep im2col's bounded scratch rather than overflow.
        guard let inRows = checkedMul(cg, rows + one.halo), let padded = checkedMul(inRows, one.pitch),
              let out = checkedMul(mg * rows, one.pitch), let both = checkedAdd(padded, out),
              checkedAdd(both, one.columns.workspaceFloats + 64 + 16 * mg) != nil else { return .im2col }
        return .paddedGrid(chunkRows: rows)
    }
}

extension Session {
    func runConv(_ plan: ConvPlan, _ step: Step, batch: Int, _ ptr: RunBuffers) {
        let x = ptr(step.inputs[0]), y = ptr(step.outputs[0])
        if plan.depthwise {
            runDepthwise(plan, batch: batch, x: x, y: y)
            return
        }
        let positions = plan.positions
        // Chunks of output positions, or of output rows on the padded grid.
        var units = positions, chunk = plan.chunk
        if case .paddedGrid(let rows) = plan.route { units = plan.window.ho; chunk = rows }
        let splitPool = pool(forWork: Double(batch) * Double(positions) * Double(plan.k) * Double(plan.outChannels))
        let threads = splitPool?.threads ?? 1
        if batch * ((units + chunk - 1) / chunk) < threads {
            // Few samples: smaller chunks so every thread gets some (results do not change).
            let perSample = (threads + batch - 1) / batch
            chunk = max(1, min(chunk, (units + perSample - 1) / perSample))
        }
        var job = ConvJob(plan: plan, x: x, skip: plan.residual ? UnsafePointer(ptr(step.inputs[1])) : nil, y: y,
                          batch: batch, chunk: chunk,
                          chunks: (units + chunk - 1) / chunk, threads: threads,
                          scratch: threadScratch)
        if let splitPool {
            withUnsafePointer(to: &job) { splitPool.run(context: UnsafeRawPointer($0), ConvJob.execute) }
        } else {
            job.run(0, slot: 0)
        }
    }
}

/// A Conv step's work in `threads` parts: items are (sample, chunk of output positions — of output
/// rows on the padded grid), part `i` of `t` is items `[items·i/t, items·(i+1)/t)`, computed in
/// the scratch of the thread that claims it. Each output element is computed by the same FMA chain
/// and epilogue whatever the split and the route, so results do not depend on them.
struct ConvJob {
    let plan: ConvPlan
    let x: UnsafeMutablePointer<Float>
    /// The residual added to the output (`plan.residual`), laid out as `y`, or nil.
    let skip: UnsafePointer<Float>?
    let y: UnsafeMutablePointer<Float>
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
        if case .paddedGrid(let rows) = plan.route {
            runGrid(i0..<i1, grid: PaddedGrid(plan, chunkRows: rows), slot: slot)
            return
        }
        let p = plan, w = p.window, positions = p.positions, k = p.k
        let cg = p.channels / p.group, mg = p.outChannels / p.group
        let col = scratch + slot * p.scratchFloats
        // With a residual the activation comes after the add, in the residual pass.
        let gemmActivation = skip == nil ? p.activation : .identity
        for item in i0..<i1 {
            let n = item / chunks, p0 = (item % chunks) * chunk, rows = min(chunk, positions - p0)
            let sample = x + n * p.channels * w.h * w.w
            let offset = n * p.outChannels * positions + p0
            let out = y + offset
            for g in 0..<p.group {
                if p.route == .pointwise {
                    // The group's input planes are the columns: read in place from position p0.
                    gemm_f32_indirect16_simd8(w: p.weights + g * mg * k, lda: k, b: sample + g * cg * w.h * w.w + p0,
                                              columns: p.pointwiseColumns, rowBias: p.bias.map { $0 + g * mg },
                                              y: out + g * mg * positions, ldy: positions, m: mg, n: rows,
                                              activation: gemmActivation, workspace: col)
                    continue
                }
                im2col_panel16_f32_simd8(x: sample + g * cg * w.h * w.w, channels: cg, window: w, p0: p0, count: rows, out: col)
                gemm_f32_packed16_simd8(x: p.weights + g * mg * k, lda: k, packed: col, bias: nil,
                                        rowBias: p.bias.map { $0 + g * mg }, y: out + g * mg * positions, ldy: positions,
                                        m: mg, n: rows, k: k, activation: gemmActivation)
            }
            if let skip {
                // The chunk's rows are still in cache: y += skip, then the activation, per channel.
                for c in 0..<p.outChannels {
                    let row = out + c * positions, s = skip + offset + c * positions
                    binary_f32_simd8(.add, a: row, aStep: 1, b: s, bStep: 1, y: row, count: rows)
                    if p.activation != .identity { activation_f32_simd8(x: row, y: row, count: rows, activation: p.activation) }
                }
            }
        }
    }
}

extension PlanBuilder {
    /// Fuses a Conv (GEMM path, no activation yet) with the Add right after it that adds a value
    /// of the same shape to its output — a residual block's `Conv → Add(skip)` — when the Conv's
    /// output feeds only that Add: one step `Conv+Add` whose epilogue adds the skip value to each
    /// chunk of output while it is in cache (the Add's own pass over memory goes away). A
    /// following activation then fuses as usual (`Conv+Add+Relu`). Each output is rounded as in
    /// the unfused plan — `(Σ + bias)`, then `+ skip`, then the activation — so both plans give
    /// the same bits.
    func fuseConvResidualAdds(_ ops: [PlannedOp]) -> [PlannedOp] {
        var ops = ops
        var fusedAway = Set<Int>()
        for i in ops.indices {
            guard i + 1 < ops.count,
                  case .step(let addInputs, let addOutputs, let addScratch, .binary(.add, let bp)) = ops[i + 1].kind,
                  addScratch.isEmpty, bp.aConstant == nil, bp.bConstant == nil, addInputs.count == 2,
                  case .step(let inputs, let outputs, let scratch, .conv(var conv)) = ops[i].kind,
                  !conv.depthwise, !conv.residual, conv.activation == .identity, inputs.count == 1,
                  outputs.count == 1, let y = outputs.first, addInputs.contains(y),
                  useCount[y] == 1, !file.outputs.contains(where: { $0.name == y }) else { continue }
            let skip = addInputs[0] == y ? addInputs[1] : addInputs[0]
            guard skip != y, let sv = values[skip], let yv = values[y], sv.dims == yv.dims else { continue }
            conv.residual = true
            ops[i + 1].kind = .step(inputs: inputs + [skip], outputs: addOutputs, scratch: scratch, kernel: .conv(conv))
            ops[i + 1].label = ops[i].label + "+" + ops[i + 1].label
            ops[i + 1].nodeNames = ops[i].nodeNames + ops[i + 1].nodeNames
            ops[i + 1].inputDims = ops[i].inputDims
            fusedAway.insert(i)
        }
        return ops.indices.filter { !fusedAway.contains($0) }.map { ops[$0] }
    }
}
