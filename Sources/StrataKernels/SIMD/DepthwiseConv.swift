extension Window2D {
    /// Output columns a row of `depthwise_conv2d_f32_simd8` computes: `wo` rounded up to 8.
    @inlinable public var depthwiseVectorColumns: Int { (wo + 7) / 8 * 8 }

    /// Rows of the zero-padded plane of `depthwise_conv2d_f32_simd8`: `(ho − 1)·sh + (kh − 1)·dh + 1`.
    @inlinable public var depthwisePaddedRows: Int { (ho - 1) * sh + (kh - 1) * dh + 1 }

    /// Floats per row of one stride phase of the padded plane: `⌈wo/8⌉·8 + ⌊(kw − 1)·dw / sw⌋`.
    @inlinable public var depthwisePhaseWidth: Int { depthwiseVectorColumns + (kw - 1) * dw / sw }

    /// Floats of scratch `depthwise_conv2d_f32_simd8` needs for this window: the zero-padded input
    /// plane split into `sw` stride phases (`sw · depthwisePaddedRows · depthwisePhaseWidth`),
    /// covering every tap of every SIMD8 group of output columns; 0 for no output.
    @inlinable public var depthwisePaddedFloats: Int {
        ho > 0 && wo > 0 ? sw * depthwisePaddedRows * depthwisePhaseWidth : 0
    }
}

/// Direct 2-D convolution of one input plane with one `kh × kw` filter — a depthwise Conv
/// (one input channel per group) output channel — with the bias and activation fused:
/// `y[oh, ow] = act(Σ_i Σ_j x[ih0 + i·dh, iw0 + j·dw] · taps[i·kw + j] + bias)`, x zero outside.
///
/// The plane is first copied into `scratch` with its zero padding, split into `sw` stride
/// phases (phase `q` holds the padded columns `c ≡ q mod sw`, column `c` at `c / sw`), so the
/// inputs under tap `j` of 8 consecutive outputs are 8 consecutive floats of one phase for any
/// stride — no gathers or shuffles in the loop. Every output — interior or edge, any stride — is
/// then one SIMD8 lane of the same code: one FMA chain over all `kh · kw` taps in (i, j) order
/// from 0 (padding taps add `0 · w`, as the im2col GEMM path does), then the bias is added and the
/// activation applied. 3 × 3 filters run unrolled with the taps in registers, 5 × 5 (unrolled)
/// and other filters four output rows per pass sharing each tap's load; identity, ReLU and clip
/// (ReLU6) are applied in the loop, the other activations in one pass over the finished plane
/// (`activation_f32_simd8`: SiLU with exp in line; the same bits). A row's last group computes
/// lanes past `wo`, stored into the next row when that is not written yet (never past the plane).
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
    depthwisePadPlane(x: x, window: g, scratch: scratch, paddingReady: paddingReady)
    // ReLU, clip and identity are clips (identity: −∞…+∞, the same bits); others run on the plane after.
    var lo = -Float.infinity, hi = Float.infinity, after: Activation? = nil
    switch activation {
    case .identity: break
    case .relu: lo = 0
    case .clip(let l, let h): lo = l; hi = h
    default: after = activation
    }
    let rows = DepthwiseRows(window: g, scratch: UnsafePointer(scratch), taps: taps, y: y, bias: bias, lo: lo, hi: hi)
    switch (g.kh, g.kw) {
    case (3, 3): rows.run3x3()
    case (5, 5): rows.run(Filter5x5())
    default: rows.run(FilterAnySize(kh: g.kh, kw: g.kw))
    }
    if let after { activation_f32_simd8(x: y, y: y, count: g.ho * g.wo, activation: after) }
}

