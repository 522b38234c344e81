/// Scalar twins of the recurrent cells (RecurrentCells.swift), in `Double`, written from the
/// ONNX equations (gate orders: GRU z, r, h; LSTM i, o, f, c), independent of the SIMD code.

/// σ(x) in `Double`.
@inline(__always) func sigmoidF64(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

/// Scalar twin of `rnn_cell_f32_simd8`: `h[j] = y[j] = act(xg[j] + hr[j])`.
public func rnn_cell_f32_reference(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                                   y: UnsafeMutablePointer<Float>, hidden: Int, activation: Activation) {
    for j in 0..<hidden {
        let v = Float(activation_f64_reference(Double(xg[j]) + Double(hr[j]), activation))
        h[j] = v; y[j] = v
    }
}

/// Scalar twin of `gru_reset_f32_simd8`: `rh[j] = σ(xg[H + j] + hr[H + j]) · h[j]`.
public func gru_reset_f32_reference(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, h: UnsafePointer<Float>,
                                    rh: UnsafeMutablePointer<Float>, hidden: Int) {
    for j in 0..<hidden {
        rh[j] = Float(sigmoidF64(Double(xg[hidden + j]) + Double(hr[hidden + j])) * Double(h[j]))
    }
}

/// Scalar twin of `gru_cell_f32_simd8`: `z = σ(xg_z + hr_z)`; the candidate `tanh(xg_h + hh)` when `hh`
/// is given, else `tanh(xg_h + σ(xg_r + hr_r) · hr_h)`; `h = y = (1 − z) · candidate + z · h`.
public func gru_cell_f32_reference(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, hh: UnsafePointer<Float>?,
                                   h: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, hidden: Int) {
    for j in 0..<hidden {
        let z = sigmoidF64(Double(xg[j]) + Double(hr[j]))
        let candidate: Double
        if let hh {
            candidate = tanh(Double(xg[2 * hidden + j]) + Double(hh[j]))
        } else {
            let r = sigmoidF64(Double(xg[hidden + j]) + Double(hr[hidden + j]))
            candidate = tanh(Double(xg[2 * hidden + j]) + r * Double(hr[2 * hidden + j]))
        }
        let v = Float((1 - z) * candidate + z * Double(h[j]))
        h[j] = v; y[j] = v
    }
}

/// Scalar twin of `lstm_cell_f32_simd8`: gates i, o, f (σ) and the candidate (tanh) from
/// `xg + hr`; `c = f · c + i · candidate`; `h = y = o · tanh(c)`.
public func lstm_cell_f32_reference(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                                    c: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, hidden: Int) {
    for j in 0..<hidden {
        @inline(__always) func gate(_ g: Int) -> Double { Double(xg[g * hidden + j]) + Double(hr[g * hidden + j]) }
        let i = sigmoidF64(gate(0)), o = sigmoidF64(gate(1)), f = sigmoidF64(gate(2)), candidate = tanh(gate(3))
        let cell = f * Double(c[j]) + i * candidate
        c[j] = Float(cell)
        let v = Float(o * tanh(cell))
        h[j] = v; y[j] = v
    }
}

/// Scalar twin of `gemm_f32_packed16_small_simd8` (the recurrent layers' product): the packed
/// GEMM's twin, `gemm_f32_packed16_reference`, on the same f32 panel16 weights.
public func gemm_f32_packed16_small_reference(x: UnsafePointer<Float>, lda: Int, weights: PackedWeights,
                                              bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int,
                                              m: Int, n: Int, k: Int, activation: Activation) {
    gemm_f32_packed16_reference(x: x, lda: lda, packed: weights.values.assumingMemoryBound(to: Float.self), bias: bias,
                                y: y, ldy: ldy, m: m, n: n, k: k, activation: activation)
}
