/// Scalar references of the dynamic-int8 path (docs/FORMAT.md "Dynamic int8"), written from the
/// spec with plain scalar operations — comparisons on floats rather than the SIMD kernels' bit
/// patterns, an int64 sum — so that the kernels are checked against an independent oracle. The
/// converter's numpy reference (`strata_convert.quantize.dynamic_linear`) computes the same bits.

/// The quantization of one row: scale `s`, and `q` for each of the `k` values.
public func dynamic_int8_row_reference(_ x: UnsafePointer<Float>, k: Int) -> (scale: Float, q: [Int8]) {
    var amax: Float = 0
    var finite = true
    for i in 0..<k {
        if !x[i].isFinite { finite = false } else { amax = max(amax, abs(x[i])) }
    }
    guard finite else { return (.nan, [Int8](repeating: 0, count: k)) }
    guard amax >= 0x1p-100 else { return (0, [Int8](repeating: 0, count: k)) }
    let s: Float = amax / 127, r: Float = 127 / amax
    var q = [Int8](repeating: 0, count: k)
    for i in 0..<k {
        let v = (x[i] * r).rounded(.toNearestOrEven)
        q[i] = Int8(v < -127 ? -127 : v > 127 ? 127 : v)
    }
    return (s, q)
}

/// Scalar twin of `gemm_i8dyn_packed16k4`: per row the reference quantization, per output an
/// exact integer sum, then `act(f32(sum) · (s · scale[j]) + bias[j])`.
public func gemm_i8dyn_reference(x: UnsafePointer<Float>, lda: Int, weights: PackedWeights,
                                 bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int,
                                 m: Int, n: Int, k: Int, activation: Activation) {
    precondition(weights.kind == .int8Dynamic)
    let panelBytes = weights.panelBytes(k: k)
    for i in 0..<m {
        let (s, q) = dynamic_int8_row_reference(x + i * lda, k: k)
        for j in 0..<n {
            let panel = weights.values + (j / 16) * panelBytes
            var sum: Int64 = 0
            for kk in 0..<k {
                sum += Int64(q[kk]) * Int64(panel.load(fromByteOffset: panel16k4ByteOffset(row: j % 16, column: kk), as: Int8.self))
            }
            precondition(sum == Int64(Int32(truncatingIfNeeded: sum)), "the sum overflows int32: k is above the format's limit")
            let scale = weights.scales!.loadUnaligned(fromByteOffset: j * 4, as: Float.self)
            var v = Float(Int32(sum)) * (s * scale)
            if let bias { v = v + bias[j] }
            y[i * ldy + j] = activation.apply(v)
        }
    }
}
