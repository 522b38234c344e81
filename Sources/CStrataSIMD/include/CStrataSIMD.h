// CStrataSIMD: the few kernels Swift cannot express at full speed, as C intrinsics (see
// ../shared/ARCHITECTURE.md, "Decisions": a minimal, named shim, each function with a portable
// Swift twin that computes the same bits). Compiled for x86-64 only; every function is built with
// __attribute__((target("avx2"))), so no global -mavx2 flag is needed, and callers run it only on
// CPUs with AVX2 (libstrata's load gate, Sources/CStrataABI/abi.c). Names start with
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

#ifdef __cplusplus
}
#endif

#endif
