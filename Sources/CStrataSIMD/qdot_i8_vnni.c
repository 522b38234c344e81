// Int8 × int8 → int32 tiles of the dynamic-int8 GEMM (include/CStrataSIMD.h) with AVX-512 VNNI:
// vpdpbusd multiplies 4 unsigned bytes by 4 signed bytes in each of 16 int32 lanes and adds the
// four products to the lane — 64 multiply-adds per instruction, in int32 with no intermediate
// saturation (vpdpbusd wraps; only vpdpbusds saturates), so every sum is exact. One quad of a
// panel (64 bytes: 16 columns × 4 k, layout panel16k4) is one zmm register, so a tile is R rows ×
// P panels of zmm accumulators, the 4 activation bytes of a row broadcast to every lane.
//
// vpdpbusd needs its activation operand unsigned:
// - rows with no negative value (after a ReLU) are already unsigned: dpbusd(a, w) directly;
// - a tile with a signed row adds 128 to every activation byte (a xor 0x80 = a + 128 in [1, 255])
//   and subtracts 128 · Σ_k w[k, j] per column at the end (computed once per panel group by the
//   same instruction on bytes 0x80): Σ (a + 128)·w − Σ 128·w = Σ a·w, exactly, in int32
//   arithmetic modulo 2^32 (the true sum fits in int32, so the wrapped result is that sum);
// - a single signed row (the GEMV) multiplies |a| by w carrying a's signs (a masked negate),
//   which needs no column sums.
// Every value of a and w is in [-127, 127] (so |a| ≤ 127 and -w never overflows).
#if defined(__x86_64__)
#include "CStrataSIMD.h"

#include <immintrin.h>
#include <stdlib.h>
#include <string.h>

#define TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
#define INLINE __attribute__((always_inline)) static inline

int strataimpl_qdot_i8_vnni_supported(void) {
    __builtin_cpu_init();  // the runtime's checks include the OS saving the AVX-512 state (XCR0)
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512vnni"))
        return 0;
    const char *pretend = getenv("STRATA_PRETEND_NO_VNNI");
    return !(pretend && pretend[0] == '1');
}

/// Rows and panels of the largest tile: 6 × 4 accumulators, 4 weight registers and a broadcast
/// in the 32 zmm registers.
enum { MAX_ROWS = 6, MAX_PANELS = 4 };

/// How a tile makes its activations unsigned (see the file's summary).
enum { UNSIGNED = 0, OFFSET = 1, MASKED = 2 };

INLINE TARGET __m512i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
}

/// R rows × P panels. OFFSET tiles subtract `corr[p]` (128 · the column sums of panel p over these
/// kq quads); MASKED tiles have R = 1.
INLINE TARGET void tile(const int R, const int P, const int MODE, const int8_t *a, ptrdiff_t lda, const int8_t *w,
                        ptrdiff_t panel_stride, ptrdiff_t kq, int32_t *c, ptrdiff_t ldc, int accumulate,
                        const __m512i *corr) {
    __m512i acc[MAX_ROWS][MAX_PANELS];
    const __m512i bias = _mm512_set1_epi8((char)0x80), zero = _mm512_setzero_si512();
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++)
#pragma clang loop unroll(full)
        for (int p = 0; p < P; p++) acc[r][p] = zero;
    for (ptrdiff_t q = 0; q < kq; q++) {
        __m512i wv[MAX_PANELS];
#pragma clang loop unroll(full)
        for (int p = 0; p < P; p++) wv[p] = _mm512_loadu_si512((const void *)(w + p * panel_stride + q * 64));
        if (MODE == MASKED) {
            const __m512i x = bcast4(a + 4 * q);
            const __mmask64 negative = _mm512_movepi8_mask(x);
            const __m512i ax = _mm512_abs_epi8(x);
#pragma clang loop unroll(full)
            for (int p = 0; p < P; p++)
                acc[0][p] = _mm512_dpbusd_epi32(acc[0][p], ax, _mm512_mask_sub_epi8(wv[p], negative, zero, wv[p]));
        } else {
#pragma clang loop unroll(full)
            for (int r = 0; r < R; r++) {
                __m512i x = bcast4(a + r * lda + 4 * q);
                if (MODE == OFFSET) x = _mm512_xor_si512(x, bias);
#pragma clang loop unroll(full)
                for (int p = 0; p < P; p++) acc[r][p] = _mm512_dpbusd_epi32(acc[r][p], x, wv[p]);
            }
        }
    }
#pragma clang loop unroll(full)
    for (int r = 0; r < R; r++)
#pragma clang loop unroll(full)
        for (int p = 0; p < P; p++) {
            __m512i v = acc[r][p];
            int32_t *cp = c + r * ldc + 16 * p;
            if (MODE == OFFSET) v = _mm512_sub_epi32(v, corr[p]);
            if (accumulate) v = _mm512_add_epi32(v, _mm512_loadu_si512((const void *)cp));
            _mm512_storeu_si512((void *)cp, v);
        }
}

