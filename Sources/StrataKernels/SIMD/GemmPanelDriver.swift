/// The blocking driver shared by the GEMMs over panel16 weights — f32 (`gemm_f32_packed16_simd8`)
/// and f16/bf16/int8/int4 (`gemm_q_packed16_simd8`): K blocks, M blocks, the DRAM-streaming
/// blocking for big weights, the row tiles per panel, the wide tiles for the last rows, and the
/// edge panel through a temporary tile. What differs between weight encodings — how a tile reads
/// its panel — is a `PanelTiles` source, specialised into the driver (no dynamic dispatch).
///
/// Every output is one FMA chain in k order followed by the same epilogue whatever the tile, the
/// block or the source, so the schedule never changes a result (bitwise).

/// K block of the f32 GEMM from 4 rows: the A rows of a tile and the panel stream from L2, and
/// K ≤ 1024 (every layer of the MNIST, wide and residual MLPs) runs as one block, so no C tile
/// is stored and reloaded between blocks. Measured on 1 thread, against 256-deep blocks over
/// packed A: MNIST batch 16–4096 1.10–1.12× faster, residual 256 1.02–1.15×, big 64 1.07×,
/// wide 256 within ±4 %. Also the K block of the quantized GEMM's decode-once path (its
/// workspace holds one decoded K block of a panel).
let gemmF32KBlock = 1024
/// M block of the GEMMs: the rows a panel (or a panel's decoded K block) sweeps before the next.
/// For the quantized tiles that decode in their loop: 96 rows of A stay in L2 while one panel of
/// weights (at most `k·32` bytes) is reused by every row tile.
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

/// K block of the indirect GEMM (`gemm_f32_indirect16_simd8`): a panel's rows are runs of 16
/// floats scattered through the input (a 1×1 Conv's rows `H·W` apart, each usually across two
/// cache lines), so a K block of 128 rows touches at most 16 KiB, which stays in L1 while every
/// row tile of the M block sweeps it; the partial sums between blocks cost one C tile load and
/// store per 128 k steps.
let gemmIndirectKBlock = 128

/// Depth of each K block for `k`: equal blocks of at most `block` (2100 by 1024 → 3 × 700).
@inline(__always)
func gemmKStep(_ k: Int, block: Int) -> Int {
    let blocks = max(1, (k + block - 1) / block)
    return (k + blocks - 1) / blocks
}

/// How a `PanelTiles` source reads the weights, which decides the blocking.
enum PanelBlocking {
    /// f32 panels read in place: K blocks of up to `gemmF32KBlock` (from 4 rows; fewer rows
    /// reuse nothing between panels, so one block streams each panel once), M blocks of
    /// `gemmMBlock` — or, for weights of more than `gemmStreamedWeightBytes`, the streaming blocks.
    case inPlace(weightBytes: Int)
    /// Each K block of a panel decoded once into a workspace of `gemmF32KBlock · 16` floats:
    /// K blocks of up to `gemmF32KBlock`, M blocks of `gemmMBlock`.
    case decodedPerBlock
    /// Tiles that decode inside their loop over all of K: one K block, M blocks of `gemmMBlock`.
    case wholeK
    /// Columns read in place through an offset table (the indirect GEMM): K blocks of up to
    /// `gemmIndirectKBlock` (from 4 rows, as `.inPlace`), M blocks of `gemmMBlock`.
    case indirect

    /// The depth of each K block and the rows of each M block for `m × k`.
    @inline(__always)
    func blocks(m: Int, k: Int) -> (kStep: Int, mBlock: Int) {
        switch self {
        case .inPlace(let bytes):
            // K blocks of equal size (≤ the limit), so no block is a sliver: k = 2100 runs as
            // 3 × 700, not 2 × 1024 + 52 (a thin block would reload and store every C tile for few
            // FMAs). Partial sums live in y in f32 between blocks, so the split never changes a
            // result. A is read in place: packing it cost more than it saved (see gemmF32KBlock).
            let streamed = bytes > gemmStreamedWeightBytes
            return (m < 4 ? k : gemmKStep(k, block: streamed ? gemmStreamedKBlock : gemmF32KBlock),
                    streamed ? gemmStreamedMBlock : gemmMBlock)
        case .decodedPerBlock: return (gemmKStep(k, block: gemmF32KBlock), gemmMBlock)
        case .wholeK: return (k, gemmMBlock)
        case .indirect: return (m < 4 ? k : gemmKStep(k, block: gemmIndirectKBlock), gemmMBlock)
        }
    }
}

