import StrataCore
import StrataFormat
import StrataKernels

/// Linear: `y = x · wᵀ + bias` over the last dimension (docs/FORMAT.md "Ops"). W is packed once at
/// load into panel16 form (f32), or used in place when the file stores it packed and quantized;
/// an activation after it fuses into the GEMM's epilogue.
struct LinearPlan {
    /// W in panel16 layout (any weight encoding).
    var weights: PackedWeights
    var bias: UnsafePointer<Float>?
    /// Rows per sample (the product of the input's dims before the last), output and input features.
    var rowsPerSample: Int, n: Int, k: Int
    var activation: Activation
}

extension PlanBuilder {
    static let linearOps: Set<String> = ["Linear"]

    mutating func planLinear(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        let x = try r.value(0)
        guard let (w, wp) = try r.weightTensor(1) else { throw r.fail(.malformed, "Linear needs a weight tensor") }
        guard let k = x.dims.last else {
            throw r.fail(.shapeMismatch, "Linear input '\(r.node.inputs[0])' has shape \(r.full(x.dims)); it needs a feature dimension after the batch")
        }
        guard w.dims.count == 2, w.dims[1] == k, w.dims[0] >= 1 else {
            throw r.fail(.shapeMismatch, "weight '\(w.name)' has shape \(describeShape(w.dims)); for input \(r.full(x.dims)) it must be [out_features, \(k)]")
        }
        let n = w.dims[0]
        var bp: UnsafePointer<Float>? = nil
        if let (b, p) = try r.tensor(2) {
            guard b.dims == [n] else {
                throw r.fail(.shapeMismatch, "bias '\(b.name)' has shape \(describeShape(b.dims)); it must be [\(n)]")
            }
            bp = p
        }
        var out = x.dims
        out[out.count - 1] = n
        let plan = LinearPlan(weights: try packedWeights(w, wp, n: n, k: k), bias: bp, rowsPerSample: x.count / max(k, 1),
                              n: n, k: k, activation: .identity)
        return try step(r, inputs: [r.node.inputs[0]], .linear(plan), inputDims: x.dims, outputs: [out])
    }

    /// W (`[n, k]`) as the GEMM reads it: f32 row-major packed once here into panel16 form, owned by
    /// the plan; a packed weight of any encoding used in place in the mapped file.
    mutating func packedWeights(_ t: TensorDescriptor, _ p: UnsafeRawPointer, n: Int, k: Int) throws(StrataError) -> PackedWeights {
        if t.tensorLayout != .rowMajor {
            let weights = try PlanBuilder.inPlaceWeights(t, p, n: n, k: k)
            if weights.kind != .f32 { plan.gemmScratchFloats = gemmWorkspaceFloats }
            return weights
        }
        guard t.dtype == .f32 else {
            throw StrataError(.unsupported, "weight '\(t.name)' has dtype \(t.dtype) in layout \(t.tensorLayout); only f32 weights may be stored row-major")
        }
        guard let count = Panel16.packedCount(n: n, k: k) else {
            throw StrataError(.shapeMismatch, "weight '\(t.name)' \(describeShape(t.dims)) is too large to pack")
        }
        let buffer = try OwnedFloats(count: count)
        pack_f32_panel16(w: p.assumingMemoryBound(to: Float.self), n: n, k: k, out: buffer.pointer)
        plan.owned.append(buffer)
        return PackedWeights(kind: .f32, values: UnsafeRawPointer(buffer.pointer))
    }

