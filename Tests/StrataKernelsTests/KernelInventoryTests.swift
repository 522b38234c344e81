import StrataCore
@testable import StrataKernels
import Testing
import StrataTestSupport

/// Sizes relative to a kernel's tile: zero, one less, equal, one more, and a prime above two tiles.
func tileRelativeSizes(_ tile: Int) -> [Int] {
    var prime = 2 * tile + 1
    while (2..<prime).contains(where: { prime % $0 == 0 }) { prime += 1 }
    return [0, tile - 1, tile, tile + 1, prime]
}

/// The first disagreement between a kernel's results and its twin's under `agreement`, or nil.
/// `scales`, if given, is each value's error scale (see `KernelAgreement.within`).
func disagreement(_ actual: [Float], _ expected: [Float], _ agreement: KernelAgreement, scales: [Float]? = nil) -> String? {
    guard actual.count == expected.count else { return "\(actual.count) values, the twin \(expected.count)" }
    for i in actual.indices {
        let a = actual[i], e = expected[i]
        let ok: Bool
        switch agreement {
        case .bitwise: ok = a.bitPattern == e.bitPattern || (a.isNaN && e.isNaN)
        case .within(let tolerance): ok = isClose(a, e, scale: scales?[i], tolerance: tolerance)
        }
        if !ok { return "at \(i): \(a) (0x\(String(a.bitPattern, radix: 16))), twin \(e) (0x\(String(e.bitPattern, radix: 16)))" }
    }
    return nil
}

/// A read-only guarded input holding `values`.
func guardedInput(_ values: [Float], edge: GuardedBuffer.Edge = .trailing) -> GuardedBuffer {
    let b = GuardedBuffer(values, edge: edge)
    b.makeReadOnly()
    return b
}

/// Runs `body` with a pointer to `values`, or nil.
func withOptionalPointer(_ values: [Float]?, _ body: (UnsafePointer<Float>?) -> Void) {
    if let values { values.withUnsafeBufferPointer { body($0.baseAddress!) } } else { body(nil) }
}

/// The activations whose f32 definition is exact (no rounding), so kernel and twin agree bitwise.
func isExactActivation(_ a: Activation) -> Bool {
    switch a {
    case .identity, .relu, .leakyRelu, .clip, .abs, .neg, .sqrt, .reciprocal: return true
    default: return false
    }
}

/// A window of `k × k` taps with stride `s`, dilation `d` and padding `pad` on every side whose
/// output is `ho × wo`, over an input just large enough.
func window(k: Int, s: Int, d: Int, pad: Int, ho: Int, wo: Int) -> Window2D {
    func input(_ o: Int) -> Int { max(1, (o - 1) * s + d * (k - 1) + 1 - 2 * pad) }
    let h = input(ho), w = input(wo)
    func output(_ i: Int) -> Int { max(0, (i + 2 * pad - d * (k - 1) - 1) / s + 1) }
    return Window2D(h: h, w: w, kh: k, kw: k, sh: s, sw: s, dh: d, dw: d, padTop: pad, padLeft: pad,
                    ho: min(ho, output(h)), wo: min(wo, output(w)))
}

/// The windows the pooling and convolution kernels are driven with, each output width around the
/// 8-lane tile: the 2×2/2 pool (its paired SIMD path), a padded 3×3/1, a dilated strided 3×3.
let testWindows: [Window2D] = tileRelativeSizes(8).flatMap { wo in
    [window(k: 2, s: 2, d: 1, pad: 0, ho: 3, wo: wo), window(k: 3, s: 1, d: 1, pad: 1, ho: 4, wo: wo),
     window(k: 3, s: 2, d: 2, pad: 2, ho: 2, wo: wo)]
}

