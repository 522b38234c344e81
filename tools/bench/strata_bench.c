/*
 * strata_bench.c — times strata_session_run through the C ABI (the benchmark's "strata-c" engine).
 *
 * Standalone:
 *   strata_bench MODEL [--batch N]... [--threads T] [--repeats R] [--target-ms MS] [--input RAW] [--stateful]
 *     For each batch size (default 1 16 256), creates a session with n_threads = T (default 1),
 *     warms it up, then takes R samples (default 15); a sample times enough back-to-back calls to
 *     last about MS milliseconds (default 20; at least one call). Prints one line per batch:
 *       batch threads median_us p10_us p90_us calls_per_sample samples cpu_per_wall
 *     where the times are per call, the spread is p10..p90 over the samples, and cpu_per_wall is
 *     the process's CPU time over wall time while timing (≈ the number of busy cores: the API
 *     does not say how many threads a session really uses, so this measures it).
 *     Inputs come from RAW (little-endian f32, at least batch × input size values, reused
 *     cyclically if short) or a fixed pseudo-random pattern in [-1, 1).
 *
 * Server (used by tools/bench/run.py to interleave Strata with the other engines):
 *   strata_bench MODEL --serve [--stateful]
 *     Reads commands on stdin, one per line, and answers each with one line on stdout:
 *       input BATCH PATH            loads BATCH samples from PATH (raw f32)  -> "ok"
 *       time BATCH THREADS CALLS WARMUP
 *                                   runs WARMUP untimed calls, then CALLS timed calls on the
 *                                   session for THREADS (created on first use and kept)
 *                                   -> "ok US_PER_CALL CPU_PER_WALL"
 *       output BATCH THREADS PATH   runs once and writes the outputs to PATH (raw f32) -> "ok"
 *       save PATH                   writes the outputs of the last call to PATH (raw f32) -> "ok"
 *       reset THREADS               restarts the held recurrent state of the session for THREADS
 *                                   (strata_session_reset_state; with --stateful) -> "ok"
 *       quit
 *     Any failure answers "error MESSAGE".
 *
 * --stateful (either mode): every session keeps its recurrent state between runs
 *   (strata_session_set_stateful), so each call continues the stream: a model converted for
 *   T = 1 then times one frame (the bench's stateful frame cell).
 *
 * Build: cc -std=c11 -O2 -Iinclude tools/bench/strata_bench.c -Lbuild/lib -lstrata
 *        -Wl,-rpath,$PWD/build/lib -o strata_bench
 */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, getline under -std=c11 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "strata.h"

#define MAX_THREADS 64
#define MAX_BATCHES 32
#define MAX_SAMPLES 1000

