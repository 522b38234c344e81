/// Scalar twin of `binary_f32_simd8`: `y[i] = a[i·aStep] ⊕ b[i·bStep]` by `BinaryOp.apply`, one
/// value at a time (one f32 operation each, so bitwise equal).
public func binary_f32_reference(_ op: BinaryOp, a: UnsafePointer<Float>, aStep: Int, b: UnsafePointer<Float>, bStep: Int,
                                 y: UnsafeMutablePointer<Float>, count: Int) {
    for i in 0..<count { y[i] = op.apply(a[i * aStep], b[i * bStep]) }
}
