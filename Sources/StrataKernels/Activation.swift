/// An elementwise activation that a linear kernel can apply in its epilogue (fused) or that
/// runs on its own.
public enum Activation: Sendable, Equatable, CaseIterable {
    /// y = x
    case identity
    /// y = max(x, 0)
    case relu
    /// y = 1 / (1 + e^-x)
    case sigmoid
    /// y = tanh(x)
    case tanh
    /// y = x ≥ 0 ? x : alpha · x
    case leakyRelu(alpha: Float)
    /// y = 0.5 · x · (1 + erf(x / √2))
    case gelu
    /// y = 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
    case geluTanh
    /// y = x · σ(x)
    case silu
    /// y = erf(x)
    case erf
    /// y = min(max(x, min), max), so every value is `max` when min > max; NaN stays NaN (ONNX Clip;
    /// PyTorch ReLU6, Hardtanh, clamp).
    case clip(min: Float, max: Float)
    /// y = max(0, min(1, alpha · x + beta)) (ONNX HardSigmoid; PyTorch's Hardsigmoid is alpha 1/6, beta 1/2).
    case hardSigmoid(alpha: Float, beta: Float)
    /// y = x · max(0, min(1, x/6 + 1/2)) (ONNX HardSwish, PyTorch Hardswish).
    case hardSwish
    /// y = x > 0 ? x : alpha · (e^x − 1) (ONNX Elu, PyTorch ELU).
    case elu(alpha: Float)
    /// y = scale · (x > 0 ? x : alpha · (e^x − 1)) with alpha ≈ 1.6733 and scale ≈ 1.0507 (ONNX Selu,
    /// PyTorch SELU's constants).
    case selu
    /// y = beta · x > threshold ? x : log(1 + e^(beta · x)) / beta (PyTorch Softplus; ONNX's is beta 1, no threshold).
    case softplus(beta: Float, threshold: Float)
    /// y = x · tanh(log(1 + e^x)) (Mish; the softplus with PyTorch's threshold 20).
    case mish
    /// y = |x|
    case abs
    /// y = −x
    case neg
    /// y = √x (NaN below 0, −0 stays −0).
    case sqrt
    /// y = x^exponent for a constant exponent: exact products for 0, 1, 2, 3, √ for 0.5, 1/x for −1,
    /// else e^(exponent · log|x|) with the sign of an odd integer exponent; NaN for x < 0 and a
    /// non-integer exponent (PyTorch `pow` with a scalar exponent, ONNX Pow with a constant one).
    case pow(exponent: Float)
    /// y = e^x
    case exp
    /// y = log(x) (−∞ at 0, NaN below 0).
    case log
    /// y = 1 / x
    case reciprocal

    /// One of each case (`leakyRelu` with alpha 0.01, `clip` as ReLU6, `hardSigmoid` as PyTorch's),
    /// for tests that iterate the activations.
    public static let allCases: [Activation] = [.identity, .relu, .sigmoid, .tanh, .leakyRelu(alpha: 0.01),
                                                .gelu, .geluTanh, .silu, .erf, .clip(min: 0, max: 6),
                                                .hardSigmoid(alpha: 1.0 / 6, beta: 0.5), .hardSwish,
                                                .elu(alpha: 1), .selu, .softplus(beta: 1, threshold: 20), .mish, .abs,
                                                .neg, .sqrt, .pow(exponent: 2), .pow(exponent: 1.5), .pow(exponent: -3),
                                                .exp, .log, .reciprocal]

    /// Applies the activation to one value: `apply8` on a splat vector for the transcendental
    /// ones, so a value gets the same bits in every kernel, fused or not, in any lane.
    @inlinable @inline(__always)
    public func apply(_ x: Float) -> Float {
        switch self {
        case .identity: return x
        case .relu: return x < 0 ? 0 : x   // NaN stays NaN, as in PyTorch
        case .leakyRelu(let alpha): return x < 0 ? alpha * x : x
        case .clip(let lo, let hi):
            let t = x < lo ? lo : x
            return t > hi ? hi : t
        case .hardSigmoid(let alpha, let beta): return Activation.unitClamp(alpha * x + beta)
        case .hardSwish: return x * Activation.unitClamp(x * Activation.sixth + 0.5)
        case .abs: return x.magnitude
        case .neg: return -x
        case .reciprocal: return 1 / x
        case .sigmoid, .tanh, .gelu, .geluTanh, .silu, .erf, .elu, .selu, .softplus, .mish, .sqrt, .pow, .exp, .log:
            return apply8(SIMD8(repeating: x))[0]
        }
    }