/// Every kernel of `KernelTable` against its scalar reference twin, on tile-relative sizes, with
/// inputs read-only against guard pages and outputs against guard pages (canaries checked).
@Suite("Kernel inventory: every kernel against its twin")
struct KernelInventoryTests {
    @Test("every kernel and twin in the inventory has a unique snake_case name")
    func namesAreUniqueAndSnakeCase() {
        let names = KernelTable.kernelNames + KernelTable.referenceNames
        #expect(Set(names).count == names.count)
        for name in names {
            #expect(name.allSatisfy { $0 == "_" || $0.isNumber || ($0.isLowercase && $0.isASCII) } && name.contains("_"), "\(name)")
        }
        for name in KernelTable.referenceNames { #expect(name.hasSuffix("_reference"), "\(name)") }
    }

    @Test("activations", arguments: KernelTable.activation.indices)
    func activation(entry index: Int) {
        let e = KernelTable.activation[index]
        for count in tileRelativeSizes(e.tile) {
            for act in Activation.allCases {
                let xs = activationInput(count: count, seed: UInt64(count))
                var expected = [Float](repeating: 0, count: count)
                e.reference(xs, &expected, count, act)
                for edge in GuardedBuffer.Edge.allCases {
                    let x = guardedInput(xs, edge: edge), y = GuardedBuffer(count: count, edge: edge)
                    e.kernel(x.readPointer, y.pointer, count, act)
                    let d = disagreement(y.values, expected, isExactActivation(act) ? .bitwise : e.agreement)
                    #expect(d == nil, "\(e.name) \(act) × \(count) (\(edge)): \(d ?? "")")
                    #expect(y.canariesIntact)
                }
            }
        }
    }

    @Test("row softmax", arguments: KernelTable.softmax.indices)
    func softmax(entry index: Int) {
        let e = KernelTable.softmax[index]
        var rng = SeededGenerator(seed: 11)
        for cols in tileRelativeSizes(e.tile) {
            for log in [false, true] {
                let rows = 3, xs = rng.floats(rows * cols, in: -6...6)
                var expected = [Float](repeating: 0, count: xs.count)
                e.reference(xs, &expected, rows, cols, log)
                let x = guardedInput(xs), y = GuardedBuffer(count: xs.count)
                e.kernel(x.readPointer, y.pointer, rows, cols, log)
                let d = disagreement(y.values, expected, e.agreement)
                #expect(d == nil, "\(e.name) log \(log) \(rows)×\(cols): \(d ?? "")")
                #expect(y.canariesIntact)
            }
        }
    }

    @Test("strided softmax", arguments: KernelTable.softmaxStrided.indices)
    func softmaxStrided(entry index: Int) {
        let e = KernelTable.softmaxStrided[index]
        var rng = SeededGenerator(seed: 12)
        for inner in tileRelativeSizes(e.tile) {
            for n in [1, 4, 9] {
                for log in [false, true] {
                    let outer = 2, xs = rng.floats(outer * n * inner, in: -6...6)
                    var expected = [Float](repeating: 0, count: xs.count)
                    e.reference(xs, &expected, outer, n, inner, log)
                    let x = guardedInput(xs), y = GuardedBuffer(count: xs.count)
                    e.kernel(x.readPointer, y.pointer, outer, n, inner, log)
                    let d = disagreement(y.values, expected, e.agreement)
                    #expect(d == nil, "\(e.name) log \(log) \(outer)×\(n)×\(inner): \(d ?? "")")
                    #expect(y.canariesIntact)
                }
            }
        }
    }

    @Test("layer normalization", arguments: KernelTable.layerNorm.indices)
    func layerNorm(entry index: Int) {
        let e = KernelTable.layerNorm[index]
        var rng = SeededGenerator(seed: 13)
        for cols in tileRelativeSizes(e.tile) {
            for withBias in [false, true] {
                let rows = 3, xs = rng.floats(rows * cols, in: -3...5)
                let scale = guardedInput(rng.floats(cols, in: 0.5...2)), bias = withBias ? guardedInput(rng.floats(cols)) : nil
                var expected = [Float](repeating: 0, count: xs.count)
                e.reference(xs, &expected, rows, cols, scale.readPointer, bias?.readPointer, 1e-5)
                let x = guardedInput(xs), y = GuardedBuffer(count: xs.count)
                e.kernel(x.readPointer, y.pointer, rows, cols, scale.readPointer, bias?.readPointer, 1e-5)
                let d = disagreement(y.values, expected, e.agreement)
                #expect(d == nil, "\(e.name) bias \(withBias) \(rows)×\(cols): \(d ?? "")")
                #expect(y.canariesIntact)
            }
        }
    }

    @Test("row means", arguments: KernelTable.meanRows.indices)
    func meanRows(entry index: Int) {
        let e = KernelTable.meanRows[index]
        var rng = SeededGenerator(seed: 14)
        for cols in tileRelativeSizes(e.tile) {
            let rows = 5, xs = rng.floats(rows * cols, in: -4...4)
            var expected = [Float](repeating: 0, count: rows)
            e.reference(xs, &expected, rows, cols)
            let x = guardedInput(xs), y = GuardedBuffer(count: rows)
            e.kernel(x.readPointer, y.pointer, rows, cols)
            let d = disagreement(y.values, expected, e.agreement)
            #expect(d == nil, "\(e.name) \(rows)×\(cols): \(d ?? "")")
            #expect(y.canariesIntact)
        }
    }

    @Test("strided row copies", arguments: KernelTable.copyRows.indices)
    func copyRows(entry index: Int) {
        let e = KernelTable.copyRows[index]
        var rng = SeededGenerator(seed: 21)
        for cols in tileRelativeSizes(e.tile) {
            let rows = 4, ldx = cols + 3, ldy = cols + 5
            let x = guardedInput(rng.floats(rows * ldx, in: -4...4))
            var expected = [Float](repeating: -7, count: rows * ldy)
            e.reference(x.readPointer, ldx, &expected, ldy, rows, cols)
            let y = GuardedBuffer(count: rows * ldy)
            y.pointer.update(repeating: -7, count: rows * ldy)
            e.kernel(x.readPointer, ldx, y.pointer, ldy, rows, cols)
            let d = disagreement(y.values, expected, e.agreement)
            #expect(d == nil, "\(e.name) \(rows)×\(cols): \(d ?? "")")
            #expect(y.canariesIntact)
        }
    }

    @Test("strided gathers (Transpose, Slice) on tile-relative inner sizes", arguments: KernelTable.stridedCopy.indices)
    func stridedCopy(entry index: Int) {
        let e = KernelTable.stridedCopy[index]
        var rng = SeededGenerator(seed: 23)
        for n in tileRelativeSizes(e.tile) {
            // [3, 2, n] read as a transpose (inner stride 3·2), a contiguous inner row, and a stepped slice.
            let layouts: [(dims: [Int], strides: [Int])] = [([2, n, 3], [1, 6, 2]), ([3, 2, n], [2 * n, n, 1]),
                                                           ([2, (n + 1) / 2], [n, 2]), ([n], [1]), ([], [])]
            let x = guardedInput(rng.floats(6 * max(n, 1), in: -4...4))
            for (dims, strides) in layouts {
                let count = dims.reduce(1, *)
                var expected = [Float](repeating: -7, count: count)
                e.reference(x.readPointer, &expected, dims, strides, dims.count)
                let y = GuardedBuffer(count: count)
                e.kernel(x.readPointer, y.pointer, dims, strides, dims.count)
                let d = disagreement(y.values, expected, e.agreement)
                #expect(d == nil, "\(e.name) dims \(dims) strides \(strides): \(d ?? "")")
                #expect(y.canariesIntact)
            }
        }
    }

    @Test("reductions over inner, outer and several axes, with NaN", arguments: KernelTable.reduce.indices)
    func reduce(entry index: Int) {
        let e = KernelTable.reduce[index]
        var rng = SeededGenerator(seed: 29)
        for n in tileRelativeSizes(e.tile) {
            var xs = rng.floats(3 * 4 * max(n, 1), in: -4...4)
            if n > 2 { xs[5] = .nan }
            let x = guardedInput(xs)
            // x is [3, 4, n]: reduce n; reduce 3 (outer); reduce 3 and n; reduce all.
            let shapes: [(od: [Int], os: [Int], rd: [Int], rs: [Int])] = [
                ([3, 4], [4 * n, n], [n], [1]), ([4, n], [n, 1], [3], [4 * n]),
                ([4], [n], [3, n], [4 * n, 1]), ([], [], [3, 4, n], [4 * n, n, 1])]
            for op in [ReduceOp.mean, .sum, .max] {
                for s in shapes {
                    let count = s.od.reduce(1, *)
                    var expected = [Float](repeating: -7, count: count)
                    e.reference(op, x.readPointer, &expected, s.od, s.os, s.od.count, s.rd, s.rs, s.rd.count)
                    let y = GuardedBuffer(count: count)
                    e.kernel(op, x.readPointer, y.pointer, s.od, s.os, s.od.count, s.rd, s.rs, s.rd.count)
                    let d = disagreement(y.values, expected, e.agreement)
                    #expect(d == nil, "\(e.name) \(op) \(s): \(d ?? "")")
                    #expect(y.canariesIntact)
                }
            }
        }
    }

    @Test("binary arithmetic", arguments: KernelTable.binary.indices)
    func binary(entry index: Int) {
        let e = KernelTable.binary[index]
        var rng = SeededGenerator(seed: 15)
        for count in tileRelativeSizes(e.tile) {
            for op in BinaryOp.allCases {
                for (aStep, bStep) in [(1, 1), (1, 0), (0, 1), (0, 0)] {
                    let a = guardedInput(rng.floats(aStep == 1 ? count : 1, in: -3...3))
                    let b = guardedInput(rng.floats(bStep == 1 ? count : 1, in: 0.5...3))
                    var expected = [Float](repeating: 0, count: count)
                    e.reference(op, a.readPointer, aStep, b.readPointer, bStep, &expected, count)
                    let y = GuardedBuffer(count: count)
                    e.kernel(op, a.readPointer, aStep, b.readPointer, bStep, y.pointer, count)
                    let d = disagreement(y.values, expected, e.agreement)
                    #expect(d == nil, "\(e.name) \(op) steps \(aStep),\(bStep) × \(count): \(d ?? "")")
                    #expect(y.canariesIntact)
                }
            }
        }
    }

    @Test("2-D pooling", arguments: KernelTable.pool2d.indices)
    func pool2d(entry index: Int) {
        let e = KernelTable.pool2d[index]
        var rng = SeededGenerator(seed: 16)
        for g in testWindows {
            for planes in [0, 2] {
                for (isMax, includePad) in [(true, false), (false, false), (false, true)] {
                    var xs = rng.floats(max(1, planes * g.h * g.w), in: -4...4)
                    if xs.count > 5 { xs[5] = .nan }
                    let out = planes * g.ho * g.wo
                    var expected = [Float](repeating: 0, count: out)
                    e.reference(xs, &expected, planes, g, isMax, includePad, g.padTop, g.padLeft)
                    let x = guardedInput(xs), y = GuardedBuffer(count: out)
                    e.kernel(x.readPointer, y.pointer, planes, g, isMax, includePad, g.padTop, g.padLeft)
                    let d = disagreement(y.values, expected, isMax ? .bitwise : e.agreement)
                    #expect(d == nil, "\(e.name) max \(isMax) includePad \(includePad) \(g): \(d ?? "")")
                    #expect(y.canariesIntact)
                }
            }
        }
    }

    @Test("depthwise convolution", arguments: KernelTable.depthwiseConv2d.indices)
    func depthwiseConv2d(entry index: Int) {
        let e = KernelTable.depthwiseConv2d[index]
        var rng = SeededGenerator(seed: 17)
        for g in testWindows {
            for (bias, act) in [(nil, Activation.identity), (Float(0.25), .relu), (Float(-0.5), .silu)] {
                let x = guardedInput(rng.floats(g.h * g.w, in: -2...2)), taps = guardedInput(rng.floats(g.kh * g.kw))
                var expected = [Float](repeating: 0, count: g.ho * g.wo)
                e.reference(x.readPointer, taps.readPointer, bias, &expected, g, act)
                let y = GuardedBuffer(count: g.ho * g.wo)
                e.kernel(x.readPointer, taps.readPointer, bias, y.pointer, g, act)
                // A dot product of kh·kw taps of |x| ≤ 2, |w| ≤ 1: scale the tolerance by its magnitude.
                let scales = [Float](repeating: Float(g.kh * g.kw) * 2 + 1, count: expected.count)
                let d = disagreement(y.values, expected, e.agreement, scales: scales)
                #expect(d == nil, "\(e.name) \(act) \(g): \(d ?? "")")
                #expect(y.canariesIntact)
            }
        }
    }

    /// Every output, interior or edge, any stride, is one f32 FMA chain over all taps in (row,
    /// column) order from 0, padding taps adding `0 · w`, then the bias and the activation.
    @Test("depthwise convolution: every output is the scalar FMA chain, bitwise")
    func depthwiseLanesAreTheScalarChain() {
        var rng = SeededGenerator(seed: 27)
        let windows = tileRelativeSizes(8).flatMap { wo in
            [window(k: 3, s: 2, d: 1, pad: 1, ho: 3, wo: wo + 8), window(k: 3, s: 1, d: 1, pad: 1, ho: 2, wo: wo + 8),
             window(k: 5, s: 2, d: 1, pad: 2, ho: 2, wo: wo + 8), window(k: 3, s: 2, d: 2, pad: 0, ho: 2, wo: wo + 8),
             window(k: 3, s: 3, d: 1, pad: 1, ho: 2, wo: wo + 1), window(k: 2, s: 1, d: 1, pad: 0, ho: 2, wo: wo + 1)]
        }
        for g in windows {
            let x = guardedInput(rng.floats(g.h * g.w, in: -2...2)), taps = rng.floats(g.kh * g.kw)
            for (bias, act) in [(nil, Activation.identity), (Float(0.25), .relu)] {
                let y = GuardedBuffer(count: g.ho * g.wo), scratch = GuardedBuffer(count: g.depthwisePaddedFloats)
                // A first plane of other values through the same scratch, then this one reusing its padding.
                let other = guardedInput(rng.floats(g.h * g.w, in: 5...9))
                depthwise_conv2d_f32_simd8(x: other.readPointer, taps: taps, bias: bias, y: y.pointer, window: g, activation: act,
                                           scratch: scratch.pointer)
                depthwise_conv2d_f32_simd8(x: x.readPointer, taps: taps, bias: bias, y: y.pointer, window: g, activation: act,
                                           scratch: scratch.pointer, paddingReady: true)
                let out = y.values
                var mismatches = 0
                for oh in 0..<g.ho {
                    for ow in 0..<g.wo {
                        var acc: Float = 0
                        for i in 0..<g.kh {
                            for j in 0..<g.kw {
                                let ih = oh * g.sh - g.padTop + i * g.dh, iw = ow * g.sw - g.padLeft + j * g.dw
                                let v = ih >= 0 && ih < g.h && iw >= 0 && iw < g.w ? x.readPointer[ih * g.w + iw] : 0
                                acc = acc.addingProduct(v, taps[i * g.kw + j])
                            }
                        }
                        if let bias { acc += bias }
                        if out[oh * g.wo + ow].bitPattern != act.apply(acc).bitPattern { mismatches += 1 }
                    }
                }
                #expect(mismatches == 0, "\(g) \(act): \(mismatches) outputs differ from the scalar chain")
                #expect(y.canariesIntact && scratch.canariesIntact)
            }
        }
    }

    @Test("im2col into panel16 order", arguments: KernelTable.im2col.indices)
    func im2col(entry index: Int) {
        let e = KernelTable.im2col[index]
        var rng = SeededGenerator(seed: 18)
        let windows = [window(k: 3, s: 1, d: 1, pad: 1, ho: 5, wo: 19), window(k: 3, s: 2, d: 1, pad: 1, ho: 4, wo: 17),
                       window(k: 2, s: 1, d: 2, pad: 0, ho: 6, wo: 16), window(k: 1, s: 1, d: 1, pad: 0, ho: 3, wo: 33),
                       // Stride 2 with whole 16-position rows (the four-load path) and runs across rows.
                       window(k: 7, s: 2, d: 1, pad: 3, ho: 3, wo: 40), window(k: 1, s: 2, d: 1, pad: 0, ho: 4, wo: 35),
                       window(k: 3, s: 2, d: 2, pad: 1, ho: 3, wo: 34),
                       // Stride 1 rows narrower than a panel (runs of 8, 5, 6 lanes with the padding
                       // inside them: the SIMD8, SIMD4 and scalar partial copies) and whole 16-wide rows.
                       window(k: 3, s: 1, d: 1, pad: 1, ho: 3, wo: 8), window(k: 3, s: 1, d: 1, pad: 1, ho: 4, wo: 5),
                       window(k: 5, s: 1, d: 1, pad: 2, ho: 3, wo: 6), window(k: 3, s: 1, d: 1, pad: 1, ho: 2, wo: 16),
                       window(k: 7, s: 1, d: 1, pad: 3, ho: 2, wo: 16)]
        for g in windows {
            let channels = 2, positions = g.ho * g.wo, k = channels * g.kh * g.kw
            let x = guardedInput(rng.floats(channels * g.h * g.w))
            for count in tileRelativeSizes(e.tile) {
                for p0 in [0, 5] where p0 + count <= positions {
                    let out = Panel16.packedCount(n: count, k: k)!
                    var expected = [Float](repeating: 0, count: out)
                    e.reference(x.readPointer, channels, g, p0, count, &expected)
                    let y = GuardedBuffer(count: out)
                    e.kernel(x.readPointer, channels, g, p0, count, y.pointer)
                    let d = disagreement(y.values, expected, e.agreement)
                    #expect(d == nil, "\(e.name) \(g) p0 \(p0) count \(count): \(d ?? "")")
                    #expect(y.canariesIntact)
                }
            }
        }
    }

    @Test("RNN cell", arguments: KernelTable.rnnCell.indices)
    func rnnCell(entry index: Int) {
        let e = KernelTable.rnnCell[index]
        var rng = SeededGenerator(seed: 20)
        for hidden in tileRelativeSizes(e.tile) {
            for act in [Activation.tanh, .relu, .sigmoid] {
                let xg = guardedInput(rng.floats(hidden, in: -3...3)), hr = guardedInput(rng.floats(hidden, in: -3...3))
                var h0 = [Float](repeating: 0, count: hidden), y0 = h0
                e.reference(xg.readPointer, hr.readPointer, &h0, &y0, hidden, act)
                let h = GuardedBuffer(count: hidden), y = GuardedBuffer(count: hidden, edge: .leading)
                e.kernel(xg.readPointer, hr.readPointer, h.pointer, y.pointer, hidden, act)
                let d = disagreement(h.values + y.values, h0 + y0, e.agreement)
                #expect(d == nil, "\(e.name) \(act) hidden \(hidden): \(d ?? "")")
                #expect(h.canariesIntact && y.canariesIntact)
            }
        }
    }

    @Test("GRU reset gate", arguments: KernelTable.gruReset.indices)
    func gruReset(entry index: Int) {
        let e = KernelTable.gruReset[index]
        var rng = SeededGenerator(seed: 21)
        for hidden in tileRelativeSizes(e.tile) {
            let xg = guardedInput(rng.floats(3 * hidden, in: -3...3)), hr = guardedInput(rng.floats(3 * hidden, in: -3...3))
            let h = guardedInput(rng.floats(hidden))
            var expected = [Float](repeating: 0, count: hidden)
            e.reference(xg.readPointer, hr.readPointer, h.readPointer, &expected, hidden)
            let rh = GuardedBuffer(count: hidden)
            e.kernel(xg.readPointer, hr.readPointer, h.readPointer, rh.pointer, hidden)
            let d = disagreement(rh.values, expected, e.agreement)
            #expect(d == nil, "\(e.name) hidden \(hidden): \(d ?? "")")
            #expect(rh.canariesIntact)
        }
    }

    @Test("GRU state update, with and without linear_before_reset", arguments: KernelTable.gruCell.indices)
    func gruCell(entry index: Int) {
        let e = KernelTable.gruCell[index]
        var rng = SeededGenerator(seed: 22)
        for hidden in tileRelativeSizes(e.tile) {
            for withHH in [false, true] {
                let xg = guardedInput(rng.floats(3 * hidden, in: -3...3)), hr = guardedInput(rng.floats(3 * hidden, in: -3...3))
                let hh = withHH ? guardedInput(rng.floats(hidden, in: -3...3)) : nil
                let hs = rng.floats(hidden)
                var h0 = hs, y0 = [Float](repeating: 0, count: hidden)
                e.reference(xg.readPointer, hr.readPointer, hh?.readPointer, &h0, &y0, hidden)
                let h = GuardedBuffer(hs), y = GuardedBuffer(count: hidden, edge: .leading)
                e.kernel(xg.readPointer, hr.readPointer, hh?.readPointer, h.pointer, y.pointer, hidden)
                let d = disagreement(h.values + y.values, h0 + y0, e.agreement)
                #expect(d == nil, "\(e.name) hh \(withHH) hidden \(hidden): \(d ?? "")")
                #expect(h.canariesIntact && y.canariesIntact)
            }
        }
    }

    @Test("LSTM state update", arguments: KernelTable.lstmCell.indices)
    func lstmCell(entry index: Int) {
        let e = KernelTable.lstmCell[index]
        var rng = SeededGenerator(seed: 23)
        for hidden in tileRelativeSizes(e.tile) {
            let xg = guardedInput(rng.floats(4 * hidden, in: -3...3)), hr = guardedInput(rng.floats(4 * hidden, in: -3...3))
            let cs = rng.floats(hidden, in: -2...2)
            var h0 = [Float](repeating: 0, count: hidden), c0 = cs, y0 = h0
            e.reference(xg.readPointer, hr.readPointer, &h0, &c0, &y0, hidden)
            let h = GuardedBuffer(count: hidden), c = GuardedBuffer(cs, edge: .leading), y = GuardedBuffer(count: hidden)
            e.kernel(xg.readPointer, hr.readPointer, h.pointer, c.pointer, y.pointer, hidden)
            let d = disagreement(h.values + c.values + y.values, h0 + c0 + y0, e.agreement)
            #expect(d == nil, "\(e.name) hidden \(hidden): \(d ?? "")")
            #expect(h.canariesIntact && c.canariesIntact && y.canariesIntact)
        }
    }

    @Test("GEMMs over packed weights, every encoding each runs", arguments: KernelTable.gemm.indices)
    func gemm(entry index: Int) {
        let g = KernelTable.gemm[index], e = g.entry
        var rng = SeededGenerator(seed: 24)
        for kind in g.weightKinds {
            for n in tileRelativeSizes(e.tile) where n > 0 {
                for k in [1, 17, 37] {
                    let w = QuantizedTestWeights(kind, n: n, k: k, rng: &rng)
                    var dense = [Float](repeating: 0, count: n * k)
                    dequantize_panel16_reference(w.weights, n: n, k: k, out: &dense)
                    for m in [0, 1, 5, 6, 13] {
                        let xs = rng.floats(m * k, in: -2...2), bias = m % 2 == 1 ? rng.floats(n) : nil
                        let act: Activation = m == 13 ? .gelu : .relu
                        let x = guardedInput(xs)
                        var expected = [Float](repeating: 0, count: m * n)
                        withOptionalPointer(bias) { b in e.reference(x.readPointer, k, w.weights, b, &expected, n, m, n, k, act) }
                        let y = GuardedBuffer(count: m * n)
                        withOptionalPointer(bias) { b in e.kernel(x.readPointer, k, w.weights, b, y.pointer, n, m, n, k, act) }
                        let scales = dotProductScales(xs, dense, bias, m: m, n: n, k: k)
                        let d = disagreement(y.values, expected, e.agreement, scales: scales)
                        #expect(d == nil, "\(e.name) \(kind) m \(m) n \(n) k \(k): \(d ?? "")")
                        #expect(y.canariesIntact)
                    }
                }
            }
        }
    }
}

#if canImport(Foundation)
import Foundation

/// Public functions of StrataKernels that are not kernels with a twin of their own, each with the
/// test that covers it.
let inventoryExemptions: Set<String> = [
    "exp8", "log8", "tanh8", "erf8",                // vector math: VectorMathTests, against libm in Double
    "sigmoid8",                                     // 1 / (1 + exp8(-x)): Activation.sigmoid (KernelInventory activation tests)
    "pack_f32_panel16",                            // weight packing: GemmPacked16Tests (layout), every f32 GEMM test
    "dynamicInt8Row", "dynamicInt8Quantize",       // row quantizer of gemm_i8dyn: DynamicInt8Tests, against dynamic_int8_row_reference
    "callAsFunction",
    "padSourceIndex",                              // Pad's index rule: SpatialKernelTests (pad2d against its twin)
    // Scalar helpers of the twins themselves.
    "activation_f64_reference", "dynamic_int8_row_reference", "dequantize_panel16_reference",
    "dequantized_panel16_element", "panel16k4ByteOffset",
]

/// The names of the top-level `public func`s declared in the Swift files under `directory`.
func publicFunctionNames(under directory: URL) -> [String] {
    let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)!
        .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
    return files.flatMap { file -> [String] in
        let text = (try? String(contentsOf: file, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line -> String? in
            guard line.first != " ", let r = line.range(of: "public func ") else { return nil }  // top level only
            return String(line[r.upperBound...].prefix { $0 == "_" || $0.isLetter || $0.isNumber })
        }
    }
}

@Suite("Kernel inventory is complete")
struct KernelInventoryCompletenessTests {
    @Test("every public function of StrataKernels is in KernelTable (kernel or twin) or exempted with its test")
    func everyPublicKernelIsListed() {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/StrataKernels")
        let declared = Set(publicFunctionNames(under: sources))
        #expect(declared.count > 30, "found only \(declared.count) public functions under \(sources.path)")
        let listed = Set(KernelTable.kernelNames + KernelTable.referenceNames)
        for name in declared.subtracting(inventoryExemptions) {
            #expect(listed.contains(name), "\(name) is public in StrataKernels but not in KernelTable")
        }
        for name in listed.subtracting(["qdot_i8_vnni", "qdot_i8_avx2", "qdot_i8_sdot"]) {  // the C shims
            #expect(declared.contains(name), "KernelTable lists \(name), which StrataKernels does not declare")
        }
    }
}
#endif

extension Activation {
    /// The activations whose slope is bounded (|f′| ≤ 2) everywhere they are defined: a GEMM test
    /// that compares two summation orders within a rounding tolerance applies these after the sum.
    /// `exp`, `pow`, `sqrt`, `log` and `reciprocal` magnify a rounding difference without bound
    /// (e^x at x ≈ 80, 1/x near 0); their kernels are tested bitwise against their twins and
    /// against Double references elsewhere (ActivationKernelTests, ZooOpTests).
    static let wellConditionedCases: [Activation] = allCases.filter {
        switch $0 {
        case .exp, .pow, .sqrt, .log, .reciprocal: return false
        default: return true
        }
    }
}
