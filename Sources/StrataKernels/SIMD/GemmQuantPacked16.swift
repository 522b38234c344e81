/// A `Linear` weight in the panel16 order of any weight dtype, as the GEMMs read it in place
/// (docs/FORMAT.md, "Quantized weights"; byte layout: `QuantizedPanel16` in StrataCore).
public struct PackedWeights: @unchecked Sendable {  // Pointers into the immutable mapped file or plan-owned memory.
    /// How the values are encoded.
    public enum Kind: Sendable, Equatable {
        /// f32, read by `gemm_f32_packed16_simd8`.
        case f32
        /// IEEE binary16.
        case f16
        /// bfloat16 (the high half of an f32).
        case bf16
        /// int8 with one f32 scale per output row.
        case int8
        /// int4 (stored as value + 8 in nibbles) with one f16 scale per row and block of 32 k.
        case int4
        /// int8 in k quads (layout panel16k4) with one f32 scale per output row, run by the
        /// dynamic-int8 GEMM: activations quantized per row at run time, int32 dot products
        /// (`gemm_i8dyn_packed16k4`, docs/FORMAT.md "Dynamic int8").
        case int8Dynamic
    }
    /// The encoding.
    public var kind: Kind
    /// Start of the values region.
    public var values: UnsafeRawPointer
    /// Start of the scales region (int8: `panels·16` f32; int4: `panels·(Kp/32)·16` f16), else nil.
    public var scales: UnsafeRawPointer?

    /// Wraps a weight's regions.
    public init(kind: Kind, values: UnsafeRawPointer, scales: UnsafeRawPointer? = nil) {
        self.kind = kind; self.values = values; self.scales = scales
    }

    /// Bytes per panel of the values region for `k` inputs.
    @inlinable public func panelBytes(k: Int) -> Int {
        switch kind {
        case .f32: return k * 64
        case .f16, .bf16: return k * 32
        case .int8: return k * 16
        case .int4: return (k + 31) / 32 * 32 * 8
        case .int8Dynamic: return (k + 3) / 4 * 64
        }
    }

    /// Bytes per panel of the scales region for `k` inputs (0 without scales).
    @inlinable public func scaleBytes(k: Int) -> Int {
        switch kind {
        case .int8, .int8Dynamic: return 64
        case .int4: return (k + 31) / 32 * 32
        default: return 0
        }
    }
}

/// 8 IEEE binary16 values at `p` widened to f32 (exact). Lane by lane, because the generic
/// `SIMD8<Float>(SIMD8<Float16>)` initializer is not always inlined (measured: a call per load);
/// written this way LLVM emits one `vcvtph2ps` on x86 (F16C) and `fcvtl` on aarch64.
@inline(__always)
func widenF16(_ p: UnsafeRawPointer) -> SIMD8<Float> {
    let h = p.loadUnaligned(as: SIMD8<Float16>.self)
    return SIMD8<Float>(Float(h[0]), Float(h[1]), Float(h[2]), Float(h[3]), Float(h[4]), Float(h[5]), Float(h[6]), Float(h[7]))
}

/// `Float(n) - 8` for nibbles `n` in 0…15, exactly, without an int→float conversion: the bits
/// `0x4B00_0000 | n` are the float `2^23 + n`, and subtracting `2^23 + 8` is exact.
@inline(__always)
func nibbleMinus8(_ n: SIMD8<UInt32>) -> SIMD8<Float> {
    unsafeBitCast(n | 0x4B00_0000, to: SIMD8<Float>.self) - 8_388_616
}

/// bfloat16 bit patterns widened to f32 (exact: the low 16 bits become zero).
@inline(__always)
func widenBF16(_ h: SIMD8<UInt16>) -> SIMD8<Float> {
    let u = SIMD8<UInt32>(UInt32(h[0]), UInt32(h[1]), UInt32(h[2]), UInt32(h[3]), UInt32(h[4]), UInt32(h[5]), UInt32(h[6]), UInt32(h[7]))
    return unsafeBitCast(u &<< 16, to: SIMD8<Float>.self)
}