/// The register tiles of one weight encoding, as `gemmPanels` drives them.
protocol PanelTiles {
    /// How the tiles read the weights (the blocking follows).
    var blocking: PanelBlocking { get }
    /// Called before the rows of an M block run on K block `kb ..< kb + kc` of panel `p`, when
    /// `blocking` is `.decodedPerBlock` (the driver then runs one-panel tiles only, panel by panel).
    func decode(panel p: Int, kb: Int, kc: Int)
    /// Runs the tile of `rows` rows (6, 4, 2 or 1) × `panels` panels (1; 2 with 2 rows; 4 with 1
    /// row) from row `i`, panel `p`, over K block `kb ..< kb + kc`, into `c` (row stride `ldc`):
    /// starting from 0 when `first`, else from `c`; the epilogue applied when given (last block).
    func tile(rows: Int, panels: Int, row i: Int, panel p: Int, kb: Int, kc: Int,
              c: UnsafeMutablePointer<Float>, ldc: Int, first: Bool, epilogue: Epilogue?)
}

/// `y[i, j] = act(Σ_kk x[i, kk] · W[j, kk] · scale[j] + bias[j] + rowBias[i])` for rows `0 ..< m` and the
/// panels of `panelRange`, through `tiles`' register tiles with their blocking: per K block, per
/// M block, (1) rows in 6- and 4-row tiles one panel at a time, (2) the last 1–3 rows in wide
/// tiles over several panels (GEMV-like for batch 1), (3) the edge panel (`n % 16` real columns)
/// through a 16-wide temporary tile. A decoding source instead sweeps panel by panel, decoding
/// each K block once and running every row of the M block on it.
/// - Parameter scales: per-column scales applied in the epilogue (int8 weights decoded to `q`), or nil.
@inline(__always)
func gemmPanels<T: PanelTiles>(_ tiles: T, m: Int, n: Int, k: Int, panelRange: Range<Int>,
                               bias: UnsafePointer<Float>?, rowBias: UnsafePointer<Float>? = nil,
                               activation: Activation, scales: UnsafePointer<Float>?,
                               y: UnsafeMutablePointer<Float>, ldy: Int) {
    let allPanels = Panel16.panelCount(n)
    let fullPanels = n / 16  // panels with 16 real columns; at most one edge panel after them
    let full = panelRange.clamped(to: 0..<fullPanels)
    let hasEdge = fullPanels < allPanels && panelRange.contains(fullPanels)
    let (kStep, mBlock) = tiles.blocking.blocks(m: m, k: k)
    let decodes: Bool
    if case .decodedPerBlock = tiles.blocking { decodes = true } else { decodes = false }
    // Activations with no in-line form in `Epilogue.activate` (SiLU, sigmoid, GELU, …) run over
    // each finished tile while it is in L1 — one loop with exp in line (`activateRowsInPlace`) —
    // not through an outlined call per SIMD8 inside the tile; the same bits.
    let activatesAfter = !Epilogue.activatesInLine(activation)
    let tileActivation = activatesAfter ? Activation.identity : activation
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 6 * 16 + 16) { temp in
        let tile = temp.baseAddress!, edgeBias = tile + 6 * 16
        if let bias, hasEdge {
            for j in 0..<16 { edgeBias[j] = fullPanels * 16 + j < n ? bias[fullPanels * 16 + j] : 0 }
        }
        var nextKB = 0
        repeat {
            // A `let` per block: the local functions below capture it by value (a captured `var`
            // would be boxed on the heap when they are not inlined).
            let kb = nextKB, kc = min(kStep, k - nextKB)
            let first = kb == 0, last = kb + kc == k
            @inline(__always) func ep(_ i: Int, _ p: Int) -> Epilogue? {
                guard last else { return nil }
                return Epilogue(bias: bias.map { p < fullPanels ? $0 + p * 16 : UnsafePointer(edgeBias) },
                                activation: tileActivation, scale: scales.map { $0 + p * 16 }, rowBias: rowBias.map { $0 + i })
            }
            // The activation over rows i ..< i + rows, columns p·16 ..< p·16 + cols of y (last K block).
            @inline(__always) func activateAfter(_ rows: Int, _ cols: Int, _ i: Int, _ p: Int) {
                guard last && activatesAfter else { return }
                activateRowsInPlace(y: y + i * ldy + p * 16, ldy: ldy, rows: rows, cols: cols, activation: activation)
            }
            @inline(__always) func run(_ rows: Int, _ panels: Int, _ i: Int, _ p: Int) {
                tiles.tile(rows: rows, panels: panels, row: i, panel: p, kb: kb, kc: kc, c: y + i * ldy + p * 16, ldc: ldy,
                           first: first, epilogue: ep(i, p))
                activateAfter(rows, panels * 16, i, p)
            }
            // Rows i ..< i + rows (≤ 6) of the edge panel through the temporary tile.
            @inline(__always) func runEdge(_ i: Int, _ rows: Int) {
                let p = fullPanels, cols = n - p * 16
                if !first {
                    for rr in 0..<rows { for j in 0..<cols { tile[rr * 16 + j] = y[(i + rr) * ldy + p * 16 + j] } }
                }
                @inline(__always) func edgeTile(_ r: Int, _ at: Int) {
                    tiles.tile(rows: r, panels: 1, row: i + at, panel: p, kb: kb, kc: kc, c: tile + at * 16, ldc: 16,
                               first: first, epilogue: ep(i + at, p))
                }
                var done = 0
                if rows == 6 { edgeTile(6, 0); done = 6 } else if rows >= 4 { edgeTile(4, 0); done = 4 }
                if rows - done >= 2 { edgeTile(2, done); done += 2 }
                if rows - done == 1 { edgeTile(1, done) }
                for rr in 0..<rows { for j in 0..<cols { y[(i + rr) * ldy + p * 16 + j] = tile[rr * 16 + j] } }
                activateAfter(rows, cols, i, p)
            }
            var ib = 0
            while ib < m {
                let end = ib + min(mBlock, m - ib)
                var mainEnd = ib
                while end - mainEnd >= 6 { mainEnd += 6 }
                let has4 = end - mainEnd >= 4
                if decodes {
                    // Panel by panel: decode the K block once, then every row of the M block.
                    let end4 = has4 ? mainEnd + 4 : mainEnd
                    for p in panelRange {
                        tiles.decode(panel: p, kb: kb, kc: kc)
                        var i = ib
                        while i < end {
                            let rows = i < mainEnd ? 6 : i < end4 ? 4 : end - i >= 2 ? 2 : 1
                            if p == fullPanels { runEdge(i, rows) } else { run(rows, 1, i, p) }
                            i += rows
                        }
                    }
                } else {
                    // 1. Rows in 6- and 4-row tiles, one panel at a time (the panel stays in cache).
                    for p in full {
                        var i = ib
                        while i < mainEnd { run(6, 1, i, p); i += 6 }
                        if has4 { run(4, 1, i, p) }
                    }
                    if has4 { mainEnd += 4 }
                    // 2. The last 1–3 rows: wide tiles over several panels (GEMV-like for batch 1).
                    var r = mainEnd
                    if end - r >= 2 {
                        var p = full.lowerBound
                        while p + 2 <= full.upperBound { run(2, 2, r, p); p += 2 }
                        if p < full.upperBound { run(2, 1, r, p) }
                        r += 2
                    }
                    if r < end {
                        var p = full.lowerBound
                        while p + 4 <= full.upperBound { run(1, 4, r, p); p += 4 }
                        while p < full.upperBound { run(1, 1, r, p); p += 1 }
                    }
                    // 3. The edge panel, up to 6 rows at a time.
                    if hasEdge {
                        var i = ib
                        while i < end { let rows = min(6, end - i); runEdge(i, rows); i += rows }
                    }
                }
                ib = end
            }
            nextKB += kc
        } while nextKB < k
    }
}

