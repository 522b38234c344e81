// Vectorized exp, log, tanh and erf for the activations (sigmoid, tanh, GELU, SiLU, erf) and
// softmax/log-softmax, 8 lanes at a time in portable Swift SIMD: polynomials, FMAs and bit tricks,
// no libm call, so no libm's result reaches an output and every platform gives the same bits.
// Each lane's result depends on that lane's input only, so they are deterministic whatever the
// lane, and the scalar activations use these same functions on a splat vector.
// Accuracy against double precision, measured over dense sweeps (VectorMathTests): exp ≤ 1 ulp
// on normal results, tanh ≤ 1.3 ulp, erf ≤ 4.3e-7 absolute (rational approximation on [-4, 4]).

/// e^x lane by lane (Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2, degree-5 polynomial for e^r,
/// scaled by 2^n built in the exponent bits). +inf above 88.72, 0 where the result would be
/// subnormal (as under the flush-to-zero mode of a run), NaN stays NaN.
@inlinable @inline(always)
public func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let xc = clamp8(x, -87.33654, 88.72283935546875)
    let n = (xc * 1.44269504088896341).rounded(.toNearestOrEven)
    // r = xc - n·ln2 in two steps (Cody–Waite: ln2 = 0.693359375 - 2.12194440e-4, the first exact)
    var r = xc.addingProduct(n, SIMD8(repeating: -0.693359375))
    r = r.addingProduct(n, SIMD8(repeating: 2.12194440e-4))
    var p = SIMD8<Float>(repeating: 1.9875691500e-4)
    p = SIMD8(repeating: 1.3981999507e-3).addingProduct(p, r)
    p = SIMD8(repeating: 8.3334519073e-3).addingProduct(p, r)
    p = SIMD8(repeating: 4.1665795894e-2).addingProduct(p, r)
    p = SIMD8(repeating: 1.6666665459e-1).addingProduct(p, r)
    p = SIMD8(repeating: 5.0000001201e-1).addingProduct(p, r)
    let er = r.addingProduct(p, r * r) + 1
    // 2^n as two factors 2^h · 2^(n-h), so n = 128 (x near 88.72) does not overflow the exponent.
    let ni = unsafeBitCast(n + 12582912, to: SIMD8<Int32>.self) &- 0x4B40_0000
    let h = ni &>> 1
    let s1 = unsafeBitCast((h &+ 127) &<< 23, to: SIMD8<Float>.self)
    let s2 = unsafeBitCast((ni &- h &+ 127) &<< 23, to: SIMD8<Float>.self)
    var y = er * s1 * s2
    y.replace(with: .infinity, where: x .> 88.72283935546875)
    y.replace(with: 0, where: x .< -87.33654)
    y.replace(with: x, where: x .!= x)
    return y
}

/// Natural log lane by lane (Cephes logf: x = m·2^e with m in [√½, √2), degree-8 polynomial in
/// m − 1, ln2 added in two parts; the same FMAs on every platform). -inf at 0 and at subnormal x
/// (treated as 0, as under the flush-to-zero mode of a run), NaN below 0, +inf stays +inf, NaN
/// stays NaN.
@inlinable @inline(__always)
public func log8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let bits = unsafeBitCast(x, to: SIMD8<Int32>.self)
    // m in [0.5, 1) from the mantissa bits; e the matching exponent
    var m = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F00_0000, to: SIMD8<Float>.self)
    var e = SIMD8<Float>(((bits &>> 23) & 0xFF) &- 126)
    let low = m .< 0.707106781186547524
    e.replace(with: e - 1, where: low)
    m.replace(with: m + m, where: low)
    m -= 1
    let z = m * m
    var p = SIMD8<Float>(repeating: 7.0376836292e-2)
    p = SIMD8(repeating: -1.1514610310e-1).addingProduct(p, m)
    p = SIMD8(repeating: 1.1676998740e-1).addingProduct(p, m)
    p = SIMD8(repeating: -1.2420140846e-1).addingProduct(p, m)
    p = SIMD8(repeating: 1.4249322787e-1).addingProduct(p, m)
    p = SIMD8(repeating: -1.6668057665e-1).addingProduct(p, m)
    p = SIMD8(repeating: 2.0000714765e-1).addingProduct(p, m)
    p = SIMD8(repeating: -2.4999993993e-1).addingProduct(p, m)
    p = SIMD8(repeating: 3.3333331174e-1).addingProduct(p, m)
    var y = (p * m) * z
    y = y.addingProduct(e, SIMD8(repeating: -2.12194440e-4))
    y = y.addingProduct(z, SIMD8(repeating: -0.5))
    var r = (m + y).addingProduct(e, SIMD8(repeating: 0.693359375))
    r.replace(with: -.infinity, where: x .< .leastNormalMagnitude)   // 0 and subnormals (flushed)
    r.replace(with: .nan, where: x .< 0)
    r.replace(with: .infinity, where: x .== .infinity)
    r.replace(with: x, where: x .!= x)
    return r
}

