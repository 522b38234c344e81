/// The signature shared by every `Linear` kernel variant.
public typealias LinearKernel = @Sendable (_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                                 _ y: UnsafeMutablePointer<Float>, _ m: Int, _ n: Int, _ k: Int,
                                 _ activation: Activation) -> Void

/// One named kernel variant.
public struct KernelVariant<F: Sendable>: Sendable {
    /// Greppable name, e.g. "gemm_f32_packed16_simd8".
    public let name: String
    /// True for the scalar oracle.
    public let isReference: Bool
    /// The function.
    public let function: F
}

/// How closely a kernel must agree with its scalar reference twin.
public enum KernelAgreement: Sendable, Equatable {
    /// The same bits (NaN payloads aside), e.g. a gather, a max, or a twin that mirrors the
    /// kernel's f32 operations one by one.
    case bitwise
    /// `|kernel − twin| ≤ tolerance · max(1, scale)`, where `scale` is `|twin|` for elementwise
    /// results and the magnitude of the sum (`Σ|terms|`) for reductions; NaN only where the twin
    /// is NaN, infinities equal.
    case within(Float)
}

/// Tolerances of the inventory, per precision, in one place.
public enum KernelTolerance {
    /// Single-precision kernels (f32 sums, ≤ 1.5-ulp exp/tanh/erf) against twins that compute in
    /// `Double` and round once.
    public static let f32: Float = 1e-5
}

/// A kernel of the inventory and its scalar reference twin, with the same signature `F`.
public struct KernelEntry<F: Sendable>: Sendable {
    /// The kernel's public name, e.g. "layernorm_f32_simd8".
    public let name: String
    /// The twin's public name, e.g. "layernorm_f32_reference".
    public let referenceName: String
    /// The width the kernel's loops step by (8 lanes, a 16-column panel): tests size their
    /// inputs around it (equal, one less, one more, a prime, zero).
    public let tile: Int
    /// How closely the kernel must agree with its twin.
    public let agreement: KernelAgreement
    /// The kernel.
    public let kernel: F
    /// Its scalar reference twin.
    public let reference: F
}

/// `y[i] = act(x[i])` for `count` values.
public typealias ActivationKernel = @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int,
                                               _ activation: Activation) -> Void
/// Softmax of `rows` rows of `cols` values (log-softmax when the flag is set).
public typealias SoftmaxKernel = @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ rows: Int,
                                            _ cols: Int, _ log: Bool) -> Void
/// Softmax along the middle axis of `outer × n × inner` values.
public typealias SoftmaxStridedKernel = @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ outer: Int,
                                                   _ n: Int, _ inner: Int, _ log: Bool) -> Void
/// Layer normalization of `rows` rows of `cols` values.
public typealias LayerNormKernel = @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ rows: Int,
                                              _ cols: Int, _ scale: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                                              _ epsilon: Float) -> Void
/// The mean of each of `rows` rows of `cols` values.
public typealias MeanRowsKernel = @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ rows: Int,
                                             _ cols: Int) -> Void
/// `y[i] = a[i·aStep] ⊕ b[i·bStep]`.
public typealias BinaryKernel = @Sendable (_ op: BinaryOp, _ a: UnsafePointer<Float>, _ aStep: Int, _ b: UnsafePointer<Float>,
                                           _ bStep: Int, _ y: UnsafeMutablePointer<Float>, _ count: Int) -> Void
/// Max or average pooling of `planes` planes.
public typealias Pool2DKernel = @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ planes: Int,
                                           _ window: Window2D, _ isMax: Bool, _ countIncludePad: Bool, _ padBottom: Int,
                                           _ padRight: Int) -> Void
/// One plane of a depthwise convolution with fused bias and activation.
public typealias DepthwiseConv2DKernel = @Sendable (_ x: UnsafePointer<Float>, _ taps: UnsafePointer<Float>, _ bias: Float?,
                                                    _ y: UnsafeMutablePointer<Float>, _ window: Window2D,
                                                    _ activation: Activation) -> Void
/// im2col of `count` output positions from `p0` into panel16 order.
public typealias Im2ColKernel = @Sendable (_ x: UnsafePointer<Float>, _ channels: Int, _ window: Window2D, _ p0: Int,
                                           _ count: Int, _ out: UnsafeMutablePointer<Float>) -> Void
