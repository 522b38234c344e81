/*
 * latency.c — times strata_session_run from C for a model with one input and one output.
 *
 *   latency MODEL [BATCH ...]     prints, per batch size, the median time per call over
 *                                 repeated runs (default batches: 1 16 256)
 *
 * Inputs are a deterministic pattern; the session is created once per batch size and warmed up,
 * so the figures are the steady state (no allocation per run).
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c11 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "strata.h"

static double now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Elements per sample of input or output 0 (the product of every dimension but the batch). */
static int64_t sample_count(const strata_model *model, int output) {
    int64_t dims[8];
    size_t rank = 0;
    int32_t status = output ? strata_model_output_shape(model, 0, dims, 8, &rank)
                            : strata_model_input_shape(model, 0, dims, 8, &rank);
    if (status != STRATA_STATUS_OK) return -1;
    int64_t n = 1;
    for (size_t i = 1; i < rank; i++) n *= dims[i];
    return n;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s MODEL [BATCH ...]\n", argv[0]);
        return 2;
    }
    strata_model *model = NULL;
    if (strata_model_load_file(argv[1], &model) != STRATA_STATUS_OK) {
        fprintf(stderr, "latency: %s\n", strata_last_error());
        return 1;
    }
    int64_t in_n = sample_count(model, 0), out_n = sample_count(model, 1);
    static const int64_t default_batches[] = {1, 16, 256};
    int n_batches = argc > 2 ? argc - 2 : 3;
    int status = 0;
    printf("batch  median_us  us_per_sample\n");
    for (int b = 0; b < n_batches && status == 0; b++) {
        int64_t batch = argc > 2 ? strtoll(argv[b + 2], NULL, 10) : default_batches[b];
        if (batch < 1) {
            fprintf(stderr, "latency: batch '%s' must be a positive integer\n", argv[b + 2]);
            status = 2;
            break;
        }
        float *input = malloc((size_t)(batch * in_n) * sizeof(float));
        float *output = malloc((size_t)(batch * out_n) * sizeof(float));
        strata_session *session = NULL;
        if (!input || !output || strata_session_create(model, NULL, &session) != STRATA_STATUS_OK) {
            fprintf(stderr, "latency: %s\n", input && output ? strata_last_error() : "out of memory");
            status = 1;
        } else {
            for (int64_t i = 0; i < batch * in_n; i++) input[i] = (float)(i % 17) * 0.0625f;
            /* Aim for ~20 ms per sample point; at least 5 calls per point. */
            double t0 = now_ns();
            for (int i = 0; i < 10; i++)
                strata_session_run(session, batch, input, (size_t)(batch * in_n), output, (size_t)(batch * out_n));
            double per_call = (now_ns() - t0) / 10;
            int calls = per_call > 4e6 ? 5 : (int)(2e7 / per_call) + 5;
            double times[15];
            for (int r = 0; r < 15; r++) {
                double t = now_ns();
                for (int i = 0; i < calls; i++) {
                    if (strata_session_run(session, batch, input, (size_t)(batch * in_n), output,
                                           (size_t)(batch * out_n)) != STRATA_STATUS_OK) {
                        fprintf(stderr, "latency: %s\n", strata_last_error());
                        status = 1;
                        break;
                    }
                }
                times[r] = (now_ns() - t) / calls / 1e3;
            }
            qsort(times, 15, sizeof(double), compare_doubles);
            printf("%5lld  %9.2f  %13.3f\n", (long long)batch, times[7], times[7] / (double)batch);
        }
        strata_session_free(session);
        free(input);
        free(output);
    }
    strata_model_free(model);
    return status;
}
