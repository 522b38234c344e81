/// Scalar reference: softmax (or log-softmax) of each of `rows` rows of `cols` values, in `Double`.
public func softmax_f32_reference(x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, rows: Int, cols: Int,
                                  log: Bool) {
    for r in 0..<rows {
        let row = x + r * cols, out = y + r * cols
        var mx = -Double.infinity
        for c in 0..<cols { mx = Swift.max(mx, Double(row[c])) }
        var sum = 0.0
        for c in 0..<cols { sum += exp(Double(row[c]) - mx) }
        for c in 0..<cols {
            let z = Double(row[c]) - mx
            out[c] = Float(log ? z - logarithm(sum) : exp(z) / sum)
        }
    }
}

/// libm's `log`, under a name the `log` parameter above does not shadow.
@inline(__always) func logarithm(_ x: Double) -> Double { log(x) }
