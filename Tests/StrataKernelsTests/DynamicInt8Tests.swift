import Testing
import StrataCore
@testable import StrataKernels
import StrataTestSupport

/// The dynamic-int8 path (docs/FORMAT.md "Dynamic int8"): the int8 dot kernels (the AVX2 shim and
/// its Swift twin) against a plain integer loop, the row quantizer against its scalar reference
/// on ordinary and extreme rows, and `gemm_i8dyn_packed16k4` against `gemm_i8dyn_reference` bit
/// for bit — every dot kernel, with and without a workspace, across tiles, K blocks, M blocks,
/// edge panels, batch positions and thread splits.
@Suite("dynamic int8")
struct DynamicInt8Tests {
    // MARK: dot kernels

    /// `c (+)= Σ a·w` by plain loops over the documented layout.
    static func dotByLoops(a: [Int8], lda: Int, rows: Int, w: [Int8], panelStride: Int, panels: Int, kq: Int,
                           c: inout [Int32], ldc: Int, accumulate: Bool) {
        for r in 0..<rows {
            for p in 0..<panels {
                for j in 0..<16 {
                    var sum: Int64 = 0
                    for q in 0..<kq {
                        for t in 0..<4 {
                            sum += Int64(a[r * lda + 4 * q + t]) * Int64(w[p * panelStride + 64 * q + 32 * (j / 8) + 4 * (j % 8) + t])
                        }
                    }
                    let at = r * ldc + 16 * p + j
                    c[at] = Int32(truncatingIfNeeded: (accumulate ? Int64(c[at]) : 0) + sum)
                }
            }
        }
    }

    /// `mixedRows`: the activations' first half non-negative, the rest signed, so a panel group
    /// meets non-negative tiles, tiles mixing both and signed tiles in one call.
    enum Fill: CaseIterable { case random, nonNegative, allMax, allMin, alternating, mixedRows }

    static func values(_ count: Int, _ fill: Fill, rng: inout SeededGenerator, forActivations: Bool) -> [Int8] {
        (0..<count).map { i in
            switch fill {
            case .mixedRows:
                return forActivations && i < count / 2 ? Int8(rng.next() % 128) : Int8(Int(rng.next() % 255) - 127)
            case .random: return Int8(Int(rng.next() % 255) - 127)
            case .nonNegative: return forActivations ? Int8(rng.next() % 128) : Int8(Int(rng.next() % 255) - 127)
            case .allMax: return 127
            case .allMin: return forActivations ? -127 : 127
            case .alternating: return i % 2 == 0 ? 127 : -127
            }
        }
    }

    /// Every kernel equals the loops bit for bit on rows 1…13, 1–5, 8 and 9 panels, K quads around
    /// the kernels' structure, random values and the extremes (all ±127: the largest pair sums
    /// vpmaddubsw can see), with and without accumulation and the non-negative-rows flags. The
    /// loops run once per case for all the kernels (they are the slow part).
    @Test(arguments: Fill.allCases)
    func dotKernelsEqualPlainLoops(fill: Fill) {
        var rng = SeededGenerator(seed: 11)
        for rows in 1...13 {
            for panels in [1, 2, 3, 4, 5, 8, 9] {
                for kq in [1, 2, 3, 7, 64, 65] where rows * panels * kq < 2000 || kq == 65 {
                    let lda = 4 * kq + 4 * (rows % 3), panelStride = 64 * kq + 64 * (panels % 2), ldc = 16 * panels + 8 * (rows % 2)
                    let a = Self.values(rows * lda, fill, rng: &rng, forActivations: true)
                    let w = Self.values(panels * panelStride, fill, rng: &rng, forActivations: false)
                    var flags = (0..<rows).map { r in UInt8((0..<4 * kq).allSatisfy { a[r * lda + $0] >= 0 } ? 1 : 0) }
                    if rows % 4 == 3 { flags = flags.map { _ in 0 } }  // a flag may always say "signed"
                    for accumulate in [false, true] {
                        let start = (0..<rows * ldc).map { _ in Int32(truncatingIfNeeded: rng.next() % 2_000_000) - 1_000_000 }
                        var expected = start
                        Self.dotByLoops(a: a, lda: lda, rows: rows, w: w, panelStride: panelStride, panels: panels, kq: kq,
                                        c: &expected, ldc: ldc, accumulate: accumulate)
                        for dot in DynamicInt8Dot.available {
                            var got = start
                            a.withUnsafeBufferPointer { ap in
                                w.withUnsafeBufferPointer { wp in
                                    flags.withUnsafeBufferPointer { fp in
                                        got.withUnsafeMutableBufferPointer { cp in
                                            dot(a: ap.baseAddress!, lda: lda, rows: rows, nonNegative: fp.baseAddress!, w: wp.baseAddress!,
                                                panelStride: panelStride, panels: panels, kq: kq, c: cp.baseAddress!, ldc: ldc,
                                                accumulate: accumulate)
                                        }
                                    }
                                }
                            }
                            // Columns between the panels' 16·panels and ldc are untouched.
                            #expect(got == expected, "\(dot) \(fill) rows \(rows) panels \(panels) kq \(kq) accumulate \(accumulate)")
                        }
                    }
                }
            }
        }
    }