/// The f32 register tiles (Generated/GemmTiles.swift) by shape, reading `b` with panel stride
/// `panelStride` (0 for a single decoded panel).
@inline(__always)
func gemmTileF32(rows: Int, panels: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, panelStride: Int,
                 kc: Int, c: UnsafeMutablePointer<Float>, ldc: Int, first: Bool, epilogue: Epilogue?) {
    switch (rows, panels) {
    case (6, 1): gemmTile6x16(a: a, lda: lda, b: b, panelStride: panelStride, kc: kc, c: c, ldc: ldc, first: first, epilogue: epilogue)
    case (4, 1): gemmTile4x16(a: a, lda: lda, b: b, panelStride: panelStride, kc: kc, c: c, ldc: ldc, first: first, epilogue: epilogue)
    case (2, 2): gemmTile2x32(a: a, lda: lda, b: b, panelStride: panelStride, kc: kc, c: c, ldc: ldc, first: first, epilogue: epilogue)
    case (2, 1): gemmTile2x16(a: a, lda: lda, b: b, panelStride: panelStride, kc: kc, c: c, ldc: ldc, first: first, epilogue: epilogue)
    case (1, 4): gemmTile1x64(a: a, lda: lda, b: b, panelStride: panelStride, kc: kc, c: c, ldc: ldc, first: first, epilogue: epilogue)
    case (1, 1): gemmTile1x16(a: a, lda: lda, b: b, panelStride: panelStride, kc: kc, c: c, ldc: ldc, first: first, epilogue: epilogue)
    default: preconditionFailure("no f32 tile of this shape")
    }
}

