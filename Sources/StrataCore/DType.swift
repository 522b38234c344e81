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
    ]

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
