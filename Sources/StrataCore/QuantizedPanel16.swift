/// Byte layout of a panel16 tensor of any dtype (docs/FORMAT.md, "Tensor layouts" and
/// "Quantized weights"): a values region, then — for int8 and int4 — a scales region that starts
/// at the next 64-byte boundary, both inside the tensor's `byte_size`.
///
/// For `W [n, k]` with `P = ceil(n / 16)` panels:
/// - f32, f16, bf16: `P·k·16` values in panel16 order, no scales.
/// - int8: `P·k·16` int8 values in panel16 order; `P·16` f32 scales, one per (padded) row.
/// - int4: K padded to `Kp = align(k, 32)`; `P·Kp·8` bytes where byte `(p·Kp + kk)·8 + j`
///   (`j < 8`) holds `q[16p+j][kk] + 8` in its low nibble and `q[16p+j+8][kk] + 8` in its high
///   nibble; `P·(Kp/32)·16` f16 scales, `scales[(p·B + b)·16 + j]` for row `16p+j`, block `b`.
public struct QuantizedPanel16: Sendable, Equatable {
    /// Bytes of the values region (starts at the tensor's offset).
    public var valueBytes: Int
    /// Offset of the scales region from the tensor's start (`align(valueBytes, 64)`), or
    /// `valueBytes` when the dtype has no scales.
    public var scalesOffset: Int
    /// Bytes of the scales region (0 for f32, f16, bf16).
    public var scaleBytes: Int
    /// K as stored: `align(k, 32)` for int4, else `k`.
    public var storedK: Int
    /// The tensor's whole `byte_size`.
    public var totalBytes: Int { scalesOffset + scaleBytes }

    /// The layout of `dtype` on `[n, k]`, or nil when the dtype is unknown or a size overflows.
    public init?(dtype: DType, n: Int, k: Int) {
        guard n >= 0, k >= 0, let info = dtype.info else { return nil }
        let panels = n / 16 + (n % 16 == 0 ? 0 : 1)
        storedK = dtype == .int4 ? (k / 32 + (k % 32 == 0 ? 0 : 1)) * 32 : k
        guard let elements = checkedMul(panels, storedK).flatMap({ checkedMul($0, 16) }),
              let values = checkedMul(elements / info.blockSize, info.bytesPerBlock) else { return nil }
        valueBytes = values
        switch dtype {
        case .int8:
            guard let start = alignUp(values, 64), let s = checkedMul(panels, 16 * 4) else { return nil }
            scalesOffset = start; scaleBytes = s
        case .int4:
            guard let start = alignUp(values, 64),
                  let s = checkedMul(panels, storedK / 32).flatMap({ checkedMul($0, 16 * 2) }) else { return nil }
            scalesOffset = start; scaleBytes = s
        default:
            scalesOffset = values; scaleBytes = 0
        }
        guard checkedAdd(scalesOffset, scaleBytes) != nil else { return nil }
    }
}
