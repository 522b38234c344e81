/*
 * leak_cycles.c — load/run/free cycles, error paths included, with flat resident memory.
 *
 *   leak_cycles MODEL CYCLES MAX_GROWTH_KIB [MALFORMED_FILE ...]
 *
 * MODEL is read once; every cycle loads it from memory, creates a session (cycling through
 * default params, a memory limit that forces chunks, a caller workspace, and every 300th cycle
 * two threads), runs a batch of 1…17 samples, makes a run fail (wrong input count), a run get
 * cancelled, a session creation fail (memory limit below one sample), a load of one of the
 * MALFORMED_FILEs fail (from memory) and, every 10th cycle, a load from a missing path fail,
 * then frees everything. RSS (/proc/self/statm) is read after the first 1% of cycles (warm-up:
 * allocator pools, thread-local error buffers) and at the end. Prints one line:
 *
 *   cycles 100000 runs 200000 errors 410000 rss_start_kib 7508 rss_end_kib 7648 growth_kib 140 threads 1 1
 *
 * and exits 1 when the growth exceeds MAX_GROWTH_KIB (a negative bound disables the check, for
 * valgrind runs), when threads outlive their sessions (the count at the end, after every
 * session is freed, exceeds the count at the start), or any call returns an unexpected status.
 */
#define _DEFAULT_SOURCE /* nanosleep */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strata.h"
#include "test_util.h"

static int fail(const char *what, int32_t status) {
    fprintf(stderr, "leak_cycles: %s: status %d (%s): %s\n", what, status, strata_status_string(status),
            strata_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL CYCLES MAX_GROWTH_KIB [MALFORMED_FILE ...]\n", argv[0]);
        return 2;
    }
    size_t model_size = 0;
    unsigned char *model_bytes = read_file(argv[1], &model_size);
    if (!model_bytes) { fprintf(stderr, "leak_cycles: cannot read %s\n", argv[1]); return 2; }
    long cycles = atol(argv[2]), max_growth = atol(argv[3]);
    int n_bad = argc - 4;
    unsigned char **bad = calloc((size_t)(n_bad > 0 ? n_bad : 1), sizeof *bad);
    size_t *bad_size = calloc((size_t)(n_bad > 0 ? n_bad : 1), sizeof *bad_size);
    for (int i = 0; i < n_bad; i++) {
        bad[i] = read_file(argv[4 + i], &bad_size[i]);
        if (!bad[i]) bad[i] = calloc(1, 1);  /* an empty file stays an (empty) error case */
    }

    /* Sizes from a first load. */
    strata_model *probe = NULL;
    int32_t s = strata_model_load_memory(model_bytes, model_size, &probe);
    if (s) return fail("first load", s);
    int64_t in_n = sample_count(probe, 0), out_n = sample_count(probe, 1);
    size_t ws_size = 0, one_sample = 0;
    strata_session_workspace_size(probe, NULL, 8, &ws_size);
    strata_session_workspace_size(probe, NULL, 1, &one_sample);
    strata_model_free(probe);
    const int64_t max_batch = 17;
    float *input = malloc(sizeof(float) * (size_t)(max_batch * in_n));
    float *output = malloc(sizeof(float) * (size_t)(max_batch * out_n));
    void *workspace = malloc(ws_size);
    for (int64_t i = 0; i < max_batch * in_n; i++) input[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;

    long threads_start = thread_count();
    long runs = 0, errors = 0, rss_start = -1, warmup = cycles / 100 > 0 ? cycles / 100 : 1;
    for (long c = 0; c < cycles; c++) {
        if (c == warmup) rss_start = rss_kib();
        strata_model *model = NULL;
        if ((s = strata_model_load_memory(model_bytes, model_size, &model))) return fail("load", s);

        strata_session_params p = strata_session_default_params();
        switch (c % 3) {
        case 1: p.memory_limit = one_sample + (size_t)(ws_size - one_sample) / 8 * 2; break;  /* chunks of ~2 */
        case 2: p.workspace = workspace; p.workspace_size = ws_size; break;
        default: break;
        }
        if (c % 300 == 0) p.n_threads = 2;  /* default params only: the budgets above are for 1 thread */
        strata_session *session = NULL;
        if ((s = strata_session_create(model, &p, &session))) return fail("session", s);
        int64_t b = 1 + c % max_batch;
        if ((s = strata_session_run(session, b, input, (size_t)(b * in_n), output, (size_t)(b * out_n))))
            return fail("run", s);
        runs++;
        /* Error paths: a failed run, then a normal one; a cancelled session's run. */
        if (strata_session_run(session, b, input, (size_t)(b * in_n) - 1, output, (size_t)(b * out_n)) !=
            STRATA_STATUS_SHAPE_MISMATCH) return fail("wrong input count", -1);
        errors++;
        if ((s = strata_session_run(session, 1, input, (size_t)in_n, output, (size_t)out_n))) return fail("run after failure", s);
        runs++;
        strata_session_params cancel = strata_session_default_params();
        cancel.abort_callback = always_abort;
        strata_session *cancelled = NULL;
        if ((s = strata_session_create(model, &cancel, &cancelled))) return fail("session (abort)", s);
        if (strata_session_run(cancelled, b, input, (size_t)(b * in_n), output, (size_t)(b * out_n)) !=
            STRATA_STATUS_CANCELLED) return fail("cancel", -1);
        errors++;
        strata_session_free(cancelled);
        strata_session_params tight = strata_session_default_params();
        tight.memory_limit = one_sample - 1;
        strata_session *none = NULL;
        if (strata_session_create(model, &tight, &none) != STRATA_STATUS_OUT_OF_MEMORY || none) return fail("limit", -1);
        errors++;
        /* Free the model first on odd cycles: the session keeps it alive. */
        if (c % 2) { strata_model_free(model); strata_session_free(session); }
        else { strata_session_free(session); strata_model_free(model); }

        if (n_bad > 0) {
            strata_model *m = NULL;
            const unsigned char *data = bad[c % n_bad];
            if (strata_model_load_memory(data, bad_size[c % n_bad], &m) == STRATA_STATUS_OK || m)
                return fail(argv[4 + c % n_bad], 0);
            errors++;
        }
        if (c % 10 == 0) {
            strata_model *m = NULL;
            if (strata_model_load_file("/nonexistent/strata/model.strata", &m) != STRATA_STATUS_IO_ERROR) return fail("missing file", -1);
            errors++;
        }
    }
    long rss_end = rss_kib(), threads_end = settled_thread_count(threads_start);
    if (rss_start < 0) rss_start = rss_end;
    printf("cycles %ld runs %ld errors %ld rss_start_kib %ld rss_end_kib %ld growth_kib %ld threads %ld %ld\n", cycles,
           runs, errors, rss_start, rss_end, rss_end - rss_start, threads_start, threads_end);
    for (int i = 0; i < n_bad; i++) free(bad[i]);
    free(bad); free(bad_size); free(model_bytes); free(input); free(output); free(workspace);
    if (threads_end > threads_start) return 1;
    return max_growth >= 0 && rss_end - rss_start > max_growth ? 1 : 0;
}