    // MARK: row quantization

    static func quantize(_ x: [Float]) -> (row: DynamicInt8Row, q: [Int8]) {
        let padded = (x.count + 3) / 4 * 4
        var q = [Int8](repeating: 99, count: padded)
        let row = x.withUnsafeBufferPointer { dynamicInt8Row($0.baseAddress!, k: x.count) }
        x.withUnsafeBufferPointer { xp in
            q.withUnsafeMutableBufferPointer {
                dynamicInt8Quantize(xp.baseAddress!, count: x.count, padded: padded, reciprocal: row.reciprocal, out: $0.baseAddress!)
            }
        }
        return (row, q)
    }

    /// Rows that stress each rule of step 2: ordinary, all negative or non-negative, -0, halfway
    /// points (x·r = n + ½, rounded to even), tiny (around the 2^-100 threshold), subnormal values
    /// in an ordinary row, a NaN or an infinity anywhere, and the extremes of f32.
    static var extremeRows: [[Float]] {
        var rng = SeededGenerator(seed: 3)
        var rows: [[Float]] = [[], [0], [-0.0, 0, -0.0], [1], [-1], [127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5],
                               [Float.greatestFiniteMagnitude, -Float.greatestFiniteMagnitude, 1],
                               [0x1p-100, -0x1p-101], [0x1.fffffep-101, 1e-35], [-0x1p-100], [0x1p-126, Float(bitPattern: 1), 1],
                               [1, .nan, 2], [.infinity, 1], [1, 2, -.infinity], [-.nan]]
        for k in [3, 7, 8, 9, 17, 100] {
            rows.append(rng.floats(k, in: -3...3))
            rows.append(rng.floats(k, in: 0...3))
            rows.append(rng.floats(k, in: -3...0))
            var spiky = rng.floats(k, in: -1e-3...1e-3)
            spiky[k / 2] = 1e30
            rows.append(spiky)
        }
        return rows
    }

    @Test func rowQuantizationEqualsTheScalarReference() {
        for x in Self.extremeRows {
            let (row, q) = Self.quantize(x)
            let ref = x.withUnsafeBufferPointer { dynamic_int8_row_reference($0.baseAddress!, k: x.count) }
            #expect(row.scale.bitPattern == ref.scale.bitPattern || (row.scale.isNaN && ref.scale.isNaN), "\(x)")
            #expect(Array(q[..<x.count]) == ref.q, "\(x)")
            #expect(q[x.count...].allSatisfy { $0 == 0 }, "padding of \(x)")
            #expect(!row.nonNegative || ref.q.allSatisfy { $0 >= 0 }, "a row flagged non-negative has a negative value: \(x)")
        }
    }

    @Test func quantizationRulesHold() {
        #expect(Self.quantize([127, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 126.5]).q == [127, 0, 2, 2, 0, -2, -2, 126])
        #expect(Self.quantize([0x1p-100, -0x1p-101]).row == DynamicInt8Row(scale: 0x1p-100 / 127, reciprocal: 127 / 0x1p-100, nonNegative: false))
        #expect(Self.quantize([0x1.fffffep-101, 1e-35]).row.scale == 0)
        #expect(Self.quantize([1, .nan]).row.scale.isNaN && Self.quantize([-.infinity]).q == [0, 0, 0, 0])
        #expect(Self.quantize([-0.0, 1, 2]).row.nonNegative && !Self.quantize([-1e-30, 1]).row.nonNegative)
    }

