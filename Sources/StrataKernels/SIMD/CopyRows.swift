/// `y[r·ldy + c] = x[r·ldx + c]` for `rows` rows of `cols` values: a strided block copy (Concat
/// writes each input into its columns of the output rows). The buffers must not overlap.
public func copy_rows_f32(x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int, rows: Int, cols: Int) {
    guard cols > 0 else { return }
    for r in 0..<rows { (y + r * ldy).update(from: x + r * ldx, count: cols) }
}
