// Pointwise parts of the recurrent cells (docs/FORMAT.md "Ops (1.2)": RNN, GRU, LSTM). The
// matrix products (X·Wᵀ for all steps, H·Rᵀ per step) run through the packed GEMM; these combine
// its results for one time step. Gate pre-activations are laid out gate-major per row:
// `[g0: hidden values, g1: hidden values, …]` in ONNX gate order.

/// `h[j] = act(xg[j] + hr[j])` for `hidden` values; `h` also goes to `y`.
public func rnn_cell_f32(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                         y: UnsafeMutablePointer<Float>, hidden: Int, activation: Activation) {
    for j in 0..<hidden {
        let v = activation.apply(xg[j] + hr[j])
        h[j] = v; y[j] = v
    }
}

/// GRU, first half with `linear_before_reset = 0`: `r ⊙ H` into `rh` from the z/r pre-activations
/// `xg[0 ..< 2H] + hr[0 ..< 2H]`.
public func gru_reset_f32(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, h: UnsafePointer<Float>,
                          rh: UnsafeMutablePointer<Float>, hidden: Int) {
    for j in 0..<hidden {
        let r = Activation.sigmoid.apply(xg[hidden + j] + hr[hidden + j])
        rh[j] = r * h[j]
    }
}

/// GRU state update for one row. `hr` holds `H·R_zᵀ`, `H·R_rᵀ` and — when `linearBeforeReset` —
/// `H·R_hᵀ + RB_h`; otherwise `hh` holds `(r ⊙ H)·R_hᵀ` (RB_h is then folded into `xg`).
/// `H_t = (1 − z) ⊙ h̃ + z ⊙ H` goes to `h` (in place) and `y`.
public func gru_cell_f32(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, hh: UnsafePointer<Float>?,
                         h: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, hidden: Int) {
    for j in 0..<hidden {
        let z = Activation.sigmoid.apply(xg[j] + hr[j])
        let candidate: Float
        if let hh {
            candidate = tanhf(xg[2 * hidden + j] + hh[j])
        } else {
            let r = Activation.sigmoid.apply(xg[hidden + j] + hr[hidden + j])
            candidate = tanhf(xg[2 * hidden + j] + r * hr[2 * hidden + j])
        }
        let v = (1 - z) * candidate + z * h[j]
        h[j] = v; y[j] = v
    }
}

/// LSTM state update for one row, gates i, o, f, c: `C_t = f ⊙ C + i ⊙ c̃` (in place in `c`),
/// `H_t = o ⊙ tanh(C_t)` into `h` and `y`.
public func lstm_cell_f32(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                          c: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, hidden: Int) {
    for j in 0..<hidden {
        let i = Activation.sigmoid.apply(xg[j] + hr[j])
        let o = Activation.sigmoid.apply(xg[hidden + j] + hr[hidden + j])
        let f = Activation.sigmoid.apply(xg[2 * hidden + j] + hr[2 * hidden + j])
        let candidate = tanhf(xg[3 * hidden + j] + hr[3 * hidden + j])
        let cell = f * c[j] + i * candidate
        c[j] = cell
        let v = o * tanhf(cell)
        h[j] = v; y[j] = v
    }
}
