/// The indirect (implicit) GEMM of the convolutions without im2col: `Y = W · Col` where column
/// row `kk` is read in place from the input at `b + offset(kk)` instead of being copied into
/// panels first. A stride-1 convolution's `Col[kk, j]` is `input[offset(kk) + j]` on the right
/// grid (the plane itself for a 1×1 Conv, a zero-padded plane for k×k), so every run of 16
/// positions is contiguous and the packed GEMM's tiles read it with an offset table
/// (Generated/IndirectGemmTiles.swift, the same shapes and FMA chains as GemmTiles.swift).

/// Where row `kk = (c, ky, kx)` of an implicit column matrix starts:
/// `c · channelPitch + ky · rowStep + kx · columnStep`, for `channels × kh × kw` rows.
public struct IndirectColumns: Sendable, Equatable {
    /// Input channels (the outer part of `kk`).
    public var channels: Int
    /// Window rows and columns (the inner parts of `kk`, row-major).
    public var kh: Int, kw: Int
    /// Floats between one channel's rows and the next's.
    public var channelPitch: Int
    /// Floats between window rows (`dilation · row pitch` on a padded plane).
    public var rowStep: Int
    /// Floats between window columns (the horizontal dilation).
    public var columnStep: Int

    /// A geometry; `channels · kh · kw` rows.
    public init(channels: Int, kh: Int, kw: Int, channelPitch: Int, rowStep: Int, columnStep: Int) {
        self.channels = channels; self.kh = kh; self.kw = kw
        self.channelPitch = channelPitch; self.rowStep = rowStep; self.columnStep = columnStep
    }

    /// The rows of the column matrix (the GEMM depth).
    public var k: Int { channels * kh * kw }

    /// The offset of row `kk`.
    @inline(__always)
    public func offset(_ kk: Int) -> Int {
        let taps = kh * kw
        return (kk / taps) * channelPitch + ((kk % taps) / kw) * rowStep + (kk % kw) * columnStep
    }

    /// Floats of workspace `gemm_f32_indirect16_simd8` needs: the offset table (`k` words) and
    /// the edge panel (`16 · k` floats).
    public var workspaceFloats: Int { k * (MemoryLayout<Int>.stride / MemoryLayout<Float>.stride) + 16 * k }
}

/// The indirect tiles: full panels through the offset table, the edge panel (its `n % 16`
/// columns copied, zero-filled, into a packed panel) through the packed tiles; both are the same
/// FMA chain per output, so which positions fall in the edge panel never changes a result.
struct IndirectPanelTiles: PanelTiles {
    let w: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, offsets: UnsafePointer<Int>, k: Int
    /// The packed edge panel (panel `edgePanel`), or nil when `n` is a multiple of 16.
    let edge: UnsafePointer<Float>?, edgePanel: Int

    var blocking: PanelBlocking { .indirect }

    @inline(__always) func decode(panel p: Int, kb: Int, kc: Int) {}

    @inline(__always)
    func tile(rows: Int, panels: Int, row i: Int, panel p: Int, kb: Int, kc: Int,
              c: UnsafeMutablePointer<Float>, ldc: Int, first: Bool, epilogue: Epilogue?) {
        let a = w + i * lda + kb
        if let edge, p == edgePanel {
            gemmTileF32(rows: rows, panels: 1, a: a, lda: lda, b: edge + kb * 16, panelStride: 0, kc: kc,
                        c: c, ldc: ldc, first: first, epilogue: epilogue)
            return
        }
        let bp = b + p * 16, o = offsets + kb
        switch (rows, panels) {
        case (6, 1): igemmTile6x16(a: a, lda: lda, b: bp, offsets: o, kc: kc, c: c, ldc: ldc, first: first, epilogue: epilogue)
        case (4, 1): igemmTile4x16(a: a, lda: lda, b: bp, offsets: o, kc: kc, c: c, ldc: ldc, first: first, epilogue: epilogue)
        case (2, 2): igemmTile2x32(a: a, lda: lda, b: bp, offsets: o, kc: kc, c: c, ldc: ldc, first: first, epilogue: epilogue)
        case (2, 1): igemmTile2x16(a: a, lda: lda, b: bp, offsets: o, kc: kc, c: c, ldc: ldc, first: first, epilogue: epilogue)
        case (1, 4): igemmTile1x64(a: a, lda: lda, b: bp, offsets: o, kc: kc, c: c, ldc: ldc, first: first, epilogue: epilogue)
        case (1, 1): igemmTile1x16(a: a, lda: lda, b: bp, offsets: o, kc: kc, c: c, ldc: ldc, first: first, epilogue: epilogue)
        default: preconditionFailure("no indirect tile of this shape")
        }
    }
}

/// Indirect GEMM with a fused row-bias + activation epilogue:
/// `y[i, j] = act(Σ_kk w[i, kk] · b[columns.offset(kk) + j] + rowBias[i])` for `i < m`, `j < n`,
/// `kk < columns.k` — a convolution's `Y = W · Col` with `Col` read in place.
///
/// Every output is one FMA chain in `kk` order, then the row bias, then the activation — the
/// chain of `gemm_f32_packed16_simd8` over the same columns packed by im2col, so both give the
/// same bits, and no result depends on `n`, on where a run of columns starts, or on the thread.
/// - Parameters:
///   - w: `m × k` weights, row stride `lda` (≥ k).
///   - b: the implicit columns: reads `b[columns.offset(kk) + j]` for `j < n` only.
///   - rowBias: `m` values, or nil.
///   - y: `m × n` output, row stride `ldy` (≥ n); must not alias `b`.
///   - workspace: `columns.workspaceFloats` floats (the offset table and the edge panel).
public func gemm_f32_indirect16_simd8(w: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, columns: IndirectColumns,
                                      rowBias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int,
                                      m: Int, n: Int, activation: Activation, workspace: UnsafeMutablePointer<Float>) {
    let k = columns.k
    guard m > 0, n > 0, k > 0 else { return }
    let edgeFloats = workspace, fullPanels = n / 16, edgeColumns = n - fullPanels * 16
    UnsafeMutableRawPointer(workspace + 16 * k).withMemoryRebound(to: Int.self, capacity: k) { offsets in
        for kk in 0..<k { offsets[kk] = columns.offset(kk) }
        if edgeColumns > 0 {
            // The last n % 16 columns, zero-filled to a packed panel, so no read passes column n.
            let src = b + fullPanels * 16
            for kk in 0..<k {
                let row = src + offsets[kk], dst = edgeFloats + kk * 16
                for j in 0..<16 { dst[j] = j < edgeColumns ? row[j] : 0 }
            }
        }
        let tiles = IndirectPanelTiles(w: w, lda: lda, b: b, offsets: offsets, k: k,
                                       edge: edgeColumns > 0 ? UnsafePointer(edgeFloats) : nil, edgePanel: fullPanels)
        gemmPanels(tiles, m: m, n: n, k: k, panelRange: 0..<Panel16.panelCount(n), bias: nil, rowBias: rowBias,
                   activation: activation, scales: nil, y: y, ldy: ldy)
    }
}
