import Testing
import StrataCore
@testable import StrataKernels
import StrataTestSupport

/// Random quantized panel16 weights of one dtype (`.int8Dynamic`: int8 in layout panel16k4), laid
/// out as docs/FORMAT.md says (`QuantizedPanel16`), inside a buffer that ends against a guard page.
struct QuantizedTestWeights {
    let kind: PackedWeights.Kind
    let n: Int, k: Int
    let buffer: GuardedBuffer
    let weights: PackedWeights

    static func dtype(_ kind: PackedWeights.Kind) -> DType {
        switch kind { case .f32: .f32; case .f16: .f16; case .bf16: .bf16; case .int8, .int8Dynamic: .int8; case .int4: .int4 }
    }

    /// `fill(row, column)`, if given, sets the int8 values of `.int8Dynamic` weights.
    init(_ kind: PackedWeights.Kind, n: Int, k: Int, rng: inout SeededGenerator, fill: ((Int, Int) -> Int8)? = nil) {
        self.kind = kind; self.n = n; self.k = k
        let layout = QuantizedPanel16(dtype: Self.dtype(kind), layout: kind == .int8Dynamic ? .panel16k4 : .panel16, n: n, k: k)!
        buffer = GuardedBuffer(count: (layout.totalBytes + 3) / 4)
        buffer.fill(0)
        let raw = UnsafeMutableRawPointer(buffer.pointer)
        let panels = Panel16.panelCount(n)
        for p in 0..<panels {
            for j in 0..<16 where 16 * p + j < n {
                for kk in 0..<k {
                    let v = Float(rng.next() % 2001) / 1000 - 1
                    switch kind {
                    case .f32: raw.storeBytes(of: v, toByteOffset: ((p * k + kk) * 16 + j) * 4, as: Float.self)
                    case .f16: raw.storeBytes(of: Float16(v), toByteOffset: ((p * k + kk) * 16 + j) * 2, as: Float16.self)
                    case .bf16: raw.storeBytes(of: UInt16(v.bitPattern >> 16), toByteOffset: ((p * k + kk) * 16 + j) * 2, as: UInt16.self)
                    case .int8: raw.storeBytes(of: Int8(Int(rng.next() % 255) - 127), toByteOffset: (p * k + kk) * 16 + j, as: Int8.self)
                    case .int8Dynamic:
                        raw.storeBytes(of: fill?(16 * p + j, kk) ?? Int8(Int(rng.next() % 255) - 127),
                                       toByteOffset: p * layout.storedK * 16 + panel16k4ByteOffset(row: j, column: kk), as: Int8.self)
                    case .int4:
                        let q = UInt8(rng.next() % 15 + 1)  // value + 8 in 1 … 15
                        let at = (p * layout.storedK + kk) * 8 + j % 8
                        let old = raw.load(fromByteOffset: at, as: UInt8.self)
                        raw.storeBytes(of: j < 8 ? (old & 0xF0) | q : (old & 0x0F) | (q << 4), toByteOffset: at, as: UInt8.self)
                    }
                }
            }
            if kind == .int4 {  // padding nibbles hold value 0 (nibble 8)
                for kk in 0..<layout.storedK {
                    for j in 0..<16 where 16 * p + j >= n || kk >= k {
                        let at = (p * layout.storedK + kk) * 8 + j % 8
                        let old = raw.load(fromByteOffset: at, as: UInt8.self)
                        raw.storeBytes(of: j < 8 ? (old & 0xF0) | 8 : (old & 0x0F) | 0x80, toByteOffset: at, as: UInt8.self)
                    }
                }
            }
        }
        let scales = raw + layout.scalesOffset
        if kind == .int8 || kind == .int8Dynamic {
            for r in 0..<n { scales.storeBytes(of: Float(rng.next() % 1000 + 1) / 64_000, toByteOffset: r * 4, as: Float.self) }
        } else if kind == .int4 {
            let blocks = layout.storedK / 32
            for p in 0..<panels { for b in 0..<blocks { for j in 0..<16 where 16 * p + j < n {
                scales.storeBytes(of: Float16(Float(rng.next() % 1000 + 1) / 8000), toByteOffset: ((p * blocks + b) * 16 + j) * 2, as: Float16.self)
            } } }
        }
        weights = PackedWeights(kind: kind, values: UnsafeRawPointer(raw),
                                scales: layout.scaleBytes > 0 ? UnsafeRawPointer(scales) : nil)
    }

