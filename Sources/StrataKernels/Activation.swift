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

    /// One of each case (`leakyRelu` with alpha 0.01), for tests that iterate the activations.
    public static let allCases: [Activation] = [.identity, .relu, .sigmoid, .tanh, .leakyRelu(alpha: 0.01),
                                                .gelu, .geluTanh, .silu, .erf]

    /// Applies the activation to one value: `apply8` on a splat vector for the transcendental
    /// ones, so a value gets the same bits in every kernel, fused or not, in any lane.
    @inlinable @inline(__always)
    public func apply(_ x: Float) -> Float {
        switch self {
        case .identity: return x
        case .relu: return x < 0 ? 0 : x   // NaN stays NaN, as in PyTorch
        case .leakyRelu(let alpha): return x < 0 ? alpha * x : x
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
        }
    }
}
