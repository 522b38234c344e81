/// Tolerances of the engine tests (float engine against a Double reference), in one place.
enum Tolerance {
    /// Relative to `max(1, |expected|)`.
    static let f32 = 1e-5
}

/// True when `actual` is within `Tolerance.f32` of `expected`, relative to `max(1, |expected|)`.
func isClose(_ actual: Float, _ expected: Double) -> Bool {
    abs(Double(actual) - expected) <= Tolerance.f32 * max(1, abs(expected))
}

/// The index of the first element that is not close, or nil when all are (and counts match).
func firstMismatch(_ actual: [Float], _ expected: [Double]) -> String? {
    guard actual.count == expected.count else { return "\(actual.count) values, expected \(expected.count)" }
    guard let i = actual.indices.first(where: { !isClose(actual[$0], expected[$0]) }) else { return nil }
    return "element \(i): \(actual[i]) vs \(expected[i])"
}

/// True when the arrays are equal bit for bit.
func bitwiseEqual(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { $0.bitPattern == $1.bitPattern }
}
