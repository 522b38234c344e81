@testable import StrataEngine
import Testing

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
            var calls = [Int](repeating: 0, count: threads)
            calls.withUnsafeMutableBufferPointer { buffer in
                // Every worker runs the job, so every worker loop has started.
                pool.run(context: UnsafeRawPointer(buffer.baseAddress!)) { context, index in
                    UnsafeMutablePointer(mutating: context.assumingMemoryBound(to: Int.self))[index] += 1
                }
            }
            #expect(calls == [Int](repeating: 1, count: threads))
        }
        #expect(weakPool == nil)
    }
}
