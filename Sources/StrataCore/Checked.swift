/// Checked integer helpers: every size and offset read from a file goes through these.

/// `a * b`, or nil on overflow.
@inlinable public func checkedMul(_ a: Int, _ b: Int) -> Int? {
    let (r, o) = a.multipliedReportingOverflow(by: b)
    return o ? nil : r
}

/// `a + b`, or nil on overflow.
@inlinable public func checkedAdd(_ a: Int, _ b: Int) -> Int? {
    let (r, o) = a.addingReportingOverflow(b)
    return o ? nil : r
}

/// The product of `dims`, or nil when a dim is negative or the product overflows. Empty → 1.
@inlinable public func checkedProduct<C: Collection>(_ dims: C) -> Int? where C.Element == Int {
    var p = 1
    for d in dims {
        guard d >= 0, let n = checkedMul(p, d) else { return nil }
        p = n
    }
    return p
}

/// `x` rounded up to a multiple of `alignment` (a power of two), or nil on overflow.
@inlinable public func alignUp(_ x: Int, _ alignment: Int) -> Int? {
    guard let y = checkedAdd(x, alignment - 1) else { return nil }
    return y & ~(alignment - 1)
}

/// Formats a shape as `[N, 784]`, printing -1 as `N`.
public func describeShape(_ dims: [Int]) -> String {
    "[" + dims.map { $0 < 0 ? "N" : String($0) }.joined(separator: ", ") + "]"
}

/// "[5, -1]": integers as Swift prints an array of them. (Embedded Swift, which builds the shipped
/// library, cannot interpolate an array: `"\(array)"` there gives a placeholder, not the values.)
public func describeList<T: BinaryInteger>(_ values: [T]) -> String {
    "[" + values.map { String($0) }.joined(separator: ", ") + "]"
}