    /// The dequantized weight, packed as f32 panel16.
    func dequantizedPacked() -> [Float] {
        var rowMajor = [Float](repeating: 0, count: n * k)
        dequantize_panel16_reference(weights, n: n, k: k, out: &rowMajor)
        var packed = [Float](repeating: 0, count: Panel16.packedCount(n: n, k: k)!)
        rowMajor.withUnsafeBufferPointer { pack_f32_panel16(w: $0.baseAddress!, n: n, k: k, out: &packed) }
        return packed
    }
}

/// `gemm_q_packed16_simd8` for every weight dtype on sizes around its tiles (rows 1/2/4/6, panels
/// of 16 and groups of 2 and 4, int4 blocks of 32, K blocks of the decoded path) against its
/// scalar twin, bit for bit, both without a workspace (decode in the tiles) and with one (each K
/// block of a panel decoded once, f32 packed-A tiles from `quantDecodeMinRows` rows); f16, bf16 and
/// int4 also equal the f32 GEMM on the dequantized weights bit for bit.
@Suite("gemm_q_packed16_simd8")
struct QuantGemmTests {
    static let kinds: [PackedWeights.Kind] = [.f16, .bf16, .int8, .int4]
    static let ms = [1, 2, 3, 4, 5, 6, 7, 13, 97, 101]
    static let ns = [1, 15, 16, 17, 33, 64, 65]
    static let ks = [1, 31, 32, 33, 64, 100, 257, 530]

    func run(_ kind: PackedWeights.Kind, m: Int, n: Int, k: Int, bias: Bool, activation: Activation, seed: UInt64,
             workspace: Bool) -> (got: [Float], twin: [Float], f32: [Float]) {
        var rng = SeededGenerator(seed: seed)
        let w = QuantizedTestWeights(kind, n: n, k: k, rng: &rng)
        let x = GuardedBuffer(rng.floats(m * k)), b = GuardedBuffer(rng.floats(n))
        w.buffer.makeReadOnly(); x.makeReadOnly(); b.makeReadOnly()
        let y = GuardedBuffer(count: m * n)
        y.fill(.nan)
        let scratch = GuardedBuffer(count: gemmWorkspaceFloats)
        scratch.fill(.nan)
        gemm_packed16_simd8(x: x.pointer, lda: k, weights: w.weights, bias: bias ? b.pointer : nil, y: y.pointer, ldy: n,
                            m: m, n: n, k: k, activation: activation, workspace: workspace ? scratch.pointer : nil)
        var twin = [Float](repeating: .nan, count: m * n), f32 = twin
        gemm_q_packed16_reference(x: x.pointer, lda: k, weights: w.weights, bias: bias ? b.pointer : nil, y: &twin, ldy: n,
                                  m: m, n: n, k: k, activation: activation)
        let deq = w.dequantizedPacked()
        gemm_f32_packed16_simd8(x: x.pointer, lda: k, packed: deq, bias: bias ? b.pointer : nil, y: &f32, ldy: n,
                                m: m, n: n, k: k, activation: activation)
        return (Array(UnsafeBufferPointer(start: y.pointer, count: m * n)), twin, f32)
    }

