extension Window2D {
    /// Floats of scratch `depthwise_conv2d_f32_simd8` needs for this window: one zero-padded
    /// input plane covering every tap of every SIMD8 group of output columns
    /// (`depthwisePaddedWidth` columns by `(ho − 1)·sh + (kh − 1)·dh + 1` rows); 0 for no output.
    @inlinable public var depthwisePaddedFloats: Int {
        ho > 0 && wo > 0 ? depthwisePaddedWidth * ((ho - 1) * sh + (kh - 1) * dh + 1) : 0
    }

    /// Columns of the zero-padded plane of `depthwise_conv2d_f32_simd8`:
    /// `(⌈wo/8⌉·8 − 1)·sw + (kw − 1)·dw + 1`.
    @inlinable public var depthwisePaddedWidth: Int { ((wo + 7) / 8 * 8 - 1) * sw + (kw - 1) * dw + 1 }
}

/// Direct 2-D convolution of one input plane with one `kh × kw` filter — a depthwise Conv
/// (one input channel per group) output channel — with the bias and activation fused:
/// `y[oh, ow] = act(Σ_i Σ_j x[ih0 + i·dh, iw0 + j·dw] · taps[i·kw + j] + bias)`, x zero outside.
///
/// The plane is first copied into `scratch` with its zero padding (`Window2D.depthwisePaddedFloats`), so
/// every output — interior or edge, any stride — is one SIMD8 lane of the same code: one FMA
/// chain over all `kh · kw` taps in (i, j) order from 0 (padding taps add `0 · w`, as the
/// im2col GEMM path does), then the bias is added and the activation applied. Outputs run 8
/// columns at a time (stride 2 reads the even inputs of 15; other strides gather); a row's last
/// group computes lanes past `wo`, stored into the next rows before those are written (never past
/// the plane).
/// - Parameters:
///   - x: the `h × w` input plane.
///   - taps: `kh · kw` weights, row-major.
///   - bias: added to every output, or nil.
///   - y: the `ho × wo` output plane.
///   - scratch: `window.depthwisePaddedFloats` floats, not aliasing `x` or `y`.
///   - paddingReady: `scratch` holds the padded plane of an earlier call with the same window
///     (its padding is zero and only the input rows are copied again).
public func depthwise_conv2d_f32_simd8(x: UnsafePointer<Float>, taps: UnsafePointer<Float>, bias: Float?,
                                       y: UnsafeMutablePointer<Float>, window g: Window2D, activation: Activation,
                                       scratch: UnsafeMutablePointer<Float>, paddingReady: Bool = false) {
    guard g.ho > 0, g.wo > 0 else { return }
    let pw = g.depthwisePaddedWidth, ph = (g.ho - 1) * g.sh + (g.kh - 1) * g.dh + 1
    // The padded plane: row r, column c hold x[r − padTop, c − padLeft], 0 outside the input.
    let colLo = min(pw, g.padLeft), colHi = min(pw, g.padLeft + g.w)
    if !paddingReady {
        var i = 0
        while i + 8 <= pw * ph { store8(SIMD8(), scratch + i); i += 8 }
        while i < pw * ph { scratch[i] = 0; i += 1 }
    }
    if colHi > colLo {
        for ih in 0..<max(0, min(g.h, ph - g.padTop)) {
            UnsafeMutableRawPointer(scratch + (ih + g.padTop) * pw + colLo)
                .copyMemory(from: x + ih * g.w, byteCount: (colHi - colLo) * MemoryLayout<Float>.stride)
        }
    }
    let biasValue = SIMD8<Float>(repeating: bias ?? 0), hasBias = bias != nil
    // Outputs are written in increasing address order, so a group's lanes past `wo` may spill
    // into the following rows (which overwrite them later) except at the plane's end.
    let planeEnd = y + g.ho * g.wo
    @inline(__always) func finish(_ sum: SIMD8<Float>, _ out: UnsafeMutablePointer<Float>, _ ow: Int) {
        var acc = sum
        if hasBias { acc += biasValue }
        let v = activation.apply8(acc)
        if out + ow + 8 <= planeEnd {
            store8(v, out + ow)
        } else {
            withUnsafeBytes(of: v) { UnsafeMutableRawPointer(out + ow).copyMemory(from: $0.baseAddress!, byteCount: (g.wo - ow) * 4) }
        }
    }
    @inline(__always) func lanes(_ src: UnsafePointer<Float>) -> SIMD8<Float> {
        switch g.sw {
        case 1: return load8(src)
        case 2: return SIMD8(lowHalf: load8(src).evenHalf, highHalf: load8(src + 7).oddHalf)
        default:
            var v = SIMD8<Float>()
            for l in 0..<8 { v[l] = src[l * g.sw] }
            return v
        }
    }
    let src = UnsafePointer(scratch)
    if g.kh == 3 && g.kw == 3 {
        // The common 3 × 3 filter: taps held in registers, the same chain unrolled.
        let t0 = SIMD8(repeating: taps[0]), t1 = SIMD8(repeating: taps[1]), t2 = SIMD8(repeating: taps[2])
        let t3 = SIMD8(repeating: taps[3]), t4 = SIMD8(repeating: taps[4]), t5 = SIMD8(repeating: taps[5])
        let t6 = SIMD8(repeating: taps[6]), t7 = SIMD8(repeating: taps[7]), t8 = SIMD8(repeating: taps[8])
        for oh in 0..<g.ho {
            let out = y + oh * g.wo
            let r0 = src + oh * g.sh * pw, r1 = r0 + g.dh * pw, r2 = r1 + g.dh * pw
            var ow = 0
            while ow < g.wo {
                let c = ow * g.sw
                var acc = SIMD8<Float>()
                acc = acc.addingProduct(lanes(r0 + c), t0)
                acc = acc.addingProduct(lanes(r0 + c + g.dw), t1)
                acc = acc.addingProduct(lanes(r0 + c + 2 * g.dw), t2)
                acc = acc.addingProduct(lanes(r1 + c), t3)
                acc = acc.addingProduct(lanes(r1 + c + g.dw), t4)
                acc = acc.addingProduct(lanes(r1 + c + 2 * g.dw), t5)
                acc = acc.addingProduct(lanes(r2 + c), t6)
                acc = acc.addingProduct(lanes(r2 + c + g.dw), t7)
                acc = acc.addingProduct(lanes(r2 + c + 2 * g.dw), t8)
                finish(acc, out, ow)
                ow += 8
            }
        }
        return
    }
    for oh in 0..<g.ho {
        let out = y + oh * g.wo
        var ow = 0
        while ow < g.wo {
            var acc = SIMD8<Float>()
            for i in 0..<g.kh {
                let row = src + (oh * g.sh + i * g.dh) * pw + ow * g.sw
                for j in 0..<g.kw {
                    acc = acc.addingProduct(lanes(row + j * g.dw), SIMD8(repeating: taps[i * g.kw + j]))
                }
            }
            finish(acc, out, ow)
            ow += 8
        }
    }
}
