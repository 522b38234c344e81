import StrataCore
import StrataFormat
import StrataKernels

/// Softmax and LogSoftmax along any non-batch axis (docs/FORMAT.md "Ops"): the values per sample
/// seen as `outer × n × inner`, normalized along `n`.
struct SoftmaxPlan {
    var outer: Int, n: Int, inner: Int
    var log: Bool
}

extension PlanBuilder {
    static let softmaxOps: Set<String> = ["Softmax", "LogSoftmax"]

    mutating func planSoftmax(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        let x = try r.value(0)
        let a = try r.axis("axis", default: -1, rank: x.dims.count + 1, dims: x.dims)
        let plan = SoftmaxPlan(outer: x.dims[..<(a - 1)].reduce(1, *), n: x.dims[a - 1], inner: x.dims[a...].reduce(1, *),
                               log: r.node.op == "LogSoftmax")
        return try step(r, inputs: [r.node.inputs[0]], .softmax(plan), inputDims: x.dims, outputs: [x.dims])
    }
}

extension Session {
    /// The last axis (contiguous rows) through the row kernel, any other through the strided one.
    func runSoftmax(_ p: SoftmaxPlan, _ step: Step, batch: Int, _ ptr: RunBuffers) {
        if p.inner == 1 {
            softmax_f32_simd8(x: ptr(step.inputs[0]), y: ptr(step.outputs[0]), rows: p.outer * batch, cols: p.n, log: p.log)
        } else {
            softmax_strided_f32_simd8(x: ptr(step.inputs[0]), y: ptr(step.outputs[0]), outer: p.outer * batch, n: p.n,
                                      inner: p.inner, log: p.log)
        }
    }
}