/// One step of an RNN cell.
public typealias RNNCellKernel = @Sendable (_ xg: UnsafePointer<Float>, _ hr: UnsafePointer<Float>, _ h: UnsafeMutablePointer<Float>,
                                            _ y: UnsafeMutablePointer<Float>, _ hidden: Int, _ activation: Activation) -> Void
/// The reset half of a GRU step (`linear_before_reset = 0`).
public typealias GRUResetKernel = @Sendable (_ xg: UnsafePointer<Float>, _ hr: UnsafePointer<Float>, _ h: UnsafePointer<Float>,
                                             _ rh: UnsafeMutablePointer<Float>, _ hidden: Int) -> Void
/// The state update of a GRU step.
public typealias GRUCellKernel = @Sendable (_ xg: UnsafePointer<Float>, _ hr: UnsafePointer<Float>, _ hh: UnsafePointer<Float>?,
                                            _ h: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ hidden: Int) -> Void
/// The state update of an LSTM step.
public typealias LSTMCellKernel = @Sendable (_ xg: UnsafePointer<Float>, _ hr: UnsafePointer<Float>, _ h: UnsafeMutablePointer<Float>,
                                             _ c: UnsafeMutablePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ hidden: Int) -> Void
/// A GEMM over packed weights with a fused bias + activation epilogue.
public typealias CopyRowsKernel = @Sendable (_ x: UnsafePointer<Float>, _ ldx: Int, _ y: UnsafeMutablePointer<Float>,
                                             _ ldy: Int, _ rows: Int, _ cols: Int) -> Void

/// A strided gather of `rank` dims (Transpose, Slice): `y` row-major over `dims`, `x` read at
/// `Σ index[k] · strides[k]`.
public typealias StridedCopyKernel = @Sendable (_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                                _ dims: UnsafePointer<Int>, _ strides: UnsafePointer<Int>, _ rank: Int) -> Void
/// A reduction (ReduceMean/Sum/Max) of the `reducedDims` positions behind each output position.
public typealias ReduceKernel = @Sendable (_ op: ReduceOp, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
                                           _ outDims: UnsafePointer<Int>, _ outStrides: UnsafePointer<Int>, _ outRank: Int,
                                           _ reducedDims: UnsafePointer<Int>, _ reducedStrides: UnsafePointer<Int>,
                                           _ reducedRank: Int) -> Void

public typealias PackedGemmKernel = @Sendable (_ x: UnsafePointer<Float>, _ lda: Int, _ weights: PackedWeights,
                                               _ bias: UnsafePointer<Float>?, _ y: UnsafeMutablePointer<Float>, _ ldy: Int,
                                               _ m: Int, _ n: Int, _ k: Int, _ activation: Activation) -> Void

/// A GEMM of the inventory and the weight encodings it accepts.
public struct GemmKernelEntry: Sendable {
    /// The kernel and its twin.
    public let entry: KernelEntry<PackedGemmKernel>
    /// The weight encodings the kernel runs.
    public let weightKinds: [PackedWeights.Kind]
}

/// The inventory of kernels: every public kernel of StrataKernels with its scalar reference twin,
/// grouped by signature. Tests iterate these lists (`KernelInventoryTests`), so no kernel exists
/// untested, and a test fails when a public kernel is missing here.
public enum KernelTable {
    /// Every `Linear` variant, reference first.
    public static let linear: [KernelVariant<LinearKernel>] = [
        KernelVariant(name: "linear_f32_reference", isReference: true,
                      function: { linear_f32_reference(x: $0, w: $1, bias: $2, y: $3, m: $4, n: $5, k: $6, activation: $7) }),
        KernelVariant(name: "gemm_f32_packed16_simd8", isReference: false,
                      function: { linear_f32_packing_then_packed16($0, $1, $2, $3, $4, $5, $6, $7) }),
    ]

    /// Every int8 dot-product kernel of the dynamic-int8 GEMM this build runs on this CPU
    /// (`qdot_i8_vnni` on x86-64 CPUs with AVX-512 VNNI, `qdot_i8_avx2` on x86-64, `qdot_i8_sdot` on aarch64 cores with the dot product,
    /// `qdot_i8_simd` everywhere; same integer results); `DynamicInt8Dot.best` is the engine's.
    /// Their scalar oracle is `gemm_i8dyn_reference`.
    public static let dynamicInt8Dot: [DynamicInt8Dot] = DynamicInt8Dot.available

