import StrataCore
@testable import StrataKernels
import Testing
import StrataTestSupport

/// The format-1.5 spatial kernels (Pad, Resize, ConvTranspose) against their twins on guarded
/// buffers, with widths around the 8-lane tile (tileRelativeSizes) and zero-sized planes.
@Suite("Spatial kernels: pad, resize, transposed convolution")
struct SpatialKernelTests {
    @Test("pad2d, every mode", arguments: KernelTable.pad2d.indices)
    func pad2d(entry index: Int) {
        let e = KernelTable.pad2d[index]
        var rng = SeededGenerator(seed: 31)
        for w in tileRelativeSizes(e.tile) where w > 2 {
            for (top, left, bottom, right) in [(0, 0, 0, 0), (1, 2, 2, 1), (0, 1, 2, 0)] {
                for mode in [PadMode.constant, .reflect, .edge] {
                    let planes = 2, h = 3, ho = top + h + bottom, wo = left + w + right
                    var xs = rng.floats(planes * h * w, in: -3...3)
                    xs[1] = .nan
                    var expected = [Float](repeating: 0, count: planes * ho * wo)
                    e.reference(xs, &expected, planes, h, w, top, left, bottom, right, mode, 0.5)
                    let x = guardedInput(xs), y = GuardedBuffer(count: planes * ho * wo)
                    e.kernel(x.readPointer, y.pointer, planes, h, w, top, left, bottom, right, mode, 0.5)
                    let d = disagreement(y.values, expected, e.agreement)
                    #expect(d == nil, "\(e.name) \(mode) w \(w) pads \((top, left, bottom, right)): \(d ?? "")")
                    #expect(y.canariesIntact)
                }
            }
        }
    }

    @Test("pad2d maps reflect and edge like numpy.pad")
    func padIndexRule() {
        // numpy.pad([0, 1, 2, 3], 2, mode="reflect") reads 2 1 | 0 1 2 3 | 2 1; "edge" 0 0 | … | 3 3.
        #expect((-2..<6).map { padSourceIndex($0, size: 4, mode: .reflect)! } == [2, 1, 0, 1, 2, 3, 2, 1])
        #expect((-2..<6).map { padSourceIndex($0, size: 4, mode: .edge)! } == [0, 0, 0, 1, 2, 3, 3, 3])
        #expect(padSourceIndex(-1, size: 4, mode: .constant) == nil)
    }

    @Test("resize2d, nearest and linear", arguments: KernelTable.resize2d.indices)
    func resize2d(entry index: Int) {
        let e = KernelTable.resize2d[index]
        var rng = SeededGenerator(seed: 32)
        for wo in tileRelativeSizes(e.tile) {
            for nearest in [true, false] {
                let planes = 3, h = 4, w = 5, ho = 7
                // Arbitrary in-range taps and weights: the kernel must follow the tables exactly.
                let rowIndex = (0..<(2 * ho)).map { ($0 * 7 + 3) % h }, colIndex = (0..<(2 * wo)).map { ($0 * 3 + 1) % w }
                let rowWeight = rng.floats(2 * ho, in: 0...1), colWeight = rng.floats(2 * wo, in: 0...1)
                let xs = rng.floats(planes * h * w, in: -2...2)
                var expected = [Float](repeating: 0, count: planes * ho * wo)
                e.reference(xs, &expected, planes, h, w, ho, wo, rowIndex, rowWeight, colIndex, colWeight, nearest)
                let x = guardedInput(xs), y = GuardedBuffer(count: planes * ho * wo)
                e.kernel(x.readPointer, y.pointer, planes, h, w, ho, wo, rowIndex, rowWeight, colIndex, colWeight, nearest)
                let d = disagreement(y.values, expected, e.agreement)
                #expect(d == nil, "\(e.name) nearest \(nearest) wo \(wo): \(d ?? "")")
                #expect(y.canariesIntact)
            }
        }
    }

    @Test("conv_transpose2d: strides, pads, dilation, groups", arguments: KernelTable.convTranspose2d.indices)
    func convTranspose2d(entry index: Int) {
        let e = KernelTable.convTranspose2d[index]
        var rng = SeededGenerator(seed: 33)
        // (k, stride, dilation, pad, output padding, group)
        for (k, s, d, pad, extra, group) in [(3, 2, 1, 1, 1, 1), (2, 2, 1, 0, 0, 2), (3, 1, 2, 2, 0, 1), (4, 3, 1, 1, 2, 2)] {
            for w in tileRelativeSizes(e.tile) where w > 0 {
                let h = 3, channels = 4, outChannels = 6
                let ho = (h - 1) * s - 2 * pad + d * (k - 1) + extra + 1, wo = (w - 1) * s - 2 * pad + d * (k - 1) + extra + 1
                let g = Window2D(h: h, w: w, kh: k, kw: k, sh: s, sw: s, dh: d, dw: d, padTop: pad, padLeft: pad, ho: ho, wo: wo)
                let x = guardedInput(rng.floats(channels * h * w, in: -2...2))
                let weights = guardedInput(rng.floats(channels * outChannels / group * k * k))
                let bias = rng.floats(outChannels)
                var expected = [Float](repeating: 0, count: outChannels * ho * wo)
                let y = GuardedBuffer(count: outChannels * ho * wo)
                bias.withUnsafeBufferPointer { b in
                    e.reference(x.readPointer, channels, weights.readPointer, b.baseAddress, &expected, outChannels, group, g)
                    e.kernel(x.readPointer, channels, weights.readPointer, b.baseAddress, y.pointer, outChannels, group, g)
                }
                // A sum of at most channels·k² products of |x| ≤ 2, |w| ≤ 1, plus the bias.
                let scales = [Float](repeating: Float(channels * k * k) * 2 + 1, count: expected.count)
                let dis = disagreement(y.values, expected, e.agreement, scales: scales)
                #expect(dis == nil, "\(e.name) \(g) group \(group): \(dis ?? "")")
                #expect(y.canariesIntact)
            }
        }
    }
}
