#if (arch(x86_64) || arch(arm64)) && canImport(CStrataSIMD)
import CStrataSIMD
#endif

// The dynamic-int8 GEMM (docs/FORMAT.md "Dynamic int8"): int8 weights in layout panel16k4 with
// one f32 scale per output column, activations quantized per row at run time, dot products
// exact in int32, then one f32 epilogue per output. Everything is per row, so a sample's output
// does not depend on the batch size, its position or the thread count — nor on the tiles, blocks
// or dot kernel (integer sums are exact in any order).

/// How one activation row is quantized (docs/FORMAT.md "Dynamic int8", step 2).
public struct DynamicInt8Row: Equatable, Sendable {
    /// `s = max|x| / 127`; 0 for a row whose `max|x|` is below 2^-100; NaN for a row holding a NaN
    /// or an infinity.
    public var scale: Float
    /// `127 / max|x|`, the multiplier of `q = rint(x · r)`; 0 when `scale` is 0 or NaN (then every
    /// `q` is 0).
    public var reciprocal: Float
    /// No value of the row is below zero (-0 counts as zero), so every `q ≥ 0`. Only picks a
    /// faster dot kernel; the sums are the same.
    public var nonNegative: Bool

    public init(scale: Float, reciprocal: Float, nonNegative: Bool) {
        self.scale = scale; self.reciprocal = reciprocal; self.nonNegative = nonNegative
    }
}

/// Bits of the smallest `max|x|` that is quantized: 2^-100. Below it a row's scale is 0, so no
/// step of the quantization ever meets a subnormal (x86 runs flush them to zero; the spec must
/// not depend on it).
let dynamicInt8MinimumMaxBits: UInt32 = 0x0D80_0000
/// Bits of +infinity: a magnitude at or above it is infinite or NaN.
let dynamicInt8InfinityBits: UInt32 = 0x7F80_0000

/// Scans a row of `k` floats: its scale and reciprocal from `max|x|`, computed exactly on the bit
/// patterns (for non-negative floats the order of the bits is the order of the values, so NaN
/// and infinity sort above every finite value), and whether it has a negative value.
@inline(__always)
public func dynamicInt8Row(_ x: UnsafePointer<Float>, k: Int) -> DynamicInt8Row {
    let raw = UnsafeRawPointer(x)
    var magnitude = SIMD8<UInt32>(repeating: 0), signed = SIMD8<UInt32>(repeating: 0)
    var magnitude2 = magnitude, signed2 = signed  // two chains (max is order-free: same result)
    var i = 0
    while i + 16 <= k {
        let bits = (raw + 4 &* i).loadUnaligned(as: SIMD8<UInt32>.self)
        let bits2 = (raw + 4 &* i + 32).loadUnaligned(as: SIMD8<UInt32>.self)
        magnitude = pointwiseMax(magnitude, bits & 0x7FFF_FFFF)
        signed = pointwiseMax(signed, bits)
        magnitude2 = pointwiseMax(magnitude2, bits2 & 0x7FFF_FFFF)
        signed2 = pointwiseMax(signed2, bits2)
        i += 16
    }
    magnitude = pointwiseMax(magnitude, magnitude2); signed = pointwiseMax(signed, signed2)
    while i + 8 <= k {
        let bits = (raw + 4 &* i).loadUnaligned(as: SIMD8<UInt32>.self)
        magnitude = pointwiseMax(magnitude, bits & 0x7FFF_FFFF)
        signed = pointwiseMax(signed, bits)
        i += 8
    }
    var m = magnitude.max(), s = signed.max()
    while i < k {
        let bits = x[i].bitPattern
        m = max(m, bits & 0x7FFF_FFFF); s = max(s, bits)
        i += 1
    }
    let nonNegative = s <= 0x8000_0000  // -0 is 0x8000_0000; every negative value is above it
    if m >= dynamicInt8InfinityBits { return DynamicInt8Row(scale: .nan, reciprocal: 0, nonNegative: true) }
    if m < dynamicInt8MinimumMaxBits { return DynamicInt8Row(scale: 0, reciprocal: 0, nonNegative: true) }
    let amax = Float(bitPattern: m)
    return DynamicInt8Row(scale: amax / 127, reciprocal: 127 / amax, nonNegative: nonNegative)
}

