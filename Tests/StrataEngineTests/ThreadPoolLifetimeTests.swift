import CStrataThreads
@testable import StrataEngine
import Glibc
import Synchronization
import Testing

/// What a test job sees: a start barrier and one counter per part.
private final class JobRecord: @unchecked Sendable {
    let started = Atomic<Int>(0)
    let parts: Int
    /// `runCounts[part]`: how many times `part` was computed (each part is written by the one
    /// thread that claimed it, so a part claimed twice in one run is also a data race under TSan).
    let runCounts: UnsafeMutablePointer<Int>
    /// `slotOf[part]`: the slot of the thread that computed `part` last.
    let slotOf: UnsafeMutablePointer<Int>
    let barrier: Bool
    init(parts: Int, barrier: Bool) {
        self.parts = parts
        runCounts = .allocate(capacity: parts)
        runCounts.initialize(repeating: 0, count: parts)
        slotOf = .allocate(capacity: parts)
        slotOf.initialize(repeating: -1, count: parts)
        self.barrier = barrier
    }
    deinit { runCounts.deallocate(); slotOf.deallocate() }
    var runs: [Int] { Array(UnsafeBufferPointer(start: runCounts, count: parts)) }
    var slots: [Int] { Array(UnsafeBufferPointer(start: slotOf, count: parts)) }
}

private let recordPart: ThreadPool.JobFunction = { context, part, slot in
    let record = Unmanaged<JobRecord>.fromOpaque(context).takeUnretainedValue()
    if record.barrier {
        // Every part waits until all have started: no thread can take a second part, so each
        // thread (caller and every worker) computes exactly one.
        record.started.add(1, ordering: .acquiringAndReleasing)
        while record.started.load(ordering: .acquiring) < record.parts {}
    }
    record.runCounts[part] += 1
    record.slotOf[part] = slot
}

private func run(_ pool: ThreadPool, _ record: JobRecord) {
    pool.run(context: UnsafeRawPointer(Unmanaged.passUnretained(record).toOpaque()), recordPart)
}

/// A freed pool stops its workers: workers must not keep their pool alive (they did, through a
/// strong reference, so every freed multi-threaded session leaked its threads).
@Suite("Thread pool lifetime")
struct ThreadPoolLifetimeTests {
    @Test("a pool whose workers have all run a job is freed when its owner lets go", arguments: [2, 3, 8])
    func poolIsFreed(threads: Int) throws {
        weak var weakPool: ThreadPool?
        do {
            let pool = try ThreadPool(threads: threads)
            weakPool = pool
            // The barrier makes every worker run a part, so every worker loop has started.
            let record = JobRecord(parts: threads, barrier: true)
            run(pool, record)
            #expect(record.runs == [Int](repeating: 1, count: threads))
            #expect(record.slots.sorted() == Array(0..<threads))
        }
        #expect(weakPool == nil)
    }

    @Test("every part of every job is computed exactly once, whichever thread claims it", arguments: [2, 3])
    func partsRunOnce(threads: Int) throws {
        let pool = try ThreadPool(threads: threads)
        let record = JobRecord(parts: threads, barrier: false)
        let jobs = 3_000
        for job in 0..<jobs {
            run(pool, record)
            // Workers sleep after a pause: some jobs start with every worker asleep, and then the
            // caller takes the parts nobody has claimed yet.
            if job % 500 == 499 { usleep(2_000) }
        }
        #expect(record.runs == [Int](repeating: jobs, count: threads))
        #expect(record.slots.allSatisfy { (0..<threads).contains($0) })
    }
}

/// The calling thread's allowed CPUs as the kernel lists them ("0-1").
private func allowedCPUs() -> String {
    guard let f = fopen("/proc/thread-self/status", "r") else { return "?" }
    defer { fclose(f) }
    var line = [CChar](repeating: 0, count: 4096)
    while fgets(&line, Int32(line.count), f) != nil {
        let text = String(cString: line)
        if text.hasPrefix("Cpus_allowed_list:") { return String(text.dropFirst(18).filter { !$0.isWhitespace }) }
    }
    return "?"
}

@Suite("Thread pool CPU placement")
struct ThreadPoolPlacementTests {
    @Test("a thread leaves a CPU when it may run on another, and keeps its affinity set")
    func leaveCPU() {
        let before = allowedCPUs(), cpu = strataimpl_current_cpu()
        #expect(cpu >= 0)
        let moved = strataimpl_leave_cpu(cpu)
        #expect(allowedCPUs() == before)
        if sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2, before.contains(where: { $0 == "-" || $0 == "," }) {
            #expect(moved == 1)
            #expect(strataimpl_current_cpu() != cpu)
        }
        #expect(strataimpl_leave_cpu(-1) == 0)
        #expect(strataimpl_leave_cpu(1 << 20) == 0)
    }
}
