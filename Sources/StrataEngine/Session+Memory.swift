import StrataCore
import StrataKernels

/// Bounds on a session's scratch memory (`strata_session_params.memory_limit`, `.workspace`).
public struct MemoryBudget {
    /// Most bytes of scratch the session may hold; nil = no limit.
    public var limit: Int?
    /// Caller-owned memory holding all of the session's scratch; never freed by the session.
    public var workspace: UnsafeMutableRawBufferPointer?

    public init(limit: Int? = nil, workspace: UnsafeMutableRawBufferPointer? = nil) {
        self.limit = limit
        self.workspace = workspace
    }
}

/// A session's scratch: the per-thread scratch (GEMM scratch, `Plan.gemmScratchFloats`, and the
/// 1.2 ops' im2col panels, `Plan.threadScratchFloats`; fixed) and the arena (`arenaPerSample` floats per sample of a pass). Unbounded, the arena grows to the
/// largest batch seen; bounded, a pass holds at most `maxChunk` samples and bigger batches run
/// in chunks (Session+Chunking.swift).
///
/// Layout in a caller's workspace: [pad to 64 bytes][GEMM scratch][op scratch][arena, maxChunk
/// samples]. Both scratch sizes are multiples of 16 floats, so every part is 64-byte aligned.
struct SessionMemory {
    /// The GEMM scratch (64-byte aligned).
    let gemmScratch: UnsafeMutablePointer<Float>
    /// The 1.2 ops' per-thread scratch, `threadScratchFloats` per thread, after the GEMM scratch.
    let opScratch: UnsafeMutablePointer<Float>
    /// The arena inside the caller's workspace, or nil when the session allocates its own.
    let callerArena: UnsafeMutablePointer<Float>?
    /// Most samples one pass of the plan handles; `Int.max` when unbounded.
    let maxChunk: Int
    /// Keeps the session's own GEMM scratch alive (nil in a caller's workspace).
    private let owned: OwnedFloats?

    /// Slack `Session.workspaceBytes` adds so that a workspace of any alignment fits.
    static let alignmentSlack = 64

    init(model: Model, threads: Int, budget: MemoryBudget) throws(StrataError) {
        guard let scratchFloats = SessionMemory.scratchFloats(model: model, threads: threads),
              let scratchBytes = checkedMul(scratchFloats, 4) else {
            throw StrataError(.outOfMemory, "the model's per-thread scratch (\(model.plan.threadScratchFloats) floats) overflows for \(threads) threads")
        }
        let sampleBytes = model.plan.arenaPerSample * 4
        /// Samples that fit in `bytes` once the GEMM scratch is taken; nil when not even one does.
        func samples(fitting bytes: Int) -> Int? {
            let rest = bytes - scratchBytes
            guard rest >= 0 else { return nil }
            guard sampleBytes > 0 else { return Int.max }
            return rest / sampleBytes >= 1 ? rest / sampleBytes : nil
        }
        let oneSample = SessionMemory.bytes(samples: 1, sampleBytes: sampleBytes, scratchBytes: scratchBytes) ?? Int.max
        let threadsText = "\(threads) thread\(threads == 1 ? "" : "s")"
        var maxChunk = Int.max
        if let limit = budget.limit {
            guard let n = samples(fitting: limit - SessionMemory.alignmentSlack) else {
                throw StrataError(.outOfMemory, "the memory limit of \(limit) bytes is below the \(oneSample) bytes a session of this model on \(threadsText) needs for one sample")
            }
            maxChunk = n
        }
        if let workspace = budget.workspace {
            let base = Int(bitPattern: workspace.baseAddress)
            let aligned = (base + 63) & ~63
            guard workspace.baseAddress != nil, let n = samples(fitting: workspace.count - (aligned - base)) else {
                throw StrataError(.bufferTooSmall, "the workspace of \(workspace.count) bytes is smaller than the \(oneSample) bytes a session of this model on \(threadsText) needs for one sample")
            }
            maxChunk = min(maxChunk, n)
            let start = UnsafeMutableRawPointer(bitPattern: aligned)!
            gemmScratch = start.bindMemory(to: Float.self, capacity: scratchFloats)
            let arenaFloats = sampleBytes == 0 ? 0 : maxChunk * model.plan.arenaPerSample
            callerArena = (start + scratchBytes).bindMemory(to: Float.self, capacity: max(arenaFloats, 1))
            owned = nil
        } else {
            owned = try OwnedFloats(count: scratchFloats)
            gemmScratch = owned!.pointer
            callerArena = nil
        }
        self.maxChunk = maxChunk
        opScratch = gemmScratch + threads * model.plan.gemmScratchFloats
    }

    /// Per-thread scratch floats of all threads (GEMM packing plus op scratch, each rounded up to
    /// 16 floats), or nil on overflow.
    static func scratchFloats(model: Model, threads: Int) -> Int? {
        let op = (model.plan.threadScratchFloats + 15) / 16 * 16
        guard let perThread = checkedAdd(model.plan.gemmScratchFloats, op) else { return nil }
        return checkedMul(threads, perThread)
    }

    /// Slack + GEMM scratch + arena for `samples` samples, or nil on overflow.
    static func bytes(samples: Int, sampleBytes: Int, scratchBytes: Int) -> Int? {
        guard let arena = checkedMul(samples, sampleBytes), let total = checkedAdd(arena, scratchBytes) else { return nil }
        return checkedAdd(total, alignmentSlack)
    }
}

extension Session {
    /// Bytes of scratch a session on `model` with `threads` threads needs to run `batch` samples in
    /// one pass: a workspace or memory limit of this size runs batches up to `batch` unchunked.
    /// Grows linearly with `batch`. nil when the size overflows.
    public static func workspaceBytes(model: Model, batch: Int, threads: Int) -> Int? {
        guard batch >= 1, threads >= 1, let sampleBytes = checkedMul(model.plan.arenaPerSample, 4),
              let scratchFloats = SessionMemory.scratchFloats(model: model, threads: threads),
              let scratchBytes = checkedMul(scratchFloats, 4) else { return nil }
        return SessionMemory.bytes(samples: batch, sampleBytes: sampleBytes, scratchBytes: scratchBytes)
    }

    /// Most samples one pass of the plan handles (`Int.max` when the session is unbounded); a
    /// larger batch runs in chunks of this many.
    public var maxChunk: Int { memory.maxChunk }
}
