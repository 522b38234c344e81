import StrataKernels
import Testing
import StrataTestSupport

/// One Linear problem size; `m` rows of `k` inputs, `n` output features.
struct LinearCase: Sendable, CustomTestStringConvertible {
    var m: Int, n: Int, k: Int, hasBias: Bool
    var testDescription: String { "m=\(m) n=\(n) k=\(k)\(hasBias ? " +bias" : "")" }
    var seed: UInt64 { UInt64(m * 1_000_000 + n * 1000 + k) &* 2 &+ (hasBias ? 1 : 0) }
}

/// Sizes around the 2×4 register tile (m, n) and the 8-wide k vector: zero, one less, equal,
/// one more, multiples and primes, plus the MNIST row length.
let linearCases: [LinearCase] = {
    var cases: [LinearCase] = []
    for m in [0, 1, 2, 3, 5, 7] {
        for n in [0, 1, 3, 4, 5, 8, 13] {
            for k in [0, 1, 7, 8, 9, 31, 784] {
                for hasBias in [false, true] { cases.append(LinearCase(m: m, n: n, k: k, hasBias: hasBias)) }
            }
        }
    }
    return cases
}()

/// Names of every optimized Linear variant in the kernel inventory.
let optimizedLinearNames = KernelTable.linear.filter { !$0.isReference }.map(\.name)

func linearVariant(named name: String) -> KernelVariant<LinearKernel> {
    KernelTable.linear.first { $0.name == name }!
}

@Suite("Linear kernels")
struct LinearKernelTests {
    @Test("the inventory has one reference, named linear_f32_reference, and at least one optimized variant")
    func inventory() {
        let references = KernelTable.linear.filter(\.isReference)
        #expect(references.map(\.name) == ["linear_f32_reference"])
        #expect(!optimizedLinearNames.isEmpty)
        #expect(Set(KernelTable.linear.map(\.name)).count == KernelTable.linear.count, "variant names are unique")
    }

    @Test("the reference computes act(x·wᵀ + b) on a hand-checked example")
    func referenceByHand() {
        let x: [Float] = [1, 2, -1, 0.5]          // 2 × 2
        let w: [Float] = [1, 1, 2, -1, 0, 3]      // 3 × 2
        let b: [Float] = [0.5, -1, 0]
        var y = [Float](repeating: .nan, count: 6)
        linear_f32_reference(x: x, w: w, bias: b, y: &y, m: 2, n: 3, k: 2, activation: .identity)
        #expect(y == [3.5, -1, 6, 0, -3.5, 1.5])
        linear_f32_reference(x: x, w: w, bias: b, y: &y, m: 2, n: 3, k: 2, activation: .relu)
        #expect(y == [3.5, 0, 6, 0, 0, 1.5])
        linear_f32_reference(x: x, w: w, bias: nil, y: &y, m: 2, n: 3, k: 2, activation: .identity)
        #expect(y == [3, 0, 6, -0.5, -2.5, 1.5])
    }

    @Test("optimized variants match the reference, with buffers against guard pages",
          arguments: optimizedLinearNames, linearCases)
    func matchesReference(variantName: String, c: LinearCase) {
        let kernel = linearVariant(named: variantName).function
        var rng = SeededGenerator(seed: c.seed)
        let xs = rng.floats(c.m * c.k), ws = rng.floats(c.n * c.k), bs = rng.floats(c.hasBias ? c.n : 0)
        let scales = dotProductScales(xs, ws, c.hasBias ? bs : nil, m: c.m, n: c.n, k: c.k)
        for edge in GuardedBuffer.Edge.allCases {
            let x = GuardedBuffer(xs, edge: edge), w = GuardedBuffer(ws, edge: edge)
            let b = c.hasBias ? GuardedBuffer(bs, edge: edge) : nil
            for input in [x, w, b].compactMap({ $0 }) { input.makeReadOnly() }
            let y = GuardedBuffer(count: c.m * c.n, edge: edge)
            var expected = [Float](repeating: 0, count: c.m * c.n)
            for activation in Activation.wellConditionedCases {
                y.fill(.nan)  // an element the kernel forgets to write stays NaN and fails
                kernel(x.readPointer, w.readPointer, b?.readPointer, y.pointer, c.m, c.n, c.k, activation)
                linear_f32_reference(x: x.readPointer, w: w.readPointer, bias: b?.readPointer, y: &expected,
                                     m: c.m, n: c.n, k: c.k, activation: activation)
                let actual = y.values
                let bad = actual.indices.filter { !isClose(actual[$0], expected[$0], scale: scales[$0]) }
                #expect(bad.isEmpty, "\(activation), \(edge): \(bad.count) of \(actual.count) differ; first at \(bad.first.map { "\($0): \(actual[$0]) vs \(expected[$0])" } ?? "")")
                #expect(y.canariesIntact, "\(activation), \(edge): wrote outside y")
            }
        }
    }

    @Test("a sample's output row is bitwise identical whatever m and its row position",
          arguments: optimizedLinearNames, [1, 3, 4, 5, 8, 13])
    func rowsAreIndependentOfBatch(variantName: String, n: Int) {
        let kernel = linearVariant(named: variantName).function
        for k in [1, 7, 8, 9, 31, 784] {
            var rng = SeededGenerator(seed: UInt64(n * 1000 + k))
            let m = 7
            let xs = rng.floats(m * k), ws = rng.floats(n * k), bs = rng.floats(n)
            var single = [[Float]]()
            for r in 0..<m {
                var row = [Float](repeating: .nan, count: n)
                kernel(Array(xs[(r * k)..<((r + 1) * k)]), ws, bs, &row, 1, n, k, .relu)
                single.append(row)
            }
            for rows in 1...m {
                var y = [Float](repeating: .nan, count: rows * n)
                kernel(xs, ws, bs, &y, rows, n, k, .relu)
                for r in 0..<rows {
                    let row = Array(y[(r * n)..<((r + 1) * n)])
                    #expect(zip(row, single[r]).allSatisfy(isBitwiseEqual),
                            "k=\(k): row \(r) of an m=\(rows) run differs from the m=1 run of the same input")
                }
            }
        }
    }
}

/// Per output element, `Σ_p |x[i,p]·w[j,p]| + |bias[j]|`: the scale of the rounding error.
func dotProductScales(_ x: [Float], _ w: [Float], _ bias: [Float]?, m: Int, n: Int, k: Int) -> [Float] {
    var scales = [Float](repeating: 0, count: m * n)
    for i in 0..<m {
        for j in 0..<n {
            var s = bias.map { Double(abs($0[j])) } ?? 0
            for p in 0..<k { s += Double(abs(x[i * k + p] * w[j * k + p])) }
            scales[i * n + j] = Float(s)
        }
    }
    return scales
}
