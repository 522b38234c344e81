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

    /// Applies the activation to one value. The single scalar definition every kernel uses,
    /// so fused and unfused paths give bitwise-identical results.
    @inlinable @inline(__always)
    public func apply(_ x: Float) -> Float {
        switch self {
        case .identity: return x
        case .relu: return x < 0 ? 0 : x   // NaN stays NaN, as in PyTorch
        case .sigmoid: return 1 / (1 + expf(-x))
        case .tanh: return tanhf(x)
        }
    }
}
