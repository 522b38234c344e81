import CStrataThreads
import StrataCore
import Synchronization

/// A persistent fork-join pool of `threads - 1` pthreads plus the calling thread.
///
/// A job is split by the caller into `threads` fixed parts; the threads claim parts from a shared
/// counter, so a part is computed by the same code whichever thread takes it and results do not
/// depend on timing. Claiming (rather than part `i` on thread `i`) means a worker that wakes late
/// — descheduled, or placed on the caller's own core by the scheduler — costs at most the
/// single-thread time: the caller takes the parts nobody has claimed. A worker that finds itself
/// on the caller's CPU when a job arrives moves itself to another CPU it may run on (the
/// scheduler can queue a woken worker behind its waker for milliseconds while a core idles).
/// Workers spin briefly on a generation counter after each job (a fork costs far less than a
/// thread wake-up), then sleep on a condition variable, so an idle pool burns no CPU. One `run`
/// at a time (a session is used by one thread at a time).
final class ThreadPool: @unchecked Sendable {
    /// Total threads including the caller.
    let threads: Int
    /// Bumped by `run` to publish a job; workers wait for it to change.
    private let generation = Atomic<Int>(0)
    /// The job's claim state: `generation << 16 | parts claimed so far`. A claim is a
    /// compare-and-swap that also checks the generation, so a worker that wakes after its job is
    /// over can never claim a part of the next one with the previous one's function.
    private let claims = Atomic<Int>(0)
    /// Parts finished in the current job.
    private let finished = Atomic<Int>(0)
    /// The CPU the caller ran on when it published the current job (-1: unknown).
    private let callerCPU = Atomic<Int>(-1)
    /// A job: a C function called with the job's context, the part to compute (`0..<threads`) and
    /// the slot of the thread computing it (`0..<threads`, 0 = the caller), which picks the
    /// thread's own scratch. (A Swift closure handed to other threads would be boxed on the heap
    /// at every run; this allocates nothing.)
    typealias JobFunction = @convention(c) (UnsafeRawPointer, _ part: Int, _ slot: Int) -> Void
    private var jobFunction: JobFunction? = nil
    private var jobContext: UnsafeRawPointer? = nil
    /// Guards `stopping` and sleeping; workers sleep on its condition.
    private let wake = LockedCondition()
    /// When `splitsSmallStep` was last called (monotonic ns; the caller's thread only).
    private var lastAsked: UInt64 = 0
    /// Workers asleep on `wake` (changed under its lock; read anywhere as a hint).
    private let sleeping = Atomic<Int>(0)
    private var stopping = false
    private var handles: [PlatformThread] = []
    /// Spin iterations before a worker sleeps (≈ tens of microseconds).
    private static let spins = 20_000

    /// Starts `threads - 1` workers. Throws `outOfMemory` when a thread cannot be created.
    init(threads: Int) throws(StrataError) {
        self.threads = threads
        for index in 1..<max(threads, 1) {
            let context = Unmanaged.passRetained(WorkerContext(pool: .passUnretained(self), index: index)).toOpaque()
            switch PlatformThread.start(context, { raw in
                let context = Unmanaged<WorkerContext>.fromOpaque(raw!).takeRetainedValue()
                // Never retain the pool here (see WorkerContext).
                context.pool._withUnsafeGuaranteedRef { $0.workerLoop(index: context.index) }
                return nil
            }) {
            case .success(let handle):
                handles.append(handle)
            case .failure(let error):
                Unmanaged<WorkerContext>.fromOpaque(context).release()
                shutdown()
                throw StrataError(.outOfMemory, "cannot start worker thread \(index) of \(threads): error \(error.code)")
            }
        }
    }

    deinit { shutdown() }

    private func shutdown() {
        wake.lock()
        stopping = true
        wake.broadcast()
        wake.unlock()
        for h in handles { h.join() }
        handles.removeAll()
    }

    /// Runs `function(context, part, slot)` for every part in `0..<threads`, each exactly once, on
    /// whichever thread claims it (the caller included); returns when all are done. `context`
    /// must stay valid until then.
    func run(context: UnsafeRawPointer, _ function: JobFunction) {
        guard threads > 1 else { function(context, 0, 0); return }
        jobFunction = function
        jobContext = context
        finished.store(0, ordering: .relaxed)
        let job = publish(claimed: 0)
        work(job: job, slot: 0)
        // Spin briefly for parts a worker is computing; then yield the core, so that on a busy
        // machine a descheduled worker gets to run instead of the caller burning its time slice.
        var spins = 0
        while finished.load(ordering: .acquiring) < threads {
            spins += 1
            if spins > 4_000 { yieldThread() }
        }
        jobFunction = nil
        jobContext = nil
    }

