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

    /// Output columns whose every tap column lies inside the input (none in the padding).
    @inlinable public var interiorColumns: Range<Int> {
        let lo = min(wo, (padLeft + sw - 1) / sw)
        let lastStart = w - 1 - (kw - 1) * dw + padLeft  // ow · sw ≤ lastStart
        return lo..<(lastStart < 0 ? lo : max(lo, min(wo, lastStart / sw + 1)))
    }

    /// The tap rows `i` of a window whose first row is input row `ih0` (may be negative) that lie
    /// inside the input: `0 ≤ ih0 + i·dh < h`.
    @inlinable public func tapRowsInside(from ih0: Int) -> Range<Int> {
        let lo = ih0 >= 0 ? 0 : min(kh, (-ih0 + dh - 1) / dh)
        return lo..<(h - 1 - ih0 < 0 ? lo : max(lo, min(kh, (h - 1 - ih0) / dh + 1)))
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
/// inputs per tap (two SIMD8 loads) when the taps lie inside the row; with stride 2 they take the
/// even inputs of 31 (four loads). A pointwise Conv (1 × 1, stride 1, no padding) copies 16
/// contiguous inputs per channel whatever the output rows.
/// - Parameters:
///   - x: `channels × h × w` values (one sample's channels of one group).
///   - out: `Panel16.packedCount(n: count, k: K)` floats.
public func im2col_panel16_f32_simd8(x: UnsafePointer<Float>, channels: Int, window g: Window2D, p0: Int, count: Int,
                               out: UnsafeMutablePointer<Float>) {
    let k = channels * g.kh * g.kw
    if g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.padTop == 0 && g.padLeft == 0 && g.ho == g.h && g.wo == g.w {
        // A pointwise Conv: position p of channel c is x[c · h·w + p], so a panel's 16 positions
        // are 16 contiguous inputs per channel, across output rows.
        let plane = g.h * g.w
        for q in 0..<Panel16.panelCount(count) {
            let first = p0 + 16 * q, n = min(16, count - 16 * q)
            var dst = out + q * 16 * k, src = x + first
            for _ in 0..<channels {
                if n == 16 {
                    store8(load8(src), dst); store8(load8(src + 8), dst + 8)
                } else {
                    var v = SIMD16<Float>()
                    for l in 0..<n { v[l] = src[l] }
                    UnsafeMutableRawPointer(dst).storeBytes(of: v, as: SIMD16<Float>.self)
                }
                dst += 16; src += plane
            }
        }
        return
    }
    // A panel that is not 16 positions of one output row, as runs of lanes in one output row:
    // run `r` is lanes `seg[r] ..< seg[r + 1]` (`seg[runs]` = n), its tap (0, 0) at input row
    // `seg[17 + r]` and column `seg[34 + r]`.
    withUnsafeTemporaryAllocation(of: Int.self, capacity: 51) { b in
        let seg = b.baseAddress!
        for q in 0..<Panel16.panelCount(count) {
            let first = p0 + 16 * q, n = min(16, count - 16 * q)
            let panel = out + q * 16 * k
            let oh = first / g.wo, ow0 = first % g.wo
            let oneRow = n == 16 && ow0 + 15 < g.wo && g.sw <= 2
            let ih0 = oh * g.sh - g.padTop
            if oneRow && g.sw == 1 {
                // Sixteen positions of one output row, stride 1 (the common 3×3 case): per channel
                // and tap row, each tap column copies 16 contiguous inputs; only taps reaching into
                // the left or right padding copy part of them after zeros.
                let iw0 = ow0 - g.padLeft
                var dst = panel
                for c in 0..<channels {
                    let plane = x + c * g.h * g.w
                    for i in 0..<g.kh {
                        let ih = ih0 + i * g.dh
                        guard ih >= 0 && ih < g.h else {
                            for _ in 0..<g.kw { store8(SIMD8(), dst); store8(SIMD8(), dst + 8); dst += 16 }
                            continue
                        }
                        let row = plane + ih * g.w
                        for j in 0..<g.kw {
                            let iw = iw0 + j * g.dw
                            if iw >= 0 && iw + 15 < g.w {
                                store8(load8(row + iw), dst); store8(load8(row + iw + 8), dst + 8)
                            } else {
                                store8(SIMD8(), dst); store8(SIMD8(), dst + 8)
                                let lo = max(0, -iw), hi = min(16, g.w - iw)
                                if hi > lo { copyFloats(row + iw + lo, dst + lo, hi - lo) }
                            }
                            dst += 16
                        }
                    }
                }
                continue
            }
            var runs = 0
            if !oneRow {
                var l = 0, ohl = oh, owl = ow0
                while l < n {
                    seg[runs] = l; seg[17 + runs] = ohl * g.sh - g.padTop; seg[34 + runs] = owl * g.sw - g.padLeft
                    l += min(n - l, g.wo - owl)
                    owl = 0; ohl += 1; runs += 1
                }
                seg[runs] = n
            }
            var dst = panel
            for c in 0..<channels {
                let plane = x + c * g.h * g.w
                for i in 0..<g.kh {
                    for j in 0..<g.kw {
                        if oneRow {
                            let ih = ih0 + i * g.dh, iw = ow0 * g.sw - g.padLeft + j * g.dw
                            if ih < 0 || ih >= g.h {
                                store8(SIMD8(), dst); store8(SIMD8(), dst + 8)
                            } else if iw >= 0 && iw + 15 * g.sw < g.w {
                                let src = plane + ih * g.w + iw
                                if g.sw == 1 {
                                    store8(load8(src), dst); store8(load8(src + 8), dst + 8)
                                } else {
                                    // Stride 2: the even inputs of 31, never reading past the last.
                                    store8(SIMD8(lowHalf: load8(src).evenHalf, highHalf: load8(src + 7).oddHalf), dst)
                                    store8(SIMD8(lowHalf: load8(src + 16).evenHalf, highHalf: load8(src + 23).oddHalf), dst + 8)
                                }
                            } else if g.sw == 1 {
                                // A row end in the padding: zeros, then the lanes inside the row.
                                store8(SIMD8(), dst); store8(SIMD8(), dst + 8)
                                let lo = max(0, -iw), hi = min(16, g.w - iw)
                                if hi > lo { copyFloats(plane + ih * g.w + iw + lo, dst + lo, hi - lo) }
                            } else {
                                let row = plane + ih * g.w
                                for l in 0..<16 {
                                    let c = iw + l * g.sw
                                    dst[l] = c >= 0 && c < g.w ? row[c] : 0
                                }
                            }
                        } else {
                            for r in 0..<runs {
                                let l0 = seg[r], l1 = seg[r + 1]
                                let ih = seg[17 + r] + i * g.dh, iw = seg[34 + r] + j * g.dw
                                if ih < 0 || ih >= g.h {
                                    for l in l0..<l1 { dst[l] = 0 }
                                } else {
                                    let row = plane + ih * g.w
                                    if iw >= 0 && iw + (l1 - 1 - l0) * g.sw < g.w {
                                        if g.sw == 1 {
                                            copyFloats(row + iw, dst + l0, l1 - l0)
                                        } else {
                                            for l in l0..<l1 { dst[l] = row[iw + (l - l0) * g.sw] }
                                        }
                                    } else if g.sw == 1 {
                                        // Lane l reads column iw + l − l0: inside for lo ≤ l < hi.
                                        let lo = min(l1, max(l0, l0 - iw)), hi = max(lo, min(l1, l0 + g.w - iw))
                                        for l in l0..<lo { dst[l] = 0 }
                                        if hi > lo { copyFloats(row + iw + (lo - l0), dst + lo, hi - lo) }
                                        for l in hi..<l1 { dst[l] = 0 }
                                    } else {
                                        for l in l0..<l1 {
                                            let c = iw + (l - l0) * g.sw
                                            dst[l] = c >= 0 && c < g.w ? row[c] : 0
                                        }
                                    }
                                }
                            }
                            for l in n..<16 { dst[l] = 0 }
                        }
                        dst += 16
                    }
                }
            }
        }
    }
}

/// Copies `n` (0 … 16) contiguous floats: one or two overlapping SIMD8 copies for 8 or more, two
/// overlapping SIMD4 copies for 4 to 7, else one by one (the same values as a plain copy).
@inline(__always)
private func copyFloats(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
    if n >= 8 {
        store8(load8(src), dst)
        if n > 8 { store8(load8(src + n - 8), dst + n - 8) }
    } else if n >= 4 {
        let s = UnsafeRawPointer(src), d = UnsafeMutableRawPointer(dst)
        d.storeBytes(of: s.loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
        (d + 4 * (n - 4)).storeBytes(of: (s + 4 * (n - 4)).loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
    } else {
        for l in 0..<n { dst[l] = src[l] }
    }
}

/// Max or average pooling of `planes` planes of `h × w` values into `ho × wo` each.
/// Max ignores padding (it never wins; NaN propagates); average divides by the positions inside
/// the input, or with `countIncludePad` by those inside the padded input (rows up to
/// `h + padBottom`, columns up to `w + padRight`), never positions past it (ceil mode).
///
/// Each output visits its taps inside the input in (row, column) order — max keeps a value that
/// is greater or NaN, average sums — then average divides once. Interior outputs of a 2-wide,
/// stride-2 window (the common 2×2/2 pool) run 8 at a time with the same operations per lane.
public func pool2d_f32_simd8(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, planes: Int, window g: Window2D,
                       isMax: Bool, countIncludePad: Bool, padBottom: Int, padRight: Int) {
    let hEnd = g.h + padBottom, wEnd = g.w + padRight
    // Interior columns: every tap of a window row inside the input.
    let interior = g.interiorColumns, owLo = interior.lowerBound, owHi = interior.upperBound
    let pairs = g.kw == 2 && g.sw == 2 && g.dw == 1 && owHi - owLo >= 4
    let lanes = owHi - owLo >= 8 ? 8 : 4
    for plane in 0..<planes {
        let src = x + plane * g.h * g.w, dst = y + plane * g.ho * g.wo
        for oh in 0..<g.ho {
            let ih0 = oh * g.sh - g.padTop
            // Tap rows inside the input (iLo ..< iHi) and inside the padded input (..< iPad).
            let rows = g.tapRowsInside(from: ih0), iLo = rows.lowerBound, iHi = rows.upperBound
            let iPad = hEnd - 1 - ih0 < 0 ? 0 : min(g.kh, (hEnd - 1 - ih0) / g.dh + 1)
            let out = dst + oh * g.wo

            @inline(__always) func one(_ ow: Int) {
                let iw0 = ow * g.sw - g.padLeft
                // Tap columns inside the input (no division when dilation is 1).
                let jLo = iw0 >= 0 ? 0 : g.dw == 1 ? min(g.kw, -iw0) : min(g.kw, (-iw0 + g.dw - 1) / g.dw)
                let jHi = g.w - 1 - iw0 < 0 ? jLo
                    : max(jLo, min(g.kw, g.dw == 1 ? g.w - iw0 : (g.w - 1 - iw0) / g.dw + 1))
                var acc: Float = isMax ? -.infinity : 0
                var i = iLo
                while i < iHi {
                    let row = src + (ih0 + i * g.dh) * g.w + iw0
                    var j = jLo
                    while j < jHi {
                        let v = row[j * g.dw]
                        if isMax { acc = v > acc || v.isNaN ? v : acc } else { acc += v }
                        j += 1
                    }
                    i += 1
                }
                if !isMax {
                    let jPad = wEnd - 1 - iw0 < 0 ? 0 : min(g.kw, g.dw == 1 ? wEnd - iw0 : (wEnd - 1 - iw0) / g.dw + 1)
                    let count = countIncludePad ? iPad * jPad : (iHi - iLo) * (jHi - jLo)
                    acc /= Float(count)
                }
                out[ow] = acc
            }

            var ow = 0
            while ow < owLo { one(ow); ow += 1 }
            if pairs {
                // `lanes` outputs from 2·lanes inputs per tap row: even lanes are tap 0, odd lanes
                // tap 1. The last group ends at owHi, overlapping the one before (same bits).
                let count = Float(countIncludePad ? iPad * 2 : (iHi - iLo) * 2)
                @inline(__always) func rowPointer(_ i: Int) -> UnsafeRawPointer {
                    UnsafeRawPointer(src + (ih0 + i * g.dh) * g.w + ow * 2 - g.padLeft)
                }
                while ow < owHi {
                    ow = min(ow, owHi - lanes)
                    if lanes == 8 {
                        var acc = SIMD8<Float>(repeating: isMax ? -.infinity : 0)
                        for i in iLo..<max(iLo, iHi) {
                            let v = rowPointer(i).loadUnaligned(as: SIMD16<Float>.self)
                            poolStep(&acc, v.evenHalf, isMax); poolStep(&acc, v.oddHalf, isMax)
                        }
                        if !isMax { acc /= SIMD8(repeating: count) }
                        store8(acc, out + ow)
                    } else {
                        var acc = SIMD4<Float>(repeating: isMax ? -.infinity : 0)
                        for i in iLo..<max(iLo, iHi) {
                            let v = rowPointer(i).loadUnaligned(as: SIMD8<Float>.self)
                            poolStep(&acc, v.evenHalf, isMax); poolStep(&acc, v.oddHalf, isMax)
                        }
                        if !isMax { acc /= SIMD4(repeating: count) }
                        UnsafeMutableRawPointer(out + ow).storeBytes(of: acc, as: SIMD4<Float>.self)
                    }
                    ow += lanes
                }
            }
            while ow < g.wo { one(ow); ow += 1 }
        }
    }
}

/// One tap of a pooling window on 8 lanes: max keeps the tap where it is greater or NaN (as the
/// scalar path), average adds it.
@inline(__always)
func poolStep(_ acc: inout SIMD8<Float>, _ tap: SIMD8<Float>, _ isMax: Bool) {
    if isMax { acc.replace(with: tap, where: (tap .> acc) .| (tap .!= tap)) } else { acc += tap }
}

/// `poolStep` on 4 lanes.
@inline(__always)
func poolStep(_ acc: inout SIMD4<Float>, _ tap: SIMD4<Float>, _ isMax: Bool) {
    if isMax { acc.replace(with: tap, where: (tap .> acc) .| (tap .!= tap)) } else { acc += tap }
}