    /// The activation on 8 values, vectorized (VectorMath.swift: exp8, tanh8, erf8).
    @inlinable @inline(__always)
    public func apply8(_ v: SIMD8<Float>) -> SIMD8<Float> {
        switch self {
        case .identity: return v
        case .relu: return v.replacing(with: 0, where: v .< 0)
        case .leakyRelu(let alpha): return v.replacing(with: v * alpha, where: v .< 0)
        case .sigmoid: return sigmoid8(v)
        case .tanh: return tanh8(v)
        case .gelu: return 0.5 * v * (1 + erf8(v * 0.70710678118654752))
        case .geluTanh:
            let inner = 0.79788456080286536 * (v + 0.044715 * (v * v * v))
            return 0.5 * v * (1 + tanh8(inner))
        case .silu: return v / (1 + exp8(-v))
        case .erf: return erf8(v)
        case .clip(let lo, let hi):
            let t = v.replacing(with: lo, where: v .< lo)
            return t.replacing(with: hi, where: t .> hi)
        case .hardSigmoid(let alpha, let beta): return Activation.unitClamp8(v * alpha + beta)
        case .hardSwish: return v * Activation.unitClamp8(v * Activation.sixth + 0.5)
        case .elu(let alpha): return v.replacing(with: alpha * (exp8(v) - 1), where: .!(v .> 0))
        case .selu:
            let negative = Activation.seluAlpha * (exp8(v) - 1)
            return Activation.seluScale * v.replacing(with: negative, where: .!(v .> 0))
        case .softplus(let beta, let threshold):
            let t = v * beta
            return (Activation.log1p8(exp8(t)) / beta).replacing(with: v, where: t .> threshold)
        case .mish: return v * tanh8(Activation.log1p8(exp8(v)).replacing(with: v, where: v .> 20))
        case .abs: return Activation.withSign(v, of: .zero)
        case .neg: return unsafeBitCast(unsafeBitCast(v, to: SIMD8<UInt32>.self) ^ 0x8000_0000, to: SIMD8<Float>.self)  // not 0 − v: −0 and NaN signs flip
        case .sqrt: return v.squareRoot()
        case .pow(let e): return Activation.pow8(v, e)
        case .exp: return exp8(v)
        case .log: return log8(v)
        case .reciprocal: return 1 / v
        }
    }

    /// SELU's alpha and scale as f32 (PyTorch's constants).
    @inlinable static var seluAlpha: Float { 1.6732632423543772 }
    @inlinable static var seluScale: Float { 1.0507009873554805 }

    /// log(1 + u) for u ≥ 0 without losing a small u to the rounding of 1 + u:
    /// `log(w) · u / (w − 1)` with w = 1 + u (Goldberg), u itself where w rounds to 1.
    @inlinable @inline(__always)
    static func log1p8(_ u: SIMD8<Float>) -> SIMD8<Float> {
        let w = 1 + u
        let d = w - 1
        let r = log8(w) * u / d
        return r.replacing(with: u, where: d .== 0).replacing(with: u, where: u .== .infinity)
    }

    /// |v| with the sign bit of `s` (0: the magnitude; −0 and NaN included).
    @inlinable @inline(__always)
    static func withSign(_ v: SIMD8<Float>, of s: SIMD8<Float>) -> SIMD8<Float> {
        let magnitude = unsafeBitCast(v, to: SIMD8<UInt32>.self) & 0x7FFF_FFFF
        let sign = unsafeBitCast(s, to: SIMD8<UInt32>.self) & 0x8000_0000
        return unsafeBitCast(magnitude | sign, to: SIMD8<Float>.self)
    }

    /// x^e lane by lane (see `pow(exponent:)`).
    @inlinable @inline(__always)
    static func pow8(_ v: SIMD8<Float>, _ e: Float) -> SIMD8<Float> {
        switch e {
        case 0: return SIMD8(repeating: 1)
        case 1: return v
        case 2: return v * v
        case 3: return v * v * v
        case 0.5: return v.squareRoot()
        case -1: return 1 / v
        default:
            let y = exp8(e * log8(withSign(v, of: .zero)))
            if e.rounded(.towardZero) == e {  // an integer: odd ones keep the sign of x (−0 included)
                return (e / 2).rounded(.towardZero) * 2 != e ? withSign(y, of: v) : y
            }
            return y.replacing(with: .nan, where: v .< 0 .& v .> -.infinity)
        }
    }

    /// 1/6 as an f32, the slope of HardSwish (ONNX's alpha).
    @inlinable static var sixth: Float { 1.0 / 6 }

    /// `max(0, min(1, t))`, NaN kept (the clamp of HardSigmoid and HardSwish).
    @inlinable @inline(__always)
    static func unitClamp(_ t: Float) -> Float { t < 0 ? 0 : (t > 1 ? 1 : t) }

    /// `unitClamp` on 8 lanes, the same bits per lane.
    @inlinable @inline(__always)
    static func unitClamp8(_ t: SIMD8<Float>) -> SIMD8<Float> {
        t.replacing(with: 0, where: t .< 0).replacing(with: 1, where: t .> 1)
    }
}
