/// Layer normalization of each of `rows` rows of `cols` values:
/// `y = (x − mean) / √(var + epsilon) · scale + bias` with the biased variance of the row.
/// Sums run in SIMD8 lanes in a fixed order, so a row's result does not depend on its position.
/// `x` and `y` may be the same buffer.
/// - Parameters:
///   - scale: `cols` values; bias: `cols` values or nil.
public func layernorm_f32_simd8(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                scale: UnsafePointer<Float>, bias: UnsafePointer<Float>?, epsilon: Float) {
    guard cols > 0 else { return }
    let n = Float(cols)
    for r in 0..<rows {
        let row = x + r * cols, out = y + r * cols
        let mean = rowSum(row, cols) / n
        let m8 = SIMD8<Float>(repeating: mean)
        var acc = SIMD8<Float>()
        var c = 0
        while c + 8 <= cols { let d = load8(row + c) - m8; acc = acc.addingProduct(d, d); c += 8 }
        var tail: Float = 0
        while c < cols { let d = row[c] - mean; tail = tail.addingProduct(d, d); c += 1 }
        let variance = (acc.sum() + tail) / n
        let inv = 1 / (variance + epsilon).squareRoot()
        let inv8 = SIMD8<Float>(repeating: inv)
        c = 0
        while c + 8 <= cols {
            var v = (load8(row + c) - m8) * inv8 * load8(scale + c)
            if let bias { v += load8(bias + c) }
            store8(v, out + c)
            c += 8
        }
        while c < cols {
            var v = (row[c] - mean) * inv * scale[c]
            if let bias { v += bias[c] }
            out[c] = v
            c += 1
        }
    }
}

/// Sum of `count` values: eight lane sums, then the lanes, then the tail — a fixed order.
@inline(__always)
func rowSum(_ p: UnsafePointer<Float>, _ count: Int) -> Float {
    var acc = SIMD8<Float>()
    var c = 0
    while c + 8 <= count { acc += load8(p + c); c += 8 }
    var s = acc.sum()
    while c < count { s += p[c]; c += 1 }
    return s
}

/// `y[r] = mean of the r-th row of cols values` for `rows` rows (GlobalAveragePool over planes).
public func mean_rows_f32_simd8(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int) {
    let n = Float(cols)
    for r in 0..<rows { y[r] = rowSum(x + r * cols, cols) / n }
}

/// Softmax (or log-softmax when `log`) along the middle axis of `outer × n × inner` values,
/// SIMD8 across `inner` (for `inner == 1` use `softmax_f32_simd8`). `x` and `y` may be the same
/// buffer. Each output depends only on its own column of `n` values, computed in a fixed order,
/// with `exp8`/`log8` (lanes and the scalar tail alike: no libm result reaches an output).
public func softmax_strided_f32_simd8(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, outer: Int, n: Int,
                                      inner: Int, log: Bool) {
    guard n > 0, inner > 0 else { return }
    for o in 0..<outer {
        let xb = x + o * n * inner, yb = y + o * n * inner
        var j = 0
        while j + 8 <= inner {
            var mx = load8(xb + j)
            var nan = mx .!= mx
            for i in 1..<n { let v = load8(xb + i * inner + j); mx = pointwiseMax(mx, v); nan .|= v .!= v }
            mx.replace(with: .nan, where: nan)
            var sum = SIMD8<Float>()
            for i in 0..<n {
                let d = load8(xb + i * inner + j) - mx
                let e = exp8(d)
                sum += e
                if !log { store8(e, yb + i * inner + j) }
            }
            if log {
                let lse = log8(sum)
                for i in 0..<n { store8((load8(xb + i * inner + j) - mx) - lse, yb + i * inner + j) }
            } else {
                let inv = 1 / sum
                for i in 0..<n { store8(load8(yb + i * inner + j) * inv, yb + i * inner + j) }
            }
            j += 8
        }
        while j < inner {
            var mx = xb[j]
            var nan = mx.isNaN
            for i in 1..<n { let v = xb[i * inner + j]; mx = Swift.max(mx, v); nan = nan || v.isNaN }
            if nan { mx = .nan }
            var sum: Float = 0
            for i in 0..<n {
                let e = exp8(SIMD8(repeating: xb[i * inner + j] - mx))[0]
                sum += e
                if !log { yb[i * inner + j] = e }
            }
            if log {
                let lse = log8(SIMD8(repeating: sum))[0]
                for i in 0..<n { yb[i * inner + j] = (xb[i * inner + j] - mx) - lse }
            } else {
                let inv = 1 / sum
                for i in 0..<n { yb[i * inner + j] *= inv }
            }
            j += 1
        }
    }
}
