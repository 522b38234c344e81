import StrataCore
import StrataFormat
import StrataKernels

/// ReduceMean, ReduceSum and ReduceMax over any non-batch axes, with or without `keepdims`
/// (docs/FORMAT.md "Ops (1.5)"): per sample, `reduce_f32` folds the reduced positions behind each
/// output position in one fixed order. Dims are split at load into the kept ones (outer) and the
/// reduced ones (inner), each with its input strides.
struct ReducePlan {
    var op: ReduceOp
    var outDims: [Int], outStrides: [Int]
    var reducedDims: [Int], reducedStrides: [Int]
    /// Values per sample of the input and of the output.
    var inCount: Int, outCount: Int
}

extension PlanBuilder {
    static let reduceOps: Set<String> = ["ReduceMean", "ReduceSum", "ReduceMax"]

    mutating func planReduce(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        let x = try r.value(0)
        let rank = x.dims.count + 1
        guard case .ints(let axes)? = r.node.attribute("axes"), !axes.isEmpty else {
            throw r.fail(.malformed, "\(r.node.op) needs a non-empty ints attribute 'axes'")
        }
        let keep = try r.flag("keepdims") || r.node.attribute("keepdims") == nil  // default 1
        var reduced = Set<Int>()
        for raw in axes {
            guard raw >= -Int64(rank), raw < Int64(rank) else { throw r.fail(.malformed, "axis \(raw) is out of range for rank \(rank)") }
            let a = Int(raw < 0 ? raw + Int64(rank) : raw)
            guard a != 0 else {
                throw r.fail(.unsupported, "\(r.node.op) over axis 0 of \(r.full(x.dims)) is not supported: axis 0 is the batch")
            }
            guard reduced.insert(a - 1).inserted else { throw r.fail(.malformed, "axis \(raw) appears twice in 'axes'") }
        }
        var inStrides = [Int](repeating: 1, count: x.dims.count)
        for k in stride(from: x.dims.count - 2, through: 0, by: -1) { inStrides[k] = inStrides[k + 1] * x.dims[k + 1] }
        var out: [Int] = [], od: [Int] = [], os: [Int] = [], rd: [Int] = [], rs: [Int] = []
        for k in x.dims.indices {
            if reduced.contains(k) {
                rd.append(x.dims[k]); rs.append(inStrides[k])
                if keep { out.append(1) }
            } else {
                out.append(x.dims[k]); od.append(x.dims[k]); os.append(inStrides[k])
            }
        }
        guard rd.allSatisfy({ $0 > 0 }) else {
            throw r.fail(.unsupported, "\(r.node.op) of \(r.full(x.dims)) reduces an empty dimension")
        }
        let op: ReduceOp = r.node.op == "ReduceMean" ? .mean : (r.node.op == "ReduceSum" ? .sum : .max)
        let plan = ReducePlan(op: op, outDims: od, outStrides: os, reducedDims: rd, reducedStrides: rs,
                              inCount: x.count, outCount: od.reduce(1, *))
        return try step(r, inputs: [r.node.inputs[0]], .reduce(plan), inputDims: x.dims, outputs: [out])
    }
}

extension Session {
    func runReduce(_ p: ReducePlan, _ step: Step, batch: Int, _ ptr: RunBuffers) {
        let x = UnsafePointer(ptr(step.inputs[0])), y = ptr(step.outputs[0])
        let none = UnsafePointer<Int>(bitPattern: 8)!  // never read: an empty list has rank 0
        p.outDims.withUnsafeBufferPointer { od in
            p.outStrides.withUnsafeBufferPointer { os in
                p.reducedDims.withUnsafeBufferPointer { rd in
                    p.reducedStrides.withUnsafeBufferPointer { rs in
                        for n in 0..<batch {
                            reduce_f32(p.op, x: x + n * p.inCount, y: y + n * p.outCount,
                                       outDims: od.baseAddress ?? none, outStrides: os.baseAddress ?? none, outRank: od.count,
                                       reducedDims: rd.baseAddress ?? none, reducedStrides: rs.baseAddress ?? none,
                                       reducedRank: rd.count)
                        }
                    }
                }
            }
        }
    }
}