    @Test(arguments: kinds, ms)
    func matchesScalarTwinBitwise(kind: PackedWeights.Kind, m: Int) {
        for n in Self.ns {
            for (i, k) in Self.ks.enumerated() where k <= 100 || [1, 17, 33].contains(n) {  // deep K: a few widths
                let activation = Activation.allCases[(m + n + i) % Activation.allCases.count]
                let seed = UInt64(m * 7919 + n * 31 + k)
                let r = run(kind, m: m, n: n, k: k, bias: (m + k) % 2 == 0, activation: activation, seed: seed, workspace: true)
                let plain = run(kind, m: m, n: n, k: k, bias: (m + k) % 2 == 0, activation: activation, seed: seed, workspace: false)
                #expect(r.got.map(\.bitPattern) == r.twin.map(\.bitPattern), "\(kind) m \(m) n \(n) k \(k) \(activation) (workspace)")
                #expect(plain.got.map(\.bitPattern) == r.twin.map(\.bitPattern), "\(kind) m \(m) n \(n) k \(k) \(activation) (no workspace)")
                if kind == .int8 {
                    // int8 sums in another order than f32's: compared within rounding, after a bounded-slope activation only.
                    #expect(!Activation.wellConditionedCases.contains(activation) ||
                            zip(r.got, r.f32).allSatisfy { isClose($0, $1, scale: Float(k) + 1) }, "\(kind) m \(m) n \(n) k \(k) \(activation)")
                } else {
                    #expect(r.got.map(\.bitPattern) == r.f32.map(\.bitPattern), "\(kind) m \(m) n \(n) k \(k): not the f32 GEMM on dequantized weights")
                }
            }
        }
    }

    /// Rows and panels split as the engine's `GemmJob` splits them for 1–3 threads (each thread
    /// with its own workspace), batch positions, and both strategies: every sample's output is the
    /// same bits as the scalar twin's.
    @Test(arguments: kinds)
    func resultsDoNotDependOnBatchPositionOrThreadSplit(kind: PackedWeights.Kind) {
        let n = 70, k = 600, total = 200  // 3 K blocks of 200, an edge panel of 6, M blocks 96 + 96 + 8
        var rng = SeededGenerator(seed: 5)
        let w = QuantizedTestWeights(kind, n: n, k: k, rng: &rng)
        let bias = rng.floats(n), rows = rng.floats(total * k)
        let scratch = (0..<3).map { _ in GuardedBuffer(count: gemmWorkspaceFloats) }
        func gemm(_ start: Int, m: Int, panels: Range<Int>? = nil, thread: Int = 0, workspace: Bool = true, into y: inout [Float], at: Int = 0) {
            rows.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    gemm_packed16_simd8(x: xp.baseAddress! + start * k, lda: k, weights: w.weights, bias: bias, y: yp.baseAddress! + at * n,
                                        ldy: n, m: m, n: n, k: k, activation: .relu, panels: panels,
                                        workspace: workspace ? scratch[thread].pointer : nil)
                }
            }
        }
        var twin = [Float](repeating: 0, count: total * n)
        gemm_q_packed16_reference(x: rows, lda: k, weights: w.weights, bias: bias, y: &twin, ldy: n, m: total, n: n, k: k, activation: .relu)
        let expected = twin.map(\.bitPattern)
        for workspace in [true, false] {
            var all = [Float](repeating: 0, count: total * n)
            gemm(0, m: total, workspace: workspace, into: &all)
            #expect(all.map(\.bitPattern) == expected, "\(kind) whole batch, workspace \(workspace)")
            for (start, m) in [(0, 1), (5, 1), (7, 2), (13, 3), (96, 4), (95, 6), (150, 50), (3, 97), (1, 199)] {
                var part = [Float](repeating: 0, count: m * n)
                gemm(start, m: m, workspace: workspace, into: &part)
                #expect(part.map(\.bitPattern) == Array(expected[(start * n)..<((start + m) * n)]), "\(kind) rows \(start)..<\(start + m), workspace \(workspace)")
            }
        }
        // GemmJob's splits: rows in 6-row tiles when m ≥ 12·threads, else panels.
        let panels = Panel16.panelCount(n)
        for threads in 1...3 {
            for m in [1, 5, 16, 36, 200] {
                var y = [Float](repeating: .nan, count: m * n)
                for t in 0..<threads {
                    if m >= 12 * threads {
                        let tiles = (m + 5) / 6
                        let r0 = min(m, tiles * t / threads * 6), r1 = min(m, tiles * (t + 1) / threads * 6)
                        if r1 > r0 { gemm(r0, m: r1 - r0, thread: t, into: &y, at: r0) }
                    } else {
                        let p0 = panels * t / threads, p1 = panels * (t + 1) / threads
                        if p1 > p0 { gemm(0, m: m, panels: p0..<p1, thread: t, into: &y) }
                    }
                }
                #expect(y.map(\.bitPattern) == Array(expected[0..<(m * n)]), "\(kind) m \(m) on \(threads) threads")
            }
        }
    }

    @Test func zeroRowsWriteNothing() {
        var rng = SeededGenerator(seed: 1)
        let w = QuantizedTestWeights(.int4, n: 16, k: 32, rng: &rng)
        var y: [Float] = [7]
        let x: [Float] = [1]
        gemm_packed16_simd8(x: x, lda: 32, weights: w.weights, bias: nil, y: &y, ldy: 16, m: 0, n: 16, k: 32, activation: .identity)
        #expect(y == [7])
    }
}