    // MARK: the GEMM

    static func withOptional(_ a: [Float]?, _ body: (UnsafePointer<Float>?) -> Void) {
        if let a { a.withUnsafeBufferPointer { body($0.baseAddress!) } } else { body(nil) }
    }

    static func gemm(_ w: QuantizedTestWeights, x: [Float], m: Int, lda: Int, bias: [Float]?, activation: Activation,
                     dot: DynamicInt8Dot, workspace: GuardedBuffer?, panels: Range<Int>? = nil, y: inout [Float], ldy: Int) {
        withOptional(bias) { b in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    gemm_i8dyn_packed16k4(x: xp.baseAddress!, lda: lda, weights: w.weights, bias: b, y: yp.baseAddress!, ldy: ldy,
                                          m: m, n: w.n, k: w.k, activation: activation, panels: panels,
                                          workspace: workspace?.pointer, dot: dot)
                }
            }
        }
    }

    static func reference(_ w: QuantizedTestWeights, x: [Float], m: Int, lda: Int, bias: [Float]?, activation: Activation,
                          ldy: Int) -> [Float] {
        var y = [Float](repeating: -7, count: m * ldy)
        withOptional(bias) { b in
            x.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    gemm_i8dyn_reference(x: xp.baseAddress!, lda: lda, weights: w.weights, bias: b, y: yp.baseAddress!, ldy: ldy,
                                         m: m, n: w.n, k: w.k, activation: activation)
                }
            }
        }
        return y
    }

    static let ms = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 97, 101]
    static let ns = [1, 15, 16, 17, 33, 64, 70]
    static let ks = [1, 3, 4, 5, 31, 100, 1023, 1024, 1025, 2100]

    /// Bit for bit the scalar reference, for every dot kernel, with the session's workspace (made
    /// of NaNs) and without; strides wider than the rows; rows with mixed signs and non-negative
    /// rows (the unsigned tiles), NaN and zero rows; every activation; with and without a bias.
    /// The reference is computed once per case for all the kernels (it is the slow part).
    @Test(arguments: ms)
    func gemmEqualsTheScalarReference(m: Int) {
        for n in Self.ns {
            for (i, k) in Self.ks.enumerated() where k <= 100 || (m < 97 ? [1, 17, 70].contains(n) : n == 17 && k == 1025) {
                var rng = SeededGenerator(seed: UInt64(m * 7919 + n * 31 + k))
                let w = QuantizedTestWeights(.int8Dynamic, n: n, k: k, rng: &rng)
                let lda = k + (m % 2) * 3, ldy = n + (m % 3)
                var x = rng.floats(m * lda, in: -2...2)
                for r in 0..<m where r % 3 == 1 { for kk in 0..<k { x[r * lda + kk] = abs(x[r * lda + kk]) } }  // post-ReLU rows
                if m > 4 { for kk in 0..<k { x[4 * lda + kk] = 0 } }                                          // a zero row
                if m > 5 { x[5 * lda + k / 2] = .nan }                                                         // a NaN row
                let bias: [Float]? = (m + k) % 2 == 0 ? rng.floats(n) : nil
                let activation = Activation.allCases[(m + n + i) % Activation.allCases.count]
                let expected = Self.reference(w, x: x, m: m, lda: lda, bias: bias, activation: activation, ldy: ldy)
                for dot in DynamicInt8Dot.available {
                    for useWorkspace in [true, false] {
                        let ws = useWorkspace ? GuardedBuffer(count: gemmWorkspaceFloats) : nil
                        ws?.fill(.nan)
                        var y = [Float](repeating: -7, count: m * ldy)
                        Self.gemm(w, x: x, m: m, lda: lda, bias: bias, activation: activation, dot: dot, workspace: ws, y: &y, ldy: ldy)
                        #expect(y.map(\.bitPattern) == expected.map(\.bitPattern),
                                "\(dot) m \(m) n \(n) k \(k) \(activation) bias \(bias != nil) workspace \(useWorkspace)")
                    }
                }
            }
        }
    }

    /// Extremes of the integer path: weights and activations all ±127 at the largest k the
    /// format allows, so the int32 sums reach ±127²·133 144 = ±2 147 479 576 (just inside int32).
    @Test(arguments: DynamicInt8Dot.available)
    func largestSumsAreExact(dot: DynamicInt8Dot) {
        let k = QuantizedPanel16.maxDynamicK, n = 17
        var rng = SeededGenerator(seed: 1)
        let w = QuantizedTestWeights(.int8Dynamic, n: n, k: k, rng: &rng, fill: { j, kk in j % 2 == 0 ? 127 : (kk % 2 == 0 ? -127 : 127) })
        let x = (0..<2 * k).map { i in i < k ? Float(3) : (i % 2 == 0 ? -3 : 3) }
        let expected = Self.reference(w, x: x, m: 2, lda: k, bias: nil, activation: .identity, ldy: n)
        var y = [Float](repeating: 0, count: 2 * n)
        let ws = GuardedBuffer(count: gemmWorkspaceFloats)
        Self.gemm(w, x: x, m: 2, lda: k, bias: nil, activation: .identity, dot: dot, workspace: ws, y: &y, ldy: n)
        #expect(y.map(\.bitPattern) == expected.map(\.bitPattern))
        let scale = w.weights.scales!.load(as: Float.self)
        #expect(y[0] == Float(Int32(127 * 127 * k)) * ((3 as Float) / 127 * scale))
    }

    /// Each sample's output bits do not depend on the batch around it, its position, or the split
    /// of rows (multiples of 6) or panels between threads (`GemmJob`), each with its own workspace.
    @Test(arguments: DynamicInt8Dot.available)
    func resultsDoNotDependOnBatchPositionOrThreadSplit(dot: DynamicInt8Dot) {
        let n = 40, k = 1030, total = 110  // 2 K blocks, an edge panel of 8, M blocks 96 + 14
        var rng = SeededGenerator(seed: 5)
        let w = QuantizedTestWeights(.int8Dynamic, n: n, k: k, rng: &rng)
        let bias = rng.floats(n), x = rng.floats(total * k)
        let expected = Self.reference(w, x: x, m: total, lda: k, bias: bias, activation: .relu, ldy: n).map(\.bitPattern)
        let ws = (0..<3).map { _ in GuardedBuffer(count: gemmWorkspaceFloats) }
        for start in [0, 1, 5, 96, 100] {
            for m in [1, 2, 7, 50] where start + m <= total {
                var y = [Float](repeating: 0, count: m * n)
                let slice = Array(x[(start * k)..<((start + m) * k)])
                Self.gemm(w, x: slice, m: m, lda: k, bias: bias, activation: .relu, dot: dot, workspace: ws[0], y: &y, ldy: n)
                #expect(y.map(\.bitPattern) == Array(expected[(start * n)..<((start + m) * n)]), "rows \(start)..<\(start + m)")
            }
        }
        for threads in 2...3 {
            var byPanels = [Float](repeating: 0, count: total * n), byRows = byPanels
            let panels = Panel16.panelCount(n)
            for t in 0..<threads {
                Self.gemm(w, x: x, m: total, lda: k, bias: bias, activation: .relu, dot: dot, workspace: ws[t],
                          panels: (panels * t / threads)..<(panels * (t + 1) / threads), y: &byPanels, ldy: n)
                let tiles = (total + 5) / 6
                let r0 = min(total, tiles * t / threads * 6), r1 = min(total, tiles * (t + 1) / threads * 6)
                var part = [Float](repeating: 0, count: (r1 - r0) * n)
                Self.gemm(w, x: Array(x[(r0 * k)..<(r1 * k)]), m: r1 - r0, lda: k, bias: bias, activation: .relu, dot: dot,
                          workspace: ws[t], y: &part, ldy: n)
                byRows.replaceSubrange((r0 * n)..<(r1 * n), with: part)
            }
            #expect(byPanels.map(\.bitPattern) == expected, "\(threads) threads by panels")
            #expect(byRows.map(\.bitPattern) == expected, "\(threads) threads by rows")
        }
    }

    /// The scratch the GEMM carves out of the per-thread workspace fits in it.
    @Test func workspaceFits() {
        #expect(DynamicInt8Workspace.bytes <= gemmWorkspaceFloats * 4)
        #expect(KernelTable.dynamicInt8Dot == DynamicInt8Dot.available && KernelTable.dynamicInt8Dot.contains(.best))
    }
}
