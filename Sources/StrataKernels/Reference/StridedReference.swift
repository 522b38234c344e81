/// Scalar reference of `strided_copy_f32`: each output position's index from its flat number by
/// division, one value at a time.
public func strided_copy_f32_reference(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, dims: UnsafePointer<Int>,
                                       strides: UnsafePointer<Int>, rank: Int) {
    var total = 1
    for k in 0..<rank { total *= dims[k] }
    for i in 0..<total {
        var rest = i, offset = 0
        for k in stride(from: rank - 1, through: 0, by: -1) {
            offset += (rest % dims[k]) * strides[k]
            rest /= dims[k]
        }
        y[i] = x[offset]
    }
}

/// Scalar reference of `reduce_f32`: each output's reduced positions by division, folded in the
/// same row-major order (so it agrees bit for bit).
public func reduce_f32_reference(_ op: ReduceOp, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                                 outDims: UnsafePointer<Int>, outStrides: UnsafePointer<Int>, outRank: Int,
                                 reducedDims: UnsafePointer<Int>, reducedStrides: UnsafePointer<Int>, reducedRank: Int) {
    func count(_ d: UnsafePointer<Int>, _ r: Int) -> Int { var c = 1; for k in 0..<r { c *= d[k] }; return c }
    func offset(_ i: Int, _ d: UnsafePointer<Int>, _ s: UnsafePointer<Int>, _ r: Int) -> Int {
        var rest = i, o = 0
        for k in stride(from: r - 1, through: 0, by: -1) { o += (rest % d[k]) * s[k]; rest /= d[k] }
        return o
    }
    let outputs = count(outDims, outRank), inner = count(reducedDims, reducedRank)
    for o in 0..<outputs {
        let base = offset(o, outDims, outStrides, outRank)
        var acc: Float = op == .max ? -.infinity : 0
        for j in 0..<inner {
            let v = x[base + offset(j, reducedDims, reducedStrides, reducedRank)]
            acc = op == .max ? (v > acc || v.isNaN ? v : acc) : acc + v
        }
        y[o] = op == .mean ? acc / Float(inner) : acc
    }
}
