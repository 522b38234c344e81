/// `y[r·ldy + c] = x[r·ldx + c]` for `rows` rows of `cols` values: a strided block copy (Concat
/// writes each input into its columns of the output rows). The buffers must not overlap.
public func copy_rows_f32(x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int, rows: Int, cols: Int) {
    guard cols > 0 else { return }
    // 8 floats a step, then one at a time (`update(from:count:)` became a call per value in the
    // Embedded build: a stateful recurrent frame's state load and store showed it in profiles).
    for r in 0..<rows {
        let src = x + r * ldx, dst = y + r * ldy
        var c = 0
        while c + 8 <= cols { store8(load8(src + c), dst + c); c += 8 }
        while c < cols { dst[c] = src[c]; c += 1 }
    }
}
