/*
 * soak.c — a mixed load for a bounded time: loads, runs, frees and deliberate errors, on several
 * threads, checking every output and reporting runs, errors and resident memory.
 *
 *   soak SECONDS THREADS MODEL... [-- MALFORMED...]
 *
 * Each MODEL (.strata, any precision the library reads) is read once; the first is also loaded
 * once and shared by every thread, and SHARED_SESSIONS sessions of it are shared by every thread
 * on purpose (the misuse the in-use flag catches). Each thread repeats, picking at random:
 *   - load a model (from its file or from memory) into the thread's slots, freeing the one there;
 *   - create a session (default, 2 threads, memory limit forcing chunks, caller workspace),
 *     run 1…64 samples and compare bit for bit with a reference run made at start-up;
 *   - run 1…64 samples on a shared session, which other threads may be running at the same
 *     moment: the run must either return OK with the reference's bits or SESSION_BUSY;
 *   - a deliberate error: wrong counts, batch 0, NULL input, a cancelled run, a memory limit
 *     below one sample, a malformed file, a missing file — each must fail with its status.
 * A wrong output returned with OK counts as "wrong" (must stay 0) and as a failure; an unexpected
 * status counts as a failure. Every 10 s and at the end it prints runs, busy rejections, wrong
 * outputs, deliberate errors, failures and RSS (/proc/self/statm). Exits 1 on any failure, or if
 * threads outlive the sessions at the end.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strata.h"
#include "test_util.h"

#define MAX_BATCH 64
#define SLOTS 4
#define SHARED_SESSIONS 2

typedef struct {
    const char *path;
    unsigned char *bytes;
    size_t size;
    int64_t in_n, out_n;
    float *input;      /* MAX_BATCH samples */
    float *reference;  /* outputs of a default session at MAX_BATCH */
    size_t ws_one, ws_eight;
} model_info;

static model_info *models;
static int n_models;
static unsigned char **bad;
static size_t *bad_size;
static int n_bad;
static strata_model *shared_model;
static strata_session *shared_sessions[SHARED_SESSIONS];
static double deadline;
static atomic_long loads, runs, samples, errors, failures, busy, wrong, shared_runs;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t next(uint64_t *s) {  /* xorshift64 */
    *s ^= *s << 13; *s ^= *s >> 7; *s ^= *s << 17;
    return *s;
}

static void failure(const char *what, const model_info *m, int32_t status) {
    atomic_fetch_add(&failures, 1);
    fprintf(stderr, "soak: FAILURE %s (%s): status %d: %s\n", what, m ? m->path : "-", status, strata_last_error());
}

/* Expects `status` to be `want` (a deliberate error). */
static void expect_error(int32_t status, int32_t want, const char *what, const model_info *m) {
    if (status == want) atomic_fetch_add(&errors, 1);
    else failure(what, m, status);
}

/* Counts a run that returned OK and compares its `b` samples bit for bit with the reference. */
static void check_output(const float *out, const model_info *m, int64_t b) {
    atomic_fetch_add(&runs, 1);
    atomic_fetch_add(&samples, b);
    if (memcmp(out, m->reference, sizeof(float) * (size_t)(b * m->out_n)) != 0) {
        atomic_fetch_add(&wrong, 1);
        failure("a wrong output returned with OK", m, 0);
    }
}

static int32_t cancel_now(void *user_data) { (void)user_data; return 1; }

static void run_one(strata_model *model, const model_info *m, uint64_t *rng, float *out, void *workspace) {
    strata_session_params p = strata_session_default_params();
    switch (next(rng) % 4) {
    case 1: p.n_threads = 2; break;
    case 2: p.memory_limit = m->ws_one + (m->ws_eight - m->ws_one) / 7 * (1 + next(rng) % 3); break;
    case 3: p.workspace = workspace; p.workspace_size = m->ws_eight; break;
    default: break;
    }
    strata_session *s = NULL;
    int32_t st = strata_session_create(model, &p, &s);
    if (st) { failure("session_create", m, st); return; }
    int rounds = 1 + (int)(next(rng) % 4);
    for (int r = 0; r < rounds; r++) {
        int64_t b = 1 + (int64_t)(next(rng) % MAX_BATCH);
        st = strata_session_run(s, b, m->input, (size_t)(b * m->in_n), out, (size_t)(b * m->out_n));
        if (st) { failure("run", m, st); break; }
        check_output(out, m, b);
    }
    strata_session_free(s);
}

/* Runs 1…8 random batches on the shared sessions, which other threads may be using right now:
 * OK with the reference's bits, or SESSION_BUSY with nothing written; anything else fails. */
static void run_shared(const model_info *m, uint64_t *rng, float *out) {
    int rounds = 1 + (int)(next(rng) % 8);
    for (int r = 0; r < rounds; r++) {
        strata_session *s = shared_sessions[next(rng) % SHARED_SESSIONS];
        int64_t b = 1 + (int64_t)(next(rng) % MAX_BATCH);
        int32_t st = strata_session_run(s, b, m->input, (size_t)(b * m->in_n), out, (size_t)(b * m->out_n));
        if (st == STRATA_STATUS_SESSION_BUSY) { atomic_fetch_add(&busy, 1); continue; }
        if (st) { failure("run on a shared session", m, st); return; }
        atomic_fetch_add(&shared_runs, 1);
        check_output(out, m, b);
    }
}

