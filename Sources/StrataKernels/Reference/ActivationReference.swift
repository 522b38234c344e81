/// The textbook definition of `activation` at `x`, in `Double` (libm's exp, tanh, erf), written
/// from the `Activation` cases' doc comments and independent of `Activation.apply`/`apply8`: the
/// oracle every f32 activation (alone or fused in an epilogue) is checked against.
public func activation_f64_reference(_ x: Double, _ activation: Activation) -> Double {
    @inline(__always) func unit(_ t: Double) -> Double { t < 0 ? 0 : (t > 1 ? 1 : t) }
    switch activation {
    case .identity: return x
    case .relu: return x < 0 ? 0 : x
    case .leakyRelu(let alpha): return x < 0 ? Double(alpha) * x : x
    case .sigmoid: return 1 / (1 + exp(-x))
    case .tanh: return tanh(x)
    case .gelu: return 0.5 * x * (1 + erf(x / 2.0.squareRoot()))
    case .geluTanh: return 0.5 * x * (1 + tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
    case .silu: return x / (1 + exp(-x))
    case .erf: return erf(x)
    case .clip(let lo, let hi):
        let t = x < Double(lo) ? Double(lo) : x
        return t > Double(hi) ? Double(hi) : t
    case .hardSigmoid(let alpha, let beta): return unit(Double(alpha) * x + Double(beta))
    case .hardSwish: return x * unit(x / 6 + 0.5)
    case .elu(let alpha): return x > 0 ? x : Double(alpha) * (exp(x) - 1)
    case .selu: return Double(Activation.seluScale) * (x > 0 ? x : Double(Activation.seluAlpha) * (exp(x) - 1))
    case .softplus(let beta, let threshold):
        let b = Double(beta)
        return b * x > Double(threshold) ? x : log1p(exp(b * x)) / b
    case .mish: return x * tanh(x > 20 ? x : log1p(exp(x)))
    case .abs: return Swift.abs(x)
    case .neg: return -x
    case .sqrt: return x.squareRoot()
    case .pow(let e): return pow(x, Double(e))
    case .exp: return exp(x)
    case .log: return log(x)
    case .reciprocal: return 1 / x
    }
}

/// Scalar twin of `activation_f32_simd8`: `y[i] = act(x[i])` for `count` values, each computed in
/// `Double` by `activation_f64_reference` and rounded once (`x` and `y` may be the same buffer).
/// Exact (bitwise equal to the kernel) for identity, relu, leaky relu and clip; within
/// `KernelTolerance.f32` for the others.
public func activation_f32_reference(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, count: Int,
                                     activation: Activation) {
    for i in 0..<count { y[i] = Float(activation_f64_reference(Double(x[i]), activation)) }
}
