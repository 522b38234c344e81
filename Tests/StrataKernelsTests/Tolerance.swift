/// Tolerances of the kernel tests, per precision, in one place.
///
/// A value passes when `|actual - expected| <= tolerance × max(1, scale)`. For elementwise
/// kernels `scale` is `|expected|`; for dot products it is `Σ|x·w| + |bias|`, the magnitude the
/// rounding error of a float sum is proportional to (so long rows are not held to the error of
/// short ones, and cancellation does not make a correct result look wrong).
enum Tolerance {
    /// Single precision kernels against their Double-accumulating references.
    static let f32: Float = 1e-5
}

/// True when `actual` is within `tolerance` of `expected` relative to `max(1, scale)`.
/// NaN matches NaN only; infinities must be equal.
func isClose(_ actual: Float, _ expected: Float, scale: Float? = nil, tolerance: Float = Tolerance.f32) -> Bool {
    if expected.isNaN || actual.isNaN { return expected.isNaN && actual.isNaN }
    if expected.isInfinite || actual.isInfinite { return expected == actual }
    return abs(actual - expected) <= tolerance * max(1, scale ?? abs(expected))
}

/// True when the two values have the same bits (NaN payloads included).
func isBitwiseEqual(_ a: Float, _ b: Float) -> Bool { a.bitPattern == b.bitPattern }