    /// Elementwise activations. Exact for identity, relu, leaky relu and clip.
    public static let activation: [KernelEntry<ActivationKernel>] = [
        KernelEntry(name: "activation_f32_simd8", referenceName: "activation_f32_reference", tile: 8,
                    agreement: .within(KernelTolerance.f32),
                    kernel: { activation_f32_simd8(x: $0, y: $1, count: $2, activation: $3) },
                    reference: { activation_f32_reference(x: $0, y: $1, count: $2, activation: $3) }),
    ]

    /// Row softmax.
    public static let softmax: [KernelEntry<SoftmaxKernel>] = [
        KernelEntry(name: "softmax_f32_simd8", referenceName: "softmax_f32_reference", tile: 8,
                    agreement: .within(KernelTolerance.f32),
                    kernel: { softmax_f32_simd8(x: $0, y: $1, rows: $2, cols: $3, log: $4) },
                    reference: { softmax_f32_reference(x: $0, y: $1, rows: $2, cols: $3, log: $4) }),
    ]

    /// Softmax along a middle axis.
    public static let softmaxStrided: [KernelEntry<SoftmaxStridedKernel>] = [
        KernelEntry(name: "softmax_strided_f32_simd8", referenceName: "softmax_strided_f32_reference", tile: 8,
                    agreement: .within(KernelTolerance.f32),
                    kernel: { softmax_strided_f32_simd8(x: $0, y: $1, outer: $2, n: $3, inner: $4, log: $5) },
                    reference: { softmax_strided_f32_reference(x: $0, y: $1, outer: $2, n: $3, inner: $4, log: $5) }),
    ]

    /// Layer normalization.
    public static let layerNorm: [KernelEntry<LayerNormKernel>] = [
        KernelEntry(name: "layernorm_f32_simd8", referenceName: "layernorm_f32_reference", tile: 8,
                    agreement: .within(KernelTolerance.f32),
                    kernel: { layernorm_f32_simd8(x: $0, y: $1, rows: $2, cols: $3, scale: $4, bias: $5, epsilon: $6) },
                    reference: { layernorm_f32_reference(x: $0, y: $1, rows: $2, cols: $3, scale: $4, bias: $5, epsilon: $6) }),
    ]

    /// Row means.
    public static let meanRows: [KernelEntry<MeanRowsKernel>] = [
        KernelEntry(name: "mean_rows_f32_simd8", referenceName: "mean_rows_f32_reference", tile: 8,
                    agreement: .within(KernelTolerance.f32),
                    kernel: { mean_rows_f32_simd8(x: $0, y: $1, rows: $2, cols: $3) },
                    reference: { mean_rows_f32_reference(x: $0, y: $1, rows: $2, cols: $3) }),
    ]

    /// Strided row copies (Concat): exact.
    public static let copyRows: [KernelEntry<CopyRowsKernel>] = [
        KernelEntry(name: "copy_rows_f32", referenceName: "copy_rows_f32_reference", tile: 8, agreement: .bitwise,
                    kernel: { copy_rows_f32(x: $0, ldx: $1, y: $2, ldy: $3, rows: $4, cols: $5) },
                    reference: { copy_rows_f32_reference(x: $0, ldx: $1, y: $2, ldy: $3, rows: $4, cols: $5) }),
    ]

    /// Strided gathers (Transpose, Slice): exact.
    public static let stridedCopy: [KernelEntry<StridedCopyKernel>] = [
        KernelEntry(name: "strided_copy_f32", referenceName: "strided_copy_f32_reference", tile: 8, agreement: .bitwise,
                    kernel: { strided_copy_f32(x: $0, y: $1, dims: $2, strides: $3, rank: $4) },
                    reference: { strided_copy_f32_reference(x: $0, y: $1, dims: $2, strides: $3, rank: $4) }),
    ]

