#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataKernels
import Testing
import StrataTestSupport

struct SoftmaxCase: Sendable, CustomTestStringConvertible {
    var rows: Int, cols: Int, log: Bool
    var testDescription: String { "\(log ? "log-softmax" : "softmax") \(rows)×\(cols)" }
}

let softmaxCases: [SoftmaxCase] = (0...3).flatMap { r in
    [1, 7, 8, 9, 10, 100].flatMap { c in [false, true].map { SoftmaxCase(rows: r, cols: c, log: $0) } }
}

/// Rows of moderate values, with the last row (when there are several) shifted to around 1000
/// and one element at -1000, where a softmax without max subtraction overflows.
func softmaxInput(_ c: SoftmaxCase) -> [Float] {
    var rng = SeededGenerator(seed: UInt64(c.rows * 1000 + c.cols))
    var xs = rng.floats(c.rows * c.cols, in: -5...5)
    if c.rows >= 2 {
        let last = (c.rows - 1) * c.cols
        for i in last..<(last + c.cols) { xs[i] += 1000 }
        xs[last + c.cols / 2] = -1000
    }
    return xs
}

@Suite("Softmax kernels")
struct SoftmaxKernelTests {
    @Test("softmax_f32_simd8 matches the reference, out of place and in place", arguments: softmaxCases)
    func matchesReference(c: SoftmaxCase) {
        let xs = softmaxInput(c)
        var expected = [Float](repeating: 0, count: xs.count)
        softmax_f32_reference(x: xs, y: &expected, rows: c.rows, cols: c.cols, log: c.log)
        for edge in GuardedBuffer.Edge.allCases {
            let x = GuardedBuffer(xs, edge: edge)
            x.makeReadOnly()
            let y = GuardedBuffer(count: xs.count, edge: edge)
            y.fill(.nan)
            softmax_f32_simd8(x: x.readPointer, y: y.pointer, rows: c.rows, cols: c.cols, log: c.log)
            let actual = y.values
            let bad = actual.indices.filter { !isClose(actual[$0], expected[$0]) }
            #expect(bad.isEmpty, "\(edge): first mismatch \(bad.first.map { "at \($0): \(actual[$0]) vs \(expected[$0])" } ?? "")")
            #expect(y.canariesIntact)

            let inPlace = GuardedBuffer(xs, edge: edge)
            softmax_f32_simd8(x: inPlace.readPointer, y: inPlace.pointer, rows: c.rows, cols: c.cols, log: c.log)
            #expect(zip(inPlace.values, actual).allSatisfy(isBitwiseEqual), "\(edge): in place differs from out of place")
            #expect(inPlace.canariesIntact)
        }
    }

    @Test("outputs are finite, and each row's probabilities sum to 1", arguments: softmaxCases)
    func rowsSumToOne(c: SoftmaxCase) {
        let xs = softmaxInput(c)
        var y = [Float](repeating: .nan, count: xs.count)
        softmax_f32_simd8(x: xs, y: &y, rows: c.rows, cols: c.cols, log: c.log)
        #expect(y.allSatisfy { $0.isFinite })
        for r in 0..<c.rows {
            let row = y[(r * c.cols)..<((r + 1) * c.cols)]
            let sum = row.reduce(0.0) { $0 + (c.log ? exp(Double($1)) : Double($1)) }
            #expect(abs(sum - 1) <= Double(Tolerance.f32), "row \(r) sums to \(sum)")
            if !c.log { #expect(row.allSatisfy { $0 >= 0 && $0 <= 1 }) }
        }
    }

    @Test("the reference gives the textbook values")
    func referenceByHand() {
        var y = [Float](repeating: 0, count: 2)
        softmax_f32_reference(x: [0, Float(log(3.0))], y: &y, rows: 1, cols: 2, log: false)
        #expect(isClose(y[0], 0.25) && isClose(y[1], 0.75))
        softmax_f32_reference(x: [1000, 1000], y: &y, rows: 1, cols: 2, log: true)
        #expect(isClose(y[0], -0.693147181) && isClose(y[1], -0.693147181))
    }

    @Test("a NaN anywhere in a row makes that whole row NaN, as in the reference", arguments: [0, 3, 8, 9])
    func nanPropagates(position: Int) {
        let cols = 10
        var xs = (0..<(2 * cols)).map { Float($0) / 7 }
        xs[position] = .nan
        for log in [false, true] {
            var y = [Float](repeating: 0, count: xs.count), expected = y
            softmax_f32_simd8(x: xs, y: &y, rows: 2, cols: cols, log: log)
            softmax_f32_reference(x: xs, y: &expected, rows: 2, cols: cols, log: log)
            #expect(y[..<cols].allSatisfy { $0.isNaN } && expected[..<cols].allSatisfy { $0.isNaN })
            #expect(y[cols...].allSatisfy { $0.isFinite })
        }
    }
}