static void deliberate_error(strata_model *model, const model_info *m, uint64_t *rng, float *out) {
    strata_session *s = NULL;
    int32_t st;
    switch (next(rng) % 7) {
    case 0:
        if ((st = strata_session_create(model, NULL, &s))) { failure("session_create", m, st); return; }
        expect_error(strata_session_run(s, 2, m->input, (size_t)(2 * m->in_n) + 1, out, (size_t)(2 * m->out_n)),
                     STRATA_STATUS_SHAPE_MISMATCH, "wrong input count", m);
        expect_error(strata_session_run(s, 2, m->input, (size_t)(2 * m->in_n), out, (size_t)(2 * m->out_n) - 1),
                     STRATA_STATUS_BUFFER_TOO_SMALL, "short output", m);
        expect_error(strata_session_run(s, 0, m->input, 0, out, 0), STRATA_STATUS_INVALID_ARGUMENT, "batch 0", m);
        expect_error(strata_session_run(s, 1, NULL, (size_t)m->in_n, out, (size_t)m->out_n), STRATA_STATUS_NULL_POINTER, "NULL input", m);
        if ((st = strata_session_run(s, 1, m->input, (size_t)m->in_n, out, (size_t)m->out_n))) failure("run after errors", m, st);
        else atomic_fetch_add(&runs, 1);
        strata_session_free(s);
        break;
    case 1: {
        strata_session_params p = strata_session_default_params();
        p.abort_callback = cancel_now;
        if ((st = strata_session_create(model, &p, &s))) { failure("session_create", m, st); return; }
        expect_error(strata_session_run(s, 3, m->input, (size_t)(3 * m->in_n), out, (size_t)(3 * m->out_n)),
                     STRATA_STATUS_CANCELLED, "cancelled run", m);
        strata_session_free(s);
        break;
    }
    case 2: {
        strata_session_params p = strata_session_default_params();
        p.memory_limit = m->ws_one - 1;
        expect_error(strata_session_create(model, &p, &s), STRATA_STATUS_OUT_OF_MEMORY, "memory limit below one sample", m);
        break;
    }
    case 3: case 4: case 5:
        if (n_bad > 0) {
            strata_model *bm = NULL;
            size_t i = next(rng) % (uint64_t)n_bad;
            st = strata_model_load_memory(bad[i], bad_size[i], &bm);
            if (st == STRATA_STATUS_OK || bm) { failure("a malformed file loaded", NULL, st); strata_model_free(bm); }
            else atomic_fetch_add(&errors, 1);
            break;
        }
        /* fall through */
    default: {
        strata_model *mm = NULL;
        expect_error(strata_model_load_file("/nonexistent/soak.strata", &mm), STRATA_STATUS_IO_ERROR, "missing file", NULL);
        break;
    }
    }
}