    /// A panel16 weight of any encoding as the kernels read it, in place in the mapped file: the
    /// values region, and the scales region after it (`QuantizedPanel16`). An int8 weight in
    /// layout panel16k4 runs the dynamic-int8 GEMM (docs/FORMAT.md "Dynamic int8").
    static func inPlaceWeights(_ t: TensorDescriptor, _ p: UnsafeRawPointer, n: Int, k: Int) throws(StrataError) -> PackedWeights {
        guard let kind = PackedWeights.Kind(dtype: t.dtype, layout: t.tensorLayout) else {
            throw StrataError(.unsupported, "weight '\(t.name)' has dtype \(t.dtype), which Linear does not support")
        }
        guard let layout = QuantizedPanel16(dtype: t.dtype, layout: t.tensorLayout, n: n, k: k) else {
            throw StrataError(.shapeMismatch, "weight '\(t.name)' \(describeShape(t.dims)) is too large")
        }
        return PackedWeights(kind: kind, values: p, scales: layout.scaleBytes > 0 ? p + layout.scalesOffset : nil)
    }
}

extension Session {
    func runLinear(_ p: LinearPlan, _ step: Step, batch: Int, _ ptr: RunBuffers) {
        linear(x: ptr(step.inputs[0]), packed: p.weights, bias: p.bias, y: ptr(step.outputs[0]), m: p.rowsPerSample * batch,
               n: p.n, k: p.k, activation: p.activation)
    }

    /// One GEMM `y = act(x · wᵀ + bias)` of `m` rows, on the calling thread or split between the
    /// pool's threads (`GemmJob`). Linear steps and the recurrent layers' products run through it.
    @inline(__always)
    func linear(x: UnsafeMutablePointer<Float>, packed: PackedWeights, bias: UnsafePointer<Float>?,
                y: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, activation: Activation) {
        guard let pool = pool(forWork: Double(m) * Double(n) * Double(k)) else {
            gemm_packed16_simd8(x: x, lda: k, weights: packed, bias: bias, y: y, ldy: n, m: m, n: n, k: k,
                                activation: activation, workspace: workspace)
            return
        }
        var job = GemmJob(x: x, packed: packed, bias: bias, y: y, m: m, n: n, k: k, activation: activation,
                          threads: pool.threads, workspace: workspace, workspaceStride: model.plan.gemmScratchFloats)
        withUnsafePointer(to: &job) { pool.run(context: UnsafeRawPointer($0), GemmJob.execute) }
    }
}

/// One of `threads` parts of a Linear step: by rows (multiples of 6, the tile height) when there are
/// enough, else by 16-wide panels of output features. Every output element is computed by the
/// same code whatever the split, so results do not depend on the thread count.
struct GemmJob {
    let x: UnsafeMutablePointer<Float>, packed: PackedWeights, bias: UnsafePointer<Float>?
    let y: UnsafeMutablePointer<Float>
    let m: Int, n: Int, k: Int
    let activation: Activation
    let threads: Int
    /// GEMM scratch, `workspaceStride` floats per thread, the thread in slot `i` at
    /// `i · workspaceStride`; nil when the weights need none.
    let workspace: UnsafeMutablePointer<Float>?
    let workspaceStride: Int

    static let execute: ThreadPool.JobFunction = { context, part, slot in
        context.assumingMemoryBound(to: GemmJob.self).pointee.run(part, slot: slot)
    }

    /// Computes part `index` of `threads`, with the scratch of thread slot `slot`.
    func run(_ index: Int, slot: Int) {
        let t = threads, panels = Panel16.panelCount(n)
        if m >= 12 * t || panels < t {
            let tiles = (m + 5) / 6
            let r0 = min(m, (tiles * index / t) * 6), r1 = min(m, (tiles * (index + 1) / t) * 6)
            guard r1 > r0 else { return }
            gemm_packed16_simd8(x: x + r0 * k, lda: k, weights: packed, bias: bias, y: y + r0 * n, ldy: n,
                                m: r1 - r0, n: n, k: k, activation: activation,
                                workspace: workspace.map { $0 + slot * workspaceStride })
        } else {
            let p0 = panels * index / t, p1 = panels * (index + 1) / t
            guard p1 > p0 else { return }
            gemm_packed16_simd8(x: x, lda: k, weights: packed, bias: bias, y: y, ldy: n, m: m, n: n, k: k,
                                activation: activation, panels: p0..<p1,
                                workspace: workspace.map { $0 + slot * workspaceStride })
        }
    }
}
