/// Weights packed for `gemm_f32_packed16_simd8`: 16-wide panels of output features, k-major.
///
/// For `W` of shape `[n, k]` (PyTorch `nn.Linear.weight`), panel `p` holds
/// `packed[p][kk][j] = W[16·p + j][kk]` for `j < 16`, zero where `16·p + j ≥ n`.
/// Size: `panelCount(n) · k · 16` floats. docs/FORMAT.md calls this layout 1 (`panel16`).
public enum Panel16 {
    /// Panels needed for `n` output features.
    @inlinable public static func panelCount(_ n: Int) -> Int { (n + 15) / 16 }

    /// Floats in the packed form of an `n × k` matrix, or nil on overflow.
    @inlinable public static func packedCount(n: Int, k: Int) -> Int? {
        let (a, o1) = panelCount(n).multipliedReportingOverflow(by: k)
        let (b, o2) = a.multipliedReportingOverflow(by: 16)
        return o1 || o2 ? nil : b
    }
}

/// Packs row-major `w` (`n × k`) into `out` (`Panel16.packedCount(n:k:)` floats).
public func pack_f32_panel16(w: UnsafePointer<Float>, n: Int, k: Int, out: UnsafeMutablePointer<Float>) {
    let panels = Panel16.panelCount(n)
    for p in 0..<panels {
        let dst = out + p * k * 16
        for j in 0..<16 {
            let row = p * 16 + j
            if row < n {
                let src = w + row * k
                for kk in 0..<k { dst[kk * 16 + j] = src[kk] }
            } else {
                for kk in 0..<k { dst[kk * 16 + j] = 0 }
            }
        }
    }
}

/// The fused epilogue of a tile: multiply by the row scale (int8 weights), add the bias, then
/// apply the activation, 8 lanes at a time. Lane results equal
/// `activation.apply(sum · scale[j] + bias[j])` exactly (same scalar definitions, no fusing).
@usableFromInline
struct Epilogue {
    /// Bias at the tile's first column, or nil.
    var bias: UnsafePointer<Float>?
    var activation: Activation
    /// Per-column scales at the tile's first column (int8 weights decoded to `q`), or nil.
    var scale: UnsafePointer<Float>? = nil

    @inline(__always)
    func apply(_ v: SIMD8<Float>, column: Int) -> SIMD8<Float> {
        var x = v
        if let scale { x = x * load8(scale + column) }
        if let bias { x += load8(bias + column) }
        return activation.apply8(x)
    }
}

/// K block: a 6-row A tile (6·256·4 = 6 KB) and a panel slice (256·16·4 = 16 KB) stay in L1.
let gemmKBlock = 256
/// M block: 96 rows × 256 of A (96 KB) stay in L2 while the panels stream past.
let gemmMBlock = 96

/// Depth of each K block for `k`: equal blocks of at most `gemmKBlock` (784 → 4 × 196).
@inline(__always)
func gemmKStep(_ k: Int) -> Int {
    let blocks = max(1, (k + gemmKBlock - 1) / gemmKBlock)
    return (k + blocks - 1) / blocks
}

/// Floats of per-thread scratch the packed GEMMs use: one M × K block of packed A
/// (`gemm_f32_packed16_simd8`), then one K block of a panel decoded to f32
/// (`gemm_q_packed16_simd8` from `quantDecodeMinRows` rows; `gemmKBlock · 16` floats = 16 KiB).
public let gemmWorkspaceFloats = gemmMBlock * gemmKBlock + gemmKBlock * 16

/// Packs `rows` rows of A (row stride `lda`, `kc` columns from `a`) for the packed-A tiles: the
/// first `rows6` (a multiple of 6) in 6-row tiles, then at most one 4-row tile; tile `t` starting
/// at row `r` goes to `ws + r·kc`, interleaved as `ap[k·R + r]`. Sequential writes, R read streams.
@inline(__always)
func packABlock(_ a: UnsafePointer<Float>, lda: Int, rows6: Int, rows: Int, kc: Int, into ws: UnsafeMutablePointer<Float>) {
    var i = 0
    while i < rows {
        let tileRows = i < rows6 ? 6 : 4
        var dst = ws + i * kc
        let src = a + i * lda
        if tileRows == 6 {
            for kk in 0..<kc {
                dst[0] = src[kk]; dst[1] = src[lda + kk]; dst[2] = src[2 * lda + kk]
                dst[3] = src[3 * lda + kk]; dst[4] = src[4 * lda + kk]; dst[5] = src[5 * lda + kk]
                dst += 6
            }
        } else {
            for kk in 0..<kc {
                dst[0] = src[kk]; dst[1] = src[lda + kk]; dst[2] = src[2 * lda + kk]; dst[3] = src[3 * lda + kk]
                dst += 4
            }
        }
        i += tileRows
    }
}

