/// Direct 2-D convolution of one input plane with one `kh × kw` filter — a depthwise Conv
/// (one input channel per group) output channel — with the bias and activation fused:
/// `y[oh, ow] = act(Σ_i Σ_j x[ih0 + i·dh, iw0 + j·dw] · taps[i·kw + j] + bias)`.
///
/// Each output is one FMA chain over the taps inside the input, in (i, j) order, from 0; then
/// the bias is added and the activation applied. Interior outputs (stride 1) are computed in
/// SIMD8 lanes, the rest one by one with the same operations, so every output has the same
/// bits wherever it lies. (As a GEMM, a depthwise Conv is one output channel per group with a
/// K of only kh · kw: mostly call overhead.)
/// - Parameters:
///   - x: the `h × w` input plane.
///   - taps: `kh · kw` weights, row-major.
///   - bias: added to every output, or nil.
///   - y: the `ho × wo` output plane.
public func depthwise_conv2d_f32_simd8(x: UnsafePointer<Float>, taps: UnsafePointer<Float>, bias: Float?,
                                 y: UnsafeMutablePointer<Float>, window g: Window2D, activation: Activation) {
    // Interior columns: every tap of the window row lies inside the input.
    let interior = g.interiorColumns, owLo = interior.lowerBound, owHi = interior.upperBound
    let biasValue = bias ?? 0
    for oh in 0..<g.ho {
        let ih0 = oh * g.sh - g.padTop
        // Tap rows inside the input: iLo ..< iHi.
        let rows = g.tapRowsInside(from: ih0), iLo = rows.lowerBound, iHi = rows.upperBound
        let out = y + oh * g.wo

        @inline(__always) func one(_ ow: Int) {
            let iw0 = ow * g.sw - g.padLeft
            var acc: Float = 0
            var i = iLo
            while i < iHi {
                let row = x + (ih0 + i * g.dh) * g.w
                for j in 0..<g.kw {
                    let iw = iw0 + j * g.dw
                    if iw >= 0 && iw < g.w { acc = acc.addingProduct(row[iw], taps[i * g.kw + j]) }
                }
                i += 1
            }
            if bias != nil { acc += biasValue }
            out[ow] = activation.apply(acc)
        }

        var ow = 0
        while ow < owLo { one(ow); ow += 1 }
        if g.sw == 1 && owHi - owLo >= 8 {
            // 8 outputs at a time; the last group ends at owHi, overlapping the one before it
            // (its outputs are recomputed with the same bits), so no interior output is scalar.
            while ow < owHi {
                ow = min(ow, owHi - 8)
                var acc = SIMD8<Float>()
                var i = iLo
                while i < iHi {
                    let row = x + (ih0 + i * g.dh) * g.w + (ow - g.padLeft)
                    for j in 0..<g.kw {
                        acc = acc.addingProduct(load8(row + j * g.dw), SIMD8(repeating: taps[i * g.kw + j]))
                    }
                    i += 1
                }
                if bias != nil { acc += SIMD8(repeating: biasValue) }
                store8(activation.apply8(acc), out + ow)
                ow += 8
            }
        }
        while ow < g.wo { one(ow); ow += 1 }
    }
}
