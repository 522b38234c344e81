import StrataCore

/// Content rules of quantized tensors (docs/FORMAT.md, "Quantized weights", rule 14).
extension ModelReader {
    /// Rejects an int8 value of -128, an int4 nibble of 0 (value -8), and a scale that is
    /// negative or not finite, with `malformed` naming the tensor and the position.
    static func checkQuantizedValues(_ buf: UnsafeRawBufferPointer, _ t: TensorDescriptor) throws(StrataError) {
        guard let q = QuantizedPanel16(dtype: t.dtype, n: t.dims[0], k: t.dims[1]) else { return }
        let base = buf.baseAddress! + t.fileOffset
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
}