/// corr[p] = Σ_q dpbusd(0x80 bytes, quad q of panel p) = 128 · Σ_k w[k, j] for the 16 columns.
INLINE TARGET void column_sums(const int P, const int8_t *w, ptrdiff_t panel_stride, ptrdiff_t kq, __m512i *corr) {
    const __m512i bias = _mm512_set1_epi8((char)0x80);
#pragma clang loop unroll(full)
    for (int p = 0; p < P; p++) corr[p] = _mm512_setzero_si512();
    for (ptrdiff_t q = 0; q < kq; q++)
#pragma clang loop unroll(full)
        for (int p = 0; p < P; p++)
            corr[p] = _mm512_dpbusd_epi32(corr[p], bias, _mm512_loadu_si512((const void *)(w + p * panel_stride + q * 64)));
}

typedef void (*tile_fn)(const int8_t *, ptrdiff_t, const int8_t *, ptrdiff_t, ptrdiff_t, int32_t *, ptrdiff_t, int,
                        const __m512i *);

#define TILE_FN(R, P, MODE)                                                                                        \
    static TARGET void tile_##R##_##P##_##MODE(const int8_t *a, ptrdiff_t lda, const int8_t *w, ptrdiff_t ps,     \
                                               ptrdiff_t kq, int32_t *c, ptrdiff_t ldc, int acc, const __m512i *k) { \
        tile(R, P, MODE, a, lda, w, ps, kq, c, ldc, acc, k);                                                       \
    }
#define TILE_ROWS(P, MODE) \
    TILE_FN(1, P, MODE) TILE_FN(2, P, MODE) TILE_FN(3, P, MODE) TILE_FN(4, P, MODE) TILE_FN(5, P, MODE) TILE_FN(6, P, MODE)
TILE_ROWS(1, 0) TILE_ROWS(2, 0) TILE_ROWS(3, 0) TILE_ROWS(4, 0)
TILE_ROWS(1, 1) TILE_ROWS(2, 1) TILE_ROWS(3, 1) TILE_ROWS(4, 1)
TILE_FN(1, 1, 2) TILE_FN(1, 2, 2) TILE_FN(1, 3, 2) TILE_FN(1, 4, 2)

#define ROWS_OF(P, MODE) \
    {tile_1_##P##_##MODE, tile_2_##P##_##MODE, tile_3_##P##_##MODE, tile_4_##P##_##MODE, tile_5_##P##_##MODE, tile_6_##P##_##MODE}
/// tiles[MODE][P - 1][R - 1] for the UNSIGNED and OFFSET modes.
static const tile_fn tiles[2][MAX_PANELS][MAX_ROWS] = {
    {ROWS_OF(1, 0), ROWS_OF(2, 0), ROWS_OF(3, 0), ROWS_OF(4, 0)},
    {ROWS_OF(1, 1), ROWS_OF(2, 1), ROWS_OF(3, 1), ROWS_OF(4, 1)},
};
/// The MASKED one-row tiles, by P - 1.
static const tile_fn masked[MAX_PANELS] = {tile_1_1_2, tile_1_2_2, tile_1_3_2, tile_1_4_2};

static TARGET void sums_of_group(int P, const int8_t *w, ptrdiff_t panel_stride, ptrdiff_t kq, __m512i *corr) {
    switch (P) {
    case 1: column_sums(1, w, panel_stride, kq, corr); break;
    case 2: column_sums(2, w, panel_stride, kq, corr); break;
    case 3: column_sums(3, w, panel_stride, kq, corr); break;
    default: column_sums(4, w, panel_stride, kq, corr); break;
    }
}

static int all_nonnegative(const uint8_t *flags, ptrdiff_t r, ptrdiff_t count) {
    if (!flags) return 0;
    for (ptrdiff_t i = 0; i < count; i++)
        if (!flags[r + i]) return 0;
    return 1;
}

/// Row tiles of 6 (the last ones 4 + 3 or 4 + 4 rather than 6 + 1 where the rows allow: a one-row
/// tile reloads the weights for a single row).
static ptrdiff_t rows_of_tile(ptrdiff_t left) {
    if (left <= MAX_ROWS) return left;
    if (left == 7) return 4;
    if (left == 8) return 4;
    return MAX_ROWS;
}

TARGET void strataimpl_qdot_i8_vnni(const int8_t *a, ptrdiff_t lda, ptrdiff_t rows, const uint8_t *nonnegative,
                                    const int8_t *w, ptrdiff_t panel_stride, ptrdiff_t panels, ptrdiff_t kq,
                                    int32_t *c, ptrdiff_t ldc, int accumulate) {
    for (ptrdiff_t p = 0; p < panels; p += MAX_PANELS) {
        const int P = panels - p < MAX_PANELS ? (int)(panels - p) : MAX_PANELS;
        const int8_t *wp = w + p * panel_stride;
        __m512i corr[MAX_PANELS];
        int have_sums = 0;
        for (ptrdiff_t r = 0; r < rows;) {
            const int R = (int)rows_of_tile(rows - r);
            const int8_t *ar = a + r * lda;
            int32_t *cr = c + r * ldc + 16 * p;
            if (all_nonnegative(nonnegative, r, R)) {
                tiles[UNSIGNED][P - 1][R - 1](ar, lda, wp, panel_stride, kq, cr, ldc, accumulate, corr);
            } else if (R == 1) {
                masked[P - 1](ar, lda, wp, panel_stride, kq, cr, ldc, accumulate, corr);
            } else {
                if (!have_sums) sums_of_group(P, wp, panel_stride, kq, corr);
                have_sums = 1;
                tiles[OFFSET][P - 1][R - 1](ar, lda, wp, panel_stride, kq, cr, ldc, accumulate, corr);
            }
            r += R;
        }
    }
}
#endif
