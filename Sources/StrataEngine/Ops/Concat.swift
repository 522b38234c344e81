import StrataCore
import StrataFormat
import StrataKernels

/// Concat (docs/FORMAT.md "Ops (1.4)"): values of the same rank joined along a non-batch axis.
/// Per sample the output is `outer` rows of `total` values, and input `k` fills `blocks[k]` of
/// each row at `offsets[k]`: one strided row copy per input.
struct ConcatPlan {
    /// Rows per sample: the product of the dims before the axis.
    var outer: Int
    /// Values per row of each input, and where they start in an output row.
    var blocks: [Int], offsets: [Int]
    /// Values per output row.
    var total: Int
}

extension PlanBuilder {
    static let concatOps: Set<String> = ["Concat"]

    mutating func planConcat(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        var xs: [ValueState] = []
        for k in r.node.inputs.indices { xs.append(try r.value(k)) }
        let first = xs[0].dims
        let a = try r.axis("axis", default: nil, rank: first.count + 1, dims: first) - 1  // per-sample axis
        var out = first
        out[a] = 0
        for (k, x) in xs.enumerated() {
            let same = x.dims.count == first.count && x.dims.indices.allSatisfy { $0 == a || x.dims[$0] == first[$0] }
            guard same else {
                throw r.fail(.shapeMismatch, "input \(k) '\(r.node.inputs[k])' has shape \(r.full(x.dims)); joined along axis \(a + 1) with \(r.full(first)) it must match in every other dimension")
            }
            guard let sum = checkedAdd(out[a], x.dims[a]) else { throw r.fail(.shapeMismatch, "the joined dimension overflows") }
            out[a] = sum
        }
        let outer = first[..<a].reduce(1, *)
        let blocks = xs.map { $0.dims[a...].reduce(1, *) }
        var offsets: [Int] = [], total = 0
        for b in blocks { offsets.append(total); total += b }
        let plan = ConcatPlan(outer: outer, blocks: blocks, offsets: offsets, total: total)
        return try step(r, inputs: r.node.inputs, .concat(plan), inputDims: first, outputs: [out])
    }
}

extension Session {
    func runConcat(_ p: ConcatPlan, _ step: Step, batch: Int, _ ptr: RunBuffers) {
        let y = ptr(step.outputs[0])
        for k in step.inputs.indices {
            copy_rows_f32(x: ptr(step.inputs[k]), ldx: p.blocks[k], y: y + p.offsets[k], ldy: p.total,
                          rows: p.outer * batch, cols: p.blocks[k])
        }
    }
}
