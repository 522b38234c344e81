/// Scalar reference of `copy_rows_f32`: one value at a time.
public func copy_rows_f32_reference(x: UnsafePointer<Float>, ldx: Int, y: UnsafeMutablePointer<Float>, ldy: Int,
                                    rows: Int, cols: Int) {
    for r in 0..<rows {
        for c in 0..<cols { y[r * ldy + c] = x[r * ldx + c] }
    }
}
