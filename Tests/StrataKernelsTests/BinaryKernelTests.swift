import StrataKernels
import Testing
import StrataTestSupport

struct BinaryCase: Sendable, CustomTestStringConvertible {
    var op: BinaryOp, count: Int, aStep: Int, bStep: Int
    var testDescription: String { "\(op) × \(count), steps \(aStep)/\(bStep)" }
}

let binaryCases = BinaryOp.allCases.flatMap { op in
    elementwiseCounts.flatMap { n in [(1, 1), (1, 0), (0, 1), (0, 0)].map { BinaryCase(op: op, count: n, aStep: $0.0, bStep: $0.1) } }
}

@Suite("Binary kernels")
struct BinaryKernelTests {
    @Test("binary_f32_simd8 equals the reference bit for bit (specials included), out of place and in place",
          arguments: binaryCases)
    func matchesReference(c: BinaryCase) {
        let aValues = activationInput(count: c.aStep == 1 ? c.count : 1, seed: 7)
        var bValues = activationInput(count: c.bStep == 1 ? c.count : 1, seed: 8)
        if !bValues.isEmpty { bValues[bValues.count - 1] = 0 }  // a division by zero
        var expected = [Float](repeating: 0, count: c.count)
        if c.count > 0 {
            binary_f32_reference(c.op, a: aValues, aStep: c.aStep, b: bValues, bStep: c.bStep, y: &expected, count: c.count)
        }
        for edge in GuardedBuffer.Edge.allCases {
            let a = GuardedBuffer(aValues, edge: edge), b = GuardedBuffer(bValues, edge: edge)
            a.makeReadOnly(); b.makeReadOnly()
            let y = GuardedBuffer(count: c.count, edge: edge)
            binary_f32_simd8(c.op, a: a.readPointer, aStep: c.aStep, b: b.readPointer, bStep: c.bStep, y: y.pointer, count: c.count)
            #expect(zip(y.values, expected).allSatisfy(isBitwiseEqual), "\(edge), out of place")
            #expect(y.canariesIntact)
            if c.aStep == 1 {
                let inPlace = GuardedBuffer(aValues, edge: edge)
                binary_f32_simd8(c.op, a: inPlace.readPointer, aStep: 1, b: b.readPointer, bStep: c.bStep, y: inPlace.pointer, count: c.count)
                #expect(zip(inPlace.values, expected).allSatisfy(isBitwiseEqual), "\(edge), in place")
            }
        }
    }
}
