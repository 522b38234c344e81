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

/// K block of the f32 GEMM from 4 rows: the A rows of a tile and the panel stream from L2, and
/// K ≤ 1024 (every layer of the MNIST, wide and residual MLPs) runs as one block, so no C tile
/// is stored and reloaded between blocks. Measured on 1 thread, against 256-deep blocks over
/// packed A: MNIST batch 16–4096 1.10–1.12× faster, residual 256 1.02–1.15×, big 64 1.07×,
/// wide 256 within ±4 %.
let gemmF32KBlock = 1024
/// M block of the f32 GEMM and of the quantized GEMM's decode-once path: the rows a panel (or a
/// panel's decoded K block) sweeps before the next.
let gemmMBlock = 96

/// Weights (bytes of the whole packed matrix) from which the f32 GEMM assumes they stream from
/// DRAM, not from the last-level cache (the bench's big MLP: 64 MiB a layer), and blocks for that:
/// K blocks up to `gemmStreamedKBlock` deep and M blocks of `gemmStreamedMBlock` rows, so each
/// panel is read from memory in one sequential pass per 256 rows and swept by up to 43 row tiles
/// from L2. Measured on 1 thread, one 4096 × 4096 layer alone: batch 256 at 92.6 against 83.2
/// GFLOP/s with the 1024 × 96 blocking (95 with the tiles' prefetch), batch 4096 1.04–1.08×; the
/// big MLP at batch 256 (`strata bench`) went from 293 to 270 ms. Layers that fit in cache (the
/// MNIST, wide and residual MLPs) were 0.5–2 % slower with it, so they keep the smaller blocks.
let gemmStreamedWeightBytes = 8 << 20
/// K block of the f32 GEMM over weights that stream from DRAM (a panel's K block is 256 KiB, half
/// of a Zen 3 L2).
let gemmStreamedKBlock = 4096
/// M block of the f32 GEMM over weights that stream from DRAM.
let gemmStreamedMBlock = 256
/// How far ahead (floats of the panel: 16 k steps, 1 KiB) the 6- and 4-row tiles prefetch.
let gemmPrefetchFloats = 256

/// Depth of each K block for `k`: equal blocks of at most `block` (2100 by 1024 → 3 × 700).
@inline(__always)
func gemmKStep(_ k: Int, block: Int) -> Int {
    let blocks = max(1, (k + block - 1) / block)
    return (k + blocks - 1) / blocks
}

/// Floats of per-thread scratch a GEMM over quantized weights uses: the larger of the
/// decode-once path's decoded K block of one panel (`gemmF32KBlock · 16` floats = 64 KiB) and
/// the dynamic-int8 GEMM's quantized rows and row scales (`DynamicInt8Workspace`), in whole KiB:
/// 103 KiB. The f32 GEMM needs none.
public let gemmWorkspaceFloats = max(gemmF32KBlock * 16, (DynamicInt8Workspace.bytes + 1023) / 1024 * 256)

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
public func gemm_f32_packed16_simd8(x: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
                                    bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int,
                                    m: Int, n: Int, k: Int, activation: Activation, panels: Range<Int>? = nil) {
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
        // K blocks of equal size (≤ gemmF32KBlock), so no block is a sliver: k = 2100 runs as
        // 3 × 700, not 2 × 1024 + 52 (a thin block would reload and store every C tile for few FMAs).
        // Partial sums live in y in f32 between blocks, so the split never changes a result.
        // Fewer than 4 rows reuse nothing between panels: one block streams each panel once.
        // A is read in place: packing it cost more than it saved (measured; see gemmF32KBlock).
        let streamed = allPanels * panelStride * MemoryLayout<Float>.stride > gemmStreamedWeightBytes
        let kStep = m < 4 ? k : gemmKStep(k, block: streamed ? gemmStreamedKBlock : gemmF32KBlock)
        let mBlock = streamed ? gemmStreamedMBlock : gemmMBlock
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
                let end = ib + min(mBlock, m - ib)
                // 1. Rows in 6- and 4-row tiles, one panel at a time.
                var mainEnd = ib
                while end - mainEnd >= 6 { mainEnd += 6 }
                let has4 = end - mainEnd >= 4
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
