import StrataCore

/// Content rules of quantized tensors (docs/FORMAT.md, "Quantized weights", rule 14).
extension ModelReader {
    /// Rejects an int8 value of -128, an int4 nibble of 0 (value -8), and a scale that is
    /// negative or not finite, with `malformed` naming the tensor and the position; in layout
    /// panel16k4 also a padding value (row ≥ n or column ≥ k) that is not 0.
    static func checkQuantizedValues(_ buf: UnsafeRawBufferPointer, _ t: TensorDescriptor) throws(StrataError) {
        guard let q = QuantizedPanel16(dtype: t.dtype, layout: t.tensorLayout, n: t.dims[0], k: t.dims[1]) else { return }
        let base = buf.baseAddress! + t.fileOffset
        if t.tensorLayout == .panel16k4 { try checkPanel16k4Padding(base.assumingMemoryBound(to: UInt8.self), t, q) }
        switch t.dtype {
        case .int8:
            let values = base.assumingMemoryBound(to: UInt8.self)
            var bad = false
            for i in 0..<q.valueBytes { bad = bad || values[i] == 0x80 }
            if bad, let i = (0..<q.valueBytes).first(where: { values[$0] == 0x80 }) {
                throw StrataError(.malformed, "tensor '\(t.name)' (int8) has the value -128 at byte \(i); int8 weights are in [-127, 127]")
            }
            for i in 0..<(q.scaleBytes / 4) {
                let s = (base + q.scalesOffset + 4 * i).loadUnaligned(as: Float.self)
                guard s.isFinite, s >= 0 else {
                    throw StrataError(.malformed, "tensor '\(t.name)' (int8) has scale \(s) for row \(i); scales are finite and ≥ 0")
                }
            }
        case .int4:
            let values = base.assumingMemoryBound(to: UInt8.self)
            var bad = false
            for i in 0..<q.valueBytes { bad = bad || values[i] & 0x0F == 0 || values[i] & 0xF0 == 0 }
            if bad, let i = (0..<q.valueBytes).first(where: { values[$0] & 0x0F == 0 || values[$0] & 0xF0 == 0 }) {
                throw StrataError(.malformed, "tensor '\(t.name)' (int4) has the value -8 (nibble 0) at byte \(i); int4 weights are in [-7, 7], stored as value + 8")
            }
            for i in 0..<(q.scaleBytes / 2) {
                let bits = (base + q.scalesOffset + 2 * i).loadUnaligned(as: UInt16.self)
                guard bits & 0x8000 == 0 || bits == 0x8000, bits & 0x7C00 != 0x7C00 else {
                    throw StrataError(.malformed, "tensor '\(t.name)' (int4) has a negative or non-finite f16 scale at index \(i) (bits 0x\(String(bits, radix: 16))); scales are finite f16 values ≥ 0")
                }
            }
        default:
            return
        }
    }

    /// The padding of a panel16k4 int8 weight is 0: the rows `16p + 8h + j ≥ n` of the last panel
    /// and the columns `4q + t ≥ k` of the last quad (docs/FORMAT.md "Dynamic int8").
    static func checkPanel16k4Padding(_ values: UnsafePointer<UInt8>, _ t: TensorDescriptor, _ q: QuantizedPanel16) throws(StrataError) {
        let n = t.dims[0], k = t.dims[1], kq = q.storedK / 4, panels = q.valueBytes / max(1, q.storedK * 16)
        func fail(_ at: Int) -> StrataError {
            StrataError(.malformed, "tensor '\(t.name)' (int8, panel16k4) has a non-zero padding value at byte \(at); padding (rows ≥ \(n), columns ≥ \(k)) is 0")
        }
        if n % 16 != 0, panels > 0 {  // padding rows of the last panel, every quad
            let p = panels - 1
            for quad in 0..<kq {
                for h in 0..<2 { for j in 0..<8 where 16 * p + 8 * h + j >= n {
                    let at = ((p * kq + quad) * 2 + h) * 32 + j * 4
                    if values[at] | values[at + 1] | values[at + 2] | values[at + 3] != 0 { throw fail(at) }
                } }
            }
        }
        if k % 4 != 0, kq > 0 {  // padding columns of the last quad, every row
            for p in 0..<panels { for h in 0..<2 { for j in 0..<8 { for tt in (k % 4)..<4 {
                let at = ((p * kq + kq - 1) * 2 + h) * 32 + j * 4 + tt
                if values[at] != 0 { throw fail(at) }
            } } } }
        }
    }
}
