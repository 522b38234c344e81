import StrataCore

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
    public let kind: Kind
    /// Start of the values region.
    public var values: UnsafeRawPointer
    /// Start of the scales region (int8: `panels·16` f32; int4: `panels·(Kp/32)·16` f16), else nil.
    public var scales: UnsafeRawPointer?

    /// The encoding's panel sizes, looked up once here (`Kind.encoding`).
    public let sizes: WeightEncoding.PanelSizes

    /// Wraps a weight's regions.
    public init(kind: Kind, values: UnsafeRawPointer, scales: UnsafeRawPointer? = nil) {
        self.kind = kind; self.values = values; self.scales = scales
        self.sizes = kind.encoding.sizes
    }

    /// Bytes per panel of the values region for `k` inputs (from the weight-encoding table).
    @inlinable public func panelBytes(k: Int) -> Int { sizes.panelBytes(k: k) }

    /// Bytes per panel of the scales region for `k` inputs (0 without scales).
    @inlinable public func scaleBytes(k: Int) -> Int { sizes.scaleBytesPerPanel(k: k) }
}

extension PackedWeights.Kind {
    /// The GEMM that reads a panel-layout weight of `dtype` stored in `layout`, or nil when the
    /// weight-encoding table has no such row.
    public init?(dtype: DType, layout: TensorLayout) {
        switch (dtype, layout) {
        case (.f32, .panel16): self = .f32
        case (.f16, .panel16): self = .f16
        case (.bf16, .panel16): self = .bf16
        case (.int8, .panel16): self = .int8
        case (.int8, .panel16k4): self = .int8Dynamic
        case (.int4, .panel16): self = .int4
        default: return nil
        }
    }

    /// This kind's row of the weight-encoding table (StrataCore `WeightEncoding`), which fixes its
    /// panel and scale sizes.
    @inlinable public var encoding: WeightEncoding {
        switch self {
        case .f32: return WeightEncoding.of(dtype: .f32, layout: .panel16)!
        case .f16: return WeightEncoding.of(dtype: .f16, layout: .panel16)!
        case .bf16: return WeightEncoding.of(dtype: .bf16, layout: .panel16)!
        case .int8: return WeightEncoding.of(dtype: .int8, layout: .panel16)!
        case .int4: return WeightEncoding.of(dtype: .int4, layout: .panel16)!
        case .int8Dynamic: return WeightEncoding.of(dtype: .int8, layout: .panel16k4)!
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
        let scales = weights.kind == .int8 ? weights.scales!.assumingMemoryBound(to: Float.self) : nil
        gemmPanels(DecodedPanelTiles(x: x, lda: lda, weights: weights, k: k, workspace: workspace), m: m, n: n, k: k,
                   panelRange: panelRange, bias: bias, activation: activation, scales: scales, y: y, ldy: ldy)
        return
    }
    gemmPanels(QuantPanelTiles(x: x, lda: lda, weights: weights, k: k, panelBytes: weights.panelBytes(k: k),
                               scaleBytes: weights.scaleBytes(k: k)),
               m: m, n: n, k: k, panelRange: panelRange, bias: bias, activation: activation, scales: nil, y: y, ldy: ldy)
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
