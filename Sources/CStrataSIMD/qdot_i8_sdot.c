// Int8 × int8 → int32 tiles of the dynamic-int8 GEMM (include/CStrataSIMD.h) with the ARMv8.2 dot
// product instruction `sdot` (FEAT_DotProd: Cortex-A55/A75/A76 and newer, Raspberry Pi 5, Graviton 2+;
// not Cortex-A53/A72, so not Raspberry Pi 3/4). One `sdot` multiplies 4 signed bytes of a column
// with 4 signed bytes of the activations and adds the sum to that column's int32 lane, for 4 columns
// at once. The panel16k4 layout stores column j's quad at byte 4j of the 64-byte quad, so the quad
// of a panel is 4 vectors of 4 columns each, exactly sdot's operand; the activation quad is one
// 32-bit lane (`sdot ..., v.4b[lane]`). Signed × signed: no sign step, no saturation — the int32
// sums are the same integers as the portable twin's (`qdot_i8_simd`) and the AVX2 tiles'.
// Only this file is built for dotprod (target attribute): the rest of the library stays ARMv8.0,
// and callers run these tiles only where strataimpl_qdot_i8_sdot_supported() (HWCAP) says so.
#if defined(__aarch64__)
#include "CStrataSIMD.h"

#include <arm_neon.h>
#include <stdlib.h>
#include <string.h>
#if defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1UL << 20)
#endif
#endif

#define TARGET __attribute__((target("dotprod")))

int strataimpl_qdot_i8_sdot_supported(void) {
#if defined(__linux__)
    if (!(getauxval(AT_HWCAP) & HWCAP_ASIMDDP)) return 0;
    const char *pretend = getenv("STRATA_PRETEND_NO_DOTPROD");
    return !(pretend && pretend[0] == '1');
#else
    return 0;
#endif
}

// The 4 activation bytes of quad q of a row as one vector (every 32-bit lane the same quad).
static inline TARGET int8x16_t quad(const int8_t *a) {
    int32_t v;
    memcpy(&v, a, 4);
    return vreinterpretq_s8_s32(vdupq_n_s32(v));
}

// R rows × one panel of 16 columns: 4·R accumulators (16 for R = 4, with the panel's 4 weight
// vectors and the rows' activations: 24 of the 32 vector registers). The k loop takes 4 quads per
// step (one 16-byte load of each row, sdot by lane), then single quads.
#define ROWS_TILE(R, NAME)                                                                          \
    static TARGET void NAME(const int8_t *a, ptrdiff_t lda, const int8_t *w, ptrdiff_t kq, int32_t *c, \
                            ptrdiff_t ldc, int accumulate) {                                        \
        int32x4_t acc[R][4];                                                                        \
        for (int r = 0; r < R; r++)                                                                 \
            for (int j = 0; j < 4; j++) acc[r][j] = vdupq_n_s32(0);                                 \
        ptrdiff_t q = 0;                                                                            \
        for (; q + 4 <= kq; q += 4) {                                                               \
            int8x16_t x[R];                                                                         \
            for (int r = 0; r < R; r++) x[r] = vld1q_s8(a + r * lda + 4 * q);                       \
            for (int s = 0; s < 4; s++) {                                                           \
                const int8_t *wq = w + (q + s) * 64;                                                \
                const int8x16_t w0 = vld1q_s8(wq), w1 = vld1q_s8(wq + 16);                          \
                const int8x16_t w2 = vld1q_s8(wq + 32), w3 = vld1q_s8(wq + 48);                     \
                for (int r = 0; r < R; r++) {                                                       \
                    int8x16_t xs;                                                                   \
                    switch (s) { /* the lane index must be a constant */                            \
                    case 0: xs = vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(x[r]), 0)); break; \
                    case 1: xs = vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(x[r]), 1)); break; \
                    case 2: xs = vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(x[r]), 2)); break; \
                    default: xs = vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(x[r]), 3)); break; \
                    }                                                                               \
                    acc[r][0] = vdotq_s32(acc[r][0], w0, xs);                                       \
                    acc[r][1] = vdotq_s32(acc[r][1], w1, xs);                                       \
                    acc[r][2] = vdotq_s32(acc[r][2], w2, xs);                                       \
                    acc[r][3] = vdotq_s32(acc[r][3], w3, xs);                                       \
                }                                                                                   \
            }                                                                                       \
        }                                                                                           \
        for (; q < kq; q++) {                                                                       \
            const int8_t *wq = w + q * 64;                                                          \
            const int8x16_t w0 = vld1q_s8(wq), w1 = vld1q_s8(wq + 16);                              \
            const int8x16_t w2 = vld1q_s8(wq + 32), w3 = vld1q_s8(wq + 48);                         \
            for (int r = 0; r < R; r++) {                                                           \
                const int8x16_t xs = quad(a + r * lda + 4 * q);                                     \
                acc[r][0] = vdotq_s32(acc[r][0], w0, xs);                                           \
                acc[r][1] = vdotq_s32(acc[r][1], w1, xs);                                           \
                acc[r][2] = vdotq_s32(acc[r][2], w2, xs);                                           \
                acc[r][3] = vdotq_s32(acc[r][3], w3, xs);                                           \
            }                                                                                       \
        }                                                                                           \
        for (int r = 0; r < R; r++)                                                                 \
            for (int j = 0; j < 4; j++) {                                                           \
                int32_t *out = c + r * ldc + 4 * j;                                                 \
                vst1q_s32(out, accumulate ? vaddq_s32(acc[r][j], vld1q_s32(out)) : acc[r][j]);      \
            }                                                                                       \
    }

ROWS_TILE(4, tile4)
ROWS_TILE(3, tile3)
ROWS_TILE(2, tile2)
ROWS_TILE(1, tile1)

TARGET void strataimpl_qdot_i8_sdot(const int8_t *a, ptrdiff_t lda, ptrdiff_t rows, const int8_t *w,
                                    ptrdiff_t panel_stride, ptrdiff_t panels, ptrdiff_t kq, int32_t *c,
                                    ptrdiff_t ldc, int accumulate) {
    for (ptrdiff_t p = 0; p < panels; p++) {
        const int8_t *wp = w + p * panel_stride;
        ptrdiff_t r = 0;
        for (; r + 4 <= rows; r += 4) tile4(a + r * lda, lda, wp, kq, c + r * ldc + 16 * p, ldc, accumulate);
        const ptrdiff_t left = rows - r;
        const int8_t *ar = a + r * lda;
        int32_t *cr = c + r * ldc + 16 * p;
        if (left == 3) tile3(ar, lda, wp, kq, cr, ldc, accumulate);
        else if (left == 2) tile2(ar, lda, wp, kq, cr, ldc, accumulate);
        else if (left == 1) tile1(ar, lda, wp, kq, cr, ldc, accumulate);
    }
}
#endif