/// Quantizes `count` values of a row, `q = clamp(rint(x · reciprocal), -127, 127)` (one f32
/// multiply, rounding half to even), into `out`, and writes zeros from `count` to `padded`. A
/// reciprocal of 0 (a zero or non-finite row) gives zeros.
@inline(__always)
public func dynamicInt8Quantize(_ x: UnsafePointer<Float>, count: Int, padded: Int, reciprocal r: Float,
                                out: UnsafeMutablePointer<Int8>) {
    var i = 0
    if r != 0 {
        // The clamp to [-127, 127] never binds: |x| ≤ m and r = f32(127 / m), so |x·r| rounds to
        // at most 127·(1 + 2⁻²⁴)², below 127.5. The 8-wide loop omits it (the scalar tail keeps
        // the definition; `dynamic_int8_row_reference` clamps; tests include rows reaching ±m).
        // Its int8 range clamp never binds either: it is there because LLVM turns a clamp to
        // [-128, 127] followed by the narrowing into two saturating packs (vpackssdw, vpacksswb).
        while i + 8 <= count {
            let v = (load8(x + i) * r).rounded(.toNearestOrEven)
            var q = SIMD8<Int32>(Int32(v[0]), Int32(v[1]), Int32(v[2]), Int32(v[3]),
                                 Int32(v[4]), Int32(v[5]), Int32(v[6]), Int32(v[7]))
            q = pointwiseMax(pointwiseMin(q, SIMD8(repeating: 127)), SIMD8(repeating: -128))
            UnsafeMutableRawPointer(out + i).storeBytes(of: SIMD8<Int8>(truncatingIfNeeded: q), as: SIMD8<Int8>.self)
            i += 8
        }
        while i < count {
            out[i] = Int8(min(max((x[i] * r).rounded(.toNearestOrEven), -127), 127))
            i += 1
        }
    }
    while i < padded { out[i] = 0; i += 1 }
}

/// The int8 dot-product kernels of the dynamic-int8 GEMM: same arguments, same integer results.
/// Both compute, for `r < rows`, `p < panels`, `j < 16`,
/// `c[r·ldc + 16p + j] (=, or += with accumulate) Σ_{q<kq, t<4} a[r·lda + 4q + t] · w[p·panelStride + 64q + 32(j/8) + 4(j%8) + t]`.
public enum DynamicInt8Dot: Sendable, Equatable, CustomStringConvertible {
    /// `strataimpl_qdot_i8_vnni` (C intrinsics, Sources/CStrataSIMD): AVX-512 VNNI vpdpbusd tiles.
    /// x86-64 only, on CPUs whose CPUID reports AVX-512 VNNI (chosen at run time).
    case vnni
    /// `strataimpl_qdot_i8_avx2` (C intrinsics, Sources/CStrataSIMD): vpmaddubsw tiles. x86-64 only.
    case avx2
    /// `strataimpl_qdot_i8_sdot` (C intrinsics, Sources/CStrataSIMD): ARMv8.2 `sdot` tiles.
    /// aarch64 only, on cores whose HWCAP reports the dot product (chosen at run time).
    case sdot
    /// `qdot_i8_simd`: the portable Swift twin (aarch64 cores without the dot product, and tests).
    case simd

    /// The kernel the engine uses on this CPU: the first of `available` (x86-64 builds need AVX2:
    /// the load gate, and use VNNI where CPUID reports it; aarch64 uses sdot where HWCAP reports
    /// it, else the twin).
    public static var best: DynamicInt8Dot { available[0] }

