import StrataCore
import StrataKernels

/// Where a value lives during a run. Arena offsets are per sample: at batch N a value with
/// offset `o` starts at `arena + o × N` (offsets are multiples of 16 floats, so 64-byte aligned).
enum Storage: Equatable {
    /// Graph input `k`, owned by the caller (read-only).
    case input(Int)
    /// Graph output `k`, owned by the caller.
    case output(Int)
    /// The session's arena at a per-sample offset, in floats.
    case arena(Int)
}

/// The buffers of one run: `ptr(storage)` is where a value lives at this batch size. (A struct,
/// not a local closure, so passing it to step helpers allocates nothing.)
struct RunBuffers {
    let inputs: UnsafeBufferPointer<UnsafePointer<Float>>
    let outputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>
    let arena: UnsafeMutablePointer<Float>?
    let batch: Int

    @inline(__always)
    func callAsFunction(_ s: Storage) -> UnsafeMutablePointer<Float> {
        switch s {
        case .input(let k): return UnsafeMutablePointer(mutating: inputs[k])
        case .output(let k): return outputs[k]
        case .arena(let offset): return arena! + offset * batch
        }
    }
}

/// One executable step of a plan — every op of every format version runs as one: value operands
/// and results by storage, per-sample scratch regions in the arena, and the kernel with
/// everything fixed at load. Sizes are per sample; the batch multiplies them at run time.
struct Step {
    /// Value operands, in the kernel's order (absent optional inputs are left out; see the kernel).
    var inputs: [Storage]
    /// Results, in the node's output order.
    var outputs: [Storage]
    /// Per-sample arena scratch (live during this step only), sizes as planned in `OpKernel`.
    var scratch: [Storage]
    var kernel: OpKernel
}

/// What a `Step` computes: one case per op family (Ops/), each with the plan its family made at
/// load. `Session.run(_:batch:_:)` (Ops/OpFamilies.swift) dispatches on it.
enum OpKernel {
    /// `y = act(x · wᵀ + bias)` (Ops/Linear.swift).
    case linear(LinearPlan)
    /// `y = act(x)` elementwise over `count` values per sample (Ops/Activations.swift).
    case activation(count: Int, Activation)
    /// Softmax or log-softmax along an axis (Ops/Softmax.swift).
    case softmax(SoftmaxPlan)
    /// `y = x`, `count` values per sample: a graph output stored apart from its value (Ops/Shape.swift).
    case copy(count: Int)
    /// `y = a ⊕ b` with broadcasting (Ops/Binary.swift).
    case binary(BinaryOp, BroadcastPlan)
    /// Layer normalization (Ops/LayerNorm.swift).
    case layerNorm(LayerNormPlan)
    /// 2-D convolution (Ops/Conv.swift).
    case conv(ConvPlan)
    /// MaxPool / AveragePool / GlobalAveragePool (Ops/Pool.swift).
    case pool(PoolPlan)
    /// RNN, GRU or LSTM (Ops/Recurrent.swift).
    case recurrent(RecurrentPlan)
    /// Values joined along an axis (Ops/Concat.swift).
    case concat(ConcatPlan)
    /// A strided gather: Transpose, Slice (Ops/Strided.swift).
    case strided(StridedPlan)
    /// ReduceMean, ReduceSum, ReduceMax (Ops/Reduce.swift).
    case reduce(ReducePlan)
    /// Transposed 2-D convolution (Ops/ConvTranspose.swift, format 1.5).
    case convTranspose(ConvTransposePlan)
    /// Nearest or bilinear resize (Ops/Resize.swift, format 1.5).
    case resize(ResizePlan)
    /// Constant, reflect or edge padding (Ops/Pad.swift, format 1.5).
    case pad(PadPlan)

    /// Floating-point operations per sample of its matrix products (2 per multiply-add).
    var flopsPerSample: Double {
        switch self {
        case .linear(let p): return 2 * Double(p.rowsPerSample) * Double(p.n) * Double(p.k)
        case .conv(let p): return 2 * Double(p.positions) * Double(p.k) * Double(p.outChannels)
        case .recurrent(let p): return 2 * Double(p.steps) * Double(p.gates * p.hidden) * Double(p.inputSize + p.hidden)
        default: return 0
        }
    }

    /// The kernel with `activation` applied to its output, when it can fuse one (an epilogue).
    func fusing(_ activation: Activation) -> OpKernel? {
        switch self {
        case .linear(var plan) where plan.activation == .identity:
            plan.activation = activation
            return .linear(plan)
        case .conv(var plan) where plan.activation == .identity:
            plan.activation = activation
            return .conv(plan)
        default:
            return nil
        }
    }
}

/// A human-readable line per step, for `strata info` and profiles.
public struct StepDescription: Sendable {
    /// e.g. "Linear+Relu".
    public var kind: String
    /// Node names this step implements, e.g. ["fc1", "relu"].
    public var nodes: [String]
    /// e.g. "[N, 784] -> [N, 128]".
    public var shapes: String
}

/// Floats the engine owns (weights packed at load): 64-byte aligned, freed with the plan.
final class OwnedFloats: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    /// - Throws: `outOfMemory` when the allocation fails.
    convenience init(count: Int) throws(StrataError) {
        guard let bytes = count.multipliedReportingOverflow(by: 4).overflow ? nil : count * 4,
              let p = allocateAligned(bytes: bytes) else {
            throw StrataError(.outOfMemory, "cannot allocate \(count) floats for packed weights")
        }
        self.init(pointer: p.bindMemory(to: Float.self, capacity: max(count, 1)), count: count)
    }

    // Throwing initializers of classes here are convenience initializers that throw before they
    // delegate to a designated one that cannot: Embedded Swift (the `make lib` build) never frees
    // an object whose designated initializer throws before every stored property is set.
    private init(pointer: UnsafeMutablePointer<Float>, count: Int) {
        self.pointer = pointer
        self.count = count
    }

    deinit { freeAligned(pointer) }
}
