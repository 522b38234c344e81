/// The geometry of a 2-D convolution or pooling window over one `[C, H, W]` sample.
public struct Window2D: Sendable, Equatable {
    /// Input height and width.
    public var h: Int, w: Int
    /// Kernel extent (taps), stride, dilation, and top/left padding, per spatial dim.
    public var kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int, padTop: Int, padLeft: Int
    /// Output height and width.
    public var ho: Int, wo: Int

    public init(h: Int, w: Int, kh: Int, kw: Int, sh: Int, sw: Int, dh: Int, dw: Int, padTop: Int, padLeft: Int,
                ho: Int, wo: Int) {
        self.h = h; self.w = w; self.kh = kh; self.kw = kw; self.sh = sh; self.sw = sw; self.dh = dh; self.dw = dw
        self.padTop = padTop; self.padLeft = padLeft; self.ho = ho; self.wo = wo
    }
}

/// im2col straight into the GEMM's panel16 weight layout, so a Conv runs as
/// `Y[M, P] = W[M, K] · Col[K, P]` with the stored weights as the GEMM's rows and output positions
/// as its 16-wide panels, writing NCHW output directly (no transposes).
///
/// For output positions `p0 ..< p0 + count` (row-major over `ho × wo`), panel `q` holds
/// `out[q · 16·K + kk · 16 + j]` = the input value under tap `kk` (order: channel, tap row, tap
/// column; `K = channels · kh · kw`) at position `p0 + 16·q + j`, 0 in the padding and for
/// `16·q + j ≥ count`. Sixteen positions in one output row with stride 1 copy 16 contiguous
/// inputs per tap (two SIMD8 loads) when the taps lie inside the row.
/// - Parameters:
///   - x: `channels × h × w` values (one sample's channels of one group).
///   - out: `Panel16.packedCount(n: count, k: K)` floats.
public func im2col_panel16_f32(x: UnsafePointer<Float>, channels: Int, window g: Window2D, p0: Int, count: Int,
                               out: UnsafeMutablePointer<Float>) {
    let k = channels * g.kh * g.kw
    // Per lane of a panel: the input row and column of tap (0, 0) (`base[l]`, `base[16 + l]`).
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 32) { b in
        let base = b.baseAddress!
        for q in 0..<Panel16.panelCount(count) {
            let first = p0 + 16 * q, n = min(16, count - 16 * q)
            let panel = out + q * 16 * k
            let oh = first / g.wo, ow0 = first % g.wo
            let oneRow = n == 16 && ow0 + 15 < g.wo && g.sw == 1
            let ih0 = oh * g.sh - g.padTop
            if !oneRow {
                var ohl = oh, owl = ow0
                for l in 0..<16 {
                    base[l] = ohl * g.sh - g.padTop; base[16 + l] = owl * g.sw - g.padLeft
                    owl += 1
                    if owl == g.wo { owl = 0; ohl += 1 }
                }
            }
            var dst = panel
            for c in 0..<channels {
                let plane = x + c * g.h * g.w
                for i in 0..<g.kh {
                    for j in 0..<g.kw {
                        if oneRow {
                            let ih = ih0 + i * g.dh, iw = ow0 - g.padLeft + j * g.dw
                            if ih < 0 || ih >= g.h {
                                store8(SIMD8(), dst); store8(SIMD8(), dst + 8)
                            } else if iw >= 0 && iw + 15 < g.w {
                                let src = plane + ih * g.w + iw
                                store8(load8(src), dst); store8(load8(src + 8), dst + 8)
                            } else {
                                let row = plane + ih * g.w
                                for l in 0..<16 { dst[l] = iw + l >= 0 && iw + l < g.w ? row[iw + l] : 0 }
                            }
                        } else {
                            for l in 0..<16 {
                                let ih = base[l] + i * g.dh, iw = base[16 + l] + j * g.dw
                                dst[l] = l < n && ih >= 0 && ih < g.h && iw >= 0 && iw < g.w ? plane[ih * g.w + iw] : 0
                            }
                        }
                        dst += 16
                    }
                }
            }
        }
    }
}

/// `y[r, c] = act(y[r, c] + bias[r])` for `rows` rows of `cols` values, row stride `ldy`: the
/// epilogue of a GEMM whose bias runs along its rows (a Conv's output channels). The same
/// operations as the GEMM's fused epilogue (add, then the activation), 8 at a time.
public func bias_rows_activation_f32(y: UnsafeMutablePointer<Float>, ldy: Int, rows: Int, cols: Int,
                                     bias: UnsafePointer<Float>?, activation: Activation) {
    if bias == nil, case .identity = activation { return }
    for r in 0..<rows {
        let row = y + r * ldy
        let b = bias.map { SIMD8<Float>(repeating: $0[r]) }
        var c = 0
        while c + 8 <= cols {
            var v = load8(row + c)
            if let b { v += b }
            store8(activation.apply8(v), row + c)
            c += 8
        }
        while c < cols {
            var v = row[c]
            if let bias { v += bias[r] }
            row[c] = activation.apply(v)
            c += 1
        }
    }
}

/// Max or average pooling of `planes` planes of `h × w` values into `ho × wo` each.
/// Max ignores padding (it never wins; NaN propagates); average divides by the positions inside
/// the input, or with `countIncludePad` by those inside the padded input (rows up to
/// `h + padBottom`, columns up to `w + padRight`), never positions past it (ceil mode).
public func pool2d_f32(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, planes: Int, window g: Window2D,
                       isMax: Bool, countIncludePad: Bool, padBottom: Int, padRight: Int) {
    let hEnd = g.h + padBottom, wEnd = g.w + padRight
    for plane in 0..<planes {
        let src = x + plane * g.h * g.w, dst = y + plane * g.ho * g.wo
        for oh in 0..<g.ho {
            let ih0 = oh * g.sh - g.padTop
            for ow in 0..<g.wo {
                let iw0 = ow * g.sw - g.padLeft
                var acc: Float = isMax ? -.infinity : 0
                var inside = 0, padded = 0
                for i in 0..<g.kh {
                    let ih = ih0 + i * g.dh
                    if ih >= hEnd { break }
                    let rowIn = ih >= 0 && ih < g.h
                    for j in 0..<g.kw {
                        let iw = iw0 + j * g.dw
                        if iw >= wEnd { break }
                        padded += 1
                        if rowIn && iw >= 0 && iw < g.w {
                            let v = src[ih * g.w + iw]
                            if isMax { if v > acc || v.isNaN { acc = v } } else { acc += v }
                            inside += 1
                        }
                    }
                }
                if !isMax { acc /= Float(countIncludePad ? padded : inside) }
                dst[oh * g.wo + ow] = acc
            }
        }
    }
}
