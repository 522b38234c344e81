/// Scalar reference for `Linear`: `y[m, n] = act(Σ_k x[m, k] · w[n, k] + bias[n])`.
///
/// The oracle the SIMD kernels are tested against; accumulates in `Double` so it is the more
/// accurate of the two.
/// - Parameters:
///   - x: `m × k` row-major input.
///   - w: `n × k` row-major weights (PyTorch `nn.Linear.weight` layout).
///   - bias: `n` values, or nil.
///   - y: `m × n` row-major output.
public func linear_f32_reference(x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                                 y: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, activation: Activation) {
    for i in 0..<m {
        for j in 0..<n {
            var acc: Double = bias.map { Double($0[j]) } ?? 0
            for p in 0..<k { acc += Double(x[i * k + p]) * Double(w[j * k + p]) }
            y[i * n + j] = activation.apply(Float(acc))
        }
    }
}

/// Scalar reference for the packed GEMM: reads `W` through its panel16 packing
/// (`packed[p][kk][j] = W[16p + j][kk]`), so it checks the layout as well as the arithmetic.
public func gemm_f32_packed16_reference(x: UnsafePointer<Float>, lda: Int, packed: UnsafePointer<Float>,
                                        bias: UnsafePointer<Float>?, rowBias: UnsafePointer<Float>? = nil,
                                        y: UnsafeMutablePointer<Float>, ldy: Int,
                                        m: Int, n: Int, k: Int, activation: Activation) {
    for i in 0..<m {
        for j in 0..<n {
            let panel = packed + (j / 16) * k * 16 + j % 16
            var acc: Double = (bias.map { Double($0[j]) } ?? 0) + (rowBias.map { Double($0[i]) } ?? 0)
            for p in 0..<k { acc += Double(x[i * lda + p]) * Double(panel[p * 16]) }
            y[i * ldy + j] = activation.apply(Float(acc))
        }
    }
}