    /// Reductions over any axes: the twin folds in the same order, so exact.
    public static let reduce: [KernelEntry<ReduceKernel>] = [
        KernelEntry(name: "reduce_f32", referenceName: "reduce_f32_reference", tile: 8, agreement: .bitwise,
                    kernel: { reduce_f32($0, x: $1, y: $2, outDims: $3, outStrides: $4, outRank: $5, reducedDims: $6,
                                         reducedStrides: $7, reducedRank: $8) },
                    reference: { reduce_f32_reference($0, x: $1, y: $2, outDims: $3, outStrides: $4, outRank: $5,
                                                      reducedDims: $6, reducedStrides: $7, reducedRank: $8) }),
    ]

    /// Elementwise binary arithmetic (one f32 operation per value: exact).
    public static let binary: [KernelEntry<BinaryKernel>] = [
        KernelEntry(name: "binary_f32_simd8", referenceName: "binary_f32_reference", tile: 8, agreement: .bitwise,
                    kernel: { binary_f32_simd8($0, a: $1, aStep: $2, b: $3, bStep: $4, y: $5, count: $6) },
                    reference: { binary_f32_reference($0, a: $1, aStep: $2, b: $3, bStep: $4, y: $5, count: $6) }),
    ]

    /// 2-D pooling. Max pooling is exact; average within tolerance.
    public static let pool2d: [KernelEntry<Pool2DKernel>] = [
        KernelEntry(name: "pool2d_f32_simd8", referenceName: "pool2d_f32_reference", tile: 8,
                    agreement: .within(KernelTolerance.f32),
                    kernel: { pool2d_f32_simd8(x: $0, y: $1, planes: $2, window: $3, isMax: $4, countIncludePad: $5,
                                               padBottom: $6, padRight: $7) },
                    reference: { pool2d_f32_reference(x: $0, y: $1, planes: $2, window: $3, isMax: $4, countIncludePad: $5,
                                                      padBottom: $6, padRight: $7) }),
    ]

    /// Depthwise convolution of one plane.
    public static let depthwiseConv2d: [KernelEntry<DepthwiseConv2DKernel>] = [
        KernelEntry(name: "depthwise_conv2d_f32_simd8", referenceName: "depthwise_conv2d_f32_reference", tile: 8,
                    agreement: .within(KernelTolerance.f32),
                    kernel: { x, taps, bias, y, g, act in
                        withUnsafeTemporaryAllocation(of: Float.self, capacity: max(1, g.depthwisePaddedFloats)) {
                            depthwise_conv2d_f32_simd8(x: x, taps: taps, bias: bias, y: y, window: g, activation: act,
                                                       scratch: $0.baseAddress!)
                        }
                    },
                    reference: { depthwise_conv2d_f32_reference(x: $0, taps: $1, bias: $2, y: $3, window: $4, activation: $5) }),
    ]

    /// im2col into panel16 order (a gather: exact).
    public static let im2col: [KernelEntry<Im2ColKernel>] = [
        KernelEntry(name: "im2col_panel16_f32_simd8", referenceName: "im2col_panel16_f32_reference", tile: 16,
                    agreement: .bitwise,
                    kernel: { im2col_panel16_f32_simd8(x: $0, channels: $1, window: $2, p0: $3, count: $4, out: $5) },
                    reference: { im2col_panel16_f32_reference(x: $0, channels: $1, window: $2, p0: $3, count: $4, out: $5) }),
    ]

    /// The RNN cell.
    public static let rnnCell: [KernelEntry<RNNCellKernel>] = [
        KernelEntry(name: "rnn_cell_f32_simd8", referenceName: "rnn_cell_f32_reference", tile: 8,
                    agreement: .within(KernelTolerance.f32),
                    kernel: { rnn_cell_f32_simd8(xg: $0, hr: $1, h: $2, y: $3, hidden: $4, activation: $5) },
                    reference: { rnn_cell_f32_reference(xg: $0, hr: $1, h: $2, y: $3, hidden: $4, activation: $5) }),
    ]

    /// The GRU reset gate.
    public static let gruReset: [KernelEntry<GRUResetKernel>] = [
        KernelEntry(name: "gru_reset_f32_simd8", referenceName: "gru_reset_f32_reference", tile: 8,
                    agreement: .within(KernelTolerance.f32),
                    kernel: { gru_reset_f32_simd8(xg: $0, hr: $1, h: $2, rh: $3, hidden: $4) },
                    reference: { gru_reset_f32_reference(xg: $0, hr: $1, h: $2, rh: $3, hidden: $4) }),
    ]

