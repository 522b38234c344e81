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
/// `x` and `y` may be the same buffer. Max-subtracted for stability; the max, the exponentials
/// (`exp8`, ≤ 1 ulp), their sum (8 lane sums, then the lanes added) and the scaling run 8 values
/// at a time; the row's last `cols % 8` values go through one padded vector (pads exp to 0).
/// Each row is computed by the same operations whatever the row count, so results are
/// deterministic across batch sizes.
public func softmax_f32_simd8(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                              log: Bool) {
    guard cols > 0 else { return }
    let full = cols & ~7, tail = cols - full
    @inline(__always) func loadTail(_ p: UnsafePointer<Float>, pad: Float) -> SIMD8<Float> {
        var v = SIMD8<Float>(repeating: pad)
        for j in 0..<tail { v[j] = p[j] }
        return v
    }
    for r in 0..<rows {
        let row = x + r * cols, out = y + r * cols
        var mx8 = SIMD8<Float>(repeating: -.infinity)
        var c = 0
        while c < full { mx8 = pointwiseMax(mx8, load8(row + c)); c += 8 }
        if tail > 0 { mx8 = pointwiseMax(mx8, loadTail(row + full, pad: -.infinity)) }
        var mx = mx8.max()
        if row[0].isNaN { mx = .nan }
        let m8 = SIMD8<Float>(repeating: mx)
        // Σ e^(x - max), 8 lanes; the exponentials are also stored for softmax.
        var sum8 = SIMD8<Float>(repeating: 0)
        c = 0
        while c < full {
            let e = exp8(load8(row + c) - m8)
            if !log { store8(e, out + c) }
            sum8 += e
            c += 8
        }
        if tail > 0 {
            let e = exp8(loadTail(row + full, pad: -.infinity) - m8)
            if !log { for j in 0..<tail { out[full + j] = e[j] } }
            sum8 += e
        }
        let sum = sum8.sum()
        if log {
            let shift = log8(SIMD8<Float>(repeating: sum))
            c = 0
            while c < full { store8((load8(row + c) - m8) - shift, out + c); c += 8 }
            for j in full..<cols { out[j] = (row[j] - mx) - shift[0] }
        } else {
            let inv = SIMD8<Float>(repeating: 1 / sum)
            c = 0
            while c < full { store8(load8(out + c) * inv, out + c); c += 8 }
            for j in full..<cols { out[j] *= inv[0] }
        }
    }
}