    /// Every kernel this build can run on this CPU, fastest first, for tests and benchmarks.
    /// Asked once: the x86-64 CPUID check (and STRATA_PRETEND_NO_VNNI), the aarch64 HWCAP check
    /// (and STRATA_PRETEND_NO_DOTPROD) are read at first use.
    public static let available: [DynamicInt8Dot] = {
        #if arch(x86_64) && canImport(CStrataSIMD)
        return strataimpl_qdot_i8_vnni_supported() != 0 ? [.vnni, .avx2, .simd] : [.avx2, .simd]
        #elseif arch(arm64) && canImport(CStrataSIMD)
        return strataimpl_qdot_i8_sdot_supported() != 0 ? [.sdot, .simd] : [.simd]
        #else
        return [.simd]
        #endif
    }()

    /// The greppable kernel name.
    public var description: String {
        switch self {
        case .vnni: return "qdot_i8_vnni"
        case .avx2: return "qdot_i8_avx2"
        case .sdot: return "qdot_i8_sdot"
        case .simd: return "qdot_i8_simd"
        }
    }

    /// Runs the kernel (see the type's summary). `nonNegative`: one byte per row, non-zero when
    /// the row has no negative value (a faster path; same results), or nil.
    @inline(__always)
    public func callAsFunction(a: UnsafePointer<Int8>, lda: Int, rows: Int, nonNegative: UnsafePointer<UInt8>?,
                               w: UnsafePointer<Int8>, panelStride: Int, panels: Int, kq: Int,
                               c: UnsafeMutablePointer<Int32>, ldc: Int, accumulate: Bool) {
        switch self {
        case .vnni:
            #if arch(x86_64) && canImport(CStrataSIMD)
            strataimpl_qdot_i8_vnni(a, lda, rows, nonNegative, w, panelStride, panels, kq, c, ldc, accumulate ? 1 : 0)
            #else
            preconditionFailure("qdot_i8_vnni exists only on x86-64")
            #endif
        case .avx2:
            #if arch(x86_64) && canImport(CStrataSIMD)
            strataimpl_qdot_i8_avx2(a, lda, rows, nonNegative, w, panelStride, panels, kq, c, ldc, accumulate ? 1 : 0)
            #else
            preconditionFailure("qdot_i8_avx2 exists only on x86-64")
            #endif
        case .sdot:
            #if arch(arm64) && canImport(CStrataSIMD)
            strataimpl_qdot_i8_sdot(a, lda, rows, w, panelStride, panels, kq, c, ldc, accumulate ? 1 : 0)
            #else
            preconditionFailure("qdot_i8_sdot exists only on aarch64")
            #endif
        case .simd:
            qdot_i8_simd(a: a, lda: lda, rows: rows, w: w, panelStride: panelStride, panels: panels, kq: kq,
                         c: c, ldc: ldc, accumulate: accumulate)
        }
    }
}

/// 8 int8 values widened to int32 (lane by lane: see `widenInt8`).
@inline(__always)
func widenInt8ToInt32(_ q: SIMD8<Int8>) -> SIMD8<Int32> {
    SIMD8<Int32>(Int32(q[0]), Int32(q[1]), Int32(q[2]), Int32(q[3]), Int32(q[4]), Int32(q[5]), Int32(q[6]), Int32(q[7]))
}

/// `Σ_t a_t · w[4j + t]` for the 8 columns `j` of one half quad (32 bytes: column-major quads).
@inline(__always)
func dotQuad(_ w: SIMD32<Int8>, _ a0: Int32, _ a1: Int32, _ a2: Int32, _ a3: Int32) -> SIMD8<Int32> {
    let even = w.evenHalf, odd = w.oddHalf  // lanes 4j + {0, 2} and 4j + {1, 3}
    var s = widenInt8ToInt32(even.evenHalf) &* a0
    s &+= widenInt8ToInt32(odd.evenHalf) &* a1
    s &+= widenInt8ToInt32(even.oddHalf) &* a2
    s &+= widenInt8ToInt32(odd.oddHalf) &* a3
    return s
}