// The widenings below are written lane by lane, like `widenF16`: the generic SIMD conversion
// initializers are specialised but not always inlined (measured: with a second caller LLVM kept
// them out of line, a call per load, and batch-1 int8 ran 10× slower); lane by lane, LLVM emits
// `vpmovsxbd` + `vcvtdq2ps` / `vpmovzxbd` on x86 and `sxtl`/`ushll` + `scvtf` on aarch64.

/// 8 int8 values at `p` converted to f32 (exact).
@inline(__always)
func widenInt8(_ p: UnsafeRawPointer) -> SIMD8<Float> {
    let q = p.loadUnaligned(as: SIMD8<Int8>.self)
    return SIMD8<Float>(Float(q[0]), Float(q[1]), Float(q[2]), Float(q[3]), Float(q[4]), Float(q[5]), Float(q[6]), Float(q[7]))
}

/// 8 bytes at `p` zero-extended to 32 bits.
@inline(__always)
func widenUInt8(_ p: UnsafeRawPointer) -> SIMD8<UInt32> {
    let q = p.loadUnaligned(as: SIMD8<UInt8>.self)
    return SIMD8<UInt32>(UInt32(q[0]), UInt32(q[1]), UInt32(q[2]), UInt32(q[3]), UInt32(q[4]), UInt32(q[5]), UInt32(q[6]), UInt32(q[7]))
}

/// M block of the quantized GEMM: 96 rows of A stay in L2 while one panel of weights (at most
/// `k·32` bytes) is reused by every row tile.
let quantMBlock = 96

/// GEMM with weights of any weight dtype in panel16 order, dequantized inside the inner loop
/// (never expanded in memory), and a fused bias + activation epilogue:
/// `y[i, j] = act(Σ_kk x[i, kk] · W[j, kk] + bias[j])` with, per dtype, `W[j, kk]` =
/// - f16 / bf16: the value widened to f32;
/// - int8: `q[j, kk]`, and the sum is multiplied by the row's scale before the bias is added;
/// - int4: `Float(q[j, kk]) · Float(scale[j, kk / 32])` (exactly the reference dequantization).
/// f32 weights go to `gemm_f32_packed16_simd8`, dynamic-int8 weights to `gemm_i8dyn_packed16k4`.
///
/// Each output element is one FMA chain in k order followed by the same epilogue, whatever the
/// tile, block, batch or panel split, so results are bitwise deterministic.
/// - Parameters:
///   - x: `m × k` input, row stride `lda` (≥ k).
///   - weights: the packed weight (`PackedWeights`).
///   - bias: `n` values, or nil.
///   - y: `m × n` output, row stride `ldy` (≥ n); must not alias `x`.
///   - panels: the range of 16-wide panels to compute (nil: all).
///   - workspace: `gemmWorkspaceFloats` floats of scratch for quantized weights, or nil (f32
///     weights need none).
public func gemm_packed16_simd8(x: UnsafePointer<Float>, lda: Int, weights: PackedWeights,
                                bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int,
                                m: Int, n: Int, k: Int, activation: Activation, panels: Range<Int>? = nil,
                                workspace: UnsafeMutablePointer<Float>? = nil) {
    if weights.kind == .f32 {
        gemm_f32_packed16_simd8(x: x, lda: lda, packed: weights.values.assumingMemoryBound(to: Float.self), bias: bias,
                                y: y, ldy: ldy, m: m, n: n, k: k, activation: activation, panels: panels)
        return
    }
    if weights.kind == .int8Dynamic {
        gemm_i8dyn_packed16k4(x: x, lda: lda, weights: weights, bias: bias, y: y, ldy: ldy, m: m, n: n, k: k,
                              activation: activation, panels: panels, workspace: workspace)
        return
    }
    gemm_q_packed16_simd8(x: x, lda: lda, weights: weights, bias: bias, y: y, ldy: ldy, m: m, n: n, k: k,
                          activation: activation, panels: panels, workspace: workspace)
}

