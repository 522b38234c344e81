/// Scalar twins of the row kernels of NormalizationSIMD8.swift, in `Double`, written from their
/// contracts (docs/FORMAT.md "Ops (1.2)") and independent of the SIMD code.

/// Scalar twin of `layernorm_f32_simd8`: per row of `cols` values, the mean and the biased
/// variance in `Double`, then `(x − mean) / √(var + epsilon) · scale + bias`, rounded once.
/// `x` and `y` may be the same buffer.
public func layernorm_f32_reference(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                    scale: UnsafePointer<Float>, bias: UnsafePointer<Float>?, epsilon: Float) {
    guard cols > 0 else { return }
    for r in 0..<rows {
        let row = x + r * cols, out = y + r * cols
        var sum = 0.0
        for c in 0..<cols { sum += Double(row[c]) }
        let mean = sum / Double(cols)
        var squares = 0.0
        for c in 0..<cols { let d = Double(row[c]) - mean; squares += d * d }
        let inv = 1 / (squares / Double(cols) + Double(epsilon)).squareRoot()
        for c in 0..<cols {
            out[c] = Float((Double(row[c]) - mean) * inv * Double(scale[c]) + (bias.map { Double($0[c]) } ?? 0))
        }
    }
}

/// Scalar twin of `mean_rows_f32_simd8`: `y[r]` = the mean of row `r`'s `cols` values, summed in
/// `Double` (NaN for `cols == 0`, as 0/0).
public func mean_rows_f32_reference(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
    for r in 0..<rows {
        var sum = 0.0
        for c in 0..<cols { sum += Double(x[r * cols + c]) }
        y[r] = Float(sum / Double(cols))
    }
}

/// Scalar twin of `softmax_strided_f32_simd8`: softmax (or log-softmax when `log`) along the
/// middle axis of `outer × n × inner` values, each column of `n` values in `Double`; a column
/// holding a NaN is all NaN. `x` and `y` may be the same buffer.
public func softmax_strided_f32_reference(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, outer: Int, n: Int,
                                          inner: Int, log: Bool) {
    guard n > 0, inner > 0 else { return }
    for o in 0..<outer {
        for j in 0..<inner {
            @inline(__always) func at(_ i: Int) -> Int { (o * n + i) * inner + j }
            var mx = -Double.infinity
            var nan = false
            for i in 0..<n { let v = Double(x[at(i)]); if v.isNaN { nan = true } else if v > mx { mx = v } }
            if nan { mx = .nan }
            var sum = 0.0
            for i in 0..<n { sum += exp(Double(x[at(i)]) - mx) }
            let lse = logarithm(sum)
            for i in 0..<n {
                let z = Double(x[at(i)]) - mx
                y[at(i)] = Float(log ? z - lse : exp(z) / sum)
            }
        }
    }
}
