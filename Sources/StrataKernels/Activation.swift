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

    /// One of each case (`leakyRelu` with alpha 0.01, `clip` as ReLU6, `hardSigmoid` as PyTorch's),
    /// for tests that iterate the activations.
    public static let allCases: [Activation] = [.identity, .relu, .sigmoid, .tanh, .leakyRelu(alpha: 0.01),
                                                .gelu, .geluTanh, .silu, .erf, .clip(min: 0, max: 6),
                                                .hardSigmoid(alpha: 1.0 / 6, beta: 0.5), .hardSwish]

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
        case .sigmoid, .tanh, .gelu, .geluTanh, .silu, .erf: return apply8(SIMD8(repeating: x))[0]
        }
    }

    /// The activation on 8 values, vectorized (VectorMath.swift: exp8, tanh8, erf8).
    @inlinable @inline(__always)
    public func apply8(_ v: SIMD8<Float>) -> SIMD8<Float> {
        switch self {
        case .identity: return v
        case .relu: return v.replacing(with: 0, where: v .< 0)
        case .leakyRelu(let alpha): return v.replacing(with: v * alpha, where: v .< 0)
        case .sigmoid: return 1 / (1 + exp8(-v))
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
