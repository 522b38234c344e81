// The engine's one window on the C library (the only file of the module that imports it):
// aligned memory, a monotonic clock, and the thread primitives of the pool. Normal Swift gets libc
// from Glibc (Darwin); Embedded Swift (the `make lib` build) from the bare headers (CStrataLibc).
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif hasFeature(Embedded)
import CStrataLibc
#endif

/// `bytes` bytes aligned to 64 (a cache line; what every SIMD load assumes at most), or nil when
/// the memory cannot be had. Free with `freeAligned`.
func allocateAligned(bytes: Int) -> UnsafeMutableRawPointer? {
    var p: UnsafeMutableRawPointer? = nil
    guard bytes >= 0, posix_memalign(&p, 64, max(bytes, 1)) == 0 else { return nil }
    return p
}

/// Frees memory from `allocateAligned`; nil does nothing.
func freeAligned(_ p: UnsafeMutableRawPointer?) { free(p) }

/// Monotonic clock in nanoseconds.
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return UInt64(t.tv_sec) &* 1_000_000_000 &+ UInt64(t.tv_nsec)
}

/// Gives the calling thread's core to another runnable thread, if any (`sched_yield`).
@inline(__always)
func yieldThread() { sched_yield() }

/// A mutex and one condition variable, at addresses that never move (pthread objects must not).
final class LockedCondition {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }
    /// Waits for `broadcast`, with the mutex held (released while waiting, held again after).
    func wait() { pthread_cond_wait(condition, mutex) }
    /// Wakes every waiting thread.
    func broadcast() { pthread_cond_broadcast(condition) }
}

/// A started thread, joinable once.
struct PlatformThread {
    private let handle: pthread_t

    /// The entry point: called with the context given to `start`; returns nothing useful.
    typealias Body = @convention(c) (UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?

    /// Starts a thread running `body(context)`, or returns the error number when it cannot.
    static func start(_ context: UnsafeMutableRawPointer, _ body: Body) -> Result<PlatformThread, ThreadStartError> {
        var handle = pthread_t()
        let status = pthread_create(&handle, nil, body, context)
        return status == 0 ? .success(PlatformThread(handle: handle)) : .failure(ThreadStartError(code: status))
    }

    /// Waits for the thread to end.
    func join() { pthread_join(handle, nil) }
}

/// Why a thread did not start: `pthread_create`'s error number.
struct ThreadStartError: Error {
    var code: Int32
}
