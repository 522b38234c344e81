// Int8 × int8 → int32 tiles of the dynamic-int8 GEMM (include/CStrataSIMD.h), AVX2 without
// VNNI: for each k quad, 4 activation bytes are broadcast (vpbroadcastd), multiplied with the
// 64 weight bytes of a panel by vpmaddubsw (u8 × s8, adjacent pairs summed to int16), widened and
// pair-summed to int32 by vpmaddwd with ones, and added (vpaddd). vpmaddubsw needs an unsigned
// operand, so a sign step makes one: for a tile of several rows, the weights' magnitudes |w|
// (once per quad) times the activations carrying the weights' signs (vpsignb, per row); for one
// row, |a| (once per quad) times the weights carrying the activation's signs. With every value in
// [-127, 127] a pair sum is at most 2·127² = 32258 < 32767: exact. Rows with no negative value
// skip the sign step (vpmaddubsw(a, w) directly); the sums are the same integers either way.
#if defined(__x86_64__)
#include "CStrataSIMD.h"

#include <immintrin.h>
#include <string.h>

#define TARGET __attribute__((target("avx2")))

static inline TARGET __m256i bcast4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
}

static inline TARGET __m256i load32(const int8_t *p) { return _mm256_loadu_si256((const __m256i *)p); }

static inline TARGET void store_tile(int32_t *c, __m256i lo, __m256i hi, int accumulate) {
    if (accumulate) {
        lo = _mm256_add_epi32(lo, _mm256_loadu_si256((const __m256i *)c));
        hi = _mm256_add_epi32(hi, _mm256_loadu_si256((const __m256i *)(c + 8)));
    }
    _mm256_storeu_si256((__m256i *)c, lo);
    _mm256_storeu_si256((__m256i *)(c + 8), hi);
}

// R rows × one panel of 16 columns. SIGNED: |w| · (a with w's signs); else a · w. With PREFETCH,
// each quad also asks L2 for the same quad of the panel at `next` (the first tile of a panel
// fetches the next panel's K block from memory while it computes).
#define ROWS_TILE(R, SIGNED, PREFETCH, NAME)                                                        \
    static TARGET void NAME(const int8_t *a, ptrdiff_t lda, const int8_t *w, const int8_t *next,    \
                            ptrdiff_t kq, int32_t *c, ptrdiff_t ldc, int accumulate) {              \
        const __m256i ones = _mm256_set1_epi16(1);                                                  \
        __m256i lo[R], hi[R];                                                                       \
        for (int r = 0; r < R; r++) lo[r] = hi[r] = _mm256_setzero_si256();                        \
        if (accumulate) /* the sums of the last K block may have left L2: fetch them meanwhile */   \
            for (int r = 0; r < R; r++) _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);    \
        for (ptrdiff_t q = 0; q < kq; q++) {                                                        \
            if (PREFETCH) _mm_prefetch((const char *)(next + q * 64), _MM_HINT_T1);                 \
            const __m256i w0 = load32(w + q * 64), w1 = load32(w + q * 64 + 32);                    \
            const __m256i u0 = SIGNED ? _mm256_abs_epi8(w0) : w0;                                   \
            const __m256i u1 = SIGNED ? _mm256_abs_epi8(w1) : w1;                                   \
            for (int r = 0; r < R; r++) {                                                           \
                const __m256i x = bcast4(a + r * lda + 4 * q);                                      \
                const __m256i p0 = SIGNED ? _mm256_maddubs_epi16(u0, _mm256_sign_epi8(x, w0))       \
                                          : _mm256_maddubs_epi16(x, w0);                            \
                const __m256i p1 = SIGNED ? _mm256_maddubs_epi16(u1, _mm256_sign_epi8(x, w1))       \
                                          : _mm256_maddubs_epi16(x, w1);                            \
                lo[r] = _mm256_add_epi32(lo[r], _mm256_madd_epi16(p0, ones));                       \
                hi[r] = _mm256_add_epi32(hi[r], _mm256_madd_epi16(p1, ones));                       \
            }                                                                                       \
        }                                                                                           \
        for (int r = 0; r < R; r++) store_tile(c + r * ldc, lo[r], hi[r], accumulate);              \
    }

ROWS_TILE(4, 1, 0, tile4_signed)
ROWS_TILE(3, 1, 0, tile3_signed)
ROWS_TILE(2, 1, 0, tile2_signed)
ROWS_TILE(4, 0, 0, tile4_unsigned)
ROWS_TILE(3, 0, 0, tile3_unsigned)
ROWS_TILE(2, 0, 0, tile2_unsigned)
ROWS_TILE(4, 1, 1, tile4_signed_prefetch)
ROWS_TILE(4, 0, 1, tile4_unsigned_prefetch)

