import StrataCore
import StrataFormat
import StrataKernels

/// Transpose and Slice (docs/FORMAT.md "Ops (1.5)"): per sample the output is a strided gather of
/// the input, `strided_copy_f32` over `dims` with `strides` from `offset`, all fixed at load
/// (adjacent dims merged where the input is contiguous across them, so a channel shuffle's
/// inner `H·W` block is one copy).
struct StridedPlan {
    /// Output dims (merged) and the input floats per step of each.
    var dims: [Int], strides: [Int]
    /// Where the first output value is in a sample of the input.
    var offset: Int
    /// Values per sample of the input and of the output.
    var inCount: Int, outCount: Int
}

extension PlanBuilder {
    static let stridedOps: Set<String> = ["Transpose", "Slice"]

    mutating func planStrided(_ r: NodeReader) throws(StrataError) -> PlannedOp {
        let x = try r.value(0)
        let rank = x.dims.count
        var inStrides = [Int](repeating: 1, count: rank)
        for k in stride(from: rank - 2, through: 0, by: -1) { inStrides[k] = inStrides[k + 1] * x.dims[k + 1] }
        var dims: [Int] = [], strides: [Int] = [], offset = 0
        if r.node.op == "Transpose" {
            guard case .ints(let perm)? = r.node.attribute("perm") else {
                throw r.fail(.malformed, "Transpose needs the ints attribute 'perm'")
            }
            guard perm.count == rank + 1, Set(perm).count == perm.count, perm.allSatisfy({ $0 >= 0 && $0 <= Int64(rank) }) else {
                throw r.fail(.malformed, "perm \(describeList(perm)) is not a permutation of the \(rank + 1) dims of \(r.full(x.dims))")
            }
            guard perm[0] == 0 else {
                throw r.fail(.unsupported, "perm \(describeList(perm)) moves the batch (dim 0); Strata keeps samples apart")
            }
            for p in perm.dropFirst() { dims.append(x.dims[Int(p) - 1]); strides.append(inStrides[Int(p) - 1]) }
        } else {
            let (d, s, o) = try sliceGather(r, x.dims, inStrides)
            dims = d; strides = s; offset = o
        }
        let out = dims
        // Merge dim k into k+1 where stepping k is stepping k+1 `dims[k+1]` times; drop dims of 1.
        var md: [Int] = [], ms: [Int] = []
        for k in dims.indices.reversed() where dims[k] != 1 {
            if let d = md.first, ms[0] * d == strides[k] { md[0] *= dims[k] } else { md.insert(dims[k], at: 0); ms.insert(strides[k], at: 0) }
        }
        let plan = StridedPlan(dims: md, strides: ms, offset: offset, inCount: x.count, outCount: out.reduce(1, *))
        return try step(r, inputs: [r.node.inputs[0]], .strided(plan), inputDims: x.dims, outputs: [out])
    }

    /// A Slice's output dims, strides and offset (ONNX semantics: negative starts and ends count
    /// from the end, both clamped to the dim, a negative step walks backwards).
    func sliceGather(_ r: NodeReader, _ dims: [Int], _ inStrides: [Int]) throws(StrataError) -> ([Int], [Int], Int) {
        func list(_ key: String) throws(StrataError) -> [Int64]? {
            guard let a = r.node.attribute(key) else { return nil }
            guard case .ints(let v) = a else { throw r.fail(.malformed, "attribute '\(key)' must be ints") }
            return v
        }
        guard let starts = try list("starts"), let ends = try list("ends") else {
            throw r.fail(.malformed, "Slice needs the ints attributes 'starts' and 'ends'")
        }
        let rank = dims.count + 1
        let axes = try list("axes") ?? (0..<Int64(starts.count)).map { $0 }
        let steps = try list("steps") ?? [Int64](repeating: 1, count: starts.count)
        guard ends.count == starts.count, axes.count == starts.count, steps.count == starts.count else {
            throw r.fail(.malformed, "starts, ends, axes and steps have \(starts.count), \(ends.count), \(axes.count) and \(steps.count) values; they must match")
        }
        var out = dims, strides = inStrides, offset = 0, seen = Set<Int>()
        for i in starts.indices {
            guard axes[i] >= -Int64(rank), axes[i] < Int64(rank) else {
                throw r.fail(.malformed, "axis \(axes[i]) is out of range for rank \(rank)")
            }
            let a = Int(axes[i] < 0 ? axes[i] + Int64(rank) : axes[i])
            guard a != 0 else { throw r.fail(.unsupported, "Slice along axis 0 of \(r.full(dims)) is not supported: axis 0 is the batch") }
            guard seen.insert(a).inserted else { throw r.fail(.malformed, "axis \(a) appears twice in 'axes'") }
            guard steps[i] != 0 else { throw r.fail(.malformed, "step 0 on axis \(a)") }
            let n = Int64(dims[a - 1]), step = steps[i]
            func clamp(_ v: Int64, _ lo: Int64, _ hi: Int64) -> Int64 { v < lo ? lo : (v > hi ? hi : v) }
            var s = starts[i] < 0 ? starts[i] &+ n : starts[i], e = ends[i] < 0 ? ends[i] &+ n : ends[i]
            let count: Int64
            if step > 0 {
                s = clamp(s, 0, n); e = clamp(e, 0, n)
                count = e > s ? (e - s + step - 1) / step : 0
            } else {
                s = clamp(s, 0, n - 1); e = clamp(e, -1, n - 1)
                count = s > e ? (s - e - step - 1) / -step : 0
            }
            out[a - 1] = Int(count)
            if count > 0 { offset += Int(s) * inStrides[a - 1] }
            strides[a - 1] = inStrides[a - 1] * Int(step)
        }
        return (out, strides, offset)
    }
}

extension Session {
    func runStrided(_ p: StridedPlan, _ step: Step, batch: Int, _ ptr: RunBuffers) {
        let x = UnsafePointer(ptr(step.inputs[0])), y = ptr(step.outputs[0])
        guard p.outCount > 0 else { return }
        p.dims.withUnsafeBufferPointer { dims in
            p.strides.withUnsafeBufferPointer { strides in
                for n in 0..<batch {
                    strided_copy_f32(x: x + n * p.inCount + p.offset, y: y + n * p.outCount,
                                     dims: dims.baseAddress ?? UnsafePointer(bitPattern: 8)!,
                                     strides: strides.baseAddress ?? UnsafePointer(bitPattern: 8)!, rank: dims.count)
                }
            }
        }
    }
}