/// Copies plane `x` into `scratch` as `depthwise_conv2d_f32_simd8` reads it: padded row `r`,
/// padded column `c` (input `x[r − padTop, c − padLeft]`, 0 outside the input) at
/// `scratch[(c mod sw)·phase + r·pw + c / sw]`, `phase = depthwisePaddedRows · pw`,
/// `pw = depthwisePhaseWidth`. Zeroes the whole scratch first unless `paddingReady`.
@inline(__always)
func depthwisePadPlane(x: UnsafePointer<Float>, window g: Window2D, scratch: UnsafeMutablePointer<Float>, paddingReady: Bool) {
    let pw = g.depthwisePhaseWidth, ph = g.depthwisePaddedRows, phase = ph * pw, total = g.sw * phase
    if !paddingReady {
        var i = 0
        while i + 8 <= total { store8(SIMD8(), scratch + i); i += 8 }
        while i < total { scratch[i] = 0; i += 1 }
    }
    // Input columns that land in the padded plane, and input rows.
    let count = max(0, min(g.w, g.sw * pw - g.padLeft))
    let rows = max(0, min(g.h, ph - g.padTop))
    guard count > 0 else { return }
    for ih in 0..<rows {
        let src = x + ih * g.w, r = ih + g.padTop
        switch g.sw {
        case 1:
            let dst = scratch + r * pw + g.padLeft
            var i = 0
            while i + 8 <= count { store8(load8(src + i), dst + i); i += 8 }
            if i < count {
                if count >= 8 { store8(load8(src + count - 8), dst + count - 8) } else {
                    while i < count { dst[i] = src[i]; i += 1 }
                }
            }
        case 2:
            // Input column iw lands in phase (iw + padLeft) mod 2 at (iw + padLeft) / 2.
            let evenInputs = scratch + (g.padLeft & 1) * phase + r * pw + g.padLeft / 2
            let oddInputs = scratch + ((g.padLeft + 1) & 1) * phase + r * pw + (g.padLeft + 1) / 2
            var i = 0
            while i + 16 <= count {
                let v0 = load8(src + i), v1 = load8(src + i + 8)
                store8(SIMD8(lowHalf: v0.evenHalf, highHalf: v1.evenHalf), evenInputs + i / 2)
                store8(SIMD8(lowHalf: v0.oddHalf, highHalf: v1.oddHalf), oddInputs + i / 2)
                i += 16
            }
            while i < count {
                if i & 1 == 0 { evenInputs[i / 2] = src[i] } else { oddInputs[i / 2] = src[i] }
                i += 1
            }
        default:
            for iw in 0..<count {
                let c = iw + g.padLeft
                scratch[(c % g.sw) * phase + r * pw + c / g.sw] = src[iw]
            }
        }
    }
}

/// A filter's extent, as a type so `DepthwiseRows.run` is specialised per size (the tap loops of
/// the fixed sizes unroll).
protocol DepthwiseFilterSize {
    var kh: Int { get }
    var kw: Int { get }
}

/// The 5 × 5 filter (EfficientNets).
struct Filter5x5: DepthwiseFilterSize {
    var kh: Int { 5 }
    var kw: Int { 5 }
}

/// Any other extent, read at run time.
struct FilterAnySize: DepthwiseFilterSize {
    let kh: Int, kw: Int
}

/// The output rows of one plane over its padded, phase-split copy (`depthwisePadPlane`).
struct DepthwiseRows {
    let window: Window2D
    let scratch: UnsafePointer<Float>
    /// `kh · kw` weights, row-major.
    let taps: UnsafePointer<Float>
    let y: UnsafeMutablePointer<Float>
    let bias: Float?
    /// The in-loop clip (identity: −∞, +∞; ReLU: 0, +∞).
    let lo: Float, hi: Float

    /// Every output row with a 3 × 3 filter (MobileNets, EfficientNets): the nine broadcast taps
    /// in registers, the same FMA chain as `run`.
    @inline(__always)
    func run3x3() {
        let g = window, pw = g.depthwisePhaseWidth, phase = g.depthwisePaddedRows * pw
        @inline(__always) func tap(_ i: Int) -> SIMD8<Float> { SIMD8(repeating: taps[i]) }
        let t0 = tap(0), t1 = tap(1), t2 = tap(2), t3 = tap(3), t4 = tap(4), t5 = tap(5), t6 = tap(6), t7 = tap(7), t8 = tap(8)
        let o1 = g.dw % g.sw * phase + g.dw / g.sw, o2 = 2 * g.dw % g.sw * phase + 2 * g.dw / g.sw
        let b = SIMD8<Float>(repeating: bias ?? 0), hasBias = bias != nil
        let lo8 = SIMD8<Float>(repeating: lo), hi8 = SIMD8<Float>(repeating: hi)
        let rowStep = g.dh * pw, planeEnd = y + g.ho * g.wo
        for oh in 0..<g.ho {
            let r0 = scratch + oh * g.sh * pw, r1 = r0 + rowStep, r2 = r1 + rowStep, out = y + oh * g.wo
            var ow = 0
            while ow < g.wo {
                var acc = SIMD8<Float>()
                acc = acc.addingProduct(load8(r0 + ow), t0)
                acc = acc.addingProduct(load8(r0 + o1 + ow), t1)
                acc = acc.addingProduct(load8(r0 + o2 + ow), t2)
                acc = acc.addingProduct(load8(r1 + ow), t3)
                acc = acc.addingProduct(load8(r1 + o1 + ow), t4)
                acc = acc.addingProduct(load8(r1 + o2 + ow), t5)
                acc = acc.addingProduct(load8(r2 + ow), t6)
                acc = acc.addingProduct(load8(r2 + o1 + ow), t7)
                acc = acc.addingProduct(load8(r2 + o2 + ow), t8)
                if hasBias { acc += b }
                acc = acc.replacing(with: lo8, where: acc .< lo8)
                acc = acc.replacing(with: hi8, where: acc .> hi8)
                if out + ow + 8 <= planeEnd {
                    store8(acc, out + ow)
                } else {
                    for l in 0..<(g.wo - ow) { out[ow + l] = acc[l] }
                }
                ow += 8
            }
        }
    }

