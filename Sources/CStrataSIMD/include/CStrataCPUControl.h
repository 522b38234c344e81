// CStrataSIMD: CPU instructions Swift has no name for, as `static inline` functions that the
// Swift compiler inlines into its callers (no call, no symbol). Unlike CStrataSIMD.h these are
// not AVX2 code: prefetch compiles on every target (x86-64 prefetcht0, aarch64 prfm), the MXCSR
// accessors on x86-64 only (SSE, part of the x86-64 baseline), the FPCR accessors on aarch64 only.
#ifndef CSTRATA_CPU_CONTROL_H
#define CSTRATA_CPU_CONTROL_H

#include <stdint.h>

/// Asks the CPU to bring the cache line holding `p` into L1 for reading. Only a hint: it never
/// faults, whatever `p` points to (also past the end of a mapping), and changes no result.
static inline void strataimpl_prefetch_l1(const void *p) { __builtin_prefetch(p, 0, 3); }

#if defined(__x86_64__)
/// The calling thread's SSE control and status register (rounding, exception masks, FTZ, DAZ).
static inline uint32_t strataimpl_mxcsr_get(void) { return __builtin_ia32_stmxcsr(); }
/// Sets the calling thread's SSE control and status register.
static inline void strataimpl_mxcsr_set(uint32_t value) { __builtin_ia32_ldmxcsr(value); }
#elif defined(__aarch64__)
/// The calling thread's floating-point control register FPCR (rounding, FZ at bit 24, FZ16 at 19).
static inline uint64_t strataimpl_fpcr_get(void) {
    uint64_t value;
    __asm__ volatile("mrs %0, fpcr" : "=r"(value));
    return value;
}
/// Sets the calling thread's floating-point control register FPCR.
static inline void strataimpl_fpcr_set(uint64_t value) { __asm__ volatile("msr fpcr, %0" : : "r"(value)); }
#endif

#endif
