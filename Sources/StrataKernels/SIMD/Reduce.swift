/// What `reduce_f32` folds with.
public enum ReduceOp: Sendable, Equatable {
    /// The sum divided by the number of values (one f32 division at the end).
    case mean
    /// The sum.
    case sum
    /// The largest value; NaN when any value is NaN.
    case max
}

/// `y[o]` = `op` over the values of `x` at `base(o) + Σ r[k] · reducedStrides[k]`, where `o` runs
/// row-major over `outDims` (`base(o) = Σ o[k] · outStrides[k]`) and `r` over `reducedDims`. One
/// sequential fold per output in row-major order of the reduced positions, so the result does not
/// depend on the batch, position or thread (ReduceMean/Sum/Max). A sum starts at 0, a max at −∞;
/// an empty reduction gives 0 (sum), NaN (mean: 0/0) or −∞ (max).
public func reduce_f32(_ op: ReduceOp, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>,
                       outDims: UnsafePointer<Int>, outStrides: UnsafePointer<Int>, outRank: Int,
                       reducedDims: UnsafePointer<Int>, reducedStrides: UnsafePointer<Int>, reducedRank: Int) {
    var inner = 1
    for k in 0..<reducedRank { inner *= reducedDims[k] }
    var outputs = 1
    for k in 0..<outRank { outputs *= outDims[k] }
    var base = 0
    var index = (0, 0, 0, 0, 0, 0, 0, 0)  // the output's index; ranks are ≤ 8 (FormatLimits.maxRank)
    for o in 0..<outputs {
        var acc: Float = op == .max ? -.infinity : 0
        reduceFold(op, x + base, &acc, reducedDims, reducedStrides, reducedRank, level: 0)
        y[o] = op == .mean ? acc / Float(inner) : acc
        // next output index, odometer style
        withUnsafeMutableBytes(of: &index) { raw in
            let idx = raw.bindMemory(to: Int.self)
            var k = outRank - 1
            while k >= 0 {
                idx[k] += 1
                base += outStrides[k]
                if idx[k] < outDims[k] { break }
                base -= outStrides[k] * outDims[k]
                idx[k] = 0
                k -= 1
            }
        }
    }
}

/// Folds the reduced dims `level…` starting at `x` into `acc`, row-major.
private func reduceFold(_ op: ReduceOp, _ x: UnsafePointer<Float>, _ acc: inout Float, _ dims: UnsafePointer<Int>,
                        _ strides: UnsafePointer<Int>, _ rank: Int, level: Int) {
    if rank == 0 {
        let v = x[0]
        acc = op == .max ? (v > acc || v.isNaN ? v : acc) : acc + v
        return
    }
    let n = dims[level], s = strides[level]
    if level == rank - 1 {
        var a = acc
        if op == .max {
            for i in 0..<n { let v = x[i * s]; a = v > a || v.isNaN ? v : a }
        } else {
            for i in 0..<n { a += x[i * s] }
        }
        acc = a
        return
    }
    for i in 0..<n { reduceFold(op, x + i * s, &acc, dims, strides, rank, level: level + 1) }
}
