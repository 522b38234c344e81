/// Scalar twins of the convolution and pooling kernels (ConvIm2Row.swift, DepthwiseConv.swift),
/// written from the window geometry tap by tap, independent of the SIMD code.

/// The input row and column under tap `(i, j)` of the window of output `(oh, ow)`.
@inline(__always)
func windowTap(_ g: Window2D, oh: Int, ow: Int, i: Int, j: Int) -> (ih: Int, iw: Int) {
    (oh * g.sh - g.padTop + i * g.dh, ow * g.sw - g.padLeft + j * g.dw)
}

/// Scalar twin of `im2col_panel16_f32_simd8`: for output positions `p0 ..< p0 + count`, panel `q`
/// holds at `q·16·K + kk·16 + j` the input under tap `kk` (channel, tap row, tap column) at
/// position `p0 + 16q + j`, 0 in the padding and past `count`. A gather: bitwise equal.
public func im2col_panel16_f32_reference(x: UnsafePointer<Float>, channels: Int, window g: Window2D, p0: Int, count: Int,
                                         out: UnsafeMutablePointer<Float>) {
    let taps = g.kh * g.kw, k = channels * taps
    for q in 0..<Panel16.panelCount(count) {
        for kk in 0..<k {
            let c = kk / taps, i = (kk % taps) / g.kw, j = kk % g.kw
            for l in 0..<16 {
                var v: Float = 0
                if 16 * q + l < count {
                    let p = p0 + 16 * q + l
                    let (ih, iw) = windowTap(g, oh: p / g.wo, ow: p % g.wo, i: i, j: j)
                    if ih >= 0 && ih < g.h && iw >= 0 && iw < g.w { v = x[(c * g.h + ih) * g.w + iw] }
                }
                out[q * 16 * k + kk * 16 + l] = v
            }
        }
    }
}

/// Scalar twin of `pool2d_f32_simd8`: per output, every tap of the window in (row, column) order; max
/// over the taps inside the input (NaN wins; exact, so bitwise equal), or their `Double` sum
/// divided by the taps inside the input — or, with `countIncludePad`, inside the padded input
/// (rows below `h + padBottom`, columns below `w + padRight`).
public func pool2d_f32_reference(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, planes: Int, window g: Window2D,
                                 isMax: Bool, countIncludePad: Bool, padBottom: Int, padRight: Int) {
    for plane in 0..<planes {
        for oh in 0..<g.ho {
            for ow in 0..<g.wo {
                var best = -Float.infinity, sum = 0.0
                var inside = 0, padded = 0
                for i in 0..<g.kh {
                    for j in 0..<g.kw {
                        let (ih, iw) = windowTap(g, oh: oh, ow: ow, i: i, j: j)
                        guard ih < g.h + padBottom, iw < g.w + padRight else { continue }
                        padded += 1
                        guard ih >= 0, ih < g.h, iw >= 0, iw < g.w else { continue }
                        inside += 1
                        let v = x[(plane * g.h + ih) * g.w + iw]
                        if !best.isNaN && (v.isNaN || v > best) { best = v }
                        sum += Double(v)
                    }
                }
                let out = y + (plane * g.ho + oh) * g.wo + ow
                if isMax {
                    out.pointee = best
                } else {
                    out.pointee = Float(sum / Double(countIncludePad ? padded : inside))
                }
            }
        }
    }
}

/// Scalar twin of `depthwise_conv2d_f32_simd8`: per output, the `Double` sum of the taps inside the
/// input times their weights, plus the bias, then `activation_f64_reference`, rounded once.
public func depthwise_conv2d_f32_reference(x: UnsafePointer<Float>, taps: UnsafePointer<Float>, bias: Float?,
                                           y: UnsafeMutablePointer<Float>, window g: Window2D, activation: Activation) {
    for oh in 0..<g.ho {
        for ow in 0..<g.wo {
            var acc = 0.0
            for i in 0..<g.kh {
                for j in 0..<g.kw {
                    let (ih, iw) = windowTap(g, oh: oh, ow: ow, i: i, j: j)
                    if ih >= 0 && ih < g.h && iw >= 0 && iw < g.w {
                        acc += Double(x[ih * g.w + iw]) * Double(taps[i * g.kw + j])
                    }
                }
            }
            if let bias { acc += Double(bias) }
            y[oh * g.wo + ow] = Float(activation_f64_reference(acc, activation))
        }
    }
}
