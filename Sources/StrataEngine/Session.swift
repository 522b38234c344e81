#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import StrataCore
import StrataFormat
import StrataKernels

/// Per-thread state for running a model: the arena, grown to the largest batch seen.
/// Use from one thread at a time. A run at a batch no larger than any before allocates nothing.
public final class Session {
    /// The model this session runs; kept alive by the session.
    public let model: Model
    private var arena: UnsafeMutablePointer<Float>?
    private var capacity = 0  // batch the arena holds

    /// Creates a session with buffers for `initialBatch` samples.
    /// - Throws: `invalidArgument` when `initialBatch < 1`; `outOfMemory`.
    public init(model: Model, initialBatch: Int = 1) throws {
        self.model = model
        guard initialBatch >= 1 else {
            throw StrataError(.invalidArgument, "initial batch is \(initialBatch); it must be at least 1")
        }
        try reserve(batch: initialBatch)
    }

    deinit { free(arena) }

    /// Makes sure the arena holds `batch` samples (never shrinks).
    public func reserve(batch: Int) throws {
        guard batch > capacity else { return }
        let perSample = model.plan.arenaPerSample
        guard let floats = checkedMul(batch, perSample), let bytes = checkedMul(floats, 4) else {
            throw StrataError(.invalidArgument, "batch \(batch) is too large: its buffers (\(perSample) floats per sample) overflow")
        }
        if bytes == 0 { capacity = batch; return }
        var p: UnsafeMutableRawPointer? = nil
        guard posix_memalign(&p, 64, bytes) == 0, let p else {
            throw StrataError(.outOfMemory, "cannot allocate \(bytes) bytes of buffers for batch \(batch)")
        }
        free(arena)
        arena = p.bindMemory(to: Float.self, capacity: floats)
        capacity = batch
    }

    /// Runs a model with one input and one output on `batch` samples.
    /// - Parameters:
    ///   - input: `batch × inputs[0].sampleCount` floats.
    ///   - output: room for `batch × outputs[0].sampleCount` floats.
    /// - Throws: `invalidArgument` (batch < 1 or too large), `outOfMemory`, `unsupported` for
    ///   models with several inputs or outputs.
    public func run(batch: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) throws {
        guard model.plan.inputSampleCounts.count == 1, model.plan.outputSampleCounts.count == 1 else {
            throw StrataError(.unsupported, "this model has \(model.inputs.count) inputs and \(model.outputs.count) outputs; the single-buffer run needs exactly one of each")
        }
        var i = input, o = output
        try withUnsafePointer(to: &i) { ip in
            try withUnsafePointer(to: &o) { op in
                try run(batch: batch, inputs: UnsafeBufferPointer(start: ip, count: 1),
                        outputs: UnsafeBufferPointer(start: op, count: 1))
            }
        }
    }

    /// Runs the model on `batch` samples with one buffer per graph input and output, in order.
    public func run(batch: Int, inputs: UnsafeBufferPointer<UnsafePointer<Float>>,
                    outputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>) throws {
        guard batch >= 1 else { throw StrataError(.invalidArgument, "batch is \(batch); it must be at least 1") }
        guard inputs.count == model.plan.inputSampleCounts.count, outputs.count == model.plan.outputSampleCounts.count else {
            throw StrataError(.invalidArgument, "expected \(model.plan.inputSampleCounts.count) input and \(model.plan.outputSampleCounts.count) output buffers, got \(inputs.count) and \(outputs.count)")
        }
        for count in model.plan.inputSampleCounts + model.plan.outputSampleCounts {
            guard checkedMul(count, batch) != nil else {
                throw StrataError(.invalidArgument, "batch \(batch) is too large: \(count) values per sample overflow")
            }
        }
        try reserve(batch: batch)
        let arena = self.arena
        @inline(__always) func ptr(_ s: Storage) -> UnsafeMutablePointer<Float> {
            switch s {
            case .input(let k): return UnsafeMutablePointer(mutating: inputs[k])
            case .output(let k): return outputs[k]
            case .arena(let offset): return arena! + offset * batch
            case .constant(let p): return UnsafeMutablePointer(mutating: p)
            }
        }
        for step in model.plan.steps {
            switch step {
            case .linear(let x, let packed, let bias, let y, let rows, let n, let k, let act):
                gemm_f32_packed16_simd8(x: ptr(x), lda: k, packed: packed, bias: bias, y: ptr(y), ldy: n,
                                        m: rows * batch, n: n, k: k, activation: act)
            case .activation(let x, let y, let count, let act):
                activation_f32_simd8(x: ptr(x), y: ptr(y), count: count * batch, activation: act)
            case .softmax(let x, let y, let rows, let cols, let log):
                softmax_f32_simd8(x: ptr(x), y: ptr(y), rows: rows * batch, cols: cols, log: log)
            case .add(let a, let b, let y, let count, let bCount, let bIsConstant):
                add_f32_simd8(a: ptr(a), b: ptr(b), bCount: bIsConstant ? bCount : count * batch, y: ptr(y), count: count * batch)
            case .copy(let x, let y, let count):
                ptr(y).update(from: ptr(x), count: count * batch)
            }
        }
    }
}
