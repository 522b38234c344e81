/// `y` (row-major over `dims`) = the values of `x` at `Σ index[k] · strides[k]`: a strided gather of
/// `rank` dims (Transpose permutes the strides, Slice steps them; both start `x` at their offset).
/// The innermost dim is a block copy when its stride is 1. Exact; the buffers must not overlap.
/// - Parameters:
///   - dims: the output dims, `rank` of them (each ≥ 0; a 0 means nothing is written).
///   - strides: floats of `x` per step of each output dim.
public func strided_copy_f32(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, dims: UnsafePointer<Int>,
                             strides: UnsafePointer<Int>, rank: Int) {
    guard rank > 0 else { y[0] = x[0]; return }
    for k in 0..<rank where dims[k] == 0 { return }
    _ = stridedCopyLevel(x, y, dims, strides, rank, level: 0)
}

/// Copies dims `level…` from `x` to `y` and returns the position after the last value written.
@inline(__always)
private func stridedCopyLevel(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ dims: UnsafePointer<Int>,
                              _ strides: UnsafePointer<Int>, _ rank: Int, level: Int) -> UnsafeMutablePointer<Float> {
    let n = dims[level], s = strides[level]
    if level == rank - 1 {
        if s == 1 {
            y.update(from: x, count: n)
        } else {
            for i in 0..<n { y[i] = x[i * s] }
        }
        return y + n
    }
    var out = y
    for i in 0..<n { out = stridedCopyNext(x + i * s, out, dims, strides, rank, level: level + 1) }
    return out
}

/// The recursive step of `stridedCopyLevel` (a separate function so the innermost one inlines).
private func stridedCopyNext(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ dims: UnsafePointer<Int>,
                             _ strides: UnsafePointer<Int>, _ rank: Int, level: Int) -> UnsafeMutablePointer<Float> {
    stridedCopyLevel(x, y, dims, strides, rank, level: level)
}