/// Rows from which `gemm_q_packed16_simd8` decodes each K block of a panel once into the workspace
/// and runs the f32 packed-A tiles on it, instead of decoding inside every row tile. Measured on
/// the wide MLP (784-1024-1024-10), 1 thread: at 4 rows decoding in the 4-row tile is 1.4× faster
/// (f16/bf16/int8); at 6 rows the decoded path is 1.3–1.7× faster (the 6-row decoding tile spills).
let quantDecodeMinRows = 6

/// The quantized half of `gemm_packed16_simd8` (f16, bf16, int8, int4 weights); see there.
///
/// Two strategies with bitwise-identical results (the same decoded values, one FMA chain per
/// output in k order, the same epilogue): below `quantDecodeMinRows` rows, or without a
/// workspace, tiles decode the weights in their inner loop (GEMV: weight streaming bound); from it
/// on, the f32 GEMM's K and M blocking, with each K block of each panel decoded once per M block
/// into the workspace, so decoding is amortised over up to 96 rows. Measured on 1 thread at batch
/// 256 against the former 256-deep K blocks over packed A: MNIST f16/int8 1.09× faster, wide
/// f16/int8/int4 1.03–1.05×, big (batch 64) 1.05×; now level with f32 (MNIST int8 615 µs, f32 601).
/// - Parameter workspace: `gemmWorkspaceFloats` floats of scratch, or nil.
public func gemm_q_packed16_simd8(x: UnsafePointer<Float>, lda: Int, weights: PackedWeights,
                                  bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int,
                                  m: Int, n: Int, k: Int, activation: Activation, panels: Range<Int>? = nil,
                                  workspace: UnsafeMutablePointer<Float>? = nil) {
    let allPanels = Panel16.panelCount(n)
    let panelRange = (panels ?? 0..<allPanels).clamped(to: 0..<allPanels)
    guard m > 0, !panelRange.isEmpty else { return }
    if let workspace, m >= quantDecodeMinRows {
        gemmQDecoded(x: x, lda: lda, weights: weights, bias: bias, y: y, ldy: ldy, m: m, n: n, k: k,
                     activation: activation, panelRange: panelRange, workspace: workspace)
        return
    }
    let panelBytes = weights.panelBytes(k: k), scaleBytes = weights.scaleBytes(k: k)
    let fullPanels = n / 16
    let full = panelRange.clamped(to: 0..<fullPanels)
    let hasEdge = fullPanels < allPanels && panelRange.contains(fullPanels)
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 6 * 16 + 16) { temp in
        let tile = temp.baseAddress!, edgeBias = tile + 6 * 16
        if let bias, hasEdge {
            for j in 0..<16 { edgeBias[j] = fullPanels * 16 + j < n ? bias[fullPanels * 16 + j] : 0 }
        }
        @inline(__always) func run(_ rows: Int, _ np: Int, _ i: Int, _ p: Int, c: UnsafeMutablePointer<Float>, ldc: Int) {
            let ep = Epilogue(bias: bias.map { p < fullPanels ? $0 + p * 16 : UnsafePointer(edgeBias) }, activation: activation)
            let a = x + i * lda, w = weights.values + p * panelBytes
            let s = weights.scales.map { $0 + p * scaleBytes }
            switch weights.kind {
            case .f16: qTile_f16(rows: rows, panels: np, a: a, lda: lda, w: w, panelBytes: panelBytes, k: k, scales: s, scaleBytes: scaleBytes, c: c, ldc: ldc, epilogue: ep)
            case .bf16: qTile_bf16(rows: rows, panels: np, a: a, lda: lda, w: w, panelBytes: panelBytes, k: k, scales: s, scaleBytes: scaleBytes, c: c, ldc: ldc, epilogue: ep)
            case .int8: qTile_int8(rows: rows, panels: np, a: a, lda: lda, w: w, panelBytes: panelBytes, k: k, scales: s, scaleBytes: scaleBytes, c: c, ldc: ldc, epilogue: ep)
            case .int4: qTile_int4(rows: rows, panels: np, a: a, lda: lda, w: w, panelBytes: panelBytes, k: k, scales: s, scaleBytes: scaleBytes, c: c, ldc: ldc, epilogue: ep)
            case .f32, .int8Dynamic: preconditionFailure("f32 and dynamic-int8 weights have their own GEMMs")
            }
        }
        var ib = 0
        while ib < m {
            let end = ib + min(quantMBlock, m - ib)
            var mainEnd = ib
            while end - mainEnd >= 6 { mainEnd += 6 }
            let has4 = end - mainEnd >= 4
            // 1. Rows in 6- and 4-row tiles, one panel at a time (the panel stays in cache).
            for p in full {
                var i = ib
                while i < mainEnd { run(6, 1, i, p, c: y + i * ldy + p * 16, ldc: ldy); i += 6 }
                if has4 { run(4, 1, i, p, c: y + i * ldy + p * 16, ldc: ldy) }
            }
            if has4 { mainEnd += 4 }
            // 2. The last 1–3 rows: tiles over several panels (the GEMV of batch 1).
            var r = mainEnd
            if end - r >= 2 {
                var p = full.lowerBound
                while p + 2 <= full.upperBound { run(2, 2, r, p, c: y + r * ldy + p * 16, ldc: ldy); p += 2 }
                if p < full.upperBound { run(2, 1, r, p, c: y + r * ldy + p * 16, ldc: ldy) }
                r += 2
            }
            if r < end {
                var p = full.lowerBound
                while p + 4 <= full.upperBound { run(1, 4, r, p, c: y + r * ldy + p * 16, ldc: ldy); p += 4 }
                while p < full.upperBound { run(1, 1, r, p, c: y + r * ldy + p * 16, ldc: ldy); p += 1 }
            }
            // 3. The edge panel (n % 16 real columns) through a 16-wide temporary tile.
            if hasEdge {
                let p = fullPanels, cols = n - p * 16
                var i = ib
                while i < end {
                    let rows = end - i >= 6 ? 6 : end - i >= 4 ? 4 : end - i >= 2 ? 2 : 1
                    run(rows, 1, i, p, c: tile, ldc: 16)
                    for rr in 0..<rows { for j in 0..<cols { y[(i + rr) * ldy + p * 16 + j] = tile[rr * 16 + j] } }
                    i += rows
                }
            }
            ib = end
        }
    }
}

