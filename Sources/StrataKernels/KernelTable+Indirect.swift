/// An indirect GEMM: `y = act(W · Col + rowBias)` with `Col` read in place through a geometry.
public typealias IndirectGemmKernel = @Sendable (_ w: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>,
                                                 _ columns: IndirectColumns, _ rowBias: UnsafePointer<Float>?,
                                                 _ y: UnsafeMutablePointer<Float>, _ ldy: Int, _ m: Int, _ n: Int,
                                                 _ activation: Activation, _ workspace: UnsafeMutablePointer<Float>) -> Void

/// The convolution kernels without im2col (issue 17) with their twins.
extension KernelTable {
    /// The indirect GEMM of stride-1 convolutions. Tile 16: a panel of output positions.
    public static let indirectGemm: [KernelEntry<IndirectGemmKernel>] = [
        KernelEntry(name: "gemm_f32_indirect16_simd8", referenceName: "gemm_f32_indirect16_reference", tile: 16,
                    agreement: .within(KernelTolerance.f32),
                    kernel: { gemm_f32_indirect16_simd8(w: $0, lda: $1, b: $2, columns: $3, rowBias: $4, y: $5, ldy: $6,
                                                        m: $7, n: $8, activation: $9, workspace: $10) },
                    reference: { gemm_f32_indirect16_reference(w: $0, lda: $1, b: $2, columns: $3, rowBias: $4, y: $5,
                                                               ldy: $6, m: $7, n: $8, activation: $9, workspace: $10) }),
    ]

    /// The names of these kernels (part of `kernelNames`).
    static var indirectKernelNames: [String] { indirectGemm.map { $0.name } }

    /// The names of their twins (part of `referenceNames`).
    static var indirectReferenceNames: [String] { indirectGemm.map { $0.referenceName } }
}
