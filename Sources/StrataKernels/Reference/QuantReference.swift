/// Scalar references for quantized panel16 weights: the dequantizer every path must agree with
/// bit for bit (the converter's numpy `quantize.dequantize` computes the same values), and a
/// GEMM that mirrors the SIMD kernels' arithmetic in scalar form.

/// Decodes one weight `W[j, kk]` (`j < 16·panels`, `kk < k`) of a panel16 weight of any dtype,
/// with the int8 scale applied (`Float(q) · scale`, one f32 multiply), so the result is the
/// dequantized weight of docs/FORMAT.md.
@inlinable
public func dequantized_panel16_element(_ w: PackedWeights, k: Int, row j: Int, column kk: Int) -> Float {
    let p = j / 16, jj = j % 16
    let values = w.values + p * w.panelBytes(k: k), scales = w.scales.map { $0 + p * w.scaleBytes(k: k) }
    switch w.kind {
    case .f32: return values.load(fromByteOffset: ((kk * 16) + jj) * 4, as: Float.self)
    case .f16: return Float(values.loadUnaligned(fromByteOffset: ((kk * 16) + jj) * 2, as: Float16.self))
    case .bf16:
        let bits = values.loadUnaligned(fromByteOffset: ((kk * 16) + jj) * 2, as: UInt16.self)
        return Float(bitPattern: UInt32(bits) << 16)
    case .int8:
        let q = values.load(fromByteOffset: kk * 16 + jj, as: Int8.self)
        return Float(q) * scales!.loadUnaligned(fromByteOffset: jj * 4, as: Float.self)
    case .int8Dynamic:
        let q = values.load(fromByteOffset: panel16k4ByteOffset(row: jj, column: kk), as: Int8.self)
        return Float(q) * scales!.loadUnaligned(fromByteOffset: jj * 4, as: Float.self)
    case .int4:
        let byte = values.load(fromByteOffset: kk * 8 + jj % 8, as: UInt8.self)
        let q = Int32(jj < 8 ? byte & 15 : byte >> 4) - 8
        let s = Float(scales!.loadUnaligned(fromByteOffset: ((kk / 32) * 16 + jj) * 2, as: Float16.self))
        return Float(q) * s
    }
}

/// Offset of `W[16p + j][kk]` from the start of its panel in layout panel16k4 (`j < 16`): the
/// quad `kk / 4` takes 64 bytes, columns 0–7 × 4 k then columns 8–15 × 4 k.
@inlinable
public func panel16k4ByteOffset(row j: Int, column kk: Int) -> Int {
    (kk / 4) * 64 + (j / 8) * 32 + (j % 8) * 4 + kk % 4
}

/// Writes the dequantized row-major `n × k` f32 matrix of a panel16 weight into `out`.
public func dequantize_panel16_reference(_ w: PackedWeights, n: Int, k: Int, out: UnsafeMutablePointer<Float>) {
    for j in 0..<n { for kk in 0..<k { out[j * k + kk] = dequantized_panel16_element(w, k: k, row: j, column: kk) } }
}

/// Scalar twin of `gemm_q_packed16_simd8`, operation for operation: per output one FMA chain in
/// k order over the decoded weights (int8: the raw `q`, the scale applied after; int4: the
/// dequantized weight), then `· scale` (int8), `+ bias`, activation. Results are bitwise equal.
public func gemm_q_packed16_reference(x: UnsafePointer<Float>, lda: Int, weights: PackedWeights,
                                      bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int,
                                      m: Int, n: Int, k: Int, activation: Activation) {
    for i in 0..<m {
        for j in 0..<n {
            var acc: Float = 0
            var scale: Float = 1
            if weights.kind == .int8 {
                scale = (weights.scales! + (j / 16) * 64).loadUnaligned(fromByteOffset: (j % 16) * 4, as: Float.self)
            }
            for kk in 0..<k {
                var wv = dequantized_panel16_element(weights, k: k, row: j, column: kk)
                if weights.kind == .int8 {
                    wv = Float((weights.values + (j / 16) * weights.panelBytes(k: k)).load(fromByteOffset: kk * 16 + j % 16, as: Int8.self))
                }
                acc = acc.addingProduct(x[i * lda + kk], wv)
            }
            if weights.kind == .int8 { acc = acc * scale }
            if let bias { acc = acc + bias[j] }
            y[i * ldy + j] = activation.apply(acc)
        }
    }
}

/// Scalar twin of `gemm_packed16_simd8`, the GEMM over weights of any encoding: each encoding's
/// twin (`gemm_f32_packed16_reference`, `gemm_q_packed16_reference`, `gemm_i8dyn_reference`).
public func gemm_packed16_reference(x: UnsafePointer<Float>, lda: Int, weights: PackedWeights,
                                    bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int,
                                    m: Int, n: Int, k: Int, activation: Activation) {
    switch weights.kind {
    case .f32:
        gemm_f32_packed16_reference(x: x, lda: lda, packed: weights.values.assumingMemoryBound(to: Float.self), bias: bias,
                                    y: y, ldy: ldy, m: m, n: n, k: k, activation: activation)
    case .int8Dynamic:
        gemm_i8dyn_reference(x: x, lda: lda, weights: weights, bias: bias, y: y, ldy: ldy, m: m, n: n, k: k, activation: activation)
    case .f16, .bf16, .int8, .int4:
        gemm_q_packed16_reference(x: x, lda: lda, weights: weights, bias: bias, y: y, ldy: ldy, m: m, n: n, k: k, activation: activation)
    }
}