    /// Every output row with a filter of `size`, four rows per pass: each tap is broadcast once
    /// and used by the four rows' accumulators (the taps outnumber the registers, so a tap costs a
    /// load whoever uses it), each accumulator still one chain in (i, j) order; the last
    /// `ho mod 4` rows one at a time.
    @inline(__always)
    func run<Size: DepthwiseFilterSize>(_ size: Size) {
        let kh = size.kh, kw = size.kw
        let g = window, pw = g.depthwisePhaseWidth, phase = g.depthwisePaddedRows * pw
        let b = SIMD8<Float>(repeating: bias ?? 0), hasBias = bias != nil
        let lo8 = SIMD8<Float>(repeating: lo), hi8 = SIMD8<Float>(repeating: hi)
        let planeEnd = y + g.ho * g.wo, step = g.sh * pw
        // Tap column j reads phase (j·dw) mod sw at offset (j·dw) / sw.
        @inline(__always) func offset(_ j: Int) -> Int { g.sw == 1 ? j * g.dw : (j * g.dw) % g.sw * phase + (j * g.dw) / g.sw }
        // `spill`: lanes past wo may go into the next row (not yet written), except at the plane's end.
        @inline(__always) func finish(_ sum: SIMD8<Float>, _ out: UnsafeMutablePointer<Float>, _ ow: Int, spill: Bool) {
            var acc = sum
            if hasBias { acc += b }
            acc = acc.replacing(with: lo8, where: acc .< lo8)
            acc = acc.replacing(with: hi8, where: acc .> hi8)
            if ow + 8 <= g.wo || (spill && out + ow + 8 <= planeEnd) {
                store8(acc, out + ow)
            } else {
                for l in 0..<(g.wo - ow) { out[ow + l] = acc[l] }
            }
        }
        var oh = 0
        while oh + 4 <= g.ho {
            let first = scratch + oh * step, out = y + oh * g.wo
            var ow = 0
            while ow < g.wo {
                var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
                for i in 0..<kh {
                    let row = first + i * g.dh * pw + ow
                    for j in 0..<kw {
                        let t = SIMD8(repeating: taps[i * kw + j]), r = row + offset(j)
                        a0 = a0.addingProduct(load8(r), t)
                        a1 = a1.addingProduct(load8(r + step), t)
                        a2 = a2.addingProduct(load8(r + 2 * step), t)
                        a3 = a3.addingProduct(load8(r + 3 * step), t)
                    }
                }
                // The next rows of the block are written already: only the last row may spill.
                finish(a0, out, ow, spill: false)
                finish(a1, out + g.wo, ow, spill: false)
                finish(a2, out + 2 * g.wo, ow, spill: false)
                finish(a3, out + 3 * g.wo, ow, spill: true)
                ow += 8
            }
            oh += 4
        }
        while oh < g.ho {
            let first = scratch + oh * step, out = y + oh * g.wo
            var ow = 0
            while ow < g.wo {
                var acc = SIMD8<Float>()
                for i in 0..<kh {
                    let row = first + i * g.dh * pw + ow
                    for j in 0..<kw { acc = acc.addingProduct(load8(row + offset(j)), SIMD8(repeating: taps[i * kw + j])) }
                }
                finish(acc, out, ow, spill: true)
                ow += 8
            }
            oh += 1
        }
    }
}
