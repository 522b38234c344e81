/// SIMD8 `Linear` with fused bias and activation:
/// `y[m, n] = act(Σ_k x[m, k] · w[n, k] + bias[n])`, weights in PyTorch's `[n, k]` layout.
///
/// Register-blocked in 2 × 4 tiles (2 input rows × 4 output features, 8 SIMD8 accumulators),
/// with 1 × 4, 2 × 1 and 1 × 1 edges. Every output element is reduced in the same order in every
/// tile shape (SIMD8 lanes over k, a lane sum, the k % 8 tail by scalar FMA, then bias), so a
/// sample's result is bitwise identical whatever the batch size or its position in the batch.
/// - Parameters:
///   - x: `m × k` row-major input.
///   - w: `n × k` row-major weights.
///   - bias: `n` values, or nil for none.
///   - y: `m × n` row-major output (must not alias `x`).
///   - m, n, k: sizes; any may be 0.
public func linear_f32_simd8(x: UnsafePointer<Float>, w: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                             y: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, activation: Activation) {
    let k8 = k & ~7
    @inline(__always) func finish(_ acc: SIMD8<Float>, _ xr: UnsafePointer<Float>, _ wr: UnsafePointer<Float>, _ j: Int) -> Float {
        var s = acc.sum()
        var p = k8
        while p < k { s.addProduct(xr[p], wr[p]); p += 1 }
        if let bias { s += bias[j] }
        return activation.apply(s)
    }
    var i = 0
    while i + 2 <= m {
        let x0 = x + i * k, x1 = x0 + k
        var j = 0
        while j + 4 <= n {
            let w0 = w + j * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k
            var a00 = SIMD8<Float>(), a01 = SIMD8<Float>(), a02 = SIMD8<Float>(), a03 = SIMD8<Float>()
            var a10 = SIMD8<Float>(), a11 = SIMD8<Float>(), a12 = SIMD8<Float>(), a13 = SIMD8<Float>()
            var p = 0
            while p < k8 {
                let v0 = load8(w0 + p), v1 = load8(w1 + p), v2 = load8(w2 + p), v3 = load8(w3 + p)
                let u0 = load8(x0 + p)
                a00 = a00.addingProduct(u0, v0); a01 = a01.addingProduct(u0, v1)
                a02 = a02.addingProduct(u0, v2); a03 = a03.addingProduct(u0, v3)
                let u1 = load8(x1 + p)
                a10 = a10.addingProduct(u1, v0); a11 = a11.addingProduct(u1, v1)
                a12 = a12.addingProduct(u1, v2); a13 = a13.addingProduct(u1, v3)
                p += 8
            }
            let y0 = y + i * n + j, y1 = y0 + n
            y0[0] = finish(a00, x0, w0, j); y0[1] = finish(a01, x0, w1, j + 1)
            y0[2] = finish(a02, x0, w2, j + 2); y0[3] = finish(a03, x0, w3, j + 3)
            y1[0] = finish(a10, x1, w0, j); y1[1] = finish(a11, x1, w1, j + 1)
            y1[2] = finish(a12, x1, w2, j + 2); y1[3] = finish(a13, x1, w3, j + 3)
            j += 4
        }
        while j < n {
            let w0 = w + j * k
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
            var p = 0
            while p < k8 {
                let v = load8(w0 + p)
                a0 = a0.addingProduct(load8(x0 + p), v)
                a1 = a1.addingProduct(load8(x1 + p), v)
                p += 8
            }
            y[i * n + j] = finish(a0, x0, w0, j)
            y[(i + 1) * n + j] = finish(a1, x1, w0, j)
            j += 1
        }
        i += 2
    }
    if i < m {
        let x0 = x + i * k
        var j = 0
        while j + 4 <= n {
            let w0 = w + j * k, w1 = w0 + k, w2 = w1 + k, w3 = w2 + k
            var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
            var p = 0
            while p < k8 {
                let u = load8(x0 + p)
                a0 = a0.addingProduct(u, load8(w0 + p)); a1 = a1.addingProduct(u, load8(w1 + p))
                a2 = a2.addingProduct(u, load8(w2 + p)); a3 = a3.addingProduct(u, load8(w3 + p))
                p += 8
            }
            let y0 = y + i * n + j
            y0[0] = finish(a0, x0, w0, j); y0[1] = finish(a1, x0, w1, j + 1)
            y0[2] = finish(a2, x0, w2, j + 2); y0[3] = finish(a3, x0, w3, j + 3)
            j += 4
        }
        while j < n {
            let w0 = w + j * k
            var a = SIMD8<Float>()
            var p = 0
            while p < k8 { a = a.addingProduct(load8(x0 + p), load8(w0 + p)); p += 8 }
            y[i * n + j] = finish(a, x0, w0, j)
            j += 1
        }
    }
}

/// Loads 8 floats from a possibly unaligned address.
@inline(__always) @usableFromInline
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
    UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Stores 8 floats to a possibly unaligned address.
@inline(__always) @usableFromInline
func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
    UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
}