/// Decodes `kc` steps of k from `k0` of panel `p` to f32 into `out` (`out[kk·16 + j]`), each value
/// exactly as the quantized tiles decode it in their inner loop (int8: `q`, unscaled; int4:
/// `(nibble − 8) · scale`).
@inline(__always)
func decodePanelSlice(_ weights: PackedWeights, p: Int, k: Int, k0: Int, kc: Int, out: UnsafeMutablePointer<Float>) {
    let w = weights.values + p * weights.panelBytes(k: k)
    switch weights.kind {
    case .f16:
        for kk in 0..<kc {
            let at = w + (k0 + kk) &* 32
            store8(widenF16(at), out + kk &* 16); store8(widenF16(at + 16), out + kk &* 16 + 8)
        }
    case .bf16:
        for kk in 0..<kc {
            let at = w + (k0 + kk) &* 32
            store8(widenBF16(at.loadUnaligned(as: SIMD8<UInt16>.self)), out + kk &* 16)
            store8(widenBF16((at + 16).loadUnaligned(as: SIMD8<UInt16>.self)), out + kk &* 16 + 8)
        }
    case .int8:
        for kk in 0..<kc {
            let at = w + (k0 + kk) &* 16
            store8(widenInt8(at), out + kk &* 16); store8(widenInt8(at + 8), out + kk &* 16 + 8)
        }
    case .int4:
        let sc = weights.scales! + p * weights.scaleBytes(k: k)
        var kk = k0
        while kk < k0 + kc {
            let block = kk / 32, blockEnd = min(k0 + kc, (block + 1) * 32)
            let s0 = widenF16(sc + block &* 32), s1 = widenF16(sc + block &* 32 + 16)
            while kk < blockEnd {
                let nib = widenUInt8(w + kk &* 8)
                let o = out + (kk - k0) &* 16
                store8(nibbleMinus8(nib & 15) * s0, o); store8(nibbleMinus8(nib &>> 4) * s1, o + 8)
                kk += 1
            }
        }
    case .f32, .int8Dynamic:
        preconditionFailure("f32 and dynamic-int8 weights have their own GEMMs")
    }
}

