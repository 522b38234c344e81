/// `y[i] = act(x[i])` for `count` values; `x` and `y` may be the same buffer.
/// 8 values at a time through `Activation.apply8` (vectorized exp/tanh/erf, VectorMath.swift);
/// the last `count % 8` through `apply`, which gives the same bits as any lane of `apply8`.
public func activation_f32_simd8(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int,
                                 activation: Activation) {
    if case .identity = activation {
        if UnsafePointer(y) != x { y.update(from: x, count: count) }
        return
    }
    var i = 0
    while i + 8 <= count {
        store8(activation.apply8(load8(x + i)), y + i)
        i += 8
    }
    while i < count { y[i] = activation.apply(x[i]); i += 1 }
}

/// Softmax (or log-softmax when `log`) of each of `rows` rows of `cols` values.
/// `x` and `y` may be the same buffer. Max-subtracted for stability; the row max is SIMD8.
public func softmax_f32_simd8(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                              log: Bool) {
    guard cols > 0 else { return }
    for r in 0..<rows {
        let row = x + r * cols, out = y + r * cols
        var mx8 = SIMD8<Float>(repeating: -.infinity)
        var c = 0
        while c + 8 <= cols { mx8 = pointwiseMax(mx8, load8(row + c)); c += 8 }
        var mx = mx8.max()
        while c < cols { mx = Swift.max(mx, row[c]); c += 1 }
        if row[0].isNaN { mx = .nan }
        var sum: Float = 0
        if log {
            for c in 0..<cols { sum += expf(row[c] - mx) }
            let lse = logf(sum)
            for c in 0..<cols { out[c] = (row[c] - mx) - lse }
        } else {
            for c in 0..<cols { let e = expf(row[c] - mx); out[c] = e; sum += e }
            let inv = 1 / sum
            for c in 0..<cols { out[c] *= inv }
        }
    }
}
