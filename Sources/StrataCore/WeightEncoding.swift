/// The weight-encoding table: every way a Linear (or recurrent) weight `[n, k]` can be stored in a
/// panel layout (docs/FORMAT.md "Quantized weights", "Dynamic int8"), one row per dtype × layout.
///
/// The one source of these facts in Swift: `QuantizedPanel16` (the reader's size checks), the
/// kernels' panel strides and the planner derive their sizes from it; `strata encodings --json`
/// prints it so that a test pins it to the converter's `WEIGHT_ENCODINGS` (format.py).
public struct WeightEncoding: Sendable, Equatable {
    /// How the per-row scales after the values are laid out.
    public enum Scales: Sendable, Equatable {
        /// No scales (the values are the weights).
        case none
        /// One f32 per (padded) output row: 64 bytes per panel.
        case f32PerRow
        /// One f16 per (padded) output row and block of `block` stored k: `16 · 2` bytes per panel and block.
        case f16PerRowBlock(block: Int)
    }

    /// The sizes of a panel (16 rows) in one encoding: plain integers, cheap to copy into the
    /// kernels' weight descriptors (no string), so a GEMM never looks the table up.
    public struct PanelSizes: Sendable, Equatable {
        /// K as stored is padded to a multiple of this (int4's scale blocks, panel16k4's quads).
        public var kAlignment: Int
        /// Bytes of one panel's values per stored k.
        public var panelBytesPerK: Int
        public var scales: Scales

        /// Bytes of one panel's values for `k` inputs (`k` as the kernels see it: no overflow
        /// checks; the reader checked the tensor's size with `QuantizedPanel16`).
        @inlinable public func panelBytes(k: Int) -> Int { (k + kAlignment - 1) / kAlignment * kAlignment * panelBytesPerK }

        /// Bytes of one panel's scales for `k` inputs (0 without scales).
        @inlinable public func scaleBytesPerPanel(k: Int) -> Int {
            switch scales {
            case .none: return 0
            case .f32PerRow: return 16 * 4
            case .f16PerRowBlock(let block): return (k + kAlignment - 1) / kAlignment * kAlignment / block * 16 * 2
            }
        }
    }

    /// The name `--quantize` uses, e.g. "int8-dynamic".
    public var name: String
    public var dtype: DType
    public var layout: TensorLayout
    /// Panel sizes: K alignment, bytes per panel and k (from the dtype table), scale layout.
    public var sizes: PanelSizes
    /// Valid only as a panel-layout weight (never for activations or other tensors).
    public var weightOnly: Bool
    /// The format minor version that introduced the encoding.
    public var since: UInt16

    init(name: String, dtype: DType, layout: TensorLayout, kAlignment: Int, scales: Scales, weightOnly: Bool, since: UInt16) {
        let info = dtype.info!  // every row names a known dtype (a test checks)
        self.name = name
        self.dtype = dtype
        self.layout = layout
        self.sizes = PanelSizes(kAlignment: kAlignment, panelBytesPerK: 16 * info.bytesPerBlock / info.blockSize, scales: scales)
        self.weightOnly = weightOnly
        self.since = since
    }

    /// Every encoding, f32 first.
    public static let all: [WeightEncoding] = [
        WeightEncoding(name: "f32", dtype: .f32, layout: .panel16, kAlignment: 1, scales: .none, weightOnly: false, since: 0),
        WeightEncoding(name: "f16", dtype: .f16, layout: .panel16, kAlignment: 1, scales: .none, weightOnly: true, since: 2),
        WeightEncoding(name: "bf16", dtype: .bf16, layout: .panel16, kAlignment: 1, scales: .none, weightOnly: true, since: 2),
        WeightEncoding(name: "int8", dtype: .int8, layout: .panel16, kAlignment: 1, scales: .f32PerRow, weightOnly: true, since: 2),
        WeightEncoding(name: "int4", dtype: .int4, layout: .panel16, kAlignment: 32, scales: .f16PerRowBlock(block: 32),
                       weightOnly: true, since: 2),
        WeightEncoding(name: "int8-dynamic", dtype: .int8, layout: .panel16k4, kAlignment: 4, scales: .f32PerRow,
                       weightOnly: true, since: 3),
    ]

    /// The encoding of a `dtype` weight stored in `layout`, or nil when there is none.
    public static func of(dtype: DType, layout: TensorLayout) -> WeightEncoding? {
        for e in all where e.dtype == dtype && e.layout == layout { return e }
        return nil
    }

    /// K as stored is padded to a multiple of this.
    public var kAlignment: Int { sizes.kAlignment }
    /// Bytes of one panel's values (16 rows) per stored k, from the dtype table.
    public var panelBytesPerK: Int { sizes.panelBytesPerK }
    /// How the per-row scales are laid out.
    public var scales: Scales { sizes.scales }

    /// K as stored for `k` inputs, or nil on overflow.
    public func storedK(_ k: Int) -> Int? { alignUp(k, kAlignment) }

    /// Bytes of one panel's values for `k` inputs (see `PanelSizes`).
    public func panelBytes(k: Int) -> Int { sizes.panelBytes(k: k) }

    /// Bytes of one panel's scales for `k` inputs (0 without scales).
    public func scaleBytesPerPanel(k: Int) -> Int { sizes.scaleBytesPerPanel(k: k) }
}
