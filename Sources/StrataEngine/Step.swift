#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif hasFeature(Embedded)
import CStrataLibc  // Embedded Swift (the `make lib` build) has no Glibc module
#endif
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

/// One executable step of a plan. Sizes are per sample; the batch multiplies them at run time.
enum Step {
    /// `y = act(x · wᵀ + bias)` over `rowsPerSample × batch` rows; `packed` is W in panel16 layout (any weight dtype).
    case linear(x: Storage, packed: PackedWeights, bias: UnsafePointer<Float>?, y: Storage,
                rowsPerSample: Int, n: Int, k: Int, activation: Activation)
    /// `y = act(x)` elementwise.
    case activation(x: Storage, y: Storage, count: Int, activation: Activation)
    /// Softmax or log-softmax over rows of `cols` values.
    case softmax(x: Storage, y: Storage, rowsPerSample: Int, cols: Int, log: Bool)
    /// `y = x` (a graph output that is an alias of another value).
    case copy(x: Storage, y: Storage, count: Int)
    /// An op of format 1.2 (Session+Ops.swift).
    case op(OpStep)
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
        var p: UnsafeMutableRawPointer? = nil
        guard let bytes = count.multipliedReportingOverflow(by: 4).overflow ? nil : count * 4,
              posix_memalign(&p, 64, max(bytes, 1)) == 0, let p else {
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

    deinit { free(pointer) }
}