/// The portable twin of `strataimpl_qdot_i8_avx2` and `strataimpl_qdot_i8_sdot` (see `DynamicInt8Dot`): plain int32 SIMD8 sums,
/// bitwise equal to it (integer arithmetic is exact).
public func qdot_i8_simd(a: UnsafePointer<Int8>, lda: Int, rows: Int, w: UnsafePointer<Int8>, panelStride: Int,
                         panels: Int, kq: Int, c: UnsafeMutablePointer<Int32>, ldc: Int, accumulate: Bool) {
    for p in 0..<panels {
        let wp = UnsafeRawPointer(w + p &* panelStride)
        for r in 0..<rows {
            let ar = a + r &* lda
            var lo = SIMD8<Int32>(repeating: 0), hi = SIMD8<Int32>(repeating: 0)
            for q in 0..<kq {
                let a0 = Int32(ar[4 &* q]), a1 = Int32(ar[4 &* q + 1]), a2 = Int32(ar[4 &* q + 2]), a3 = Int32(ar[4 &* q + 3])
                lo &+= dotQuad((wp + 64 &* q).loadUnaligned(as: SIMD32<Int8>.self), a0, a1, a2, a3)
                hi &+= dotQuad((wp + 64 &* q + 32).loadUnaligned(as: SIMD32<Int8>.self), a0, a1, a2, a3)
            }
            let out = UnsafeMutableRawPointer(c + r &* ldc + 16 &* p)
            if accumulate {
                lo &+= out.loadUnaligned(as: SIMD8<Int32>.self)
                hi &+= (out + 32).loadUnaligned(as: SIMD8<Int32>.self)
            }
            out.storeBytes(of: lo, as: SIMD8<Int32>.self)
            (out + 32).storeBytes(of: hi, as: SIMD8<Int32>.self)
        }
    }
}

/// Rows per block of the dynamic-int8 GEMM: their quantized K block (at most 96 × 1024 bytes)
/// stays in L2 while every panel of weights streams past it.
let dynamicInt8MBlock = 96
/// Quads (4 k) per K block: 1024 values of k. A K block's slice of a panel (16 KiB) stays in L1
/// while the row tiles of an M block run over it; between K blocks the int32 sums wait in y.
let dynamicInt8KBlockQuads = 256

/// Where the dynamic-int8 GEMM keeps its scratch inside the `gemmWorkspaceFloats` floats of
/// per-thread workspace (byte offsets): the quantized rows of a K block, the int32 sums of the
/// edge panel, and each row's scale, reciprocal and sign flag.
enum DynamicInt8Workspace {
    static let quantized = 0
    static let quantizedBytes = dynamicInt8MBlock * 256 * 4
    static let edge = quantizedBytes
    static let scales = edge + dynamicInt8MBlock * 16 * 4
    static let reciprocals = scales + dynamicInt8MBlock * 4
    static let nonNegative = reciprocals + dynamicInt8MBlock * 4
    static let bytes = nonNegative + dynamicInt8MBlock
}

/// The epilogue of `count` outputs of one row (`count` a multiple of 8), from their int32 sums at
/// `sums` (which may be `out` itself): `act(f32(acc) · (s · scale[j]) + bias[j])` — one f32
/// multiply for the combined scale, one for the product, one add (skipped without a bias), then
/// the activation.
func dynamicInt8EpilogueRow(_ sums: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, count: Int, rowScale s: Float,
                            scales: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation) {
    var j = 0
    while j < count {
        let acc = (sums + 4 &* j).loadUnaligned(as: SIMD8<Int32>.self)
        let f = SIMD8<Float>(Float(acc[0]), Float(acc[1]), Float(acc[2]), Float(acc[3]),
                             Float(acc[4]), Float(acc[5]), Float(acc[6]), Float(acc[7]))
        var v = f * (load8(scales + j) * s)
        if let bias { v += load8(bias + j) }
        store8(Epilogue.activate(activation, v), out + j)  // identity, ReLU and clip in line
        j += 8
    }
}

