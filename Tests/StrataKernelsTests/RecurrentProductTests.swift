import Testing
@testable import StrataKernels
import StrataTestSupport

/// `gemm_f32_packed16_small_simd8` (the per-step product of the recurrent layers) gives bitwise the
/// results of `gemm_f32_packed16_simd8` on every row schedule (1–14 rows: 6-, 4-, 2- and 1-row tiles),
/// panel count and edge panel, K below and above the GEMM's K block (1024), with and without bias,
/// identity and another activation — so a recurrent step's bits do not depend on which of the two
/// runs it (one thread or the thread split). Every buffer sits against a guard page.
@Suite("gemm_f32_packed16_small_simd8")
struct RecurrentProductTests {
    static let ms = Array(0...14)
    static let ns = [1, 8, 15, 16, 17, 48, 64, 65, 100]
    static let ks = [1, 16, 129, 1025]

    @Test(arguments: ms, ns)
    func bitwiseTheGemm(m: Int, n: Int) {
        for (i, k) in Self.ks.enumerated() {
            for (bias, activation) in [(true, Activation.identity), (false, .identity), (i % 2 == 0, .sigmoid)] {
                var rng = SeededGenerator(seed: UInt64(m * 1_000_003 + n * 1009 + k))
                let x = GuardedBuffer(rng.floats(m * k))
                let w = rng.floats(n * k)
                let packed = GuardedBuffer(count: Panel16.packedCount(n: n, k: k)!)
                w.withUnsafeBufferPointer { pack_f32_panel16(w: $0.baseAddress!, n: n, k: k, out: packed.pointer) }
                let b = GuardedBuffer(rng.floats(n))
                x.makeReadOnly(); packed.makeReadOnly(); b.makeReadOnly()
                let got = GuardedBuffer(count: m * n), want = GuardedBuffer(count: m * n)
                got.fill(.nan)
                let weights = PackedWeights(kind: .f32, values: UnsafeRawPointer(packed.pointer))
                gemm_f32_packed16_small_simd8(x: x.pointer, lda: k, weights: weights, bias: bias ? b.pointer : nil,
                                              y: got.pointer, ldy: n, m: m, n: n, k: k, activation: activation)
                gemm_f32_packed16_simd8(x: x.pointer, lda: k, packed: packed.pointer, bias: bias ? b.pointer : nil,
                                        y: want.pointer, ldy: n, m: m, n: n, k: k, activation: activation)
                let same = zip(got.values, want.values).allSatisfy { $0.bitPattern == $1.bitPattern }
                #expect(same, "m \(m) n \(n) k \(k) bias \(bias) \(activation)")
                #expect(got.canariesIntact)
            }
        }
    }
}
