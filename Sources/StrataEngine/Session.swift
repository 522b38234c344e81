import StrataCore
import StrataFormat
import StrataKernels

/// Per-thread state for running a model: the arena, grown to the largest batch seen (or, with a
/// `MemoryBudget`, bounded: see Session+Memory.swift). Use from one thread at a time. A run at a
/// batch no larger than any before allocates nothing.
public final class Session {
    /// The model this session runs; kept alive by the session.
    public let model: Model
    /// Threads a run uses (the caller plus `threads - 1` pool workers).
    public let threads: Int
    var arena: UnsafeMutablePointer<Float>?
    var capacity = 0  // batch the arena holds
    let pool: ThreadPool?
    /// GEMM scratch, `model.plan.gemmScratchFloats` per thread (made once, so runs allocate
    /// nothing); nil when the model's GEMMs need none (f32 weights only).
    let workspace: UnsafeMutablePointer<Float>?
    /// Per-thread scratch of the 1.2 ops (im2col panels), `model.plan.threadScratchFloats` each.
    let threadScratch: UnsafeMutablePointer<Float>
    /// Where the arena and the scratch live; see `SessionMemory`.
    let memory: SessionMemory
    /// Per-step timing of later runs, when enabled (`setProfiling(true)`).
    public internal(set) var profile: Profile? = nil
    /// Polled on the calling thread before each step of a run (so also between chunks); `true`
    /// stops the run with `cancelled`. The session stays usable.
    public var shouldAbort: (() -> Bool)? = nil
    /// The recurrent state held between runs when streaming (Session+State.swift).
    var recurrentState = RecurrentState()
    /// Sample-major copies of the graph inputs and outputs whose batch is not dim 0
    /// (Session+BatchAxis.swift), `boundaryRows` batch rows; nil when the model has none.
    var boundary: UnsafeMutablePointer<Float>? = nil
    var boundaryRows = 0

    /// Turns per-step timing on (resetting it) or off. Timing costs two clock reads per step.
    public func setProfiling(_ enabled: Bool) {
        profile = enabled ? Profile(steps: model.steps) : nil
    }
    /// Largest thread count a session accepts.
    public static let maxThreads = 256

    /// Creates a session with buffers for `initialBatch` samples, running on `threads` threads
    /// (1 = the calling thread only). Results are bitwise identical for every thread count.
    /// - Throws: `invalidArgument` when `initialBatch < 1` or `threads` is outside 1…256;
    ///   `outOfMemory`.
    ///   `budget` bounds the session's scratch memory or places it in the caller's workspace
    ///   (Session+Memory.swift); larger batches then run in chunks. Throws `outOfMemory` (limit)
    ///   or `bufferTooSmall` (workspace) when it cannot hold one sample.
    public convenience init(model: Model, initialBatch: Int = 1, threads: Int = 1, budget: MemoryBudget = .init()) throws(StrataError) {
        guard initialBatch >= 1 else {
            throw StrataError(.invalidArgument, "initial batch is \(initialBatch); it must be at least 1")
        }
        guard (1...Session.maxThreads).contains(threads) else {
            throw StrataError(.invalidArgument, "thread count is \(threads); it must be 1…\(Session.maxThreads)")
        }
        let memory = try SessionMemory(model: model, threads: threads, budget: budget)
        self.init(model: model, threads: threads, memory: memory, pool: threads > 1 ? try ThreadPool(threads: threads) : nil)
        if memory.callerArena == nil { try reserve(batch: min(initialBatch, memory.maxChunk)) }
    }

    /// (Not throwing: see `OwnedFloats.init(pointer:count:)`.)
    private init(model: Model, threads: Int, memory: SessionMemory, pool: ThreadPool?) {
        self.model = model
        self.threads = threads
        self.memory = memory
        self.workspace = model.plan.gemmScratchFloats > 0 ? memory.gemmScratch : nil
        self.threadScratch = memory.opScratch
        self.pool = pool
        if let arena = memory.callerArena {
            self.arena = arena
            capacity = memory.maxChunk
        }
    }

    deinit {
        if memory.callerArena == nil { freeAligned(arena) }
        recurrentState.release()
        freeAligned(boundary)
    }