/// The dynamic-int8 GEMM: `y[i, j] = act(f32(Σ_kk q_x[i, kk] · q_w[j, kk]) · (s_x[i] · s_w[j]) + bias[j])`
/// with each row of `x` quantized to int8 at run time (`dynamicInt8Row`, `dynamicInt8Quantize`)
/// and the weights int8 in layout panel16k4 (docs/FORMAT.md "Dynamic int8").
///
/// Rows run in M blocks of 96 and K in blocks of 1024: each block of rows is scanned for its
/// scales, then quantized one K block at a time into the workspace and multiplied with every
/// panel by `dot` (int32 sums kept in y between K blocks; the edge panel's in the workspace);
/// after the last K block the epilogue turns the sums into f32 in place. The result is the same
/// bits for any blocking, tiling, thread split or `dot` kernel.
/// - Parameters:
///   - x: `m × k` input, row stride `lda` (≥ k).
///   - weights: kind `.int8Dynamic` (`PackedWeights`): values in panel16k4, f32 scales per column.
///   - bias: `n` values, or nil.
///   - y: `m × n` output, row stride `ldy` (≥ n); must not alias `x`.
///   - panels: the range of 16-wide panels to compute (nil: all).
///   - workspace: `gemmWorkspaceFloats` floats of scratch, or nil (then it is allocated).
///   - dot: the int8 kernel (`DynamicInt8Dot.best` unless a test picks one).
public func gemm_i8dyn_packed16k4(x: UnsafePointer<Float>, lda: Int, weights: PackedWeights,
                                  bias: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>, ldy: Int,
                                  m: Int, n: Int, k: Int, activation: Activation, panels: Range<Int>? = nil,
                                  workspace: UnsafeMutablePointer<Float>? = nil, dot: DynamicInt8Dot = .best) {
    let allPanels = Panel16.panelCount(n)
    let panelRange = (panels ?? 0..<allPanels).clamped(to: 0..<allPanels)
    guard m > 0, !panelRange.isEmpty else { return }
    if let workspace {
        gemmDynamicInt8(x: x, lda: lda, weights: weights, bias: bias, y: y, ldy: ldy, m: m, n: n, k: k,
                        activation: activation, panelRange: panelRange, workspace: UnsafeMutableRawPointer(workspace), dot: dot)
    } else {
        withUnsafeTemporaryAllocation(byteCount: DynamicInt8Workspace.bytes, alignment: 64) { ws in
            gemmDynamicInt8(x: x, lda: lda, weights: weights, bias: bias, y: y, ldy: ldy, m: m, n: n, k: k,
                            activation: activation, panelRange: panelRange, workspace: ws.baseAddress!, dot: dot)
        }
    }
}

