#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#elseif hasFeature(Embedded)
import CStrataLibc  // Embedded Swift (the `make lib` build) has no Glibc module
#endif

/// Denormal handling during a run: tiny values are flushed to zero (FTZ) and treated as zero on
/// input (DAZ), so a network with tiny weights never runs 10× slower on denormal arithmetic.
/// The caller's floating-point environment is restored afterwards.
enum FloatingPointMode {
    #if arch(x86_64)
    /// MXCSR bits: flush-to-zero (15) and denormals-are-zero (6).
    static let ftzDaz: UInt32 = 0x8040
    #endif

    /// Sets FTZ/DAZ on the calling thread and returns the previous environment.
    @inline(__always)
    static func enterRun() -> fenv_t {
        var saved = fenv_t()
        fegetenv(&saved)
        #if arch(x86_64)
        if saved.__mxcsr & ftzDaz != ftzDaz {
            var env = saved
            env.__mxcsr |= ftzDaz
            fesetenv(&env)
        }
        #endif
        return saved
    }

    /// Restores the environment `enterRun` returned (only if it was changed).
    @inline(__always)
    static func leaveRun(_ saved: fenv_t) {
        #if arch(x86_64)
        if saved.__mxcsr & ftzDaz != ftzDaz {
            var env = saved
            fesetenv(&env)
        }
        #endif
    }

    /// Sets FTZ/DAZ for the rest of the calling thread's life (worker threads).
    static func flushDenormals() {
        _ = enterRun()
    }
}
