// Pointwise parts of the recurrent cells (docs/FORMAT.md "Ops (1.2)": RNN, GRU, LSTM). The
// matrix products (X·Wᵀ for all steps, H·Rᵀ per step) run through the packed GEMM; these combine
// its results for one time step. Gate pre-activations are laid out gate-major per row:
// `[g0: hidden values, g1: hidden values, …]` in ONNX gate order.

/// `h[j] = act(xg[j] + hr[j])` for `hidden` values; `h` also goes to `y`.
public func rnn_cell_f32_simd8(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                         y: UnsafeMutablePointer<Float>, hidden: Int, activation: Activation) {
    forEachLanes(hidden) { j, load, store in
        let v = activation.apply8(load(xg + j) + load(hr + j))
        store(v, h + j); store(v, y + j)
    }
}

/// GRU, first half with `linear_before_reset = 0`: `r ⊙ H` into `rh` from the z/r pre-activations
/// `xg[0 ..< 2H] + hr[0 ..< 2H]`.
public func gru_reset_f32_simd8(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, h: UnsafePointer<Float>,
                          rh: UnsafeMutablePointer<Float>, hidden: Int) {
    forEachLanes(hidden) { j, load, store in
        let r = sigmoid8(load(xg + hidden + j) + load(hr + hidden + j))
        store(r * load(h + j), rh + j)
    }
}

/// GRU state update for one row. `hr` holds `H·R_zᵀ`, `H·R_rᵀ` and — when `linearBeforeReset` —
/// `H·R_hᵀ + RB_h`; otherwise `hh` holds `(r ⊙ H)·R_hᵀ` (RB_h is then folded into `xg`).
/// `H_t = (1 − z) ⊙ h̃ + z ⊙ H` goes to `h` (in place) and `y`.
public func gru_cell_f32_simd8(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, hh: UnsafePointer<Float>?,
                         h: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, hidden: Int) {
    forEachLanes(hidden) { j, load, store in
        let z = sigmoid8(load(xg + j) + load(hr + j))
        let candidate: SIMD8<Float>
        if let hh {
            candidate = tanh8(load(xg + 2 * hidden + j) + load(hh + j))
        } else {
            let r = sigmoid8(load(xg + hidden + j) + load(hr + hidden + j))
            candidate = tanh8(load(xg + 2 * hidden + j) + r * load(hr + 2 * hidden + j))
        }
        let v = (1 - z) * candidate + z * load(h + j)
        store(v, h + j); store(v, y + j)
    }
}

/// LSTM state update for one row, gates i, o, f, c: `C_t = f ⊙ C + i ⊙ c̃` (in place in `c`),
/// `H_t = o ⊙ tanh(C_t)` into `h` and `y`.
public func lstm_cell_f32_simd8(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                          c: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, hidden: Int) {
    forEachLanes(hidden) { j, load, store in
        let i = sigmoid8(load(xg + j) + load(hr + j))
        let o = sigmoid8(load(xg + hidden + j) + load(hr + hidden + j))
        let f = sigmoid8(load(xg + 2 * hidden + j) + load(hr + 2 * hidden + j))
        let candidate = tanh8(load(xg + 3 * hidden + j) + load(hr + 3 * hidden + j))
        let cell = f * load(c + j) + i * candidate
        store(cell, c + j)
        let v = o * tanh8(cell)
        store(v, h + j); store(v, y + j)
    }
}

/// Runs `body` over `0 ..< count` in 8-value steps: full steps load and store 8 floats; the last
/// `count % 8` values go through the same vector code via a zero-padded stack copy, so every value
/// gets the same bits whatever its index. `body(j, load, store)` reads and writes the lanes at
/// offset `j` through `load`/`store` only. `body` appears once in the loop (the partial step is a
/// branch inside `load`/`store`), so the cells' exp8/tanh8 are inlined into a single copy of it
/// rather than called out of line from two.
@inline(__always)
func forEachLanes(_ count: Int, _ body: (Int, (UnsafePointer<Float>) -> SIMD8<Float>,
                                         (SIMD8<Float>, UnsafeMutablePointer<Float>) -> Void) -> Void) {
    var j = 0
    while j < count {
        let rest = min(8, count - j)
        body(j, { p in
            if rest == 8 { return load8(p) }
            var v = SIMD8<Float>()
            for l in 0..<rest { v[l] = p[l] }
            return v
        }, { v, p in
            if rest == 8 { store8(v, p) } else { for l in 0..<rest { p[l] = v[l] } }
        })
        j += 8
    }
}