/// `gemm_i8dyn_packed16k4` on a non-empty panel range with its workspace.
func gemmDynamicInt8(x: UnsafePointer<Float>, lda: Int, weights: PackedWeights, bias: UnsafePointer<Float>?,
                     y: UnsafeMutablePointer<Float>, ldy: Int, m: Int, n: Int, k: Int, activation: Activation,
                     panelRange: Range<Int>, workspace ws: UnsafeMutableRawPointer, dot: DynamicInt8Dot) {
    let kq = (k + 3) / 4, panelStride = kq * 64
    // K blocks of 1024 for full M blocks; fewer rows take longer K blocks (all of K for a few
    // rows), so each panel's weights stream once, in order.
    let kBlock = max(1, min(kq, max(dynamicInt8KBlockQuads, DynamicInt8Workspace.quantizedBytes / (4 * min(m, dynamicInt8MBlock)))))
    let mBlock = min(dynamicInt8MBlock, DynamicInt8Workspace.quantizedBytes / (4 * kBlock))
    let fullPanels = n / 16
    let full = panelRange.clamped(to: 0..<fullPanels)
    let edgePanel: Int? = fullPanels < Panel16.panelCount(n) && panelRange.contains(fullPanels) ? fullPanels : nil
    let edgeColumns = n - fullPanels * 16
    let values = weights.values.assumingMemoryBound(to: Int8.self)
    let columnScales = weights.scales!.assumingMemoryBound(to: Float.self)
    let quantized = (ws + DynamicInt8Workspace.quantized).assumingMemoryBound(to: Int8.self)
    let edge = (ws + DynamicInt8Workspace.edge).assumingMemoryBound(to: Int32.self)
    let rowScales = (ws + DynamicInt8Workspace.scales).assumingMemoryBound(to: Float.self)
    let reciprocals = (ws + DynamicInt8Workspace.reciprocals).assumingMemoryBound(to: Float.self)
    let nonNegative = (ws + DynamicInt8Workspace.nonNegative).assumingMemoryBound(to: UInt8.self)
    let sums = UnsafeMutableRawPointer(y).assumingMemoryBound(to: Int32.self)  // int32 sums until the epilogue
    withUnsafeTemporaryAllocation(of: Float.self, capacity: 32) { temp in
        let edgeBias = temp.baseAddress!
        if let bias, edgePanel != nil {
            for j in 0..<16 { edgeBias[j] = j < edgeColumns ? bias[fullPanels * 16 + j] : 0 }
        }
        var ib = 0
        while ib < m {
            let rows = min(mBlock, m - ib)
            // With one K block, each row is quantized right after its scan, while it is still in L1.
            let oneKBlock = kBlock >= kq
            for r in 0..<rows {
                let q = dynamicInt8Row(x + (ib + r) * lda, k: k)
                rowScales[r] = q.scale; reciprocals[r] = q.reciprocal; nonNegative[r] = q.nonNegative ? 1 : 0
                if oneKBlock {
                    dynamicInt8Quantize(x + (ib + r) * lda, count: k, padded: 4 * kq, reciprocal: q.reciprocal,
                                        out: quantized + r * 4 * kq)
                }
            }
            var q0 = 0
            repeat {
                let nq = min(kBlock, kq - q0), k0 = 4 * q0
                for r in 0..<rows where !oneKBlock {
                    dynamicInt8Quantize(x + (ib + r) * lda + k0, count: min(k - k0, 4 * nq), padded: 4 * nq,
                                        reciprocal: reciprocals[r], out: quantized + r * 4 * nq)
                }
                if !full.isEmpty {
                    dot(a: quantized, lda: 4 * nq, rows: rows, nonNegative: nonNegative,
                        w: values + full.lowerBound * panelStride + 64 * q0, panelStride: panelStride, panels: full.count, kq: nq,
                        c: sums + ib * ldy + full.lowerBound * 16, ldc: ldy, accumulate: q0 > 0)
                }
                if let p = edgePanel {
                    dot(a: quantized, lda: 4 * nq, rows: rows, nonNegative: nonNegative,
                        w: values + p * panelStride + 64 * q0, panelStride: panelStride, panels: 1, kq: nq,
                        c: edge, ldc: 16, accumulate: q0 > 0)
                }
                q0 += nq
            } while q0 < kq
            for r in 0..<rows {
                let s = rowScales[r]
                let row = y + (ib + r) * ldy
                if !full.isEmpty {
                    let start = row + 16 * full.lowerBound
                    dynamicInt8EpilogueRow(UnsafeRawPointer(start), start, count: 16 * full.count, rowScale: s,
                                           scales: columnScales + 16 * full.lowerBound, bias: bias.map { $0 + 16 * full.lowerBound },
                                           activation: activation)
                }
                if let p = edgePanel {
                    let tile = edgeBias + 16
                    dynamicInt8EpilogueRow(UnsafeRawPointer(edge + 16 * r), tile, count: 16, rowScale: s, scales: columnScales + 16 * p,
                                           bias: bias == nil ? nil : UnsafePointer(edgeBias), activation: activation)
                    for j in 0..<edgeColumns { row[16 * p + j] = tile[j] }
                }
            }
            ib += rows
        }
    }
}
