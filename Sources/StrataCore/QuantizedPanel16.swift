/// Byte layout of a panel16 (or panel16k4) tensor of any dtype (docs/FORMAT.md, "Tensor layouts",
/// "Quantized weights" and "Dynamic int8"): a values region, then — for int8 and int4 — a scales
/// region that starts at the next 64-byte boundary, both inside the tensor's `byte_size`.
///
/// For `W [n, k]` with `P = ceil(n / 16)` panels:
/// - f32, f16, bf16: `P·k·16` values in panel16 order, no scales.
/// - int8: `P·k·16` int8 values in panel16 order; `P·16` f32 scales, one per (padded) row.
/// - int4: K padded to `Kp = align(k, 32)`; `P·Kp·8` bytes where byte `(p·Kp + kk)·8 + j`
///   (`j < 8`) holds `q[16p+j][kk] + 8` in its low nibble and `q[16p+j+8][kk] + 8` in its high
///   nibble; `P·(Kp/32)·16` f16 scales, `scales[(p·B + b)·16 + j]` for row `16p+j`, block `b`.
/// - int8 in layout panel16k4 (since 1.3): K padded to `Kp = align(k, 4)`; `P·Kp·16` int8 values
///   in k quads (`TensorLayout.panel16k4`); `P·16` f32 scales as for int8.
public struct QuantizedPanel16: Sendable, Equatable {
    /// Bytes of the values region (starts at the tensor's offset).
    public var valueBytes: Int
    /// Offset of the scales region from the tensor's start (`align(valueBytes, 64)`), or
    /// `valueBytes` when the dtype has no scales.
    public var scalesOffset: Int
    /// Bytes of the scales region (0 for f32, f16, bf16).
    public var scaleBytes: Int
    /// K as stored: `align(k, 32)` for int4, `align(k, 4)` for panel16k4, else `k`.
    public var storedK: Int
    /// The tensor's whole `byte_size`.
    public var totalBytes: Int { scalesOffset + scaleBytes }

    /// Largest `k` of a panel16k4 weight: `⌊(2^31 − 1) / 127²⌋`, so that a dot product of int8
    /// values in [-127, 127] cannot overflow its int32 accumulator (docs/FORMAT.md "Dynamic int8").
    public static let maxDynamicK = 133_144

    /// The layout of `dtype` on `[n, k]` in `layout` (panel16, or panel16k4 for int8), or nil when
    /// the dtype is unknown, the layout does not apply to it, or a size overflows.
    public init?(dtype: DType, layout: TensorLayout = .panel16, n: Int, k: Int) {
        guard n >= 0, k >= 0, let encoding = WeightEncoding.of(dtype: dtype, layout: layout),
              let kp = encoding.storedK(k) else { return nil }
        let panels = n / 16 + (n % 16 == 0 ? 0 : 1)
        storedK = kp
        guard let values = checkedMul(panels, kp).flatMap({ checkedMul($0, encoding.panelBytesPerK) }) else { return nil }
        valueBytes = values
        if encoding.scales == .none {
            scalesOffset = values; scaleBytes = 0
        } else {
            guard let start = alignUp(values, 64), let s = checkedMul(panels, encoding.scaleBytesPerPanel(k: kp)) else { return nil }
            scalesOffset = start; scaleBytes = s
        }
        guard checkedAdd(scalesOffset, scaleBytes) != nil else { return nil }
    }
}
