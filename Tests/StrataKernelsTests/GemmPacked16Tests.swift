import Testing
@testable import StrataKernels
import StrataTestSupport

/// The packed-panel GEMM on sizes around its tiles (rows 1/2/4/6, panels of 16, groups of 2 and 4
/// panels), its K block (1024) and M block (96) — and the blocking for weights streamed from
/// memory —, against the scalar reference that reads the same
/// packing, with every buffer against a guard page.
@Suite("gemm_f32_packed16_simd8")
struct GemmPacked16Tests {
    static let ms = [1, 2, 3, 4, 5, 6, 7, 11, 13, 97, 200]
    static let ns = [1, 15, 16, 17, 32, 33, 48, 64, 65, 100]
    static let ks = [1, 7, 16, 255, 257, 600, 1023, 1025, 2100]

    /// Runs the kernel and the reference on one size; returns (kernel, reference) outputs.
    func run(m: Int, n: Int, k: Int, bias: Bool, activation: Activation, seed: UInt64,
             panels: Range<Int>? = nil) -> ([Float], [Float]) {
        var rng = SeededGenerator(seed: seed)
        let x = GuardedBuffer(rng.floats(m * k))
        let w = rng.floats(n * k)
        let packed = GuardedBuffer(count: Panel16.packedCount(n: n, k: k)!)
        w.withUnsafeBufferPointer { pack_f32_panel16(w: $0.baseAddress!, n: n, k: k, out: packed.pointer) }
        let b = GuardedBuffer(rng.floats(n))
        let y = GuardedBuffer(count: m * n), expected = GuardedBuffer(count: m * n)
        y.fill(.nan)
        x.makeReadOnly(); packed.makeReadOnly(); b.makeReadOnly()
        gemm_f32_packed16_simd8(x: x.pointer, lda: k, packed: packed.pointer, bias: bias ? b.pointer : nil,
                                y: y.pointer, ldy: n, m: m, n: n, k: k, activation: activation, panels: panels)
        gemm_f32_packed16_reference(x: x.pointer, lda: k, packed: packed.pointer, bias: bias ? b.pointer : nil,
                                    y: expected.pointer, ldy: n, m: m, n: n, k: k, activation: activation)
        return (Array(UnsafeBufferPointer(start: y.pointer, count: m * n)),
                Array(UnsafeBufferPointer(start: expected.pointer, count: m * n)))
    }

    @Test(arguments: ms, ns)
    func matchesReference(m: Int, n: Int) {
        for (i, k) in Self.ks.enumerated() {
            let activation = Activation.wellConditionedCases[(m + n + i) % Activation.wellConditionedCases.count]
            let (got, want) = run(m: m, n: n, k: k, bias: (m + k) % 2 == 0, activation: activation,
                                  seed: UInt64(m * 1_000_003 + n * 1009 + k))
            // Inputs in [-1, 1]: Σ|x·w| ≤ k bounds the scale of the rounding error.
            let bad = zip(got, want).filter { !isClose($0, $1, scale: Float(k) + 1) }
            #expect(bad.isEmpty, "m \(m) n \(n) k \(k) \(activation): \(bad.count) wrong values, e.g. \(bad.prefix(3))")
        }
    }

