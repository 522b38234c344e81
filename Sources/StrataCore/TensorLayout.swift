/// A tensor layout id from docs/FORMAT.md (append-only): how a tensor's elements are ordered.
public struct TensorLayout: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The id stored in the file.
    public var rawValue: UInt32
    /// Wraps a layout id.
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// 0: row-major, in the order of `dims`.
    public static let rowMajor = TensorLayout(rawValue: 0)
    /// 1: a rank-2 `[n, k]` weight in 16-wide panels of rows, k-major within a panel, zero-padded
    /// to a multiple of 16 rows: `packed[p][kk][j] = W[16p + j][kk]`. Stores
    /// `ceil(n / 16) · k · 16` elements. Read in place by the GEMM (no packing at load).
    public static let panel16 = TensorLayout(rawValue: 1)
    /// 2 (since 1.3): a rank-2 `[n, k]` int8 weight of the dynamic-int8 path (docs/FORMAT.md
    /// "Dynamic int8"): 16-row panels with k in quads, zero-padded to `align(k, 4)` and to a multiple
    /// of 16 rows: with `Kq = align(k, 4) / 4`, byte `((p·Kq + q)·2 + h)·32 + j·4 + t` holds
    /// `W[16p + 8h + j][4q + t]`. Stores `ceil(n / 16) · align(k, 4) · 16` elements.
    public static let panel16k4 = TensorLayout(rawValue: 2)

    /// Known layouts.
    public static let all: [TensorLayout] = [.rowMajor, .panel16, .panel16k4]

    /// "row-major", "panel16" or "layout#N".
    public var description: String {
        switch self {
        case .rowMajor: return "row-major"
        case .panel16: return "panel16"
        case .panel16k4: return "panel16k4"
        default: return "layout#\(rawValue)"
        }
    }

    /// Elements stored for a tensor of `dims` in this layout, or nil when the layout does not
    /// apply to that shape, is unknown, or the count overflows.
    public func storedElements(dims: [Int]) -> Int? {
        switch self {
        case .rowMajor: return checkedProduct(dims)
        case .panel16:
            guard dims.count == 2, let rows = checkedAdd(dims[0], 15) else { return nil }
            return checkedMul(rows / 16, dims[1]).flatMap { checkedMul($0, 16) }
        case .panel16k4:
            guard dims.count == 2, let rows = checkedAdd(dims[0], 15), let k = alignUp(dims[1], 4) else { return nil }
            return checkedMul(rows / 16, k).flatMap { checkedMul($0, 16) }
        default: return nil
        }
    }
}
