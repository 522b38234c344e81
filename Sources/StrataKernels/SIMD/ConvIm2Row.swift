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

/// im2row: for output positions `p0 ..< p0 + rows` (row-major over `ho × wo`), writes row
/// `r` of `out` (`channels · kh · kw` values, order channel, tap row, tap column) with the input
/// values under the window at position `p0 + r`, 0 where the window lies in the padding.
/// - Parameters:
///   - x: `channels × h × w` values (one sample's channels of one group).
///   - out: `rows × channels · kh · kw` values.
public func im2row_f32(x: UnsafePointer<Float>, channels: Int, window g: Window2D, p0: Int, rows: Int,
                       out: UnsafeMutablePointer<Float>) {
    let k = channels * g.kh * g.kw
    for r in 0..<rows {
        let p = p0 + r
        let oh = p / g.wo, ow = p % g.wo
        let ih0 = oh * g.sh - g.padTop, iw0 = ow * g.sw - g.padLeft
        var dst = out + r * k
        let interiorW = iw0 >= 0 && iw0 + (g.kw - 1) * g.dw < g.w
        for c in 0..<channels {
            let plane = x + c * g.h * g.w
            for i in 0..<g.kh {
                let ih = ih0 + i * g.dh
                if ih < 0 || ih >= g.h {
                    for j in 0..<g.kw { dst[j] = 0 }
                } else {
                    let src = plane + ih * g.w
                    if interiorW {
                        if g.dw == 1 {
                            for j in 0..<g.kw { dst[j] = src[iw0 + j] }
                        } else {
                            for j in 0..<g.kw { dst[j] = src[iw0 + j * g.dw] }
                        }
                    } else {
                        for j in 0..<g.kw {
                            let iw = iw0 + j * g.dw
                            dst[j] = iw >= 0 && iw < g.w ? src[iw] : 0
                        }
                    }
                }
                dst += g.kw
            }
        }
    }
}

/// `y[c · ldy + r] = x[r · ldx + c]` for `r < rows`, `c < cols` (a tile transpose: positions ×
/// channels back to channels × positions), in 8×8 blocks.
public func transpose_f32(x: UnsafePointer<Float>, ldx: Int, rows: Int, cols: Int, y: UnsafeMutablePointer<Float>, ldy: Int) {
    var r0 = 0
    while r0 < rows {
        let r1 = min(rows, r0 + 8)
        var c0 = 0
        while c0 < cols {
            let c1 = min(cols, c0 + 8)
            for c in c0..<c1 {
                for r in r0..<r1 { y[c * ldy + r] = x[r * ldx + c] }
            }
            c0 = c1
        }
        r0 = r1
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
