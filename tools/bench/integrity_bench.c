// Micro-benchmark of load-time integrity checks through the C ABI (not part of `make test`):
// for one .strata file, alternately (so outside load hits all alike), REPEATS times each:
//   load (checks on)   strata_model_load_file: header and section CRC-32s verified (the default)
//   load (checks off)  strata_model_load_file_with_params, verify_checksums = 0
//   verify             strata_model_verify on a freshly mapped model: every CRC again, plus the
//                      payload SHA-256 when the file records one (never done at load); the first
//                      touch of each page of the mapping is part of it, as in a load
//   verify in memory   the same on a model loaded with strata_model_load_memory (its own copy,
//                      already touched): the checks' own speed from DRAM, without page faults
// and prints the best and median of each, and GB/s = file size / time for verify and for the
// difference the checks make to a load. The file is read once first, so it is in the page cache.
// STRATA_PRETEND_NO_PCLMUL=1 in the environment makes the library use the table CRC instead.
//
//   cc -std=c11 -O2 -Iinclude tools/bench/integrity_bench.c -Lbuild/lib -lstrata -Wl,-rpath,$PWD/build/lib
//      -o integrity_bench
//   ./integrity_bench build/bench/models/big.strata [REPEATS]
#define _POSIX_C_SOURCE 200809L
#include "strata.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static double best(const double *v, int n) {
    double b = v[0];
    for (int i = 1; i < n; i++) b = v[i] < b ? v[i] : b;
    return b;
}

static int fail(const char *what) {
    fprintf(stderr, "integrity_bench: %s: %s\n", what, strata_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL.strata [REPEATS]\n", argv[0]);
        return 2;
    }
    const char *path = argv[1];
    int repeats = argc > 2 ? atoi(argv[2]) : 9;
    if (repeats < 1 || repeats > 1000) repeats = 9;
    struct stat st;
    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    double gb = (double)st.st_size / 1e9;
    FILE *f = fopen(path, "rb");  // into the page cache
    if (!f) {
        perror(path);
        return 1;
    }
    static char chunk[1 << 20];
    while (fread(chunk, 1, sizeof chunk, f) > 0) {}
    fclose(f);

    double *on = calloc((size_t)repeats, sizeof *on), *off = calloc((size_t)repeats, sizeof *off);
    double *ver = calloc((size_t)repeats, sizeof *ver), *mem = calloc((size_t)repeats, sizeof *mem);
    if (!on || !off || !ver || !mem) return 1;
    strata_model *in_memory = NULL;
    {
        FILE *g = fopen(path, "rb");
        char *bytes = malloc((size_t)st.st_size);
        if (!g || !bytes || fread(bytes, 1, (size_t)st.st_size, g) != (size_t)st.st_size) {
            perror(path);
            return 1;
        }
        fclose(g);
        if (strata_model_load_memory_with_params(bytes, (size_t)st.st_size, NULL, &in_memory) != STRATA_STATUS_OK)
            return fail("load_memory");
        free(bytes);
    }
    strata_load_params no_checks = strata_load_default_params();
    no_checks.verify_checksums = 0;
    int32_t sha = 0;
    for (int r = 0; r < repeats; r++) {
        strata_model *m = NULL;
        double t = now_s();
        if (strata_model_load_file(path, &m) != STRATA_STATUS_OK) return fail("load");
        on[r] = now_s() - t;
        strata_model_free(m);
        t = now_s();
        if (strata_model_load_file_with_params(path, &no_checks, &m) != STRATA_STATUS_OK) return fail("load");
        off[r] = now_s() - t;
        t = now_s();
        if (strata_model_verify(m, &sha) != STRATA_STATUS_OK) return fail("verify");
        ver[r] = now_s() - t;
        strata_model_free(m);
        t = now_s();
        if (strata_model_verify(in_memory, &sha) != STRATA_STATUS_OK) return fail("verify");
        mem[r] = now_s() - t;
    }
    strata_model_free(in_memory);
    double on_best = best(on, repeats), off_best = best(off, repeats), ver_best = best(ver, repeats);
    double mem_best = best(mem, repeats);
    double on_med = median(on, repeats), off_med = median(off, repeats), ver_med = median(ver, repeats);
    double mem_med = median(mem, repeats);
    printf("file               %s, %.1f MB, payload SHA-256 %s\n", path, gb * 1e3, sha ? "recorded" : "not recorded");
    printf("CRC variant        %s\n", getenv("STRATA_PRETEND_NO_PCLMUL") ? "table (STRATA_PRETEND_NO_PCLMUL)" : "best");
    printf("                   best ms  median ms  (%d runs each, interleaved)\n", repeats);
    printf("load, checks on    %7.1f  %9.1f\n", 1e3 * on_best, 1e3 * on_med);
    printf("load, checks off   %7.1f  %9.1f\n", 1e3 * off_best, 1e3 * off_med);
    printf("verify%-12s %7.1f  %9.1f   %.1f GB/s best, %.1f GB/s median\n", sha ? " (CRC+SHA)" : " (CRCs)",
           1e3 * ver_best, 1e3 * ver_med, gb / ver_best, gb / ver_med);
    printf("verify in memory   %7.1f  %9.1f   %.1f GB/s best, %.1f GB/s median\n", 1e3 * mem_best, 1e3 * mem_med,
           gb / mem_best, gb / mem_med);
    if (on_med > off_med)
        printf("checks at load     %7.1f  %9.1f   (median difference: %.1f GB/s)\n", 1e3 * (on_best - off_best),
               1e3 * (on_med - off_med), gb / (on_med - off_med));
    free(on);
    free(off);
    free(ver);
    free(mem);
    return 0;
}
