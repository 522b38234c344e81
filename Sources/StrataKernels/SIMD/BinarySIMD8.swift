/// An elementwise binary arithmetic op (docs/FORMAT.md "Ops (1.2)": Add, Sub, Mul, Div).
public enum BinaryOp: Sendable, Equatable, CaseIterable {
    case add, sub, mul, div

    /// `a ⊕ b` for one value: the scalar definition every binary kernel uses.
    @inlinable @inline(__always)
    public func apply(_ a: Float, _ b: Float) -> Float {
        switch self {
        case .add: return a + b
        case .sub: return a - b
        case .mul: return a * b
        case .div: return a / b
        }
    }
}

/// `y[i] = a[i·aStep] ⊕ b[i·bStep]` for `count` values, where each step is 0 (the operand is one
/// value broadcast along the row) or 1 (contiguous). IEEE 754 throughout (x/0 = ±Inf or NaN).
/// `y` may alias an operand whose step is 1.
public func binary_f32_simd8(_ op: BinaryOp, a: UnsafePointer<Float>, aStep: Int, b: UnsafePointer<Float>, bStep: Int,
                             y: UnsafeMutablePointer<Float>, count: Int) {
    switch op {
    case .add: binaryRow(a, aStep, b, bStep, y, count, { $0 + $1 }, { $0 + $1 })
    case .sub: binaryRow(a, aStep, b, bStep, y, count, { $0 - $1 }, { $0 - $1 })
    case .mul: binaryRow(a, aStep, b, bStep, y, count, { $0 * $1 }, { $0 * $1 })
    case .div: binaryRow(a, aStep, b, bStep, y, count, { $0 / $1 }, { $0 / $1 })
    }
}

@inline(__always)
func binaryRow(_ a: UnsafePointer<Float>, _ aStep: Int, _ b: UnsafePointer<Float>, _ bStep: Int,
               _ y: UnsafeMutablePointer<Float>, _ count: Int,
               _ f8: (SIMD8<Float>, SIMD8<Float>) -> SIMD8<Float>, _ f: (Float, Float) -> Float) {
    var i = 0
    if aStep == 1 && bStep == 1 {
        while i + 8 <= count { store8(f8(load8(a + i), load8(b + i)), y + i); i += 8 }
        while i < count { y[i] = f(a[i], b[i]); i += 1 }
    } else if aStep == 1 {
        let s = b[0], s8 = SIMD8<Float>(repeating: s)
        while i + 8 <= count { store8(f8(load8(a + i), s8), y + i); i += 8 }
        while i < count { y[i] = f(a[i], s); i += 1 }
    } else if bStep == 1 {
        let s = a[0], s8 = SIMD8<Float>(repeating: s)
        while i + 8 <= count { store8(f8(s8, load8(b + i)), y + i); i += 8 }
        while i < count { y[i] = f(s, b[i]); i += 1 }
    } else {
        let v = f(a[0], b[0])
        while i < count { y[i] = v; i += 1 }
    }
}
