/// `y[i] = act(x[i])` for `count` values; `x` and `y` may be the same buffer.
/// 8 values at a time through `Activation.apply8` (vectorized exp/tanh/erf, VectorMath.swift);
/// the last `count % 8` through `apply`, which gives the same bits as any lane of `apply8`.
/// SiLU and sigmoid (the exp-bound activations of the EfficientNets, after most of their Convs)
/// run in their own loop with `exp8` in line; the others switch once per 8 values.
public func activation_f32_simd8(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int,
                                 activation: Activation) {
    switch activation {
    case .identity:
        if UnsafePointer(y) != x { y.update(from: x, count: count) }
    case .silu: activationLoop(x: x, y: y, count: count, SiLULanes())
    case .sigmoid: activationLoop(x: x, y: y, count: count, SigmoidLanes())
    default:
        var i = 0
        while i + 8 <= count {
            store8(activation.apply8(load8(x + i)), y + i)
            i += 8
        }
        while i < count { y[i] = activation.apply(x[i]); i += 1 }
    }
}

/// `activation_f32_simd8` in place over `rows` rows of `cols` values, row stride `ldy`: the
/// switch once for all rows (the GEMM driver's pass over a finished tile; the same bits).
func activateRowsInPlace(y: UnsafeMutablePointer<Float>, ldy: Int, rows: Int, cols: Int,
                         activation: Activation) {
    switch activation {
    case .identity: return
    case .silu: for r in 0..<rows { activationLoop(x: y + r * ldy, y: y + r * ldy, count: cols, SiLULanes()) }
    case .sigmoid: for r in 0..<rows { activationLoop(x: y + r * ldy, y: y + r * ldy, count: cols, SigmoidLanes()) }
    default: for r in 0..<rows { activation_f32_simd8(x: y + r * ldy, y: y + r * ldy, count: cols, activation: activation) }
    }
}

/// A lane-wise function of 8 floats, as a type so `activationLoop` is specialised per function
/// (the function in line, its constants hoisted out of the loop).
protocol LaneFunction {
    func callAsFunction(_ v: SIMD8<Float>) -> SIMD8<Float>
}

/// SiLU, `Activation.apply8`'s expression.
struct SiLULanes: LaneFunction {
    @inline(__always) func callAsFunction(_ v: SIMD8<Float>) -> SIMD8<Float> { v / (1 + exp8(-v)) }
}

/// The logistic sigmoid (`sigmoid8`).
struct SigmoidLanes: LaneFunction {
    @inline(__always) func callAsFunction(_ v: SIMD8<Float>) -> SIMD8<Float> { sigmoid8(v) }
}

/// `y[i] = f(x[i])` 8 at a time, the last `count % 8` values as lanes of one more vector (zeros
/// in the unused lanes): for lane-wise `f`, every value gets the bits of `f` on a splat of it.
@inline(__always)
func activationLoop<F: LaneFunction>(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int, _ f: F) {
    var i = 0
    while i + 8 <= count {
        store8(f(load8(x + i)), y + i)
        i += 8
    }
    if i < count {
        var v = SIMD8<Float>()
        for l in 0..<(count - i) { v[l] = x[i + l] }
        let r = f(v)
        for l in 0..<(count - i) { y[i + l] = r[l] }
    }
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