/// f32 panel16 weights read in place by the f32 tiles.
struct F32PanelTiles: PanelTiles {
    let x: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>, k: Int, panelCount: Int

    var blocking: PanelBlocking { .inPlace(weightBytes: panelCount * k * 16 * MemoryLayout<Float>.stride) }

    @inline(__always) func decode(panel p: Int, kb: Int, kc: Int) {}

    @inline(__always)
    func tile(rows: Int, panels: Int, row i: Int, panel p: Int, kb: Int, kc: Int,
              c: UnsafeMutablePointer<Float>, ldc: Int, first: Bool, epilogue: Epilogue?) {
        gemmTileF32(rows: rows, panels: panels, a: x + i * lda + kb, lda: lda, b: packed + p * (k * 16) + kb * 16,
                    panelStride: k * 16, kc: kc, c: c, ldc: ldc, first: first, epilogue: epilogue)
    }
}

/// Quantized panel16 weights (f16, bf16, int8, int4) decoded inside the quantized tiles'
/// loop over all of K (Generated/QuantTiles.swift); int8 tiles apply their row scales themselves.
struct QuantPanelTiles: PanelTiles {
    let x: UnsafePointer<Float>, lda: Int, weights: PackedWeights, k: Int, panelBytes: Int, scaleBytes: Int

    var blocking: PanelBlocking { .wholeK }

    @inline(__always) func decode(panel p: Int, kb: Int, kc: Int) {}

    @inline(__always)
    func tile(rows: Int, panels: Int, row i: Int, panel p: Int, kb: Int, kc: Int,
              c: UnsafeMutablePointer<Float>, ldc: Int, first: Bool, epilogue: Epilogue?) {
        let a = x + i * lda, w = weights.values + p * panelBytes, ep = epilogue!  // one K block: always the last
        let s = weights.scales.map { $0 + p * scaleBytes }
        switch weights.kind {
        case .f16: qTile_f16(rows: rows, panels: panels, a: a, lda: lda, w: w, panelBytes: panelBytes, k: k, scales: s, scaleBytes: scaleBytes, c: c, ldc: ldc, epilogue: ep)
        case .bf16: qTile_bf16(rows: rows, panels: panels, a: a, lda: lda, w: w, panelBytes: panelBytes, k: k, scales: s, scaleBytes: scaleBytes, c: c, ldc: ldc, epilogue: ep)
        case .int8: qTile_int8(rows: rows, panels: panels, a: a, lda: lda, w: w, panelBytes: panelBytes, k: k, scales: s, scaleBytes: scaleBytes, c: c, ldc: ldc, epilogue: ep)
        case .int4: qTile_int4(rows: rows, panels: panels, a: a, lda: lda, w: w, panelBytes: panelBytes, k: k, scales: s, scaleBytes: scaleBytes, c: c, ldc: ldc, epilogue: ep)
        case .f32, .int8Dynamic: preconditionFailure("f32 and dynamic-int8 weights have their own GEMMs")
        }
    }
}

/// Quantized panel16 weights with each K block of a panel decoded once into `workspace`
/// (`decodePanelSlice`), then run by the f32 tiles; int8 row scales go to the epilogue.
struct DecodedPanelTiles: PanelTiles {
    let x: UnsafePointer<Float>, lda: Int, weights: PackedWeights, k: Int, workspace: UnsafeMutablePointer<Float>

    var blocking: PanelBlocking { .decodedPerBlock }

    @inline(__always) func decode(panel p: Int, kb: Int, kc: Int) {
        decodePanelSlice(weights, p: p, k: k, k0: kb, kc: kc, out: workspace)
    }

    @inline(__always)
    func tile(rows: Int, panels: Int, row i: Int, panel p: Int, kb: Int, kc: Int,
              c: UnsafeMutablePointer<Float>, ldc: Int, first: Bool, epilogue: Epilogue?) {
        gemmTileF32(rows: rows, panels: 1, a: x + i * lda + kb, lda: lda, b: workspace, panelStride: 0, kc: kc,
                    c: c, ldc: ldc, first: first, epilogue: epilogue)
    }
}
