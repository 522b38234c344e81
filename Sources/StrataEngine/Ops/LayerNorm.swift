import StrataCore
import StrataFormat
import StrataKernels

/// LayerNormalization over the trailing axes from `axis` (docs/FORMAT.md "Ops"): per row of
/// `cols` values, `(x − mean) / √(var + ε) · scale + bias`.
struct LayerNormPlan {
    /// Rows per sample and values per row.
    var rows: Int, cols: Int
    var scale: UnsafePointer<Float>, bias: UnsafePointer<Float>?
    var epsilon: Float
}

extension PlanBuilder {
    static let layerNormOps: Set<String> = ["LayerNormalization"]

    mutating func planLayerNorm(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        let x = try r.value(0)
        let a = try r.axis("axis", default: -1, rank: x.dims.count + 1, dims: x.dims)
        let epsilon = try r.float("epsilon", default: 1e-5)
        guard epsilon > 0, epsilon.isFinite else { throw r.fail(.malformed, "attribute 'epsilon' is \(epsilon); it must be > 0") }
        let normalized = Array(x.dims[(a - 1)...])
        let (scale, sp) = try r.requiredTensor(1, "a Scale tensor")
        guard scale.dims == normalized else {
            throw r.fail(.shapeMismatch, "Scale '\(scale.name)' has shape \(describeShape(scale.dims)); for input \(r.full(x.dims)) and axis \(a) it must be \(describeShape(normalized))")
        }
        var bp: UnsafePointer<Float>? = nil
        if let (b, p) = try r.tensor(2) {
            guard b.dims == normalized else {
                throw r.fail(.shapeMismatch, "B '\(b.name)' has shape \(describeShape(b.dims)); it must be \(describeShape(normalized))")
            }
            bp = p
        }
        let cols = normalized.reduce(1, *)
        let plan = LayerNormPlan(rows: x.count / cols, cols: cols, scale: sp, bias: bp, epsilon: epsilon)
        return try step(r, inputs: [r.node.inputs[0]], .layerNorm(plan), inputDims: x.dims, outputs: [x.dims])
    }
}

extension Session {
    func runLayerNorm(_ p: LayerNormPlan, _ step: Step, batch: Int, _ ptr: RunBuffers) {
        layernorm_f32_simd8(x: ptr(step.inputs[0]), y: ptr(step.outputs[0]), rows: p.rows * batch, cols: p.cols,
                            scale: p.scale, bias: p.bias, epsilon: p.epsilon)
    }
}
