// Pointwise parts of the recurrent cells (docs/FORMAT.md "Ops (1.2)": RNN, GRU, LSTM). The
// matrix products (X·Wᵀ for all steps, H·Rᵀ per step) run through the packed GEMM; these combine
// its results for one time step. Gate pre-activations are laid out gate-major per row:
// `[g0: hidden values, g1: hidden values, …]` in ONNX gate order.

// Each kernel runs its full 8-value steps straight from the buffers and the last `hidden % 8`
// values through the same 8-lane math on zero-padded copies (`loadPartial8`), so every value gets
// the same bits whatever its index. sigmoid8 and exp8 are `@inline(always)` (VectorMath.swift):
// Swift 6.3 left them, as `@inline(__always)`, out of line — a call, stack spills and a
// `vzeroupper` per gate, most of a cell's time (issue 18). tanh8 stays out of line: Swift 6.3
// crashes inlining it into Activation.apply8 with `@inline(always)`. (Measured no faster, under
// perf on the LSTM of issue 18: two 8-lane groups per step with their tanh8 calls back to back,
// and blocks of 64 lanes run in passes — all sigmoids, then the tanh8s.)

/// `h[j] = act(xg[j] + hr[j])` for `hidden` values; `h` also goes to `y`.
public func rnn_cell_f32_simd8(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                         y: UnsafeMutablePointer<Float>, hidden: Int, activation: Activation) {
    let full = hidden & ~7
    var j = 0
    while j < full {
        let v = activation.apply8(load8(xg + j) + load8(hr + j))
        store8(v, h + j); store8(v, y + j)
        j += 8
    }
    if j < hidden {
        let rest = hidden - j
        let v = activation.apply8(loadPartial8(xg + j, rest) + loadPartial8(hr + j, rest))
        storePartial8(v, h + j, rest); storePartial8(v, y + j, rest)
    }
}

/// GRU, first half with `linear_before_reset = 0`: `r ⊙ H` into `rh` from the z/r pre-activations
/// `xg[0 ..< 2H] + hr[0 ..< 2H]`.
public func gru_reset_f32_simd8(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, h: UnsafePointer<Float>,
                          rh: UnsafeMutablePointer<Float>, hidden: Int) {
    let full = hidden & ~7
    var j = 0
    while j < full {
        store8(sigmoid8(load8(xg + hidden + j) + load8(hr + hidden + j)) * load8(h + j), rh + j)
        j += 8
    }
    if j < hidden {
        let rest = hidden - j
        let r = sigmoid8(loadPartial8(xg + hidden + j, rest) + loadPartial8(hr + hidden + j, rest))
        storePartial8(r * loadPartial8(h + j, rest), rh + j, rest)
    }
}

/// GRU state update for one row. `hr` holds `H·R_zᵀ`, `H·R_rᵀ` and — when `linearBeforeReset` —
/// `H·R_hᵀ + RB_h`; otherwise `hh` holds `(r ⊙ H)·R_hᵀ` (RB_h is then folded into `xg`).
/// `H_t = (1 − z) ⊙ h̃ + z ⊙ H` goes to `h` (in place) and `y`.
public func gru_cell_f32_simd8(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, hh: UnsafePointer<Float>?,
                         h: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, hidden: Int) {
    var j = 0
    while j < hidden {
        let rest = min(8, hidden - j)
        @inline(always) func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> { loadLanes(p + j, rest) }
        let z = sigmoid8(load(xg) + load(hr))
        let candidate: SIMD8<Float>
        if let hh {
            candidate = tanh8(load(xg + 2 * hidden) + load(hh))
        } else {
            candidate = tanh8(load(xg + 2 * hidden) + sigmoid8(load(xg + hidden) + load(hr + hidden)) * load(hr + 2 * hidden))
        }
        let v = (1 - z) * candidate + z * load(h)
        storeLanes(v, h + j, rest); storeLanes(v, y + j, rest)
        j += 8
    }
}

/// LSTM state update for one row, gates i, o, f, c: `C_t = f ⊙ C + i ⊙ c̃` (in place in `c`),
/// `H_t = o ⊙ tanh(C_t)` into `h` and `y`.
public func lstm_cell_f32_simd8(xg: UnsafePointer<Float>, hr: UnsafePointer<Float>, h: UnsafeMutablePointer<Float>,
                          c: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, hidden: Int) {
    var j = 0
    while j < hidden {
        let rest = min(8, hidden - j)
        @inline(always) func gate(_ g: Int) -> SIMD8<Float> {
            loadLanes(xg + g * hidden + j, rest) + loadLanes(hr + g * hidden + j, rest)
        }
        let i = sigmoid8(gate(0)), o = sigmoid8(gate(1)), f = sigmoid8(gate(2))
        let cell = f * loadLanes(c + j, rest) + i * tanh8(gate(3))
        let v = o * tanh8(cell)
        storeLanes(cell, c + j, rest); storeLanes(v, h + j, rest); storeLanes(v, y + j, rest)
        j += 8
    }
}

/// `count` (0…8) floats at `p` in the first lanes, zero in the others; a plain load for 8.
@inline(always)
func loadLanes(_ p: UnsafePointer<Float>, _ count: Int) -> SIMD8<Float> {
    count == 8 ? load8(p) : loadPartial8(p, count)
}

/// Stores the first `count` (0…8) lanes of `v` at `p`; a plain store for 8.
@inline(always)
func storeLanes(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    if count == 8 { store8(v, p) } else { storePartial8(v, p, count) }
}

/// The first `count` (0…8) floats at `p`, zero in the other lanes.
@inline(always)
func loadPartial8(_ p: UnsafePointer<Float>, _ count: Int) -> SIMD8<Float> {
    var v = SIMD8<Float>()
    for l in 0..<count { v[l] = p[l] }
    return v
}

/// Stores the first `count` (0…8) lanes of `v` at `p`.
@inline(always)
func storePartial8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>, _ count: Int) {
    for l in 0..<count { p[l] = v[l] }
}

/// Runs `body` over `0 ..< count` in 8-value steps: full steps load and store 8 floats; the last
/// `count % 8` values go through the same vector code via a zero-padded stack copy, so every value
/// gets the same bits whatever its index. `body(j, load, store)` reads and writes the lanes at
/// offset `j` through `load`/`store` only. For light bodies (the bias pass of
/// `gemm_f32_packed16_small_simd8`); the cells above loop themselves (see the note at the top).
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