    @Test func sampleResultsDoNotDependOnBatchSizeOrPosition() {
        let n = 70, k = 300
        var rng = SeededGenerator(seed: 42)
        let w = rng.floats(n * k), bias = rng.floats(n)
        var packed = [Float](repeating: 0, count: Panel16.packedCount(n: n, k: k)!)
        w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { pack_f32_panel16(w: wp.baseAddress!, n: n, k: k, out: $0.baseAddress!) } }
        let rows = rng.floats(200 * k)
        func gemm(_ x: ArraySlice<Float>, m: Int) -> [Float] {
            var y = [Float](repeating: 0, count: m * n)
            Array(x).withUnsafeBufferPointer { xp in
                gemm_f32_packed16_simd8(x: xp.baseAddress!, lda: k, packed: packed, bias: bias, y: &y, ldy: n,
                                        m: m, n: n, k: k, activation: .relu)
            }
            return y
        }
        let all = gemm(rows[...], m: 200)
        for (start, m) in [(0, 1), (5, 1), (7, 2), (13, 3), (96, 4), (95, 6), (150, 50)] {
            let part = gemm(rows[(start * k)..<((start + m) * k)], m: m)
            #expect(part.map(\.bitPattern) == Array(all[(start * n)..<((start + m) * n)]).map(\.bitPattern),
                    "rows \(start)..<\(start + m)")
        }
    }

    /// The row bias (a Conv's per-channel bias) in the epilogue: within the tolerance of the
    /// reference, and bit for bit `act(Σ + rowBias[i])` of the bias-free GEMM's sums — what the
    /// separate bias + activation pass computed — for every tile shape, the edge panel and K blocks.
    @Test(arguments: [1, 2, 5, 6, 7, 97])
    func rowBiasInTheEpilogueMatchesASeparatePass(m: Int) {
        for (n, k) in [(15, 9), (33, 144), (70, 1100)] {
            var rng = SeededGenerator(seed: UInt64(m * 131 + n * 7 + k))
            let x = rng.floats(m * k), w = rng.floats(n * k), rb = rng.floats(m), cb = rng.floats(n)
            var packed = [Float](repeating: 0, count: Panel16.packedCount(n: n, k: k)!)
            w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { pack_f32_panel16(w: wp.baseAddress!, n: n, k: k, out: $0.baseAddress!) } }
            for act in [Activation.identity, .relu, .tanh] {
                var plain = [Float](repeating: .nan, count: m * n), fused = plain, want = plain
                gemm_f32_packed16_simd8(x: x, lda: k, packed: packed, bias: nil, y: &plain, ldy: n, m: m, n: n, k: k, activation: .identity)
                gemm_f32_packed16_simd8(x: x, lda: k, packed: packed, bias: nil, rowBias: rb, y: &fused, ldy: n, m: m, n: n, k: k,
                                        activation: act)
                let separate = (0..<(m * n)).map { act.apply(plain[$0] + rb[$0 / n]).bitPattern }
                #expect(fused.map(\.bitPattern) == separate, "m \(m) n \(n) k \(k) \(act)")
                gemm_f32_packed16_simd8(x: x, lda: k, packed: packed, bias: cb, rowBias: rb, y: &fused, ldy: n, m: m, n: n, k: k,
                                        activation: act)
                gemm_f32_packed16_reference(x: x, lda: k, packed: packed, bias: cb, rowBias: rb, y: &want, ldy: n, m: m, n: n, k: k,
                                            activation: act)
                let bad = zip(fused, want).filter { !isClose($0, $1, scale: Float(k) + 2) }
                #expect(bad.isEmpty, "m \(m) n \(n) k \(k) \(act) with both biases: \(bad.prefix(3))")
            }
        }
    }

    @Test(arguments: [1, 3, 6, 97])
    func splittingPanelsBetweenCallsGivesTheSameBits(m: Int) {
        let n = 90, k = 260  // 6 panels, the last an edge panel; K crosses a block
        let (whole, _) = run(m: m, n: n, k: k, bias: true, activation: .tanh, seed: 7)
        var rng = SeededGenerator(seed: 7)
        let x = rng.floats(m * k), w = rng.floats(n * k), b = rng.floats(n)
        var packed = [Float](repeating: 0, count: Panel16.packedCount(n: n, k: k)!)
        w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { pack_f32_panel16(w: wp.baseAddress!, n: n, k: k, out: $0.baseAddress!) } }
        var y = [Float](repeating: .nan, count: m * n)
        for range in [0..<1, 1..<4, 4..<6] {
            gemm_f32_packed16_simd8(x: x, lda: k, packed: packed, bias: b, y: &y, ldy: n, m: m, n: n, k: k,
                                    activation: .tanh, panels: range)
        }
        #expect(y.map(\.bitPattern) == whole.map(\.bitPattern))
    }

    /// Weights over `gemmStreamedWeightBytes` take the DRAM-streaming blocking (K blocks up to
    /// 4096, M blocks of 256): 33 panels × 4200 deep (17.7 MB) runs as 2 K blocks of 2100.
    /// Checked against float64 dot products on sampled
    /// outputs, and bit for bit against the same rows computed alone (1, 2 and 4 rows take the
    /// unblocked GEMV and small-tile paths).
    @Test func weightsStreamedFromMemoryTakeTheirOwnBlockingWithTheSameBits() {
        let m = 16, n = 520, k = 4200
        #expect(Panel16.packedCount(n: n, k: k)! * MemoryLayout<Float>.stride > gemmStreamedWeightBytes)
        var rng = SeededGenerator(seed: 99)
        let x = rng.floats(m * k), w = rng.floats(n * k), b = rng.floats(n)
        var packed = [Float](repeating: 0, count: Panel16.packedCount(n: n, k: k)!)
        w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { pack_f32_panel16(w: wp.baseAddress!, n: n, k: k, out: $0.baseAddress!) } }
        func gemm(rows: Range<Int>) -> [Float] {
            var y = [Float](repeating: .nan, count: rows.count * n)
            x.withUnsafeBufferPointer { xp in
                gemm_f32_packed16_simd8(x: xp.baseAddress! + rows.lowerBound * k, lda: k, packed: packed, bias: b,
                                        y: &y, ldy: n, m: rows.count, n: n, k: k, activation: .relu)
            }
            return y
        }
        let all = gemm(rows: 0..<m)
        for i in 0..<m {
            for j in stride(from: i % 11, to: n, by: 23) {
                var dot = Double(b[j])
                for kk in 0..<k { dot += Double(x[i * k + kk]) * Double(w[j * k + kk]) }
                #expect(isClose(all[i * n + j], Float(max(dot, 0)), scale: Float(k)), "row \(i) column \(j)")
            }
        }
        for rows in [0..<1, 5..<7, 12..<16, 3..<9] {
            #expect(gemm(rows: rows).map(\.bitPattern) == Array(all[(rows.lowerBound * n)..<(rows.upperBound * n)]).map(\.bitPattern),
                    "rows \(rows)")
        }
    }

    @Test func packingLayoutIsPanelMajorKMajorZeroPadded() {
        let n = 18, k = 3
        let w = (0..<(n * k)).map { Float($0) }
        var out = [Float](repeating: -1, count: Panel16.packedCount(n: n, k: k)!)
        #expect(out.count == 2 * 3 * 16)
        w.withUnsafeBufferPointer { wp in out.withUnsafeMutableBufferPointer { pack_f32_panel16(w: wp.baseAddress!, n: n, k: k, out: $0.baseAddress!) } }
        #expect(out[0] == w[0 * k + 0])          // panel 0, k 0, row 0
        #expect(out[1] == w[1 * k + 0])          // panel 0, k 0, row 1
        #expect(out[16] == w[0 * k + 1])         // panel 0, k 1, row 0
        #expect(out[48] == w[16 * k + 0])        // panel 1, k 0, row 16
        #expect(out[48 + 2] == 0)                // panel 1, row 18 does not exist: zero
        #expect(out[48 + 16 + 1] == w[17 * k + 1])
    }
}
