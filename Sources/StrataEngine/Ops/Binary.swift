import StrataCore
import StrataFormat
import StrataKernels

/// Add, Sub, Mul and Div with numpy broadcasting (docs/FORMAT.md "Ops"): two values, or a value and
/// a stored tensor, broadcast over the per-sample dims; a residual `x + f(x)` is an Add.
/// A broadcast of two operands to an output of per-sample dims `dims` (adjacent dims merged when
/// both operands are contiguous across them). Strides are in floats per step of each dim, 0 where
/// the operand is broadcast; the batch stride is the operand's per-sample count, or 0 for a tensor.
struct BroadcastPlan {
    var dims: [Int]
    var aStrides: [Int], bStrides: [Int], yStrides: [Int]
    var aBatchStride: Int, bBatchStride: Int
    /// A tensor operand (read from the file), or nil when the operand is `Step.inputs`' next value.
    var aConstant: UnsafePointer<Float>?, bConstant: UnsafePointer<Float>?
    /// Output values per sample.
    var count: Int
}

extension PlanBuilder {
    static let binaryOps: Set<String> = ["Add", "Sub", "Mul", "Div"]

    mutating func planBinary(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        let op: BinaryOp = ["Add": .add, "Sub": .sub, "Mul": .mul][r.node.op] ?? .div
        // Each operand as per-sample dims, whether it carries the batch, and its tensor pointer.
        typealias Operand = (dims: [Int], value: String?, constant: UnsafePointer<Float>?, text: String)
        func operand(_ k: Int) throws(StrataError) -> Operand? {
            if let v = values[r.node.inputs[k]] { return (v.dims, r.node.inputs[k], nil, r.full(v.dims)) }
            return nil
        }
        var a = try operand(0), b = try operand(1)
        guard a != nil || b != nil else {
            throw r.fail(.unsupported, "input 0 '\(r.node.inputs[0])' is a tensor; this op needs a computed value there (at least one operand)")
        }
        let valueRank = (a ?? b)!.dims.count + 1  // full rank of a value operand
        func tensorOperand(_ k: Int) throws(StrataError) -> Operand {
            let (t, p) = try r.requiredTensor(k, "a value or tensor")
            var dims = t.dims
            if dims.count >= valueRank {
                guard dims.count == valueRank, dims[0] == 1 else {
                    throw r.fail(.unsupported, "\(r.node.op) of \((a ?? b)!.text) and tensor '\(t.name)' \(describeShape(t.dims)): the tensor would broadcast over the batch (dim 0)")
                }
                dims.removeFirst()
            }
            return (dims, nil, p, "tensor '\(t.name)' \(describeShape(t.dims))")
        }
        if a == nil { a = try tensorOperand(0) }
        if b == nil { b = try tensorOperand(1) }
        let (x, y) = (a!, b!)
        if x.value != nil && y.value != nil && x.dims.count != y.dims.count {
            throw r.fail(.unsupported, "\(r.node.op) of \(x.text) and \(y.text): values of different ranks would broadcast the batch against a feature dimension")
        }
        // numpy broadcasting of the per-sample dims, aligned right.
        let rank = max(x.dims.count, y.dims.count)
        let ad = [Int](repeating: 1, count: rank - x.dims.count) + x.dims
        let bd = [Int](repeating: 1, count: rank - y.dims.count) + y.dims
        var out: [Int] = []
        for i in 0..<rank {
            guard ad[i] == bd[i] || ad[i] == 1 || bd[i] == 1 else {
                throw r.fail(.shapeMismatch, "\(r.node.op) of \(x.text) and \(y.text): shapes do not broadcast")
            }
            out.append(max(ad[i], bd[i]))
        }
        guard let count = checkedProduct(out) else { throw r.fail(.shapeMismatch, "output shape \(r.full(out)) overflows") }
        func strides(_ d: [Int]) -> [Int] {
            var s = [Int](repeating: 0, count: d.count), step = 1
            for i in d.indices.reversed() { s[i] = d[i] == 1 ? 0 : step; step *= d[i] }
            return s
        }
        // Merge adjacent dims across which all three are contiguous (or both operands broadcast).
        var dims: [Int] = [], sa: [Int] = [], sb: [Int] = [], sy: [Int] = []
        let fa = strides(ad), fb = strides(bd), fy = strides(out)
        for i in out.indices.reversed() where out[i] != 1 {
            if let d = dims.first, sa[0] * d == fa[i], sb[0] * d == fb[i], sy[0] * d == fy[i] {
                dims[0] *= out[i]
            } else {
                dims.insert(out[i], at: 0); sa.insert(fa[i], at: 0); sb.insert(fb[i], at: 0); sy.insert(fy[i], at: 0)
            }
        }
        if dims.isEmpty { dims = [1]; sa = [0]; sb = [0]; sy = [1] }
        let plan = BroadcastPlan(dims: dims, aStrides: sa, bStrides: sb, yStrides: sy,
                                 aBatchStride: x.value == nil ? 0 : ad.reduce(1, *),
                                 bBatchStride: y.value == nil ? 0 : bd.reduce(1, *),
                                 aConstant: x.constant, bConstant: y.constant, count: count)
        let inputs = [x.value, y.value].compactMap { $0 }
        return try step(r, inputs: inputs, .binary(op, plan), inputDims: x.value != nil ? x.dims : y.dims, outputs: [out])
    }
}

extension Session {
    func runBinary(_ f: BinaryOp, _ plan: BroadcastPlan, _ step: Step, batch: Int, _ ptr: RunBuffers) {
        // Value operands are `step.inputs` in order; a tensor operand is in the plan.
        let a = plan.aConstant ?? UnsafePointer(ptr(step.inputs[0]))
        let b = plan.bConstant ?? UnsafePointer(ptr(step.inputs[plan.aConstant == nil ? 1 : 0]))
        let y = ptr(step.outputs[0])
        for n in 0..<batch {
            Session.broadcast(f, plan, dim: 0, a + n * plan.aBatchStride, b + n * plan.bBatchStride, y + n * plan.count)
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
}