/// The large-batch strategy of `gemm_q_packed16_simd8`: `gemm_f32_packed16_simd8`'s blocking
/// (K blocks of at most `gemmF32KBlock`, split evenly, partial sums in y between blocks; A read in
/// place; M blocks of `gemmMBlock` rows) with each panel's K block decoded once per M block into
/// the workspace (`kc · 16` floats) and every row of the M block run on it: 6- and 4-row tiles,
/// then 2- and 1-row tiles for the last rows.
func gemmQDecoded(x: UnsafePointer<Float>, lda: Int, weights: PackedWeights,
                  bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int,
                  m: Int, n: Int, k: Int, activation: Activation, panelRange: Range<Int>,
                  workspace ws: UnsafeMutablePointer<Float>) {
    let fullPanels = n / 16
    let dq = ws
    let scales: UnsafePointer<Float>? = weights.kind == .int8 ? weights.scales!.assumingMemoryBound(to: Float.self) : nil
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 6 * 16 + 16) { temp in
        let tile = temp.baseAddress!, edgeBias = tile + 6 * 16
        if let bias, panelRange.contains(fullPanels), fullPanels * 16 < n {
            for j in 0..<16 { edgeBias[j] = fullPanels * 16 + j < n ? bias[fullPanels * 16 + j] : 0 }
        }
        let kStep = gemmKStep(k, block: gemmF32KBlock)
        var kb = 0
        repeat {
            let kc = min(kStep, k - kb)
            let first = kb == 0, last = kb + kc == k
            @inline(__always) func a(_ i: Int) -> UnsafePointer<Float> { x + i * lda + kb }
            var ib = 0
            while ib < m {
                let end = ib + min(gemmMBlock, m - ib)
                var mainEnd = ib
                while end - mainEnd >= 6 { mainEnd += 6 }
                let end4 = end - mainEnd >= 4 ? mainEnd + 4 : mainEnd
                for p in panelRange {
                    decodePanelSlice(weights, p: p, k: k, k0: kb, kc: kc, out: dq)
                    let edge = p == fullPanels
                    let ep: Epilogue? = last ? Epilogue(bias: bias.map { edge ? UnsafePointer(edgeBias) : $0 + p * 16 },
                                                        activation: activation, scale: scales.map { $0 + p * 16 }) : nil
                    let cols = edge ? n - p * 16 : 16
                    var i = ib
                    while i < end {
                        let rows = i < mainEnd ? 6 : i < end4 ? 4 : end - i >= 2 ? 2 : 1
                        let c = edge ? tile : y + i * ldy + p * 16, ldc = edge ? 16 : ldy
                        if edge && !first {
                            for rr in 0..<rows { for j in 0..<cols { tile[rr * 16 + j] = y[(i + rr) * ldy + p * 16 + j] } }
                        }
                        switch rows {
                        case 6: gemmTile6x16(a: a(i), lda: lda, b: dq, panelStride: 0, kc: kc, c: c, ldc: ldc, first: first, epilogue: ep)
                        case 4: gemmTile4x16(a: a(i), lda: lda, b: dq, panelStride: 0, kc: kc, c: c, ldc: ldc, first: first, epilogue: ep)
                        case 2: gemmTile2x16(a: a(i), lda: lda, b: dq, panelStride: 0, kc: kc, c: c, ldc: ldc, first: first, epilogue: ep)
                        default: gemmTile1x16(a: a(i), lda: lda, b: dq, panelStride: 0, kc: kc, c: c, ldc: ldc, first: first, epilogue: ep)
                        }
                        if edge {
                            for rr in 0..<rows { for j in 0..<cols { y[(i + rr) * ldy + p * 16 + j] = tile[rr * 16 + j] } }
                        }
                        i += rows
                    }
                }
                ib = end
            }
            kb += kc
        } while kb < k
    }
}
