// CStrataSIMD: CPU instructions Swift has no name for, as `static inline` functions that the
// Swift compiler inlines into its callers (no call, no symbol). Unlike CStrataSIMD.h these are
// not AVX2 code: prefetch compiles on every target (x86-64 prefetcht0, aarch64 prfm), the MXCSR
// accessors on x86-64 only (SSE, part of the x86-64 baseline).
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
#endif

#endif