static double wall_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static double cpu_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Percentile q in [0, 1] of sorted values, interpolating linearly (numpy's default). */
static double percentile(const double *sorted, int n, double q) {
    double pos = q * (double)(n - 1);
    int lo = (int)pos;
    int hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - (double)lo);
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

typedef struct {
    strata_model *model;
    int64_t in_n, out_n;
    strata_session *sessions[MAX_THREADS + 1]; /* by requested thread count */
    float *input, *output;
    int64_t capacity;     /* samples the buffers hold */
    int64_t loaded_batch; /* samples of real input in `input` (0: the pattern) */
    int64_t last_batch;   /* batch of the last successful run (0: none yet) */
    int stateful;         /* sessions hold recurrent state between runs (--stateful) */
    char error[512];
} bench;

static int fail(bench *b, const char *what) {
    snprintf(b->error, sizeof b->error, "%s", what);
    return -1;
}

static int strata_fail(bench *b, const char *call) {
    snprintf(b->error, sizeof b->error, "%s: %s", call, strata_last_error());
    return -1;
}

/* Makes room for `batch` samples; fills new room with the pattern. */
static int reserve(bench *b, int64_t batch) {
    if (batch <= b->capacity) return 0;
    float *in = realloc(b->input, (size_t)(batch * b->in_n) * sizeof(float));
    if (!in) return fail(b, "out of memory for the input");
    b->input = in;
    float *out = realloc(b->output, (size_t)(batch * b->out_n) * sizeof(float));
    if (!out) return fail(b, "out of memory for the output");
    b->output = out;
    uint32_t state = 12345u;
    for (int64_t i = b->capacity * b->in_n; i < batch * b->in_n; i++) {
        state = state * 1664525u + 1013904223u;
        in[i] = (float)(state >> 8) / 8388608.0f - 1.0f;
    }
    b->capacity = batch;
    return 0;
}

/* Reads `batch` samples of raw f32 from path; a short file is repeated cyclically. */
static int load_input(bench *b, int64_t batch, const char *path) {
    if (reserve(b, batch) != 0) return -1;
    FILE *f = fopen(path, "rb");
    if (!f) return fail(b, "cannot open the input file");
    size_t want = (size_t)(batch * b->in_n);
    size_t got = fread(b->input, sizeof(float), want, f);
    fclose(f);
    if (got == 0) return fail(b, "the input file is empty");
    for (size_t i = got; i < want; i++) b->input[i] = b->input[i % got];
    b->loaded_batch = batch;
    return 0;
}

static strata_session *session_for(bench *b, int threads, int64_t batch) {
    if (threads < 0 || threads > MAX_THREADS) {
        fail(b, "threads out of range");
        return NULL;
    }
    if (!b->sessions[threads]) {
        strata_session_params params = strata_session_default_params();
        params.initial_batch = batch;
        params.n_threads = threads;
        if (strata_session_create(b->model, &params, &b->sessions[threads]) != STRATA_STATUS_OK) {
            strata_fail(b, "strata_session_create");
            return NULL;
        }
        if (b->stateful && strata_session_set_stateful(b->sessions[threads], 1) != STRATA_STATUS_OK) {
            strata_fail(b, "strata_session_set_stateful");
            return NULL;
        }
    }
    return b->sessions[threads];
}

static int run_calls(bench *b, strata_session *s, int64_t batch, long calls) {
    b->last_batch = 0;
    for (long i = 0; i < calls; i++) {
        if (strata_session_run(s, batch, b->input, (size_t)(batch * b->in_n), b->output,
                               (size_t)(batch * b->out_n)) != STRATA_STATUS_OK)
            return strata_fail(b, "strata_session_run");
    }
    if (calls > 0) b->last_batch = batch;
    return 0;
}

/* One sample: `warmup` untimed calls then `calls` timed ones; per-call µs and CPU/wall ratio. */
static int time_sample(bench *b, int64_t batch, int threads, long calls, long warmup, double *us,
                       double *cpu_per_wall) {
    if (batch < 1 || calls < 1 || warmup < 0) return fail(b, "batch and calls must be >= 1");
    if (reserve(b, batch) != 0) return -1;
    strata_session *s = session_for(b, threads, batch);
    if (!s) return -1;
    if (run_calls(b, s, batch, warmup) != 0) return -1;
    double c0 = cpu_ns(), t0 = wall_ns();
    if (run_calls(b, s, batch, calls) != 0) return -1;
    double t1 = wall_ns(), c1 = cpu_ns();
    *us = (t1 - t0) / (double)calls / 1e3;
    *cpu_per_wall = t1 > t0 ? (c1 - c0) / (t1 - t0) : 0.0;
    return 0;
}

static int save_output(bench *b, const char *path) {
    if (b->last_batch < 1) return fail(b, "no successful run to save");
    FILE *f = fopen(path, "wb");
    if (!f) return fail(b, "cannot create the output file");
    size_t n = (size_t)(b->last_batch * b->out_n);
    size_t put = fwrite(b->output, sizeof(float), n, f);
    if (fclose(f) != 0 || put != n) return fail(b, "cannot write the output file");
    return 0;
}

static int write_output(bench *b, int64_t batch, int threads, const char *path) {
    double us, cpu;
    if (time_sample(b, batch, threads, 1, 0, &us, &cpu) != 0) return -1;
    return save_output(b, path);
}

static int reset_state(bench *b, int threads) {
    strata_session *s = session_for(b, threads, 1);
    if (!s) return -1;
    if (strata_session_reset_state(s) != STRATA_STATUS_OK) return strata_fail(b, "strata_session_reset_state");
    return 0;
}

static int serve(bench *b) {
    char *line = NULL;
    size_t cap = 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("ready %lld %lld %s\n", (long long)b->in_n, (long long)b->out_n, strata_version());
    while (getline(&line, &cap, stdin) > 0) {
        char cmd[16], path[4096];
        long long batch = 0, threads = 0, calls = 0, warmup = 0;
        int status = 0;
        b->error[0] = 0;
        if (sscanf(line, "%15s", cmd) != 1) continue;
        if (strcmp(cmd, "quit") == 0) break;
        if (strcmp(cmd, "input") == 0 && sscanf(line, "%*s %lld %4095s", &batch, path) == 2) {
            status = batch >= 1 ? load_input(b, batch, path) : fail(b, "batch must be >= 1");
            if (status == 0) printf("ok\n");
        } else if (strcmp(cmd, "time") == 0 &&
                   sscanf(line, "%*s %lld %lld %lld %lld", &batch, &threads, &calls, &warmup) == 4) {
            double us = 0, cpu = 0;
            status = time_sample(b, batch, (int)threads, (long)calls, (long)warmup, &us, &cpu);
            if (status == 0) printf("ok %.4f %.3f\n", us, cpu);
        } else if (strcmp(cmd, "output") == 0 &&
                   sscanf(line, "%*s %lld %lld %4095s", &batch, &threads, path) == 3) {
            status = write_output(b, batch, (int)threads, path);
            if (status == 0) printf("ok\n");
        } else if (strcmp(cmd, "reset") == 0 && sscanf(line, "%*s %lld", &threads) == 1) {
            status = reset_state(b, (int)threads);
            if (status == 0) printf("ok\n");
        } else if (strcmp(cmd, "save") == 0 && sscanf(line, "%*s %4095s", path) == 1) {
            status = save_output(b, path);
            if (status == 0) printf("ok\n");
        } else {
            status = fail(b, "unknown or malformed command");
        }
        if (status != 0) printf("error %s\n", b->error);
    }
    free(line);
    return 0;
}

static int standalone(bench *b, const int64_t *batches, int n_batches, int threads, int repeats,
                      double target_ms, const char *input_path) {
    printf("# strata %s; threads requested %d (the API does not report how many a session uses;"
           " cpu_per_wall measures it)\n", strata_version(), threads);
    printf("batch threads median_us p10_us p90_us calls_per_sample samples cpu_per_wall\n");
    for (int k = 0; k < n_batches; k++) {
        int64_t batch = batches[k];
        if (input_path ? load_input(b, batch, input_path) : reserve(b, batch)) return -1;
        double us, cpu;
        /* Warm up (first call plans and grows the buffers) and calibrate the calls per sample. */
        if (time_sample(b, batch, threads, 1, 1, &us, &cpu) != 0) return -1;
        long calls = us * 1e-3 >= target_ms ? 1 : (long)(target_ms * 1e3 / us) + 1;
        double times[MAX_SAMPLES], cpus[MAX_SAMPLES];
        for (int r = 0; r < repeats; r++)
            if (time_sample(b, batch, threads, calls, 0, &times[r], &cpus[r]) != 0) return -1;
        qsort(times, (size_t)repeats, sizeof(double), compare_doubles);
        qsort(cpus, (size_t)repeats, sizeof(double), compare_doubles);
        printf("%lld %d %.3f %.3f %.3f %ld %d %.2f\n", (long long)batch, threads,
               percentile(times, repeats, 0.5), percentile(times, repeats, 0.1),
               percentile(times, repeats, 0.9), calls, repeats, percentile(cpus, repeats, 0.5));
    }
    return 0;
}

static int usage(const char *argv0) {
    fprintf(stderr,
            "usage: %s MODEL [--batch N]... [--threads T] [--repeats R] [--target-ms MS] [--input RAW]"
            " [--stateful]\n"
            "       %s MODEL --serve [--stateful]\n",
            argv0, argv0);
    return 2;
}

int main(int argc, char **argv) {
    if (argc < 2 || argv[1][0] == '-') return usage(argv[0]);
    int64_t batches[MAX_BATCHES];
    int n_batches = 0, threads = 1, repeats = 15, serving = 0, stateful = 0;
    double target_ms = 20.0;
    const char *input_path = NULL;
    for (int i = 2; i < argc; i++) {
        const char *arg = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(arg, "--serve") == 0) {
            serving = 1;
            continue;
        }
        if (strcmp(arg, "--stateful") == 0) {
            stateful = 1;
            continue;
        }
        if (!value) return usage(argv[0]);
        i++;
        if (strcmp(arg, "--batch") == 0 && n_batches < MAX_BATCHES) {
            batches[n_batches] = strtoll(value, NULL, 10);
            if (batches[n_batches++] < 1) return usage(argv[0]);
        } else if (strcmp(arg, "--threads") == 0) {
            threads = atoi(value);
            if (threads < 0 || threads > MAX_THREADS) return usage(argv[0]);
        } else if (strcmp(arg, "--repeats") == 0) {
            repeats = atoi(value);
            if (repeats < 1 || repeats > MAX_SAMPLES) return usage(argv[0]);
        } else if (strcmp(arg, "--target-ms") == 0) {
            target_ms = atof(value);
            if (!(target_ms > 0)) return usage(argv[0]);
        } else if (strcmp(arg, "--input") == 0) {
            input_path = value;
        } else {
            return usage(argv[0]);
        }
    }
    if (n_batches == 0) {
        static const int64_t defaults[] = {1, 16, 256};
        memcpy(batches, defaults, sizeof defaults);
        n_batches = 3;
    }

    bench b;
    memset(&b, 0, sizeof b);
    b.stateful = stateful;
    if (strata_model_load_file(argv[1], &b.model) != STRATA_STATUS_OK) {
        fprintf(stderr, "strata_bench: %s: %s\n", argv[1], strata_last_error());
        return 1;
    }
    b.in_n = sample_count(b.model, 0);
    b.out_n = sample_count(b.model, 1);
    int status = 0;
    if (b.in_n < 1 || b.out_n < 1) {
        fprintf(stderr, "strata_bench: cannot read the model's input and output shapes\n");
        status = 1;
    } else if (serving) {
        status = serve(&b);
    } else if (standalone(&b, batches, n_batches, threads, repeats, target_ms, input_path) != 0) {
        fprintf(stderr, "strata_bench: %s\n", b.error);
        status = 1;
    }
    for (int t = 0; t <= MAX_THREADS; t++) strata_session_free(b.sessions[t]);
    strata_model_free(b.model);
    free(b.input);
    free(b.output);
    return status;
}
