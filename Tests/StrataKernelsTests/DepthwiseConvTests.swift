import StrataCore
@testable import StrataKernels
import Testing
import StrataTestSupport

/// The contract of `depthwise_conv2d_f32_simd8` on tile-relative sizes: every output is the
/// scalar f32 FMA chain over all taps in (row, column) order from 0 (padding taps adding
/// `0 · w`), plus the bias, then `Activation.apply` — bitwise, whatever the width, stride,
/// dilation, filter size, padding or activation, and whether or not the scratch's padding is reused.
@Suite("Depthwise convolution kernel")
struct DepthwiseConvTests {
    /// The scalar chain for output (oh, ow).
    static func chain(_ x: UnsafePointer<Float>, _ taps: [Float], _ bias: Float?, _ g: Window2D, _ act: Activation,
                      oh: Int, ow: Int) -> Float {
        var acc: Float = 0
        for i in 0..<g.kh {
            for j in 0..<g.kw {
                let ih = oh * g.sh - g.padTop + i * g.dh, iw = ow * g.sw - g.padLeft + j * g.dw
                let v = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w ? x[ih * g.w + iw] : 0
                acc = acc.addingProduct(v, taps[i * g.kw + j])
            }
        }
        if let bias { acc += bias }
        return act.apply(acc)
    }

    /// Windows with output widths 1, 7, 8, 9, 15, 16, 17 and odd heights: 3 × 3 and 5 × 5 filters
    /// with stride 1 and 2 and their usual pads, pads 0 and 2, dilation 2, stride 3, a 2 × 2 and a
    /// 3 × 5 filter (the generic loop), and padding on one side only; then heights of 6–9 rows
    /// (the four-row passes and the rows left over).
    static let windows: [Window2D] = [1, 7, 8, 9, 15, 16, 17].flatMap { wo -> [Window2D] in
        let ho = wo % 2 == 1 ? wo % 5 + 1 : 3
        return [window(k: 3, s: 1, d: 1, pad: 1, ho: ho, wo: wo), window(k: 3, s: 2, d: 1, pad: 1, ho: ho, wo: wo),
                window(k: 5, s: 1, d: 1, pad: 2, ho: ho, wo: wo), window(k: 5, s: 2, d: 1, pad: 2, ho: ho, wo: wo),
                window(k: 3, s: 1, d: 1, pad: 0, ho: ho, wo: wo), window(k: 3, s: 1, d: 2, pad: 2, ho: ho, wo: wo),
                window(k: 3, s: 2, d: 2, pad: 0, ho: ho, wo: wo), window(k: 3, s: 3, d: 1, pad: 1, ho: ho, wo: wo),
                window(k: 2, s: 1, d: 1, pad: 0, ho: ho, wo: wo),
                Window2D(h: ho + 2, w: wo + 3, kh: 3, kw: 5, sh: 1, sw: 1, dh: 1, dw: 1, padTop: 0, padLeft: 1, ho: ho, wo: wo),
                Window2D(h: 2 * ho, w: 2 * wo, kh: 3, kw: 3, sh: 2, sw: 2, dh: 1, dw: 1, padTop: 0, padLeft: 1, ho: ho, wo: wo)]
    } + [
        // Four-row passes of the 5 × 5 and generic filters with rows left over, partial last groups.
        window(k: 5, s: 1, d: 1, pad: 2, ho: 9, wo: 7), window(k: 5, s: 2, d: 1, pad: 2, ho: 6, wo: 17),
        window(k: 5, s: 1, d: 2, pad: 1, ho: 8, wo: 9), window(k: 2, s: 1, d: 1, pad: 0, ho: 7, wo: 15),
    ]

    static let activations: [(Float?, Activation)] = [(nil, .identity), (0.25, .relu), (-0.5, .clip(min: 0, max: 6)),
                                                      (0.5, .silu), (nil, .sigmoid), (0.125, .gelu)]

    @Test("every output is the scalar FMA chain, bitwise, on tile-relative widths", arguments: windows.indices)
    func lanesAreTheScalarChain(index: Int) {
        let g = Self.windows[index]
        var rng = SeededGenerator(seed: UInt64(90 + index))
        let x = guardedInput(rng.floats(g.h * g.w, in: -2...2)), taps = rng.floats(g.kh * g.kw)
        for (bias, act) in Self.activations {
            let y = GuardedBuffer(count: g.ho * g.wo), scratch = GuardedBuffer(count: max(1, g.depthwisePaddedFloats))
            // A first plane of other values through the same scratch, then this one reusing its padding.
            let other = guardedInput(rng.floats(g.h * g.w, in: 5...9))
            depthwise_conv2d_f32_simd8(x: other.readPointer, taps: taps, bias: bias, y: y.pointer, window: g, activation: act,
                                       scratch: scratch.pointer)
            depthwise_conv2d_f32_simd8(x: x.readPointer, taps: taps, bias: bias, y: y.pointer, window: g, activation: act,
                                       scratch: scratch.pointer, paddingReady: true)
            let out = y.values
            var mismatches = 0
            for oh in 0..<g.ho {
                for ow in 0..<g.wo where out[oh * g.wo + ow].bitPattern
                    != Self.chain(x.readPointer, taps, bias, g, act, oh: oh, ow: ow).bitPattern { mismatches += 1 }
            }
            #expect(mismatches == 0, "\(g) \(act): \(mismatches) of \(out.count) outputs differ from the scalar chain")
            #expect(y.canariesIntact && scratch.canariesIntact)
        }
    }

    @Test("the scratch size covers every phase row the kernel reads (stride 1, 2, 3)")
    func scratchSize() {
        let g = window(k: 3, s: 2, d: 1, pad: 1, ho: 4, wo: 9)
        // 2 phases × 9 padded rows × (16 + ⌊2/2⌋) columns.
        #expect(g.depthwisePaddedRows == 9 && g.depthwisePhaseWidth == 17 && g.depthwisePaddedFloats == 2 * 9 * 17)
        let s3 = window(k: 5, s: 3, d: 1, pad: 2, ho: 2, wo: 1)
        #expect(s3.depthwisePaddedFloats == 3 * (3 + 5) * (8 + 1))
        #expect(window(k: 3, s: 1, d: 1, pad: 1, ho: 0, wo: 5).depthwisePaddedFloats == 0)
    }
}
