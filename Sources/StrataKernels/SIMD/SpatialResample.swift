/// How `pad2d_f32` fills the border (docs/FORMAT.md "Ops (1.5)", `Pad`).
public enum PadMode: Sendable, Equatable {
    /// Every border value is the constant.
    case constant
    /// The input mirrored about its edge values, which are not repeated (`d c b | a b c d | c b a`).
    case reflect
    /// The edge value repeated (`a a | a b c d | d d`).
    case edge
}

/// The input index `i` (of `-before ..< size + after`) reads under `mode`, or nil for the constant.
/// Reflect needs `before, after < size`; the planner checks it.
@inlinable
public func padSourceIndex(_ i: Int, size: Int, mode: PadMode) -> Int? {
    if i >= 0 && i < size { return i }
    switch mode {
    case .constant: return nil
    case .reflect: return i < 0 ? -i : 2 * (size - 1) - i
    case .edge: return i < 0 ? 0 : size - 1
    }
}

/// Pads each of `planes` planes of `h × w` values to `(top + h + bottom) × (left + w + right)`
/// (`Pad`). Each output value is a copy of one input value or the constant: no arithmetic, so it
/// agrees bitwise with its twin. Interior runs of each row are one block copy.
public func pad2d_f32(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, planes: Int, h: Int, w: Int, top: Int,
                      left: Int, bottom: Int, right: Int, mode: PadMode, value: Float) {
    let ho = top + h + bottom, wo = left + w + right
    guard ho > 0, wo > 0 else { return }
    for p in 0..<planes {
        let src = x + p * h * w, dst = y + p * ho * wo
        for oy in 0..<ho {
            let row = dst + oy * wo
            guard let iy = padSourceIndex(oy - top, size: h, mode: mode) else {
                row.update(repeating: value, count: wo)
                continue
            }
            let input = src + iy * w
            for ox in 0..<left { row[ox] = padSourceIndex(ox - left, size: w, mode: mode).map { input[$0] } ?? value }
            (row + left).update(from: input, count: w)
            for ox in (left + w)..<wo { row[ox] = padSourceIndex(ox - left, size: w, mode: mode).map { input[$0] } ?? value }
        }
    }
}

/// Resizes each of `planes` planes of `h × w` values to `ho × wo` (`Resize`) from per-axis tap
/// tables made at plan time: for output row `r`, input rows `rowIndex[2r]`, `rowIndex[2r + 1]`
/// with weights `rowWeight[2r]`, `rowWeight[2r + 1]` (columns likewise). Nearest reads the first
/// tap only (a copy). Linear computes `wr0·(wc0·a + wc1·b) + wr1·(wc0·c + wc1·d)` in f32 in that
/// order (PyTorch's bilinear order), no FMA, so its twin gives the same bits.
public func resize2d_f32(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, planes: Int, h: Int, w: Int, ho: Int,
                         wo: Int, rowIndex: UnsafePointer<Int>, rowWeight: UnsafePointer<Float>,
                         colIndex: UnsafePointer<Int>, colWeight: UnsafePointer<Float>, nearest: Bool) {
    for p in 0..<planes {
        let src = x + p * h * w, dst = y + p * ho * wo
        for r in 0..<ho {
            let out = dst + r * wo
            let top = src + rowIndex[2 * r] * w
            if nearest {
                for c in 0..<wo { out[c] = top[colIndex[2 * c]] }
                continue
            }
            let bottom = src + rowIndex[2 * r + 1] * w
            let wr0 = rowWeight[2 * r], wr1 = rowWeight[2 * r + 1]
            for c in 0..<wo {
                let c0 = colIndex[2 * c], c1 = colIndex[2 * c + 1], wc0 = colWeight[2 * c], wc1 = colWeight[2 * c + 1]
                let upper = wc0 * top[c0] + wc1 * top[c1]
                let lower = wc0 * bottom[c0] + wc1 * bottom[c1]
                out[c] = wr0 * upper + wr1 * lower
            }
        }
    }
}

/// Transposed 2-D convolution of one sample (`ConvTranspose`): `x` is `[channels, g.h, g.w]`,
/// `weights` `[channels, outChannels/group, g.kh, g.kw]`, `y` `[outChannels, g.ho, g.wo]`, where
/// input `(iy, ix)` through tap `(ky, kx)` lands on output `(iy·sh − padTop + ky·dh, ix·sw −
/// padLeft + kx·dw)`. Written as a gather: each output sums, in (input channel, ky, kx) order,
/// the taps that land on it as one f32 FMA chain, then adds the bias; the order does not depend
/// on the batch, the position or the thread. A direct loop (no SIMD lanes yet).
public func conv_transpose2d_f32(x: UnsafePointer<Float>, channels: Int, weights: UnsafePointer<Float>,
                                 bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, outChannels: Int, group: Int,
                                 window g: Window2D) {
    let cg = channels / group, mg = outChannels / group, plane = g.h * g.w, taps = g.kh * g.kw
    for oc in 0..<outChannels {
        let gi = oc / mg, o = oc % mg, b = bias?[oc] ?? 0
        for oy in 0..<g.ho {
            for ox in 0..<g.wo {
                var acc: Float = 0
                for ic in 0..<cg {
                    let c = gi * cg + ic
                    let input = x + c * plane, tap = weights + (c * mg + o) * taps
                    for ky in 0..<g.kh {
                        let ny = oy + g.padTop - ky * g.dh
                        guard ny >= 0, ny % g.sh == 0, ny / g.sh < g.h else { continue }
                        let row = input + (ny / g.sh) * g.w
                        for kx in 0..<g.kw {
                            let nx = ox + g.padLeft - kx * g.dw
                            guard nx >= 0, nx % g.sw == 0, nx / g.sw < g.w else { continue }
                            acc = acc.addingProduct(row[nx / g.sw], tap[ky * g.kw + kx])
                        }
                    }
                }
                y[(oc * g.ho + oy) * g.wo + ox] = acc + b
            }
        }
    }
}
