#if canImport(CStrataSIMD)
import CStrataSIMD
#endif

/// Hints the CPU to bring the cache line at `p` into L1 before a load needs it (prefetcht0 on
/// x86-64, prfm on aarch64; Sources/CStrataSIMD/include/CStrataCPUControl.h, inlined). Never
/// faults and changes no result; where the C module is absent (the bare-metal `check-arm`
/// compile) it does nothing.
@inline(__always) @usableFromInline
func prefetchL1(_ p: UnsafePointer<Float>) {
    #if canImport(CStrataSIMD)
    strataimpl_prefetch_l1(p)
    #endif
}
