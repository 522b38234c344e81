// CStrataSIMD: the few kernels Swift cannot express at full speed, as C intrinsics (see
// ../shared/ARCHITECTURE.md, "Decisions": a minimal, named shim, each function with a portable
// Swift twin that computes the same bits). Every function is built with a target attribute
// (x86-64: avx2, the CRC's pclmul,sse4.1; aarch64: dotprod), so no global -mavx2 or +dotprod flag
// is needed, and callers run the AVX2 kernels only on CPUs with AVX2 (libstrata's load gate,
// Sources/CStrataABI/abi.c), the CRC only where CPUID reports PCLMULQDQ, the sdot tiles only
// where HWCAP reports the dot product. Names start with
// `strataimpl_`, not `strata_`: strata.map exports `strata_*` only, and these are internal.
#ifndef CSTRATASIMD_H
#define CSTRATASIMD_H

#include <stddef.h>
#include <stdint.h>

#include "CStrataCPUControl.h"  // prefetch and MXCSR, static inline, every target

#ifdef __cplusplus
extern "C" {
#endif

/// Int8 dot products of the dynamic-int8 GEMM (docs/FORMAT.md "Dynamic int8"), exact in int32:
///
///     c[r·ldc + 16p + j] (=, or += when accumulate) Σ_{q < kq} Σ_{t < 4}
///         a[r·lda + 4q + t] · w[p·panel_stride + q·64 + (j / 8)·32 + (j % 8)·4 + t]
///
/// for r < rows, p < panels, j < 16: the weights are panels of 16 output columns in k quads
/// (layout panel16k4), the activations rows of int8. Every value of `a` and `w` must be in
/// [-127, 127] (then vpmaddubsw cannot saturate). `nonnegative`, if not NULL, holds one byte per
/// row: non-zero when that row has no negative value — a tile of such rows skips the sign step
/// (same result). Swift twin: `qdot_i8_simd` (StrataKernels, GemmDynamicInt8.swift).
void strataimpl_qdot_i8_avx2(const int8_t *a, ptrdiff_t lda, ptrdiff_t rows, const uint8_t *nonnegative,
                         const int8_t *w, ptrdiff_t panel_stride, ptrdiff_t panels, ptrdiff_t kq,
                         int32_t *c, ptrdiff_t ldc, int accumulate);

#if defined(__x86_64__)
/// 1 when this CPU has AVX-512 VNNI with AVX-512 F, BW and VL and the OS saves the AVX-512
/// registers (CPUID and XCR0, through the compiler runtime), so strataimpl_qdot_i8_vnni may run;
/// 0 otherwise, or when the environment sets STRATA_PRETEND_NO_VNNI=1 (for tests). Asked once
/// (the caller keeps the answer).
int strataimpl_qdot_i8_vnni_supported(void);

/// The same sums as strataimpl_qdot_i8_avx2 (same arguments, same contract) by vpdpbusd tiles of
/// up to 6 rows × 4 panels, exact in int32. Only where strataimpl_qdot_i8_vnni_supported() is 1.
/// Swift twin: `qdot_i8_simd`, bitwise equal.
void strataimpl_qdot_i8_vnni(const int8_t *a, ptrdiff_t lda, ptrdiff_t rows, const uint8_t *nonnegative,
                             const int8_t *w, ptrdiff_t panel_stride, ptrdiff_t panels, ptrdiff_t kq, int32_t *c,
                             ptrdiff_t ldc, int accumulate);
#endif

#if defined(__aarch64__)
/// 1 when this CPU has the ARMv8.2 dot product instructions (Linux HWCAP asimddp, from getauxval),
/// so strataimpl_qdot_i8_sdot may run; 0 otherwise (Cortex-A53/A72: Raspberry Pi 3/4), off Linux,
/// or when the environment sets STRATA_PRETEND_NO_DOTPROD=1 (for tests). Asked once (the caller
/// keeps the answer).
int strataimpl_qdot_i8_sdot_supported(void);

/// The same sums as strataimpl_qdot_i8_avx2 (same arguments but `nonnegative`, which sdot does
/// not need), by `sdot` tiles of up to 4 rows × 16 columns. Only where
/// strataimpl_qdot_i8_sdot_supported() is 1. Swift twin: `qdot_i8_simd`, bitwise equal.
void strataimpl_qdot_i8_sdot(const int8_t *a, ptrdiff_t lda, ptrdiff_t rows, const int8_t *w,
                             ptrdiff_t panel_stride, ptrdiff_t panels, ptrdiff_t kq, int32_t *c, ptrdiff_t ldc,
                             int accumulate);
#endif

#if defined(__x86_64__)
/// 1 when this CPU has PCLMULQDQ and SSE4.1 (CPUID), so strataimpl_crc32_pclmul may run; 0
/// otherwise, or when the environment sets STRATA_PRETEND_NO_PCLMUL=1 (for tests). Unlike the
/// AVX2 kernels above, this is asked at run time: the CRC runs in code the load gate does not guard.
int strataimpl_crc32_pclmul_supported(void);

/// CRC-32 (zlib's, reflected polynomial 0xEDB88320) of `n` bytes at `p` by carry-less multiply
/// folding, continuing from the running `state` (the inverted CRC: ~crc, so ~0 for a new
/// checksum) and returning the new running state. `n` must be at least 64 and a multiple of 16;
/// `p` needs no alignment. Only on CPUs where strataimpl_crc32_pclmul_supported() is 1. Swift
/// twin: the slice-by-8 table version (StrataFormat, CRC32.swift), bitwise equal.
uint32_t strataimpl_crc32_pclmul(uint32_t state, const uint8_t *p, size_t n);
#endif

#ifdef __cplusplus
}
#endif

#endif