// One row × P panels (the GEMV). SIGNED: |a| · (w with a's signs); else a · w.
#define ROW_TILE(P, SIGNED, NAME)                                                                   \
    static TARGET void NAME(const int8_t *a, const int8_t *w, ptrdiff_t panel_stride, ptrdiff_t kq, \
                            int32_t *c, int accumulate) {                                           \
        const __m256i ones = _mm256_set1_epi16(1);                                                  \
        __m256i lo[P], hi[P];                                                                       \
        for (int p = 0; p < P; p++) lo[p] = hi[p] = _mm256_setzero_si256();                         \
        if (accumulate)                                                                             \
            for (int p = 0; p < P; p++) _mm_prefetch((const char *)(c + 16 * p), _MM_HINT_T0);     \
        for (ptrdiff_t q = 0; q < kq; q++) {                                                        \
            const __m256i x = bcast4(a + 4 * q);                                                    \
            const __m256i ax = SIGNED ? _mm256_abs_epi8(x) : x;                                     \
            for (int p = 0; p < P; p++) {                                                           \
                const int8_t *wp = w + p * panel_stride + q * 64;                                   \
                const __m256i w0 = load32(wp), w1 = load32(wp + 32);                                \
                const __m256i p0 = _mm256_maddubs_epi16(ax, SIGNED ? _mm256_sign_epi8(w0, x) : w0); \
                const __m256i p1 = _mm256_maddubs_epi16(ax, SIGNED ? _mm256_sign_epi8(w1, x) : w1); \
                lo[p] = _mm256_add_epi32(lo[p], _mm256_madd_epi16(p0, ones));                       \
                hi[p] = _mm256_add_epi32(hi[p], _mm256_madd_epi16(p1, ones));                       \
            }                                                                                       \
        }                                                                                           \
        for (int p = 0; p < P; p++) store_tile(c + 16 * p, lo[p], hi[p], accumulate);               \
    }

ROW_TILE(4, 1, row4_signed)
ROW_TILE(1, 1, row1_signed)
ROW_TILE(4, 0, row4_unsigned)
ROW_TILE(1, 0, row1_unsigned)

static int all_nonnegative(const uint8_t *flags, ptrdiff_t r, ptrdiff_t count) {
    if (!flags) return 0;
    for (ptrdiff_t i = 0; i < count; i++)
        if (!flags[r + i]) return 0;
    return 1;
}

TARGET void strataimpl_qdot_i8_avx2(const int8_t *a, ptrdiff_t lda, ptrdiff_t rows, const uint8_t *nonnegative,
                                const int8_t *w, ptrdiff_t panel_stride, ptrdiff_t panels, ptrdiff_t kq,
                                int32_t *c, ptrdiff_t ldc, int accumulate) {
    ptrdiff_t tiled = rows >= 2 ? rows - rows % 2 : 0;  // rows in 4-, 3- and 2-row tiles; the last odd row alone
    if (rows % 2 == 1 && rows >= 3) tiled = rows;        // 3 = one 3-row tile
    for (ptrdiff_t p = 0; p < panels && tiled > 0; p++) {
        const int8_t *wp = w + p * panel_stride;
        ptrdiff_t r = 0;
        while (r < tiled) {
            const ptrdiff_t left = tiled - r;
            const int R = left >= 4 && left != 5 ? 4 : left >= 3 ? 3 : 2;  // 5 = 3 + 2, not 4 + 1
            const int u = all_nonnegative(nonnegative, r, R);
            const int8_t *ar = a + r * lda;
            int32_t *cr = c + r * ldc + 16 * p;
            if (R == 4 && r == 0 && p + 1 < panels)
                (u ? tile4_unsigned_prefetch : tile4_signed_prefetch)(ar, lda, wp, wp + panel_stride, kq, cr, ldc, accumulate);
            else if (R == 4) (u ? tile4_unsigned : tile4_signed)(ar, lda, wp, wp, kq, cr, ldc, accumulate);
            else if (R == 3) (u ? tile3_unsigned : tile3_signed)(ar, lda, wp, wp, kq, cr, ldc, accumulate);
            else (u ? tile2_unsigned : tile2_signed)(ar, lda, wp, wp, kq, cr, ldc, accumulate);
            r += R;
        }
    }
    if (tiled < rows) {  // one row left: the GEMV over groups of 4 panels
        const ptrdiff_t r = rows - 1;
        const int u = all_nonnegative(nonnegative, r, 1);
        const int8_t *ar = a + r * lda;
        int32_t *cr = c + r * ldc;
        ptrdiff_t p = 0;
        for (; p + 4 <= panels; p += 4)
            (u ? row4_unsigned : row4_signed)(ar, w + p * panel_stride, panel_stride, kq, cr + 16 * p, accumulate);
        for (; p < panels; p++)
            (u ? row1_unsigned : row1_signed)(ar, w + p * panel_stride, panel_stride, kq, cr + 16 * p, accumulate);
    }
}
#endif
