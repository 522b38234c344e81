import StrataKernels
import Testing
import StrataTestSupport

/// Counts around the 8-wide vector: zero, one, one less, equal, one more, and long.
let elementwiseCounts = [0, 1, 7, 8, 9, 1000]

/// Inputs with the values activations get wrong: signed zeros, infinities, NaN, huge magnitudes.
func activationInput(count: Int, seed: UInt64) -> [Float] {
    var rng = SeededGenerator(seed: seed)
    var xs = rng.floats(count, in: -10...10)
    let specials: [Float] = [.nan, -0.0, 0, .infinity, -.infinity, 1000, -1000, 88.8, -88.8, .leastNonzeroMagnitude]
    for (i, s) in specials.enumerated() where i * 3 < count { xs[i * 3] = s }
    return xs
}

struct ActivationCase: Sendable, CustomTestStringConvertible {
    var count: Int, activation: Activation
    var testDescription: String { "\(activation) × \(count)" }
}

let activationCases = elementwiseCounts.flatMap { n in Activation.allCases.map { ActivationCase(count: n, activation: $0) } }

@Suite("Activation kernels")
struct ActivationKernelTests {
    @Test("activation_f32_simd8 gives every value the bits of Activation.apply, whatever its lane, out of place and in place",
          arguments: activationCases)
    func lanesEqualTheScalarActivation(c: ActivationCase) {
        let xs = activationInput(count: c.count, seed: UInt64(c.count))
        let expected = xs.map { c.activation.apply($0) }
        for edge in GuardedBuffer.Edge.allCases {
            let x = GuardedBuffer(xs, edge: edge)
            x.makeReadOnly()
            let y = GuardedBuffer(count: c.count, edge: edge)
            activation_f32_simd8(x: x.readPointer, y: y.pointer, count: c.count, activation: c.activation)
            #expect(zip(y.values, expected).allSatisfy(isBitwiseEqual), "\(edge), out of place")
            #expect(y.canariesIntact)

            let inPlace = GuardedBuffer(xs, edge: edge)
            activation_f32_simd8(x: inPlace.readPointer, y: inPlace.pointer, count: c.count, activation: c.activation)
            #expect(zip(inPlace.values, expected).allSatisfy(isBitwiseEqual), "\(edge), in place")
            #expect(inPlace.canariesIntact)
        }
    }

    @Test("ReLU keeps NaN as NaN and maps negatives (not -0) to +0", arguments: [1, 8, 9, 17])
    func reluSpecialValues(count: Int) {
        var xs = [Float](repeating: -3, count: count)
        xs[count - 1] = .nan
        var y = [Float](repeating: 7, count: count)
        activation_f32_simd8(x: xs, y: &y, count: count, activation: .relu)
        #expect(y[count - 1].isNaN)
        #expect(y.dropLast().allSatisfy { $0 == 0 && $0.sign == .plus })
    }

    @Test("activations apply their textbook definition")
    func definitions() {
        #expect(Activation.identity.apply(-2.5) == -2.5)
        #expect(Activation.relu.apply(-2.5) == 0 && Activation.relu.apply(2.5) == 2.5)
        #expect(Activation.sigmoid.apply(0) == 0.5)
        #expect(Activation.sigmoid.apply(-1000) == 0 && Activation.sigmoid.apply(1000) == 1)
        #expect(isClose(Activation.sigmoid.apply(2), 0.880797077))
        #expect(isClose(Activation.tanh.apply(0.5), 0.462117157))
        #expect(Activation.tanh.apply(-1000) == -1)
    }
}
