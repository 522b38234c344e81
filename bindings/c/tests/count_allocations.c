/*
 * count_allocations.c — proves that strata_session_run and strata_session_run_multi allocate nothing after the first run.
 *
 *   count_allocations MODEL THREADS BATCH [BATCH ...]
 *
 * Interposes malloc, calloc, realloc, posix_memalign, aligned_alloc and memalign (forwarding to
 * glibc) and counts calls made while a warmed-up session runs each batch size 200 times, with
 * profiling off and on. Prints "allocations: N" and exits 0 when N is 0. With CHUNK_BATCH=n in the
 * environment the session gets a memory limit of n samples, so bigger batches run in chunks. With
 * STATEFUL=1 the session keeps recurrent state between runs (strata_session_set_stateful): each run
 * continues its streams, and a change of batch size first resets the state.
 */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "strata.h"
#include "test_util.h"  /* sample_count */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);

static atomic_long allocations;
static atomic_int counting;

static void note(void) {
    if (atomic_load(&counting)) atomic_fetch_add(&allocations, 1);
}

void *malloc(size_t n) { note(); return __libc_malloc(n); }
void *calloc(size_t n, size_t m) { note(); return __libc_calloc(n, m); }
void *realloc(void *p, size_t n) { note(); return __libc_realloc(p, n); }
void *memalign(size_t a, size_t n) { note(); return __libc_memalign(a, n); }
void *aligned_alloc(size_t a, size_t n) { note(); return __libc_memalign(a, n); }
int posix_memalign(void **out, size_t a, size_t n) {
    note();
    void *p = __libc_memalign(a, n);
    if (!p) return 12; /* ENOMEM */
    *out = p;
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL THREADS BATCH [BATCH ...]\n", argv[0]);
        return 2;
    }
    strata_model *model = NULL;
    if (strata_model_load_file(argv[1], &model) != STRATA_STATUS_OK) {
        fprintf(stderr, "count_allocations: %s\n", strata_last_error());
        return 1;
    }
    strata_session_params params = strata_session_default_params();
    params.n_threads = atoi(argv[2]);
    /* CHUNK_BATCH=n: a memory limit of n samples, so bigger batches run in chunks. */
    const char *chunk = getenv("CHUNK_BATCH");
    if (chunk && strata_session_workspace_size(model, &params, atoll(chunk), &params.memory_limit) != STRATA_STATUS_OK) {
        fprintf(stderr, "count_allocations: %s\n", strata_last_error());
        return 1;
    }
    strata_session *session = NULL;
    if (strata_session_create(model, &params, &session) != STRATA_STATUS_OK) {
        fprintf(stderr, "count_allocations: %s\n", strata_last_error());
        return 1;
    }
    /* STATEFUL=1: the session holds recurrent state between runs. */
    const char *stateful_env = getenv("STATEFUL");
    int stateful = stateful_env && atoi(stateful_env) != 0;
    if (stateful && strata_session_set_stateful(session, 1) != STRATA_STATUS_OK) {
        fprintf(stderr, "count_allocations: %s\n", strata_last_error());
        return 1;
    }
    int64_t previous_batch = 0;
    int64_t in_n = sample_count(model, 0), out_n = sample_count(model, 1), max_batch = 0;
    for (int i = 3; i < argc; i++) if (atoll(argv[i]) > max_batch) max_batch = atoll(argv[i]);
    float *input = calloc((size_t)(max_batch * in_n), sizeof(float));
    float *output = calloc((size_t)(max_batch * out_n), sizeof(float));
    for (int64_t i = 0; i < max_batch * in_n; i++) input[i] = (float)(i % 13) * 0.1f;
    /* Warm up: the largest batch sizes the arena; profiling storage is made when turned on. */
    for (int i = 3; i < argc; i++) {
        int64_t b = atoll(argv[i]);
        if (stateful && b != previous_batch) strata_session_reset_state(session);
        previous_batch = b;
        if (strata_session_run(session, b, input, (size_t)(b * in_n), output, (size_t)(b * out_n)) != STRATA_STATUS_OK) {
            fprintf(stderr, "count_allocations: %s\n", strata_last_error());
            return 1;
        }
    }
    for (int profiled = 0; profiled <= 1; profiled++) {
        strata_session_set_profiling(session, profiled);
        atomic_store(&counting, 1);
        for (int r = 0; r < 200 * (argc - 3); r++) {
            /* Batch by batch, 200 runs each: a stateful session continues its streams from run to run. */
            int64_t b = atoll(argv[3 + r / 200]);
            if (stateful && b != previous_batch) strata_session_reset_state(session);
            previous_batch = b;
            if (r % 2 == 0) {
                strata_session_run(session, b, input, (size_t)(b * in_n), output, (size_t)(b * out_n));
            } else {  /* the multi-buffer call allocates nothing either */
                const float *ins[1] = {input};
                float *outs[1] = {output};
                size_t in_counts[1] = {(size_t)(b * in_n)}, out_counts[1] = {(size_t)(b * out_n)};
                strata_session_run_multi(session, b, ins, in_counts, 1, outs, out_counts, 1);
            }
        }
        atomic_store(&counting, 0);
    }
    long n = atomic_load(&allocations);
    printf("allocations: %ld\n", n);
    strata_session_free(session);
    strata_model_free(model);
    free(input);
    free(output);
    return n == 0 ? 0 : 1;
}