    /// True when no worker is asleep (they are spinning, or running): a job handed to the pool
    /// now starts on every thread at once. A hint, read without the lock.
    private var workersAwake: Bool { sleeping.load(ordering: .relaxed) == 0 }

    /// Whether a step too small to be worth a wake-up should be split now: yes when the workers
    /// are awake. When they sleep, no; and if the pool was last asked less than `streamGap` ago
    /// (the caller is running a stream of calls), the sleeping workers are woken without work
    /// (an empty job, no yield) so that the next steps find them spinning. A caller with pauses
    /// between calls never pays for a wake-up its small steps would not use.
    func splitsSmallStep() -> Bool {
        guard threads > 1 else { return false }
        let now = Profile.now()
        defer { lastAsked = now }
        if workersAwake { return true }
        if now &- lastAsked < ThreadPool.streamGap {
            finished.store(threads, ordering: .relaxed)
            _ = publish(claimed: threads, yieldAfterWaking: false)
        }
        return false
    }

    /// Nanoseconds between two small steps below which `splitsSmallStep` takes the caller for a
    /// stream and wakes the workers: about the workers' spin before they sleep.
    static let streamGap: UInt64 = 200_000

    /// Publishes the next job with `claimed` of its parts already taken (0: a real job; `threads`:
    /// an empty one) and wakes sleeping workers; returns the job's generation.
    private func publish(claimed: Int, yieldAfterWaking: Bool = true) -> Int {
        let job = generation.load(ordering: .relaxed) &+ 1
        claims.store(job << 16 | claimed, ordering: .relaxed)
        callerCPU.store(Int(strataimpl_current_cpu()), ordering: .relaxed)
        wake.lock()
        generation.store(job, ordering: .releasing)
        let wakeSleepers = sleeping.load(ordering: .relaxed) > 0
        wake.unlock()
        // Broadcast after unlocking: a worker woken while the mutex is held blocks on it at once,
        // and the unlock's second wake-up can leave it queued behind the caller for a whole
        // scheduler tick (seen: 3.7 ms) before it runs and can move off the caller's CPU.
        if wakeSleepers {
            wake.broadcast()
            // The scheduler may queue a woken worker on this CPU, behind the caller, until the next
            // tick (seen: 1.5–3.9 ms) although another core idles. Yielding once lets it run now,
            // see that it shares the caller's CPU and move (workerLoop); otherwise it is a no-op.
            if yieldAfterWaking { yieldThread() }
        }
        return job
    }

    /// Claims and computes parts of job `job` until none is left.
    private func work(job: Int, slot: Int) {
        var state = claims.load(ordering: .acquiring)
        while state >> 16 == job, state & 0xFFFF < threads {
            let (exchanged, current) = claims.compareExchange(expected: state, desired: state + 1,
                                                              ordering: .acquiringAndReleasing)
            guard exchanged else { state = current; continue }
            jobFunction!(jobContext!, state & 0xFFFF, slot)
            finished.add(1, ordering: .releasing)
            state = claims.load(ordering: .acquiring)
        }
    }

    private func workerLoop(index: Int) {
        FloatingPointMode.flushDenormals()
        var seen = 0
        while true {
            var spins = 0
            while generation.load(ordering: .acquiring) == seen && spins < ThreadPool.spins {
                spins += 1
                if spins & 1023 == 0 { yieldThread() }  // let other work in while we wait
            }
            if generation.load(ordering: .acquiring) == seen {
                wake.lock()
                while generation.load(ordering: .acquiring) == seen && !stopping {
                    sleeping.add(1, ordering: .relaxed)
                    wake.wait()
                    sleeping.subtract(1, ordering: .relaxed)
                }
                let stop = stopping
                wake.unlock()
                if stop { return }
            }
            seen = generation.load(ordering: .acquiring)
            let cpu = callerCPU.load(ordering: .relaxed)
            if cpu >= 0, Int(strataimpl_current_cpu()) == cpu { _ = strataimpl_leave_cpu(Int32(cpu)) }
            work(job: seen, slot: index)
        }
    }
}

/// What a worker thread gets. The pool is referenced without retaining it, also while the
/// worker loop runs: a worker holding a strong reference would keep its pool alive forever (the
/// pool's deinit is what stops the workers), so every freed multi-threaded session whose workers
/// had started leaked its threads. The deinit joins every worker before the pool's memory goes,
/// so the unretained reference never dangles.
private final class WorkerContext {
    let pool: Unmanaged<ThreadPool>
    let index: Int
    init(pool: Unmanaged<ThreadPool>, index: Int) { self.pool = pool; self.index = index }
}
