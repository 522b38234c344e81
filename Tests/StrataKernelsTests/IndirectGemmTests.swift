import StrataCore
@testable import StrataKernels
import Testing
import StrataTestSupport

/// The indirect GEMM (`KernelTable.indirectGemm`) against its twin on tile-relative sizes, over the
/// column geometries the convolutions use: a 1×1 Conv's planes, a padded 3×3 grid, a dilated 5×5
/// grid. The columns sit in a guarded buffer that ends at the last value read, so a tile that reads
/// past column `n` (the edge panel) faults.
@Suite("Indirect GEMM")
struct IndirectGemmTests {
    /// (channels, kh, kw, rowStep, columnStep) with the row pitch of the columns: `pitch` extra floats per window row.
    static let geometries: [(name: String, channels: Int, kh: Int, kw: Int, dilation: Int)] = [
        ("1×1 planes", 3, 1, 1, 1), ("3×3 grid", 2, 3, 3, 1), ("5×5 grid, dilation 2", 1, 5, 5, 2),
    ]

    @Test("gemm_f32_indirect16 against its twin", arguments: KernelTable.indirectGemm.indices)
    func againstTwin(entry index: Int) {
        let e = KernelTable.indirectGemm[index]
        var rng = SeededGenerator(seed: 171)
        for geometry in Self.geometries {
            for n in tileRelativeSizes(e.tile) {
                // A grid row pitch wider than the window; planes of n + pitch floats per channel.
                let pitch = 7 + (geometry.kw - 1) * geometry.dilation
                let rowStep = geometry.kh == 1 ? 0 : geometry.dilation * pitch
                let plane = n + (geometry.kh - 1) * rowStep + (geometry.kw - 1) * geometry.dilation + 3
                let columns = IndirectColumns(channels: geometry.channels, kh: geometry.kh, kw: geometry.kw,
                                              channelPitch: plane, rowStep: rowStep, columnStep: geometry.dilation)
                let k = columns.k
                // Exactly as many floats as the last row's last column needs.
                let count = max(1, columns.offset(k - 1) + n)
                for m in [1, 2, 5, 6, 7, 13] {
                    let bs = rng.floats(count), ws = rng.floats(m * k), rb = rng.floats(m)
                    let b = guardedInput(bs)
                    let act: Activation = m == 7 ? .gelu : .relu
                    for rowBias in [false, true] {
                        var expected = [Float](repeating: 0, count: m * max(n, 1))
                        var workspace = [Float](repeating: 0, count: columns.workspaceFloats + 2)
                        ws.withUnsafeBufferPointer { w in rb.withUnsafeBufferPointer { r in
                            workspace.withUnsafeMutableBufferPointer { wsp in
                                e.reference(w.baseAddress!, k, b.readPointer, columns, rowBias ? r.baseAddress! : nil,
                                            &expected, max(n, 1), m, n, act, wsp.baseAddress!)
                            }
                        } }
                        let y = GuardedBuffer(count: m * max(n, 1))
                        y.fill(.nan)
                        ws.withUnsafeBufferPointer { w in rb.withUnsafeBufferPointer { r in
                            workspace.withUnsafeMutableBufferPointer { wsp in
                                e.kernel(w.baseAddress!, k, b.readPointer, columns, rowBias ? r.baseAddress! : nil,
                                         y.pointer, max(n, 1), m, n, act, wsp.baseAddress!)
                            }
                        } }
                        let got = n == 0 ? [] : y.values, want = n == 0 ? [] : expected
                        let scales = (0..<(m * max(n, 1))).map { idx -> Float in
                            let i = idx / max(n, 1), j = idx % max(n, 1)
                            var s = rowBias ? abs(rb[i]) : 0
                            if j < n { for kk in 0..<k { s += abs(ws[i * k + kk] * bs[columns.offset(kk) + j]) } }
                            return s
                        }
                        let d = disagreement(got, want, e.agreement, scales: n == 0 ? nil : scales)
                        #expect(d == nil, "\(e.name) \(geometry.name) m \(m) n \(n) rowBias \(rowBias): \(d ?? "")")
                        #expect(y.canariesIntact)
                    }
                }
            }
        }
    }

    @Test("the indirect GEMM over a padded grid gives the bits of im2col + gemm_f32_packed16 for a stride-1 Conv")
    func sameBitsAsIm2col() {
        var rng = SeededGenerator(seed: 172)
        // (C, H, W, M, k, pad, dilation)
        let cases = [(3, 7, 6, 5, 3, 1, 1), (2, 16, 17, 17, 3, 0, 1), (4, 15, 13, 6, 5, 2, 2), (1, 1, 1, 1, 1, 0, 1),
                     (16, 6, 19, 15, 1, 1, 1), (5, 17, 16, 16, 3, 2, 2)]
        for (c, h, w, m, kk, pad, d) in cases {
            let ho = h + 2 * pad - d * (kk - 1), wo = w + 2 * pad - d * (kk - 1)
            guard ho > 0, wo > 0 else { continue }
            let g = Window2D(h: h, w: w, kh: kk, kw: kk, sh: 1, sw: 1, dh: d, dw: d, padTop: pad, padLeft: pad, ho: ho, wo: wo)
            let k = c * kk * kk, positions = ho * wo, pitch = w + 2 * pad, hp = h + 2 * pad
            let x = rng.floats(c * h * w), weights = rng.floats(m * k), bias = rng.floats(m)
            // im2col + the packed GEMM (the route of strided Convs).
            var col = [Float](repeating: 0, count: Panel16.panelCount(positions) * 16 * k)
            var viaIm2col = [Float](repeating: 0, count: m * positions)
            im2col_panel16_f32_simd8(x: x, channels: c, window: g, p0: 0, count: positions, out: &col)
            gemm_f32_packed16_simd8(x: weights, lda: k, packed: col, bias: nil, rowBias: bias, y: &viaIm2col, ldy: positions,
                                    m: m, n: positions, k: k, activation: .relu)
            // The padded grid + the indirect GEMM, then the wo real columns of each grid row.
            var padded = [Float](repeating: 0, count: c * hp * pitch)
            pad2d_f32(x: x, y: &padded, planes: c, h: h, w: w, top: pad, left: pad, bottom: pad, right: pad, mode: .constant, value: 0)
            let columns = IndirectColumns(channels: c, kh: kk, kw: kk, channelPitch: hp * pitch, rowStep: d * pitch, columnStep: d)
            let n = (ho - 1) * pitch + wo
            var grid = [Float](repeating: .nan, count: m * n), workspace = [Float](repeating: 0, count: columns.workspaceFloats + 2)
            gemm_f32_indirect16_simd8(w: weights, lda: k, b: padded, columns: columns, rowBias: bias, y: &grid, ldy: n, m: m, n: n,
                                      activation: .relu, workspace: &workspace)
            var viaGrid = [Float](repeating: 0, count: m * positions)
            for i in 0..<m { for oy in 0..<ho { for ox in 0..<wo { viaGrid[i * positions + oy * wo + ox] = grid[i * n + oy * pitch + ox] } } }
            #expect(viaGrid.map(\.bitPattern) == viaIm2col.map(\.bitPattern), "C\(c) \(h)×\(w) M\(m) k\(kk) pad \(pad) d\(d)")
        }
    }
}
