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

/// The fused epilogue of a tile: multiply by the row scale (int8 weights), add the bias, add the
/// row bias (a Conv's per-output-channel bias), then apply the activation, 8 lanes at a time. Lane
/// results equal `activation.apply(sum · scale[j] + bias[j] + rowBias[i])` exactly (same scalar
/// definitions, one rounding per operation, no fusing).
@usableFromInline
struct Epilogue {
    /// Bias at the tile's first column, or nil.
    var bias: UnsafePointer<Float>?
    var activation: Activation
    /// Per-column scales at the tile's first column (int8 weights decoded to `q`), or nil.
    var scale: UnsafePointer<Float>? = nil
    /// Per-row bias at the tile's first row, or nil.
    var rowBias: UnsafePointer<Float>? = nil

    /// Row `row` of the tile, columns `column ..< column + 8`. Transparent (always in line): as
    /// `@inline(__always)` the optimizer still outlined 11 of the 12 calls of a 6 × 16 tile once
    /// the driver had grown large — a call per SIMD8 of output, 8 % of mobilenet_v2.
    @_transparent
    func apply(_ v: SIMD8<Float>, row: Int, column: Int) -> SIMD8<Float> {
        var x = v
        if let scale { x = x * load8(scale + column) }
        if let bias { x += load8(bias + column) }
        if let rowBias { x += SIMD8(repeating: rowBias[row]) }
        return Epilogue.activate(activation, x)
    }

    /// Columns `column ..< column + 8` of a tile with no row bias (the quantized tiles).
    @inline(__always)
    func apply(_ v: SIMD8<Float>, column: Int) -> SIMD8<Float> {
        var x = v
        if let scale { x = x * load8(scale + column) }
        if let bias { x += load8(bias + column) }
        return Epilogue.activate(activation, x)
    }

    /// `activation.apply8(v)` with identity, ReLU and clip (the common Conv and Linear epilogues) in
    /// line, and every other activation through one outlined call, so `apply` stays small
    /// enough to inline into every tile (with all of `apply8` inside it, it was a call per
    /// SIMD8 of output). Same expressions as `apply8`, so the same bits. Transparent, as `apply`.
    @_transparent
    static func activate(_ activation: Activation, _ v: SIMD8<Float>) -> SIMD8<Float> {
        switch activation {
        case .identity: return v
        case .relu: return v.replacing(with: 0, where: v .< 0)
        case .clip(let lo, let hi):  // ReLU6
            let t = v.replacing(with: lo, where: v .< lo)
            return t.replacing(with: hi, where: t .> hi)
        default: return activateOutlined(activation, v)
        }
    }

    /// Whether `activate` has `activation` in line (identity, ReLU, clip); the GEMM driver runs
    /// the others over each finished tile instead (`gemmPanels`).
    @inline(__always)
    static func activatesInLine(_ activation: Activation) -> Bool {
        switch activation {
        case .identity, .relu, .clip: return true
        default: return false
        }
    }

    @inline(never)
    static func activateOutlined(_ activation: Activation, _ v: SIMD8<Float>) -> SIMD8<Float> {
        activation.apply8(v)
    }
}

/// Floats of per-thread scratch a GEMM over quantized weights uses: the larger of the
/// decode-once path's decoded K block of one panel (`gemmF32KBlock · 16` floats = 64 KiB) and
/// the dynamic-int8 GEMM's quantized rows and row scales (`DynamicInt8Workspace`), in whole KiB:
/// 103 KiB. The f32 GEMM needs none.
public let gemmWorkspaceFloats = max(gemmF32KBlock * 16, (DynamicInt8Workspace.bytes + 1023) / 1024 * 256)

/// GEMM with packed weights and a fused bias + activation epilogue:
/// `y[i, j] = act(Σ_kk x[i, kk] · W[j, kk] + bias[j] + rowBias[i])` for `i < m`, `j < n`.
///
/// Every output element is accumulated by one FMA chain in k order, then the bias is added and
/// the activation applied, whatever the tile, block or batch: a sample's result is bitwise
/// identical at any batch size, at any position in the batch, and under any split of rows or
/// panels between threads.
/// - Parameters:
///   - x: `m × k` input, row stride `lda` (≥ k).
///   - packed: `W` packed by `pack_f32_panel16` (panel stride `k · 16`).
///   - bias: `n` values, or nil.
///   - rowBias: `m` values added after `bias` (a Conv's per-output-channel bias, its output
///     channels being the rows), or nil.
///   - y: `m × n` output, row stride `ldy` (≥ n); must not alias `x`.
///   - panels: the range of 16-wide panels to compute (all: `0..<Panel16.panelCount(n)`);
///     lets threads split the work by output features.
public func gemm_f32_packed16_simd8(x: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
                                    bias: UnsafePointer<Float>?, rowBias: UnsafePointer<Float>? = nil,
                                    y: UnsafeMutablePointer<Float>, ldy: Int,
                                    m: Int, n: Int, k: Int, activation: Activation, panels: Range<Int>? = nil) {
    let allPanels = Panel16.panelCount(n)
    let panelRange = (panels ?? 0..<allPanels).clamped(to: 0..<allPanels)
    guard m > 0, !panelRange.isEmpty else { return }
    gemmPanels(F32PanelTiles(x: x, lda: lda, packed: packed, k: k, panelCount: allPanels), m: m, n: n, k: k,
               panelRange: panelRange, bias: bias, rowBias: rowBias, activation: activation, scales: nil, y: y, ldy: ldy)
}
