#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataKernels
import Testing
import StrataTestSupport

/// Distance of `got` from the double-precision `want` in units of the f32 spacing at `want`.
private func ulps(_ got: Float, _ want: Double) -> Double {
    let spacing = Double(Float(want).magnitude.ulp)
    return abs(Double(got) - want) / max(spacing, Double(Float.leastNormalMagnitude.ulp))
}

/// Every f32 in [lo, hi] at `step`, 8 at a time, through `f8`; returns the worst error `measure` gives.
private func worst(_ lo: Float, _ hi: Float, step: Float, _ f8: (SIMD8<Float>) -> SIMD8<Float>,
                   _ measure: (Float, Float) -> Double) -> (error: Double, at: Float) {
    var worst = (error: 0.0, at: lo)
    var x = lo
    while x <= hi {
        var v = SIMD8<Float>()
        for l in 0..<8 { v[l] = x + Float(l) * step }
        let y = f8(v)
        for l in 0..<8 {
            let e = measure(v[l], y[l])
            if e > worst.error { worst = (e, v[l]) }
        }
        x += 8 * step
    }
    return worst
}

@Suite("Vector math (exp8, log8, tanh8, erf8)")
struct VectorMathTests {
    @Test("exp8 is within 1 ulp of exp on every normal result")
    func expAccuracy() {
        let w = worst(-87.3, 88.7, step: 0.000731, exp8) { x, y in ulps(y, exp(Double(x))) }
        #expect(w.error <= 1.0, "worst \(w.error) ulp at \(w.at)")
    }

    @Test("log8 is within 2 ulp of log from the smallest normal to the largest finite f32")
    func logAccuracy() {
        // dense around 1 (where log-softmax's sums start), then geometric steps over every binade
        let near1 = worst(0.5, 2, step: 0.0000173, log8) { x, y in ulps(y, log(Double(x))) }
        #expect(near1.error <= 2.0, "worst \(near1.error) ulp at \(near1.at)")
        var worstWide = (error: 0.0, at: Float(0))
        var x = Float.leastNormalMagnitude
        while x.isFinite {
            var v = SIMD8<Float>()
            for l in 0..<8 { v[l] = x * (1 + Float(l) * 0.1234567) }
            let y = log8(v)
            for l in 0..<8 where v[l].isFinite {
                let e = ulps(y[l], log(Double(v[l])))
                if e > worstWide.error { worstWide = (e, v[l]) }
            }
            x *= 1.7
        }
        #expect(worstWide.error <= 2.0, "worst \(worstWide.error) ulp at \(worstWide.at)")
    }

    @Test("log8 special values: 0 and subnormals give -inf, negatives NaN, +inf and NaN stay")
    func logSpecialValues() {
        let y = log8(SIMD8(0, -0.0, Float.leastNormalMagnitude.nextDown, -1, .infinity, .nan, 1, -.infinity))
        #expect(y[0] == -.infinity && y[1] == -.infinity && y[2] == -.infinity)
        #expect(y[3].isNaN && y[5].isNaN && y[7].isNaN)
        #expect(y[4] == .infinity && y[6] == 0)
    }

    @Test("tanh8 is within 1.5 ulp of tanh, also near 0 and around the 0.625 switch")
    func tanhAccuracy() {
        for (lo, hi, step) in [(Float(-12), Float(12), Float(0.0001237)), (-0.7, 0.7, 0.0000071), (-1e-3, 1e-3, 1.3e-7)] {
            let w = worst(lo, hi, step: step, tanh8) { x, y in ulps(y, tanh(Double(x))) }
            #expect(w.error <= 1.5, "worst \(w.error) ulp at \(w.at) in [\(lo), \(hi)]")
        }
    }

    @Test("erf8 is within 5e-7 of erf, and within 3e-7 relative near 0")
    func erfAccuracy() {
        let w = worst(-6, 6, step: 0.0000713, erf8) { x, y in abs(Double(y) - erf(Double(x))) }
        #expect(w.error <= 5e-7, "worst \(w.error) at \(w.at)")
        let small = worst(-0.01, 0.01, step: 0.00000137, erf8) { x, y in
            x == 0 ? Double(abs(y)) : abs(Double(y) - erf(Double(x))) / abs(erf(Double(x)))
        }
        #expect(small.error <= 3e-7, "worst relative \(small.error) at \(small.at)")
    }

    @Test("special values: NaN stays NaN, infinities and huge inputs saturate, signed zeros")
    func specialValues() {
        let v = SIMD8<Float>(.nan, .infinity, -.infinity, 1000, -1000, 0, -0.0, 89)
        let e = exp8(v), t = tanh8(v), r = erf8(v)
        #expect(e[0].isNaN && t[0].isNaN && r[0].isNaN)
        #expect(e[1] == .infinity && e[2] == 0 && e[3] == .infinity && e[4] == 0 && e[5] == 1 && e[6] == 1 && e[7] == .infinity)
        #expect(t[1] == 1 && t[2] == -1 && t[3] == 1 && t[4] == -1 && t[5] == 0 && t[6] == 0 && t[6].sign == .minus)
        #expect(r[1] == 1 && r[2] == -1 && r[3] == 1 && r[4] == -1 && r[5] == 0 && r[6].sign == .minus)
    }

    @Test("every activation gives a value the same bits in any lane and through the scalar apply",
          arguments: Activation.allCases)
    func laneIndependence(activation: Activation) {
        var rng = SeededGenerator(seed: 7)
        let xs = rng.floats(64, in: -9...9) + [.nan, 0, -0.0, .infinity, -.infinity, 100, -100, 1e-20]
        for x in xs {
            let scalar = activation.apply(x)
            for lane in 0..<8 {
                var v = SIMD8<Float>(rng.floats(8, in: -50...50))
                v[lane] = x
                let y = activation.apply8(v)[lane]
                #expect(y.bitPattern == scalar.bitPattern || (y.isNaN && scalar.isNaN), "\(activation) x \(x) lane \(lane)")
            }
        }
    }

    @Test("sigmoid and SiLU stay within 2e-6 relative of their double definitions; GELU within 1e-6 · max(1, |x|)")
    func activationAccuracy() {
        let relative: [(Activation, (Double) -> Double)] = [
            (.sigmoid, { 1 / (1 + exp(-$0)) }),
            (.silu, { $0 / (1 + exp(-$0)) }),
        ]
        for (activation, reference) in relative {
            let w = worst(-20, 20, step: 0.0003331, activation.apply8) { x, y in
                let want = reference(Double(x)), diff = abs(Double(y) - want)
                return diff <= 1e-12 ? 0 : diff / max(abs(want), 1e-30)
            }
            #expect(w.error <= 2e-6, "\(activation): worst relative \(w.error) at \(w.at)")
        }
        // GELU's `1 + erf` (or `1 + tanh`) cancels for negative x, in PyTorch's float formula as
        // here, so its error is bounded absolutely (scaled by |x|), not relative to the result.
        let absolute: [(Activation, (Double) -> Double)] = [
            (.gelu, { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) }),
            (.geluTanh, { 0.5 * $0 * (1 + tanh((2 / Double.pi).squareRoot() * ($0 + 0.044715 * $0 * $0 * $0))) }),
        ]
        for (activation, reference) in absolute {
            let w = worst(-20, 20, step: 0.0003331, activation.apply8) { x, y in
                abs(Double(y) - reference(Double(x))) / max(1, abs(Double(x)))
            }
            #expect(w.error <= 1e-6, "\(activation): worst \(w.error) at \(w.at)")
        }
    }
}
