/// The signature shared by every `Linear` kernel variant.
public typealias LinearKernel = @Sendable (_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                                 _ y: UnsafeMutablePointer<Float>, _ m: Int, _ n: Int, _ k: Int,
                                 _ activation: Activation) -> Void

/// One named kernel variant.
public struct KernelVariant<F: Sendable>: Sendable {
    /// Greppable name, e.g. "gemm_f32_packed16_simd8".
    public let name: String
    /// True for the scalar oracle.
    public let isReference: Bool
    /// The function.
    public let function: F
}


/// The inventory of kernel variants: tests and benchmarks iterate these lists, so no kernel
/// exists untested. `best` is what the engine uses.
public enum KernelTable {
    /// Every `Linear` variant, reference first.
    public static let linear: [KernelVariant<LinearKernel>] = [
        KernelVariant(name: "linear_f32_reference", isReference: true,
                      function: { linear_f32_reference(x: $0, w: $1, bias: $2, y: $3, m: $4, n: $5, k: $6, activation: $7) }),
        KernelVariant(name: "gemm_f32_packed16_simd8", isReference: false,
                      function: { linear_f32_packing_then_packed16($0, $1, $2, $3, $4, $5, $6, $7) }),
    ]

    /// Every int8 dot-product kernel of the dynamic-int8 GEMM this build has (`qdot_i8_avx2` on
    /// x86-64, `qdot_i8_simd` everywhere; same integer results); `DynamicInt8Dot.best` is the
    /// engine's. Their scalar oracle is `gemm_i8dyn_reference`.
    public static let dynamicInt8Dot: [DynamicInt8Dot] = DynamicInt8Dot.available
}

/// `gemm_f32_packed16_simd8` behind the plain `LinearKernel` signature: packs `w` into a
/// temporary buffer first (tests and benchmarks only; the engine packs once, at load).
func linear_f32_packing_then_packed16(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                                      _ y: UnsafeMutablePointer<Float>, _ m: Int, _ n: Int, _ k: Int,
                                      _ activation: Activation) {
    let count = Panel16.packedCount(n: n, k: k)!
    let packed = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
    defer { packed.deallocate() }
    pack_f32_panel16(w: w, n: n, k: k, out: packed)
    gemm_f32_packed16_simd8(x: x, lda: k, packed: packed, bias: bias, y: y, ldy: n, m: m, n: n, k: k, activation: activation)
}
