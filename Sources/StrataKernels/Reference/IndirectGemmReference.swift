/// Scalar twin of the indirect GEMM (GemmIndirect16.swift), written from its definition.

/// Scalar twin of `gemm_f32_indirect16_simd8`: per output, the `Double` sum over `kk` of
/// `w[i, kk] · b[columns.offset(kk) + j]` (the offset computed here from the geometry, not from a
/// table), plus the row bias, rounded once, then the activation. `workspace` is not used.
public func gemm_f32_indirect16_reference(w: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, columns: IndirectColumns,
                                          rowBias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int,
                                          m: Int, n: Int, activation: Activation, workspace: UnsafeMutablePointer<Float>) {
    for i in 0..<m {
        for j in 0..<n {
            var acc: Double = rowBias.map { Double($0[i]) } ?? 0
            for c in 0..<columns.channels {
                for ky in 0..<columns.kh {
                    for kx in 0..<columns.kw {
                        let kk = (c * columns.kh + ky) * columns.kw + kx
                        let at = c * columns.channelPitch + ky * columns.rowStep + kx * columns.columnStep + j
                        acc += Double(w[i * lda + kk]) * Double(b[at])
                    }
                }
            }
            y[i * ldy + j] = activation.apply(Float(acc))
        }
    }
}