/// GEMM with packed weights and a fused bias + activation epilogue:
/// `y[i, j] = act(Σ_kk x[i, kk] · W[j, kk] + bias[j])` for `i < m`, `j < n`.
///
/// Every output element is accumulated by one FMA chain in k order, then the bias is added and
/// the activation applied, whatever the tile, block or batch: a sample's result is bitwise
/// identical at any batch size, at any position in the batch, and under any split of rows or
/// panels between threads.
/// - Parameters:
///   - x: `m × k` input, row stride `lda` (≥ k).
///   - packed: `W` packed by `pack_f32_panel16` (panel stride `k · 16`).
///   - bias: `n` values, or nil.
///   - y: `m × n` output, row stride `ldy` (≥ n); must not alias `x`.
///   - panels: the range of 16-wide panels to compute (all: `0..<Panel16.panelCount(n)`);
///     lets threads split the work by output features.
///   - workspace: `gemmWorkspaceFloats` floats of scratch, or nil. With it, each block of A is
///     packed once (rows interleaved) so the 6- and 4-row tiles read it contiguously — without,
///     rows a multiple of 4 KiB apart collide in L1 and large batches run at about half speed.
///     Results are bitwise identical either way.
public func gemm_f32_packed16_simd8(x: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
                                    bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int,
                                    m: Int, n: Int, k: Int, activation: Activation, panels: Range<Int>? = nil,
                                    workspace: UnsafeMutablePointer<Float>? = nil) {
    let allPanels = Panel16.panelCount(n)
    let panelRange = (panels ?? 0..<allPanels).clamped(to: 0..<allPanels)
    guard m > 0, !panelRange.isEmpty else { return }
    let panelStride = k * 16
    let fullPanels = n / 16  // panels with 16 real columns; at most one edge panel after them
    let full = panelRange.clamped(to: 0..<fullPanels)
    let hasEdge = fullPanels < allPanels && panelRange.contains(fullPanels)
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 6 * 16 + 16) { temp in
        let tile = temp.baseAddress!, edgeBias = tile + 6 * 16
        if let bias, hasEdge {
            for j in 0..<16 { edgeBias[j] = fullPanels * 16 + j < n ? bias[fullPanels * 16 + j] : 0 }
        }
        // K blocks of equal size (≤ gemmKBlock), so no block is a sliver: k = 784 runs as 4 × 196,
        // not 3 × 256 + 16 (a 16-deep block would reload and store every C tile for 16 FMAs).
        // Partial sums live in y in f32 between blocks, so the split never changes a result.
        // Fewer than 4 rows use no A tile worth keeping in L1: one block streams each panel once.
        let kStep = m < 4 ? k : gemmKStep(k)
        var kb = 0
        repeat {
            let kc = min(kStep, k - kb)
            let first = kb == 0, last = kb + kc == k
            @inline(__always) func ep(_ p: Int) -> Epilogue? {
                guard last else { return nil }
                return Epilogue(bias: bias.map { p < fullPanels ? $0 + p * 16 : UnsafePointer(edgeBias) }, activation: activation)
            }
            @inline(__always) func a(_ i: Int) -> UnsafePointer<Float> { x + i * lda + kb }
            @inline(__always) func b(_ p: Int) -> UnsafePointer<Float> { packed + p * panelStride + kb * 16 }
            @inline(__always) func c(_ i: Int, _ p: Int) -> UnsafeMutablePointer<Float> { y + i * ldy + p * 16 }
            var ib = 0
            while ib < m {
                let end = ib + min(gemmMBlock, m - ib)
                // 1. Rows in 6- and 4-row tiles, one panel at a time.
                var mainEnd = ib
                while end - mainEnd >= 6 { mainEnd += 6 }
                let has4 = end - mainEnd >= 4
                if let ws = workspace, !full.isEmpty {
                    // Pack rows ib..<mainEnd(+4) of this K block: tile t at ws + (i - ib)·kc, ap[k·R + r].
                    packABlock(a(ib), lda: lda, rows6: mainEnd - ib, rows: mainEnd + (has4 ? 4 : 0) - ib, kc: kc, into: ws)
                    for p in full {
                        var i = ib
                        while i < mainEnd {
                            gemmTile6x16PackedA(a: ws + (i - ib) * kc, lda: 6, b: b(p), panelStride: panelStride, kc: kc, c: c(i, p), ldc: ldy, first: first, epilogue: ep(p))
                            i += 6
                        }
                        if has4 {
                            gemmTile4x16PackedA(a: ws + (i - ib) * kc, lda: 4, b: b(p), panelStride: panelStride, kc: kc, c: c(i, p), ldc: ldy, first: first, epilogue: ep(p))
                        }
                    }
                } else {
                    for p in full {
                        var i = ib
                        while i < mainEnd {
                            gemmTile6x16(a: a(i), lda: lda, b: b(p), panelStride: panelStride, kc: kc, c: c(i, p), ldc: ldy, first: first, epilogue: ep(p))
                            i += 6
                        }
                        if has4 {
                            gemmTile4x16(a: a(i), lda: lda, b: b(p), panelStride: panelStride, kc: kc, c: c(i, p), ldc: ldy, first: first, epilogue: ep(p))
                        }
                    }
                }
                if has4 { mainEnd += 4 }
                // 2. The last 1–3 rows: wide tiles over several panels (GEMV-like for batch 1).
                var r = mainEnd
                if end - r >= 2 {
                    var p = full.lowerBound
                    while p + 2 <= full.upperBound {
                        gemmTile2x32(a: a(r), lda: lda, b: b(p), panelStride: panelStride, kc: kc, c: c(r, p), ldc: ldy, first: first, epilogue: ep(p))
                        p += 2
                    }
                    if p < full.upperBound {
                        gemmTile2x16(a: a(r), lda: lda, b: b(p), panelStride: panelStride, kc: kc, c: c(r, p), ldc: ldy, first: first, epilogue: ep(p))
                    }
                    r += 2
                }
                if r < end {
                    var p = full.lowerBound
                    while p + 4 <= full.upperBound {
                        gemmTile1x64(a: a(r), lda: lda, b: b(p), panelStride: panelStride, kc: kc, c: c(r, p), ldc: ldy, first: first, epilogue: ep(p))
                        p += 4
                    }
                    while p < full.upperBound {
                        gemmTile1x16(a: a(r), lda: lda, b: b(p), panelStride: panelStride, kc: kc, c: c(r, p), ldc: ldy, first: first, epilogue: ep(p))
                        p += 1
                    }
                }
                // 3. The edge panel (n % 16 real columns) through a 16-wide temporary tile.
                if hasEdge {
                    let p = fullPanels, cols = n - p * 16
                    var i = ib
                    while i < end {
                        let rows = min(6, end - i)
                        if !first {
                            for rr in 0..<rows { for j in 0..<cols { tile[rr * 16 + j] = y[(i + rr) * ldy + p * 16 + j] } }
                        }
                        var done = 0
                        if rows == 6 {
                            gemmTile6x16(a: a(i), lda: lda, b: b(p), panelStride: panelStride, kc: kc, c: tile, ldc: 16, first: first, epilogue: ep(p))
                            done = 6
                        } else if rows >= 4 {
                            gemmTile4x16(a: a(i), lda: lda, b: b(p), panelStride: panelStride, kc: kc, c: tile, ldc: 16, first: first, epilogue: ep(p))
                            done = 4
                        }
                        if rows - done >= 2 {
                            gemmTile2x16(a: a(i + done), lda: lda, b: b(p), panelStride: panelStride, kc: kc, c: tile + done * 16, ldc: 16, first: first, epilogue: ep(p))
                            done += 2
                        }
                        if rows - done == 1 {
                            gemmTile1x16(a: a(i + done), lda: lda, b: b(p), panelStride: panelStride, kc: kc, c: tile + done * 16, ldc: 16, first: first, epilogue: ep(p))
                        }
                        for rr in 0..<rows { for j in 0..<cols { y[(i + rr) * ldy + p * 16 + j] = tile[rr * 16 + j] } }
                        i += rows
                    }
                }
                ib = end
            }
            kb += kc
        } while kb < k
    }
}
