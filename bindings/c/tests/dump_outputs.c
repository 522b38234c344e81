/*
 * dump_outputs.c — runs a model on given inputs at several thread counts and batch sizes and writes
 * every output's raw bits, for the cross-architecture test (tools/arm/cross_arch.py): the x86-64
 * and the aarch64 library must write the same bytes.
 *
 *   dump_outputs MODEL INPUT.f32 OUTPUT.bin SAMPLES THREADS,... BATCH,...
 *
 * INPUT.f32 holds SAMPLES samples of input 0 (little-endian f32). For each thread count and each
 * batch size B (a session per thread count), the samples run in consecutive batches of B (the last
 * one smaller); output 0 of all SAMPLES samples is appended to OUTPUT.bin. Exits 1, naming the
 * failing call, on any error status.
 */
#define _DEFAULT_SOURCE /* nanosleep, in test_util.h */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strata.h"
#include "test_util.h"

static int fail(const char *what) {
    fprintf(stderr, "dump_outputs: %s: %s\n", what, strata_last_error());
    return 1;
}

/* The comma-separated positive integers of `list` into `out` (at most 16); their count. */
static int parse_list(const char *list, int64_t *out) {
    int n = 0;
    for (const char *p = list; *p && n < 16; n++) {
        out[n] = atoll(p);
        const char *comma = strchr(p, ',');
        if (!comma) { n++; break; }
        p = comma + 1;
    }
    return n;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: %s MODEL INPUT.f32 OUTPUT.bin SAMPLES THREADS,... BATCH,...\n", argv[0]);
        return 2;
    }
    int64_t samples = atoll(argv[4]), threads[16], batches[16];
    int n_threads = parse_list(argv[5], threads), n_batches = parse_list(argv[6], batches);
    strata_model *model = NULL;
    if (strata_model_load_file(argv[1], &model) != STRATA_STATUS_OK) return fail("load");
    int64_t in_n = sample_count(model, 0), out_n = sample_count(model, 1);
    size_t input_size = 0;
    float *input = (float *)read_file(argv[2], &input_size);
    if (!input || in_n <= 0 || out_n <= 0 || input_size != (size_t)(samples * in_n) * sizeof(float)) {
        fprintf(stderr, "dump_outputs: %s holds %zu bytes, not %lld samples of %lld floats\n", argv[2], input_size,
                (long long)samples, (long long)in_n);
        return 2;
    }
    float *output = calloc((size_t)(samples * out_n), sizeof(float));
    FILE *out = fopen(argv[3], "wb");
    if (!output || !out) { fprintf(stderr, "dump_outputs: cannot write %s\n", argv[3]); return 2; }
    for (int t = 0; t < n_threads; t++) {
        strata_session_params params = strata_session_default_params();
        params.n_threads = (int32_t)threads[t];
        strata_session *session = NULL;
        if (strata_session_create(model, &params, &session) != STRATA_STATUS_OK) return fail("session_create");
        for (int b = 0; b < n_batches; b++) {
            for (int64_t s = 0; s < samples; s += batches[b]) {
                int64_t n = samples - s < batches[b] ? samples - s : batches[b];
                if (strata_session_run(session, n, input + s * in_n, (size_t)(n * in_n), output + s * out_n,
                                       (size_t)(n * out_n)) != STRATA_STATUS_OK) return fail("run");
            }
            fwrite(output, sizeof(float), (size_t)(samples * out_n), out);
        }
        strata_session_free(session);
    }
    fclose(out);
    free(output);
    free(input);
    strata_model_free(model);
    return 0;
}
