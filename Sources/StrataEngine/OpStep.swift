import StrataKernels

/// A step of the ops of format 1.2 (docs/FORMAT.md "Ops (1.2)"): value operands and results by
/// storage, per-sample scratch regions in the arena, and the kernel with everything fixed at load.
/// Sizes are per sample; the batch multiplies them at run time.
struct OpStep {
    /// Value operands, in the kernel's order (absent optional inputs are left out; see the kernel).
    var inputs: [Storage]
    /// Results, in the node's output order.
    var outputs: [Storage]
    /// Per-sample arena scratch (live during this step only), sizes as planned in `OpKernel`.
    var scratch: [Storage]
    var kernel: OpKernel
}

/// What an `OpStep` computes.
enum OpKernel {
    /// `y = a ⊕ b` with broadcasting (`BroadcastPlan`).
    case binary(BinaryOp, BroadcastPlan)
    /// Softmax or log-softmax along the middle axis of `outer × n × inner` values per sample.
    case softmaxAxis(outer: Int, n: Int, inner: Int, log: Bool)
    /// Layer normalization of `rows` rows of `cols` values per sample.
    case layerNorm(rows: Int, cols: Int, scale: UnsafePointer<Float>, bias: UnsafePointer<Float>?, epsilon: Float)
    /// 2-D convolution (im2col panels + GEMM, or the direct depthwise kernel), activation fused.
    case conv(ConvPlan)
    /// MaxPool / AveragePool.
    case pool(PoolPlan)
    /// Mean of each of `planes` planes of `size` values per sample.
    case globalAveragePool(planes: Int, size: Int)
    /// RNN, GRU or LSTM.
    case recurrent(RecurrentPlan)

    /// Floating-point operations per sample of its matrix products (2 per multiply-add).
    var flopsPerSample: Double {
        switch self {
        case .conv(let p):
            return 2 * Double(p.positions) * Double(p.k) * Double(p.outChannels)
        case .recurrent(let p):
            let gh = Double(p.gates * p.hidden)
            return 2 * Double(p.steps) * gh * Double(p.inputSize + p.hidden)
        default:
            return 0
        }
    }

    /// The kernel with `activation` applied to its output, when it can fuse one.
    func fusing(_ activation: Activation) -> OpKernel? {
        guard case .conv(var plan) = self, plan.activation == .identity else { return nil }
        plan.activation = activation
        return .conv(plan)
    }
}

/// A broadcast of two operands to an output of per-sample dims `dims` (adjacent dims merged when
/// both operands are contiguous across them). Strides are in floats per step of each dim, 0 where
/// the operand is broadcast; the batch stride is the operand's per-sample count, or 0 for a tensor.
struct BroadcastPlan {
    var dims: [Int]
    var aStrides: [Int], bStrides: [Int], yStrides: [Int]
    var aBatchStride: Int, bBatchStride: Int
    /// A tensor operand (read from the file), or nil when the operand is `OpStep.inputs`' next value.
    var aConstant: UnsafePointer<Float>?, bConstant: UnsafePointer<Float>?
    /// Output values per sample.
    var count: Int
}

/// A 2-D convolution: per group and chunk of output positions, im2col into per-thread scratch in
/// panel16 form and one GEMM `Y = W · Col` writing NCHW directly, then bias + activation along
/// the output channels; a depthwise Conv runs the direct kernel instead.
struct ConvPlan {
    var channels: Int, outChannels: Int, group: Int
    var window: Window2D
    /// The weights as stored, `[M, C/group, kH, kW]`: the rows of the GEMM `Y = W · Col` (`M/group`
    /// rows of `K` per group), or a depthwise Conv's taps.
    var weights: UnsafePointer<Float>
    /// One input channel per group: the direct depthwise kernel (no im2col, no scratch).
    var depthwise: Bool
    var bias: UnsafePointer<Float>?
    var activation: Activation
    /// Output positions per chunk at most (a multiple of 16, or all of them); per-thread scratch
    /// is one chunk of im2col panels, `⌈chunk/16⌉ · 16 · K` floats.
    var chunk: Int
    /// GEMM depth: `C/group · kH · kW`.
    var k: Int { channels / group * window.kh * window.kw }
    var positions: Int { window.ho * window.wo }
    var scratchFloats: Int { depthwise ? 0 : Panel16.panelCount(chunk) * 16 * k }
}

/// MaxPool or AveragePool over `channels` planes per sample.
struct PoolPlan {
    var channels: Int
    var window: Window2D
    var padBottom: Int, padRight: Int
    var isMax: Bool
    var countIncludePad: Bool
}

/// A recurrent layer, batch-first. Inputs: X, then H0 and C0 when present; outputs Y, Y_h (, Y_c);
/// scratch: the gate pre-activations of all steps (`T · G · H`), those of one step from the state
/// (`G · H`), the state `H`, and for GRU without linear-before-reset `r ⊙ H` and its product
/// (`2 · H`).
struct RecurrentPlan {
    enum Cell { case rnn(Activation), gru(linearBeforeReset: Bool), lstm }
    var cell: Cell
    var steps: Int, inputSize: Int, hidden: Int
    /// W packed (`[G·H, I]`) and the bias of X·Wᵀ (WB + RB, except RB_h of a GRU with
    /// linear-before-reset), `G · H` values.
    var w: PackedWeights
    var xBias: UnsafePointer<Float>
    /// R packed: all gates (`[G·H, H]`), or for GRU without linear-before-reset the z and r gates
    /// (`[2H, H]`), with `rh` the h gate (`[H, H]`).
    var r: PackedWeights
    var rh: PackedWeights?
    /// Bias of H·Rᵀ (GRU with linear-before-reset: 0 for z and r, RB_h for h), or nil.
    var hBias: UnsafePointer<Float>?
    var hasH0: Bool, hasC0: Bool

    var gates: Int {
        switch cell { case .rnn: return 1; case .gru: return 3; case .lstm: return 4 }
    }
    /// Columns of the per-step product H·Rᵀ.
    var stateColumns: Int {
        if case .gru(false) = cell { return 2 * hidden }
        return gates * hidden
    }
}