    /// The GRU state update.
    public static let gruCell: [KernelEntry<GRUCellKernel>] = [
        KernelEntry(name: "gru_cell_f32_simd8", referenceName: "gru_cell_f32_reference", tile: 8,
                    agreement: .within(KernelTolerance.f32),
                    kernel: { gru_cell_f32_simd8(xg: $0, hr: $1, hh: $2, h: $3, y: $4, hidden: $5) },
                    reference: { gru_cell_f32_reference(xg: $0, hr: $1, hh: $2, h: $3, y: $4, hidden: $5) }),
    ]

    /// The LSTM state update.
    public static let lstmCell: [KernelEntry<LSTMCellKernel>] = [
        KernelEntry(name: "lstm_cell_f32_simd8", referenceName: "lstm_cell_f32_reference", tile: 8,
                    agreement: .within(KernelTolerance.f32),
                    kernel: { lstm_cell_f32_simd8(xg: $0, hr: $1, h: $2, c: $3, y: $4, hidden: $5) },
                    reference: { lstm_cell_f32_reference(xg: $0, hr: $1, h: $2, c: $3, y: $4, hidden: $5) }),
    ]

    /// The GEMMs over packed weights, each with the encodings it runs. Tile 16: a panel of
    /// output features.
    public static let gemm: [GemmKernelEntry] = [
        GemmKernelEntry(
            entry: KernelEntry(name: "gemm_f32_packed16_simd8", referenceName: "gemm_f32_packed16_reference", tile: 16,
                               agreement: .within(KernelTolerance.f32),
                               kernel: {
                                   gemm_f32_packed16_simd8(x: $0, lda: $1, packed: $2.values.assumingMemoryBound(to: Float.self), bias: $3,
                                                           y: $4, ldy: $5, m: $6, n: $7, k: $8, activation: $9)
                               },
                               reference: {
                                   gemm_f32_packed16_reference(x: $0, lda: $1, packed: $2.values.assumingMemoryBound(to: Float.self),
                                                               bias: $3, y: $4, ldy: $5, m: $6, n: $7, k: $8, activation: $9)
                               }),
            weightKinds: [.f32]),
        GemmKernelEntry(
            entry: KernelEntry(name: "gemm_f32_packed16_small_simd8", referenceName: "gemm_f32_packed16_small_reference", tile: 16,
                               agreement: .within(KernelTolerance.f32),
                               kernel: {
                                   gemm_f32_packed16_small_simd8(x: $0, lda: $1, weights: $2, bias: $3, y: $4, ldy: $5,
                                                                 m: $6, n: $7, k: $8, activation: $9)
                               },
                               reference: {
                                   gemm_f32_packed16_small_reference(x: $0, lda: $1, weights: $2, bias: $3, y: $4, ldy: $5,
                                                                     m: $6, n: $7, k: $8, activation: $9)
                               }),
            weightKinds: [.f32]),
        GemmKernelEntry(
            entry: KernelEntry(name: "gemm_q_packed16_simd8", referenceName: "gemm_q_packed16_reference", tile: 16,
                               agreement: .bitwise,
                               kernel: { x, lda, w, bias, y, ldy, m, n, k, act in withGemmWorkspace { ws in
                                   gemm_q_packed16_simd8(x: x, lda: lda, weights: w, bias: bias, y: y, ldy: ldy, m: m, n: n, k: k,
                                                         activation: act, workspace: ws)
                               } },
                               reference: { gemm_q_packed16_reference(x: $0, lda: $1, weights: $2, bias: $3, y: $4, ldy: $5,
                                                                      m: $6, n: $7, k: $8, activation: $9) }),
            weightKinds: [.f16, .bf16, .int8, .int4]),
        GemmKernelEntry(
            entry: KernelEntry(name: "gemm_i8dyn_packed16k4", referenceName: "gemm_i8dyn_reference", tile: 16,
                               agreement: .bitwise,
                               kernel: { x, lda, w, bias, y, ldy, m, n, k, act in withGemmWorkspace { ws in
                                   gemm_i8dyn_packed16k4(x: x, lda: lda, weights: w, bias: bias, y: y, ldy: ldy, m: m, n: n, k: k,
                                                         activation: act, workspace: ws)
                               } },
                               reference: { gemm_i8dyn_reference(x: $0, lda: $1, weights: $2, bias: $3, y: $4, ldy: $5,
                                                                 m: $6, n: $7, k: $8, activation: $9) }),
            weightKinds: [.int8Dynamic]),
        GemmKernelEntry(
            entry: KernelEntry(name: "gemm_packed16_simd8", referenceName: "gemm_packed16_reference", tile: 16,
                               agreement: .within(KernelTolerance.f32),
                               kernel: { x, lda, w, bias, y, ldy, m, n, k, act in withGemmWorkspace { ws in
                                   gemm_packed16_simd8(x: x, lda: lda, weights: w, bias: bias, y: y, ldy: ldy, m: m, n: n, k: k,
                                                       activation: act, workspace: ws)
                               } },
                               reference: { gemm_packed16_reference(x: $0, lda: $1, weights: $2, bias: $3, y: $4, ldy: $5,
                                                                    m: $6, n: $7, k: $8, activation: $9) }),
            weightKinds: [.f32, .f16, .bf16, .int8, .int4, .int8Dynamic]),
    ]

