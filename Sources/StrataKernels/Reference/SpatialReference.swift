/// Scalar reference of `pad2d_f32`: each output value from its own index mapping.
public func pad2d_f32_reference(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, planes: Int, h: Int, w: Int,
                                top: Int, left: Int, bottom: Int, right: Int, mode: PadMode, value: Float) {
    let ho = top + h + bottom, wo = left + w + right
    for p in 0..<planes {
        for oy in 0..<max(0, ho) {
            for ox in 0..<max(0, wo) {
                var v = value
                if let iy = padSourceIndex(oy - top, size: h, mode: mode), let ix = padSourceIndex(ox - left, size: w, mode: mode) {
                    v = x[(p * h + iy) * w + ix]
                }
                y[(p * ho + oy) * wo + ox] = v
            }
        }
    }
}

/// Scalar reference of `resize2d_f32`: the same f32 operations per output, one output at a time.
public func resize2d_f32_reference(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, planes: Int, h: Int, w: Int,
                                   ho: Int, wo: Int, rowIndex: UnsafePointer<Int>, rowWeight: UnsafePointer<Float>,
                                   colIndex: UnsafePointer<Int>, colWeight: UnsafePointer<Float>, nearest: Bool) {
    for p in 0..<planes {
        for r in 0..<ho {
            for c in 0..<wo {
                func at(_ i: Int, _ j: Int) -> Float { x[(p * h + rowIndex[2 * r + i]) * w + colIndex[2 * c + j]] }
                let v: Float
                if nearest {
                    v = at(0, 0)
                } else {
                    let upper: Float = colWeight[2 * c] * at(0, 0) + colWeight[2 * c + 1] * at(0, 1)
                    let lower: Float = colWeight[2 * c] * at(1, 0) + colWeight[2 * c + 1] * at(1, 1)
                    v = rowWeight[2 * r] * upper + rowWeight[2 * r + 1] * lower
                }
                y[(p * ho + r) * wo + c] = v
            }
        }
    }
}

/// Scalar reference of `conv_transpose2d_f32`: the scatter form (each input value times each tap
/// added to the output it lands on), summed in `Double` and rounded once.
public func conv_transpose2d_f32_reference(x: UnsafePointer<Float>, channels: Int, weights: UnsafePointer<Float>,
                                           bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, outChannels: Int,
                                           group: Int, window g: Window2D) {
    let cg = channels / group, mg = outChannels / group
    var sums = [Double](repeating: 0, count: outChannels * g.ho * g.wo)
    for c in 0..<channels {
        let gi = c / cg
        for iy in 0..<g.h {
            for ix in 0..<g.w {
                let v = Double(x[(c * g.h + iy) * g.w + ix])
                for o in 0..<mg {
                    for ky in 0..<g.kh {
                        let oy = iy * g.sh - g.padTop + ky * g.dh
                        guard oy >= 0, oy < g.ho else { continue }
                        for kx in 0..<g.kw {
                            let ox = ix * g.sw - g.padLeft + kx * g.dw
                            guard ox >= 0, ox < g.wo else { continue }
                            let oc = gi * mg + o
                            sums[(oc * g.ho + oy) * g.wo + ox] += v * Double(weights[((c * mg + o) * g.kh + ky) * g.kw + kx])
                        }
                    }
                }
            }
        }
    }
    for oc in 0..<outChannels {
        let b = Double(bias?[oc] ?? 0)
        for i in 0..<(g.ho * g.wo) { y[oc * g.ho * g.wo + i] = Float(sums[oc * g.ho * g.wo + i] + b) }
    }
}