    /// Multiply-adds below which a step stays on the calling thread. From it, a step is split
    /// between the pool's threads when the workers are awake (spinning after the previous step
    /// or run). Measured on 2 threads with spinning workers (strata bench, threshold 1 M → 32 K):
    /// MNIST batch 1 5.6 → 3.5 µs, wide 81 → 52 µs, residual 315 → 160 µs; 8 K made MNIST slower
    /// (its 128×64 layer) than 16–64 K.
    static let parallelThreshold = 1 << 15
    /// Multiply-adds from which a step is worth waking sleeping workers for. Waking them (a
    /// futex call, a yield, a worker moving off the caller's CPU) cost a single MNIST batch-1
    /// call after a pause 33–54 µs instead of 11–15: a smaller step runs alone, and wakes the
    /// workers only when calls come as a stream (`ThreadPool.splitsSmallStep`).
    static let wakeThreshold = 1 << 20

    /// The pool to split a step of `work` multiply-adds on, or nil to run it on the calling
    /// thread (see `parallelThreshold`, `wakeThreshold`). Either gives the same bits.
    @inline(__always)
    func pool(forWork work: Double) -> ThreadPool? {
        guard let pool, work >= Double(Session.parallelThreshold) else { return nil }
        if work < Double(Session.wakeThreshold), !pool.splitsSmallStep() { return nil }
        return pool
    }

    /// Makes sure the arena holds `batch` samples, at most `maxChunk` (never shrinks).
    public func reserve(batch: Int) throws(StrataError) {
        let batch = min(batch, memory.maxChunk)
        guard batch > capacity else { return }
        let perSample = model.plan.arenaPerSample
        guard let floats = checkedMul(batch, perSample), let bytes = checkedMul(floats, 4) else {
            throw StrataError(.invalidArgument, "batch \(batch) is too large: its buffers (\(perSample) floats per sample) overflow")
        }
        if bytes == 0 { capacity = batch; return }
        guard let p = allocateAligned(bytes: bytes) else {
            throw StrataError(.outOfMemory, "cannot allocate \(bytes) bytes of buffers for batch \(batch)")
        }
        freeAligned(arena)
        arena = p.bindMemory(to: Float.self, capacity: floats)
        capacity = batch
    }

    /// Runs a model with one input and one output on `batch` samples.
    /// - Parameters:
    ///   - input: `batch × inputs[0].sampleCount` floats.
    ///   - output: room for `batch × outputs[0].sampleCount` floats.
    /// - Throws: `invalidArgument` (batch < 1 or too large), `outOfMemory`, `unsupported` for
    ///   models with several inputs or outputs.
    public func run(batch: Int, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) throws(StrataError) {
        guard model.plan.inputSampleCounts.count == 1, model.plan.outputSampleCounts.count == 1 else {
            throw StrataError(.unsupported, "this model has \(model.inputs.count) inputs and \(model.outputs.count) outputs; the single-buffer run needs exactly one of each")
        }
        var i = input, o = output
        try withUnsafePointer(to: &i) { ip throws(StrataError) in
            try withUnsafePointer(to: &o) { op throws(StrataError) in
                try run(batch: batch, inputs: UnsafeBufferPointer(start: ip, count: 1),
                        outputs: UnsafeBufferPointer(start: op, count: 1))
            }
        }
    }

    /// Runs every step of the plan once on `batch` samples (at most the arena's capacity), polling
    /// `shouldAbort` before each step. The caller (`run`, Session+Chunking.swift) has checked
    /// the arguments and set the floating-point mode.
    func runSteps(batch: Int, inputs: UnsafeBufferPointer<UnsafePointer<Float>>,
                  outputs: UnsafeBufferPointer<UnsafeMutablePointer<Float>>) throws(StrataError) {
        let arena = self.arena
        let ptr = RunBuffers(inputs: inputs, outputs: outputs, arena: arena, batch: batch)
        let profiling = profile != nil
        var started = profiling ? Profile.now() : 0
        for (index, step) in model.plan.steps.enumerated() {
            if let shouldAbort, shouldAbort() { throw cancelled(beforeStep: index) }
            run(step, batch: batch, ptr)
            if profiling {
                let now = Profile.now()
                profile!.record(step: index, nanoseconds: now - started)
                started = now
            }
        }
    }
}