/// σ(x) = 1 / (1 + e^−x) lane by lane: `Activation.sigmoid`, and the recurrent cells' gates,
/// which call it directly rather than through the activation's switch.
@inlinable @inline(always)
public func sigmoid8(_ x: SIMD8<Float>) -> SIMD8<Float> { 1 / (1 + exp8(-x)) }

/// tanh lane by lane: an odd polynomial below |x| = 0.625 (Cephes tanhf), else
/// `1 - 2 / (e^{2|x|} + 1)` with the sign of x; ±1 beyond |x| = 10. NaN stays NaN.
@inlinable @inline(__always)
public func tanh8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let bits = unsafeBitCast(x, to: SIMD8<UInt32>.self)
    let ax = unsafeBitCast(bits & 0x7FFF_FFFF, to: SIMD8<Float>.self)
    let z = x * x
    var p = SIMD8<Float>(repeating: -5.70498872745e-3)
    p = SIMD8(repeating: 2.06390887954e-2).addingProduct(p, z)
    p = SIMD8(repeating: -5.37397155531e-2).addingProduct(p, z)
    p = SIMD8(repeating: 1.33314422036e-1).addingProduct(p, z)
    p = SIMD8(repeating: -3.33332819422e-1).addingProduct(p, z)
    let small = ax.addingProduct(p * z, ax)
    let e = exp8(clamp8(ax + ax, 0, 20))
    var magnitude = 1 - 2 / (e + 1)
    magnitude.replace(with: small, where: ax .< 0.625)
    // copysign: the magnitude's bits with x's sign bit (tanh(-0) = -0)
    var y = unsafeBitCast(unsafeBitCast(magnitude, to: SIMD8<UInt32>.self) | (bits & 0x8000_0000), to: SIMD8<Float>.self)
    y.replace(with: x, where: x .!= x)
    return y
}

/// erf lane by lane: `x · P(x²) / Q(x²)` on x clamped to [-4, 4] (erf(±4) rounds to ±1 in
/// f32), a rational approximation with odd numerator of degree 13 and even denominator of
/// degree 8. NaN stays NaN.
@inlinable @inline(__always)
public func erf8(_ x: SIMD8<Float>) -> SIMD8<Float> {
    let xc = clamp8(x, -4, 4)
    let z = xc * xc
    var p = SIMD8<Float>(repeating: -2.72614225801306e-10)
    p = SIMD8(repeating: 2.77068142495902e-08).addingProduct(p, z)
    p = SIMD8(repeating: -2.10102402082508e-06).addingProduct(p, z)
    p = SIMD8(repeating: -5.69250639462346e-05).addingProduct(p, z)
    p = SIMD8(repeating: -7.34990630326855e-04).addingProduct(p, z)
    p = SIMD8(repeating: -2.95459980854025e-03).addingProduct(p, z)
    p = SIMD8(repeating: -1.60960333262415e-02).addingProduct(p, z)
    var q = SIMD8<Float>(repeating: -1.45660718464996e-05)
    q = SIMD8(repeating: -2.13374055278905e-04).addingProduct(q, z)
    q = SIMD8(repeating: -1.68282697438203e-03).addingProduct(q, z)
    q = SIMD8(repeating: -7.37332916720468e-03).addingProduct(q, z)
    q = SIMD8(repeating: -1.42647390514189e-02).addingProduct(q, z)
    var y = xc * p / q
    y.replace(with: x, where: x .!= x)
    return y
}

/// `x` limited to [lo, hi] lane by lane with compares and blends (the stdlib's pointwiseMin/Max
/// are not inlined here); NaN lanes stay NaN.
@inlinable @inline(__always)
func clamp8(_ x: SIMD8<Float>, _ lo: Float, _ hi: Float) -> SIMD8<Float> {
    x.replacing(with: hi, where: x .> hi).replacing(with: lo, where: x .< lo)
}
