/*
 * stream.c — runs a recurrent model on a stream, one frame at a time, through a stateful session
 * (include/strata.h "Streaming", docs/EMBEDDING.md "Streaming").
 *
 *   stream MODEL FRAMES.f32     reads FRAMES.f32 (little-endian f32) one frame at a time — a
 *                               frame is one input sample of MODEL, e.g. [1, 40] for a model
 *                               converted with 1 time step of 40 features — runs it, and prints
 *                               per frame:  frame K: class C latency_us L outputs v0 v1 …
 *
 * The session keeps every recurrent layer's state between frames, so frame K's outputs are those
 * of one run over frames 0…K. Each frame is read only after the previous one has run, as a
 * device reads its sensor; the latency is that of strata_session_run alone.
 * Exit status: 0 done, 1 a Strata or file error (message on stderr), 2 usage.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c11 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "strata.h"

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
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
    if (argc != 3) {
        fprintf(stderr, "usage: %s MODEL FRAMES.f32\n", argv[0]);
        return 2;
    }
    strata_model *model = NULL;
    strata_session *session = NULL;
    float *frame = NULL, *out = NULL;
    FILE *file = NULL;
    int status = 1;
    if (strata_model_load_file(argv[1], &model) != STRATA_STATUS_OK ||
        strata_session_create(model, NULL, &session) != STRATA_STATUS_OK ||
        strata_session_set_stateful(session, 1) != STRATA_STATUS_OK) {
        fprintf(stderr, "stream: %s\n", strata_last_error());
        goto done;
    }
    if (strata_model_n_inputs(model) != 1 || strata_model_n_outputs(model) != 1) {
        fprintf(stderr, "stream: the model needs one input and one output\n");
        goto done;
    }
    int64_t in_n = sample_count(model, 0), out_n = sample_count(model, 1);
    frame = malloc((size_t)in_n * sizeof(float));
    out = malloc((size_t)out_n * sizeof(float));
    if (!frame || !out) {
        fprintf(stderr, "stream: out of memory\n");
        goto done;
    }
    if (!(file = fopen(argv[2], "rb"))) {
        perror("stream: cannot open the frames file");
        goto done;
    }
    fprintf(stderr, "stream: %lld values per frame, %lld outputs per frame\n", (long long)in_n, (long long)out_n);
    for (long frame_index = 0;; frame_index++) {
        size_t got = fread(frame, sizeof(float), (size_t)in_n, file);
        if (got == 0 && feof(file)) break;
        if (got != (size_t)in_n) {
            fprintf(stderr, "stream: frame %ld is partial (%zu of %lld values)\n", frame_index, got, (long long)in_n);
            goto done;
        }
        double t0 = now_us();
        int32_t rc = strata_session_run(session, 1, frame, (size_t)in_n, out, (size_t)out_n);
        double elapsed = now_us() - t0;
        if (rc != STRATA_STATUS_OK) {
            fprintf(stderr, "stream: frame %ld: %s\n", frame_index, strata_last_error());
            goto done;
        }
        int64_t best = 0;
        for (int64_t i = 1; i < out_n; i++) if (out[i] > out[best]) best = i;
        printf("frame %ld: class %lld latency_us %.2f outputs", frame_index, (long long)best, elapsed);
        for (int64_t i = 0; i < out_n; i++) printf(" %.9g", (double)out[i]);
        printf("\n");
    }
    status = 0;
done:
    if (file) fclose(file);
    free(frame);
    free(out);
    strata_session_free(session);
    strata_model_free(model);
    return status;
}