    /// The names of every kernel in the inventory (and of the dynamic-int8 dot kernels; the
    /// `linear` variants are GEMMs listed in `gemm`).
    public static var kernelNames: [String] {
        var names = dynamicInt8Dot.map { $0.description }
        names += activation.map { $0.name } + softmax.map { $0.name } + softmaxStrided.map { $0.name }
        names += layerNorm.map { $0.name } + meanRows.map { $0.name } + binary.map { $0.name } + copyRows.map { $0.name }
        names += pool2d.map { $0.name } + depthwiseConv2d.map { $0.name } + im2col.map { $0.name }
        names += rnnCell.map { $0.name } + gruReset.map { $0.name }
        names += gruCell.map { $0.name } + lstmCell.map { $0.name } + gemm.map { $0.entry.name }
        names += stridedCopy.map { $0.name } + reduce.map { $0.name }
        names += spatialKernelNames  // KernelTable+Spatial.swift (format 1.5)
        return names
    }

    /// The names of every reference twin in the inventory.
    public static var referenceNames: [String] {
        var names = linear.filter { $0.isReference }.map { $0.name }
        names += activation.map { $0.referenceName } + softmax.map { $0.referenceName }
        names += softmaxStrided.map { $0.referenceName } + layerNorm.map { $0.referenceName }
        names += meanRows.map { $0.referenceName } + binary.map { $0.referenceName } + pool2d.map { $0.referenceName }
        names += copyRows.map { $0.referenceName }
        names += depthwiseConv2d.map { $0.referenceName } + im2col.map { $0.referenceName }
        names += rnnCell.map { $0.referenceName }
        names += gruReset.map { $0.referenceName } + gruCell.map { $0.referenceName } + lstmCell.map { $0.referenceName }
        names += gemm.map { $0.entry.referenceName }
        names += stridedCopy.map { $0.referenceName } + reduce.map { $0.referenceName }
        names += spatialReferenceNames  // KernelTable+Spatial.swift (format 1.5)
        return names
    }
}

/// Runs `body` with `gemmWorkspaceFloats` floats of scratch (tests and benchmarks only; the
/// engine gives each thread its workspace once, at plan time).
func withGemmWorkspace(_ body: (UnsafeMutablePointer<Float>) -> Void) {
    let ws = UnsafeMutablePointer<Float>.allocate(capacity: gemmWorkspaceFloats)
    defer { ws.deallocate() }
    body(ws)
}

/// `gemm_f32_packed16_simd8` behind the plain `LinearKernel` signature: packs `w` into a
/// temporary buffer first (tests and benchmarks only; the engine packs once, at load).
func linear_f32_packing_then_packed16(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?,
                                      _ y: UnsafeMutablePointer<Float>, _ m: Int, _ n: Int, _ k: Int,
                                      _ activation: Activation) {
    let count = Panel16.packedCount(n: n, k: k)!
    let packed = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
    defer { packed.deallocate() }
    pack_f32_panel16(w: w, n: n, k: k, out: packed)
    gemm_f32_packed16_simd8(x: x, lda: k, packed: packed, bias: bias, y: y, ldy: n, m: m, n: n, k: k, activation: activation)
}
