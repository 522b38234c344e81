// The per-step product of a recurrent layer, `H·Rᵀ` for the few rows of a batch (docs/FORMAT.md
// "Ops (1.2)": RNN, GRU, LSTM), straight through the f32 register tiles of the packed GEMM
// (Generated/GemmTiles.swift): no blocking, no thread split and no per-tile epilogue call, which
// at m = batch and k = hidden cost as much as a fifth of a step (issue 18). Every output is the
// GEMM's one FMA chain in k order, then `+ bias`, then the activation, so the results are bitwise
// those of `gemm_f32_packed16_simd8` whatever the batch.

/// `y[i, j] = act(Σ_kk x[i, kk] · W[j, kk] + bias[j])` for `i < m`, `j < n`, over f32 panel16
/// weights, in one pass over all of K (for the small m of a recurrent step: the whole of `x`
/// stays in L1 while the weights stream once per 6 rows). With the identity activation the bias
/// is added in a pass after the tiles (the same `sum + bias` as the GEMM's epilogue).
/// - Parameters:
///   - x: `m × k` input, row stride `lda` (≥ k).
///   - weights: f32 panel16 weights (`pack_f32_panel16`); other encodings are a caller's error.
///   - bias: `n` values, or nil.
///   - y: `m × n` output, row stride `ldy` (≥ n); must not alias `x`.
public func gemm_f32_packed16_small_simd8(x: UnsafePointer<Float>, lda: Int, weights: PackedWeights,
                                          bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int,
                                          m: Int, n: Int, k: Int, activation: Activation) {
    precondition(weights.kind == .f32, "gemm_f32_packed16_small_simd8 runs f32 weights only")
    guard m > 0, n > 0 else { return }
    let packed = weights.values.assumingMemoryBound(to: Float.self)
    let full = n / 16, stride = k * 16
    let identity = activation == .identity
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 6 * 16 + 16) { temp in
        let tile = temp.baseAddress!, edgeBias = tile + 6 * 16
        @inline(__always) func epilogue(_ p: Int) -> Epilogue? {
            guard !identity else { return nil }  // the bias is added after the tiles
            return Epilogue(bias: bias.map { p < full ? $0 + p * 16 : UnsafePointer(edgeBias) }, activation: activation)
        }
        @inline(__always) func run(_ rows: Int, _ panels: Int, _ i: Int, _ p: Int, into c: UnsafeMutablePointer<Float>, ldc: Int) {
            gemmTileF32(rows: rows, panels: panels, a: x + i * lda, lda: lda, b: packed + p * stride, panelStride: stride,
                        kc: k, c: c, ldc: ldc, first: true, epilogue: epilogue(p))
        }
        // Rows in 6- and 4-row tiles, one panel at a time (the panel stays in L1 for all of them).
        var mainEnd = 0
        while m - mainEnd >= 6 { mainEnd += 6 }
        let has4 = m - mainEnd >= 4
        for p in 0..<full {
            var i = 0
            while i < mainEnd { run(6, 1, i, p, into: y + i * ldy + p * 16, ldc: ldy); i += 6 }
            if has4 { run(4, 1, i, p, into: y + i * ldy + p * 16, ldc: ldy) }
        }
        if has4 { mainEnd += 4 }
        // The last 1–3 rows in wide tiles over several panels (a GEMV for batch 1).
        var r = mainEnd
        if m - r >= 2 {
            var p = 0
            while p + 2 <= full { run(2, 2, r, p, into: y + r * ldy + p * 16, ldc: ldy); p += 2 }
            if p < full { run(2, 1, r, p, into: y + r * ldy + p * 16, ldc: ldy) }
            r += 2
        }
        if r < m {
            var p = 0
            while p + 4 <= full { run(1, 4, r, p, into: y + r * ldy + p * 16, ldc: ldy); p += 4 }
            while p < full { run(1, 1, r, p, into: y + r * ldy + p * 16, ldc: ldy); p += 1 }
        }
        // The edge panel (`n % 16` real columns) through the temporary tile, up to 6 rows at a time.
        let cols = n - full * 16
        if cols > 0 {
            if let bias { for j in 0..<16 { edgeBias[j] = j < cols ? bias[full * 16 + j] : 0 } }
            var i = 0
            while i < m {
                let rows = min(6, m - i)
                var done = 0
                if rows == 6 { run(6, 1, i, full, into: tile, ldc: 16); done = 6 }
                else if rows >= 4 { run(4, 1, i, full, into: tile, ldc: 16); done = 4 }
                if rows - done >= 2 { run(2, 1, i + done, full, into: tile + done * 16, ldc: 16); done += 2 }
                if rows - done == 1 { run(1, 1, i + done, full, into: tile + done * 16, ldc: 16) }
                for rr in 0..<rows { for j in 0..<cols { y[(i + rr) * ldy + full * 16 + j] = tile[rr * 16 + j] } }
                i += rows
            }
        }
    }
    if identity, let bias {
        for i in 0..<m {
            let row = y + i * ldy
            forEachLanes(n) { j, load, store in store(load(row + j) + load(bias + j), row + j) }
        }
    }
}
