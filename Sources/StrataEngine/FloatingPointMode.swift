#if (arch(x86_64) || arch(arm64)) && canImport(CStrataSIMD)
import CStrataSIMD
#endif

/// Denormal handling during a run: tiny values are flushed to zero (FTZ) and treated as zero on
/// input (DAZ), so a network with tiny weights never runs 10× slower on denormal arithmetic.
/// The caller's floating-point state is restored afterwards.
///
/// On x86-64 the state is MXCSR, read and written directly (stmxcsr/ldmxcsr, inlined): 0.2 µs
/// less per call than fegetenv/fesetenv, which also save and load the x87 environment (4 % of
/// an MNIST batch-1 run). On aarch64 it is FPCR.FZ (bit 24), which flushes subnormal inputs and
/// results alike — what FTZ + DAZ do on x86-64 — so both give the same bits (issue 16).
/// Elsewhere the run leaves the floating-point state alone.
enum FloatingPointMode {
    #if arch(x86_64) && canImport(CStrataSIMD)
    /// MXCSR bits: flush-to-zero (15) and denormals-are-zero (6).
    static let ftzDaz: UInt32 = 0x8040

    /// Sets FTZ/DAZ on the calling thread and returns the previous MXCSR.
    @inline(__always)
    static func enterRun() -> UInt32 {
        let saved = strataimpl_mxcsr_get()
        if saved & ftzDaz != ftzDaz { strataimpl_mxcsr_set(saved | ftzDaz) }
        return saved
    }

    /// Restores the MXCSR `enterRun` returned (only if it was changed).
    @inline(__always)
    static func leaveRun(_ saved: UInt32) {
        if saved & ftzDaz != ftzDaz { strataimpl_mxcsr_set(saved) }
    }
    #elseif arch(arm64) && canImport(CStrataSIMD)
    /// FPCR bit: flush-to-zero (24), inputs and results. Half precision (FZ16) is left alone: the
    /// kernels convert f16 to f32 and never compute in half precision.
    static let flushToZero: UInt64 = 1 << 24

    /// Sets FPCR.FZ on the calling thread and returns the previous FPCR.
    @inline(__always)
    static func enterRun() -> UInt64 {
        let saved = strataimpl_fpcr_get()
        if saved & flushToZero == 0 { strataimpl_fpcr_set(saved | flushToZero) }
        return saved
    }

    /// Restores the FPCR `enterRun` returned (only if it was changed).
    @inline(__always)
    static func leaveRun(_ saved: UInt64) {
        if saved & flushToZero == 0 { strataimpl_fpcr_set(saved) }
    }
    #else
    /// No floating-point state is changed on this target.
    @inline(__always)
    static func enterRun() -> UInt32 { 0 }

    /// Nothing to restore on this target.
    @inline(__always)
    static func leaveRun(_ saved: UInt32) {}
    #endif

    /// Sets FTZ/DAZ for the rest of the calling thread's life (worker threads).
    static func flushDenormals() {
        _ = enterRun()
    }
}
