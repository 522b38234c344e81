/// An element type id from the dtype table of docs/FORMAT.md (append-only; single source of truth).
///
/// An open set read from files: an unknown id is representable and `info` is nil for it.
public struct DType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The id stored in the file.
    public var rawValue: UInt32
    /// Wraps a dtype id.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// 32-bit IEEE float, 4 bytes per element.
    public static let f32 = DType(rawValue: 1)
    /// IEEE binary16 weights (since 1.2), 2 bytes per element; panel16 Linear weights only.
    public static let f16 = DType(rawValue: 2)
    /// bfloat16 weights (since 1.2): the high 16 bits of an f32; panel16 Linear weights only.
    public static let bf16 = DType(rawValue: 3)
    /// Symmetric int8 weights with one f32 scale per output row (since 1.2); values in
    /// [-127, 127]. The scales follow the values in the same tensor (`QuantizedPanel16`).
    public static let int8 = DType(rawValue: 4)
    /// Symmetric int4 weights in blocks of 32 along K with one f16 scale per block (since 1.2);
    /// values in [-7, 7]. The scales follow the values in the same tensor (`QuantizedPanel16`).
    public static let int4 = DType(rawValue: 5)

    /// One row of the dtype table.
    public struct Info: Sendable, Equatable {
        /// Lower-case name, e.g. "f32".
        public var name: String
        /// Elements per block (1 for plain types).
        public var blockSize: Int
        /// Bytes per block.
        public var bytesPerBlock: Int
    }

    /// The table itself, indexed by id. Mirrored by `tools/convert/strata_convert/format.py`.
    public static let table: [UInt32: Info] = [
        1: Info(name: "f32", blockSize: 1, bytesPerBlock: 4),
        2: Info(name: "f16", blockSize: 1, bytesPerBlock: 2),
        3: Info(name: "bf16", blockSize: 1, bytesPerBlock: 2),
        4: Info(name: "int8", blockSize: 1, bytesPerBlock: 1),
        5: Info(name: "int4", blockSize: 32, bytesPerBlock: 16),
    ]

    /// True for the weight-only types of format 1.2 (f16, bf16, int8, int4): they are valid only
    /// in the panel16 layout, as a Linear weight.
    public var isWeightOnly: Bool { rawValue >= 2 && rawValue <= 5 }

    /// The table row, or nil for an id this library does not know.
    public var info: Info? { DType.table[rawValue] }

    /// The name, or "dtype#N" when unknown.
    public var description: String { info?.name ?? "dtype#\(rawValue)" }

    /// Bytes needed for `count` elements, or nil when `count` is not a whole number of blocks,
    /// the dtype is unknown, or the product overflows.
    public func byteCount(elements count: Int) -> Int? {
        guard let info, count >= 0, count % info.blockSize == 0 else { return nil }
        return checkedMul(count / info.blockSize, info.bytesPerBlock)
    }
}
