/*
 * qdot_sdot_test.c — the sdot int8 dot kernel of the dynamic-int8 GEMM (Sources/CStrataSIMD/
 * qdot_i8_sdot.c) against plain loops over the documented layout, bit for bit, run under
 * qemu-aarch64 by tools/arm/test_aarch64.sh (make test-aarch64). Built from the shim's source (its
 * functions are internal to libstrata).
 *
 *   qdot_sdot_test dotprod   the CPU must report the dot product (qemu -cpu max): the kernel is
 *                            compared on rows 1..13, 1..5 panels, K quads around its 4-quad step,
 *                            random values and the extremes, with and without accumulation, with
 *                            padded strides whose gaps must stay untouched; and at the largest K
 *                            the format allows, all ±127 (sums near ±2^31)
 *   qdot_sdot_test none      the CPU must not report it (qemu -cpu cortex-a72, or
 *                            STRATA_PRETEND_NO_DOTPROD=1): libstrata then runs the portable twin
 *
 * Exits 1 naming the first case that differs, or when the CPU's answer is not the expected one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "CStrataSIMD.h"

/* QuantizedPanel16.maxDynamicK (StrataCore): the largest K of a dynamic-int8 weight. */
#define MAX_DYNAMIC_K 133144

static uint64_t rng_state = 0x9E3779B97F4A7C15u;

static uint32_t next_random(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

enum fill { RANDOM, ALL_MAX, OPPOSITE, ALTERNATING, FILLS };
static const char *fill_names[FILLS] = {"random", "all +127", "a -127 / w +127", "alternating"};

static int8_t value(enum fill fill, size_t i, int activation) {
    switch (fill) {
    case RANDOM: return (int8_t)((int)(next_random() % 255) - 127);
    case ALL_MAX: return 127;
    case OPPOSITE: return activation ? -127 : 127;
    default: return i % 2 == 0 ? 127 : -127;
    }
}

/* c (=, or +=) Σ a·w by plain loops, in int64 then wrapped like the kernels' int32 adds. */
static void dot_by_loops(const int8_t *a, ptrdiff_t lda, ptrdiff_t rows, const int8_t *w, ptrdiff_t panel_stride,
                         ptrdiff_t panels, ptrdiff_t kq, int32_t *c, ptrdiff_t ldc, int accumulate) {
    for (ptrdiff_t r = 0; r < rows; r++)
        for (ptrdiff_t p = 0; p < panels; p++)
            for (int j = 0; j < 16; j++) {
                int64_t sum = 0;
                for (ptrdiff_t q = 0; q < kq; q++)
                    for (int t = 0; t < 4; t++)
                        sum += (int64_t)a[r * lda + 4 * q + t] *
                               w[p * panel_stride + 64 * q + 32 * (j / 8) + 4 * (j % 8) + t];
                int32_t *at = c + r * ldc + 16 * p + j;
                *at = (int32_t)(uint32_t)((accumulate ? (int64_t)*at : 0) + sum);
            }
}

/* One case: 0 when the kernel equals the loops (gaps between rows untouched), else 1. */
static int check(ptrdiff_t rows, ptrdiff_t panels, ptrdiff_t kq, enum fill fill, int accumulate, ptrdiff_t lda,
                 ptrdiff_t panel_stride, ptrdiff_t ldc) {
    int8_t *a = malloc((size_t)(rows * lda)), *w = malloc((size_t)(panels * panel_stride));
    int32_t *expected = malloc(sizeof(int32_t) * (size_t)(rows * ldc)), *got = malloc(sizeof(int32_t) * (size_t)(rows * ldc));
    if (!a || !w || !expected || !got) { fprintf(stderr, "qdot_sdot_test: out of memory\n"); exit(1); }
    for (ptrdiff_t i = 0; i < rows * lda; i++) a[i] = value(fill, (size_t)i, 1);
    for (ptrdiff_t i = 0; i < panels * panel_stride; i++) w[i] = value(fill, (size_t)i, 0);
    for (ptrdiff_t i = 0; i < rows * ldc; i++) expected[i] = got[i] = (int32_t)(next_random() % 2000000) - 1000000;
    dot_by_loops(a, lda, rows, w, panel_stride, panels, kq, expected, ldc, accumulate);
    strataimpl_qdot_i8_sdot(a, lda, rows, w, panel_stride, panels, kq, got, ldc, accumulate);
    int bad = memcmp(expected, got, sizeof(int32_t) * (size_t)(rows * ldc)) != 0;
    if (bad) {
        ptrdiff_t i = 0;
        while (expected[i] == got[i]) i++;
        fprintf(stderr, "qdot_sdot_test: DIFFERENT: %s, rows %td, panels %td, kq %td, accumulate %d: "
                "c[%td] = %d, loops give %d\n", fill_names[fill], rows, panels, kq, accumulate, i, got[i], expected[i]);
    }
    free(a); free(w); free(expected); free(got);
    return bad;
}

int main(int argc, char **argv) {
    if (argc != 2 || (strcmp(argv[1], "dotprod") != 0 && strcmp(argv[1], "none") != 0)) {
        fprintf(stderr, "usage: %s dotprod|none\n", argv[0]);
        return 2;
    }
    const int want = strcmp(argv[1], "dotprod") == 0, has = strataimpl_qdot_i8_sdot_supported();
    printf("qdot_sdot_test: strataimpl_qdot_i8_sdot_supported() = %d (expected %d)\n", has, want);
    if (has != want) return 1;
    if (!want) return 0;

    static const ptrdiff_t kqs[] = {1, 2, 3, 4, 5, 7, 8, 9, 64, 65};
    int cases = 0, failures = 0;
    for (int fill = 0; fill < FILLS; fill++)
        for (ptrdiff_t rows = 1; rows <= 13; rows++)
            for (ptrdiff_t panels = 1; panels <= 5; panels++)
                for (size_t i = 0; i < sizeof kqs / sizeof kqs[0]; i++) {
                    const ptrdiff_t kq = kqs[i];
                    if (rows * panels * kq >= 2000 && kq != 65) continue;
                    const ptrdiff_t lda = 4 * kq + 4 * (rows % 3), panel_stride = 64 * kq + 64 * (panels % 2);
                    const ptrdiff_t ldc = 16 * panels + 8 * (rows % 2);
                    for (int accumulate = 0; accumulate <= 1; accumulate++, cases++)
                        failures += check(rows, panels, kq, (enum fill)fill, accumulate, lda, panel_stride, ldc);
                }
    /* The largest sums: K = MAX_DYNAMIC_K, every product 127·127 (or its negation). */
    for (int fill = ALL_MAX; fill <= OPPOSITE; fill++, cases++)
        failures += check(5, 1, MAX_DYNAMIC_K / 4, (enum fill)fill, 0, MAX_DYNAMIC_K, 64 * (MAX_DYNAMIC_K / 4), 16);
    printf("qdot_sdot_test: %d cases, %d differ from the plain loops\n", cases, failures);
    return failures ? 1 : 0;
}
