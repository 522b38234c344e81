import StrataKernels
import Testing
import StrataTestSupport

/// `rows` repetitions of a `bCount`-long operand: `rows == 1` is the same-shape add.
struct AddCase: Sendable, CustomTestStringConvertible {
    var bCount: Int, rows: Int
    var count: Int { bCount * rows }
    var testDescription: String { rows == 1 ? "same shape × \(bCount)" : "\(rows) rows of \(bCount)" }
}

let addCases: [AddCase] =
    elementwiseCounts.map { AddCase(bCount: $0, rows: 1) }
    + [1, 3, 7, 8, 9, 16, 100].flatMap { b in [0, 2, 5].map { AddCase(bCount: b, rows: $0) } }

@Suite("Add kernels")
struct AddKernelTests {
    @Test("add_f32_simd8 equals the reference bit for bit, out of place and in place", arguments: addCases)
    func matchesReference(c: AddCase) {
        var rng = SeededGenerator(seed: UInt64(c.bCount * 100 + c.rows))
        let aValues = rng.floats(c.count, in: -100...100), bValues = rng.floats(c.bCount, in: -100...100)
        var expected = [Float](repeating: 0, count: c.count)
        if c.count > 0 {
            add_f32_reference(a: aValues, b: bValues, bCount: c.bCount, y: &expected, count: c.count)
        }
        for edge in GuardedBuffer.Edge.allCases {
            let a = GuardedBuffer(aValues, edge: edge), b = GuardedBuffer(bValues, edge: edge)
            a.makeReadOnly(); b.makeReadOnly()
            let y = GuardedBuffer(count: c.count, edge: edge)
            add_f32_simd8(a: a.readPointer, b: b.readPointer, bCount: c.bCount, y: y.pointer, count: c.count)
            #expect(zip(y.values, expected).allSatisfy(isBitwiseEqual), "\(edge), out of place")
            #expect(y.canariesIntact)

            let inPlace = GuardedBuffer(aValues, edge: edge)
            add_f32_simd8(a: inPlace.readPointer, b: b.readPointer, bCount: c.bCount, y: inPlace.pointer, count: c.count)
            #expect(zip(inPlace.values, expected).allSatisfy(isBitwiseEqual), "\(edge), in place")
            #expect(inPlace.canariesIntact)
        }
    }

    @Test("the reference broadcasts b over a's leading rows")
    func referenceByHand() {
        var y = [Float](repeating: 0, count: 6)
        add_f32_reference(a: [1, 2, 3, 4, 5, 6], b: [10, 20, 30], bCount: 3, y: &y, count: 6)
        #expect(y == [11, 22, 33, 14, 25, 36])
    }
}