static void *worker(void *arg) {
    uint64_t rng = 0x9E3779B97F4A7C15ull * (uint64_t)((intptr_t)arg + 1);
    strata_model *slot[SLOTS] = {0};
    int slot_model[SLOTS] = {0};
    size_t out_max = 0, ws_max = 0;
    for (int i = 0; i < n_models; i++) {
        if ((size_t)(MAX_BATCH * models[i].out_n) > out_max) out_max = (size_t)(MAX_BATCH * models[i].out_n);
        if (models[i].ws_eight > ws_max) ws_max = models[i].ws_eight;
    }
    float *out = malloc(sizeof(float) * out_max);
    void *workspace = malloc(ws_max);
    while (now() < deadline) {
        unsigned action = (unsigned)(next(&rng) % 10);
        int k = (int)(next(&rng) % SLOTS);
        if (action < 2 || !slot[k]) {  /* (re)load a slot */
            strata_model_free(slot[k]);
            slot[k] = NULL;
            int mi = (int)(next(&rng) % (uint64_t)n_models);
            int32_t st = next(&rng) % 2 ? strata_model_load_file(models[mi].path, &slot[k])
                                        : strata_model_load_memory(models[mi].bytes, models[mi].size, &slot[k]);
            if (st) { failure("load", &models[mi], st); continue; }
            slot_model[k] = mi;
            atomic_fetch_add(&loads, 1);
        } else if (action < 7) {
            run_one(slot[k], &models[slot_model[k]], &rng, out, workspace);
        } else if (action < 8) {
            if (next(&rng) % 2) run_one(shared_model, &models[0], &rng, out, workspace);
            else run_shared(&models[0], &rng, out);
        } else {
            deliberate_error(slot[k], &models[slot_model[k]], &rng, out);
        }
    }
    for (int k = 0; k < SLOTS; k++) strata_model_free(slot[k]);
    free(out);
    free(workspace);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s SECONDS THREADS MODEL... [-- MALFORMED...]\n", argv[0]);
        return 2;
    }
    long rss_begin = rss_kib(), threads_begin = thread_count();
    double seconds = atof(argv[1]);
    int n_threads = atoi(argv[2]);
    int first_bad = argc;
    for (int i = 3; i < argc; i++) if (strcmp(argv[i], "--") == 0) { first_bad = i + 1; break; }
    n_models = (first_bad == argc ? argc : first_bad - 1) - 3;
    n_bad = argc - first_bad;
    models = calloc((size_t)n_models, sizeof *models);
    bad = calloc((size_t)n_bad + 1, sizeof *bad);
    bad_size = calloc((size_t)n_bad + 1, sizeof *bad_size);
    for (int i = 0; i < n_bad; i++) {
        bad[i] = read_file(argv[first_bad + i], &bad_size[i]);
        if (!bad[i]) bad[i] = calloc(1, 1);
    }
    for (int i = 0; i < n_models; i++) {
        model_info *m = &models[i];
        m->path = argv[3 + i];
        m->bytes = read_file(m->path, &m->size);
        strata_model *model = NULL;
        strata_session *s = NULL;
        int32_t st = m->bytes ? strata_model_load_memory(m->bytes, m->size, &model) : STRATA_STATUS_IO_ERROR;
        if (st || strata_model_n_inputs(model) != 1 || strata_model_n_outputs(model) != 1) {
            fprintf(stderr, "soak: %s: cannot use it (status %d: %s)\n", m->path, st, strata_last_error());
            return 2;
        }
        m->in_n = sample_count(model, 0);
        m->out_n = sample_count(model, 1);
        strata_session_workspace_size(model, NULL, 1, &m->ws_one);
        strata_session_workspace_size(model, NULL, 8, &m->ws_eight);
        m->input = malloc(sizeof(float) * (size_t)(MAX_BATCH * m->in_n));
        m->reference = malloc(sizeof(float) * (size_t)(MAX_BATCH * m->out_n));
        for (int64_t j = 0; j < MAX_BATCH * m->in_n; j++) m->input[j] = (float)((j * 7919) % 2001) / 1000.0f - 1.0f;
        if (strata_session_create(model, NULL, &s) ||
            strata_session_run(s, MAX_BATCH, m->input, (size_t)(MAX_BATCH * m->in_n), m->reference, (size_t)(MAX_BATCH * m->out_n))) {
            fprintf(stderr, "soak: %s: reference run failed: %s\n", m->path, strata_last_error());
            return 2;
        }
        strata_session_free(s);
        if (i == 0) shared_model = model;
        else strata_model_free(model);
    }
    for (int k = 0; k < SHARED_SESSIONS; k++) {
        strata_session_params p = strata_session_default_params();
        p.n_threads = 1 + k % 2;
        int32_t st = strata_session_create(shared_model, &p, &shared_sessions[k]);
        if (st) { fprintf(stderr, "soak: shared session: status %d: %s\n", st, strata_last_error()); return 2; }
    }
    long rss_start = rss_kib();
    printf("soak: %d models, %d malformed files, %d threads, %.0f s; RSS %ld KiB before loading, %ld KiB at start\n",
           n_models, n_bad, n_threads, seconds, rss_begin, rss_start);
    fflush(stdout);
    double start = now();
    deadline = start + seconds;
    pthread_t *threads = calloc((size_t)n_threads, sizeof *threads);
    for (int t = 0; t < n_threads; t++) pthread_create(&threads[t], NULL, worker, (void *)(intptr_t)t);
    for (double report = start + 10; report < deadline; report += 10) {
        while (now() < report) { struct timespec d = {0, 100000000}; nanosleep(&d, NULL); }
        printf("soak: %4.0f s: loads %ld runs %ld (shared sessions %ld, busy %ld) wrong %ld errors %ld failures %ld RSS %ld KiB\n",
               now() - start, atomic_load(&loads), atomic_load(&runs), atomic_load(&shared_runs), atomic_load(&busy),
               atomic_load(&wrong), atomic_load(&errors), atomic_load(&failures), rss_kib());
        fflush(stdout);
    }
    for (int t = 0; t < n_threads; t++) pthread_join(threads[t], NULL);
    for (int k = 0; k < SHARED_SESSIONS; k++) strata_session_free(shared_sessions[k]);
    strata_model_free(shared_model);
    long rss_end = rss_kib(), threads_end = settled_thread_count(threads_begin);
    printf("soak: done in %.1f s: loads %ld runs %ld samples %ld; shared sessions: runs %ld, busy %ld; "
           "wrong outputs with OK %ld; errors %ld (deliberate) failures %ld; "
           "RSS start %ld KiB end %ld KiB (%+ld KiB); threads after %ld (before %ld)\n",
           now() - start, atomic_load(&loads), atomic_load(&runs), atomic_load(&samples), atomic_load(&shared_runs),
           atomic_load(&busy), atomic_load(&wrong), atomic_load(&errors), atomic_load(&failures),
           rss_start, rss_end, rss_end - rss_start, threads_end, threads_begin);
    return atomic_load(&failures) == 0 && threads_end <= threads_begin ? 0 : 1;
}
