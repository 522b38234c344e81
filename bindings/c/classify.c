/*
 * classify — run a .strata classifier on a batch of samples from C.
 *
 *   classify [--print-outputs] [--batch N] MODEL [INPUT.f32]
 *
 * INPUT.f32 is raw little-endian float32 values, sample after sample, in the model input's
 * shape; its size must be a multiple of one sample. Without it, N samples (default 4) of a
 * deterministic pattern are used. For each sample, prints
 *
 *   sample <i>: class <k> (<label>)        label from the "class_labels" metadata, if any
 *
 * and with --print-outputs, after it, every output value of that sample on one line:
 *
 *   outputs <i>: <v0> <v1> ...             each printed with %.9g (round-trips a float)
 *
 * The model's input and output names and shapes go to stderr. Errors print
 * strata_last_error() to stderr and exit with status 1 (2 for usage errors).
 *
 * Build (see Makefile):
 *   cc -std=c11 -Wall -Wextra -Werror -I../../include classify.c \
 *      -L../../build/lib -lstrata -Wl,-rpath,$PWD/../../build/lib -o classify
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strata.h"

#define MAX_RANK 8

static const char *program = "classify";

static int usage(void) {
    fprintf(stderr, "usage: %s [--print-outputs] [--batch N] MODEL [INPUT.f32]\n", program);
    return 2;
}

/* Reports the failure of the Strata call `what` and returns the exit status. */
static int fail(const char *what, int32_t status) {
    fprintf(stderr, "%s: %s failed: %s (%s)\n", program, what, strata_last_error(),
            strata_status_string(status));
    return 1;
}

/* Number of elements in one sample of a [-1, d1, …] shape, or 0 on overflow / bad dims. */
static size_t sample_size(const int64_t *dims, size_t rank) {
    size_t n = 1;
    for (size_t i = 1; i < rank; i++) {
        if (dims[i] < 1 || (uint64_t)dims[i] > SIZE_MAX / n) return 0;
        n *= (size_t)dims[i];
    }
    return n;
}

static void print_shape(const char *kind, const char *name, const int64_t *dims, size_t rank) {
    fprintf(stderr, "%s \"%s\" [", kind, name);
    for (size_t i = 0; i < rank; i++) fprintf(stderr, "%s%lld", i ? ", " : "", (long long)dims[i]);
    fprintf(stderr, "]\n");
}

/* Reads a whole file of little-endian f32 values; returns NULL (after a message) on error. */
static float *read_f32_file(const char *path, size_t *out_count) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open input file '%s'\n", program, path);
        return NULL;
    }
    size_t capacity = 1 << 16, size = 0;
    unsigned char *bytes = malloc(capacity);
    size_t got;
    while (bytes && (got = fread(bytes + size, 1, capacity - size, f)) > 0) {
        size += got;
        if (size == capacity) {
            unsigned char *bigger = capacity <= SIZE_MAX / 2 ? realloc(bytes, capacity * 2) : NULL;
            if (!bigger) {
                free(bytes);
                bytes = NULL;
                break;
            }
            bytes = bigger;
            capacity *= 2;
        }
    }
    int read_error = ferror(f);
    fclose(f);
    if (!bytes || read_error) {
        fprintf(stderr, "%s: cannot read input file '%s'\n", program, path);
        free(bytes);
        return NULL;
    }
    if (size % 4 != 0) {
        fprintf(stderr, "%s: input file '%s' has %zu bytes, not a whole number of f32 values\n",
                program, path, size);
        free(bytes);
        return NULL;
    }
    size_t count = size / 4;
    float *values = malloc(count ? count * sizeof(float) : 1);
    if (!values) {
        fprintf(stderr, "%s: out of memory reading '%s'\n", program, path);
        free(bytes);
        return NULL;
    }
    for (size_t i = 0; i < count; i++) { /* little-endian bytes -> host float */
        const unsigned char *b = bytes + 4 * i;
        uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
        memcpy(&values[i], &u, sizeof u);
    }
    free(bytes);
    *out_count = count;
    return values;
}

/* The i-th label of a "\n"-separated list, copied into buf; "" when there is none. */
static const char *label_at(const char *labels, size_t index, char *buf, size_t capacity) {
    buf[0] = '\0';
    if (!labels) return buf;
    const char *start = labels;
    for (size_t i = 0; i < index; i++) {
        start = strchr(start, '\n');
        if (!start) return buf;
        start++;
    }
    const char *end = strchr(start, '\n');
    size_t length = end ? (size_t)(end - start) : strlen(start);
    if (length >= capacity) length = capacity - 1;
    memcpy(buf, start, length);
    buf[length] = '\0';
    return buf;
}

int main(int argc, char **argv) {
    int print_outputs = 0;
    long long batch_option = 0;
    const char *model_path = NULL, *input_path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--print-outputs") == 0) {
            print_outputs = 1;
        } else if (strcmp(argv[i], "--batch") == 0 && i + 1 < argc) {
            char *end = NULL;
            batch_option = strtoll(argv[++i], &end, 10);
            if (!end || *end || batch_option < 1) return usage();
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return usage();
        } else if (!model_path) {
            model_path = argv[i];
        } else if (!input_path) {
            input_path = argv[i];
        } else {
            return usage();
        }
    }
    if (!model_path || (input_path && batch_option)) return usage();

    if (strata_abi_version() != STRATA_ABI_VERSION) {
        fprintf(stderr, "%s: libstrata %s has ABI version %d, this program was built for %d\n",
                program, strata_version(), (int)strata_abi_version(), STRATA_ABI_VERSION);
        return 1;
    }

    int exit_code = 1;
    strata_model *model = NULL;
    strata_session *session = NULL;
    float *input = NULL, *output = NULL;

    int32_t status = strata_model_load_file(model_path, &model);
    if (status != STRATA_STATUS_OK) return fail("loading the model", status);

    /* Describe the model: one input, one output (all strata_session_run supports). */
    int64_t in_dims[MAX_RANK], out_dims[MAX_RANK];
    size_t in_rank = 0, out_rank = 0;
    const char *in_name = strata_model_input_name(model, 0);
    const char *out_name = strata_model_output_name(model, 0);
    if (!in_name || !out_name) {
        exit_code = fail("reading the input and output names", STRATA_STATUS_INVALID_ARGUMENT);
        goto done;
    }
    if ((status = strata_model_input_shape(model, 0, in_dims, MAX_RANK, &in_rank)) != STRATA_STATUS_OK) {
        exit_code = fail("reading the input shape", status);
        goto done;
    }
    if ((status = strata_model_output_shape(model, 0, out_dims, MAX_RANK, &out_rank)) != STRATA_STATUS_OK) {
        exit_code = fail("reading the output shape", status);
        goto done;
    }
    print_shape("input", in_name, in_dims, in_rank);
    print_shape("output", out_name, out_dims, out_rank);
    if (strata_model_n_inputs(model) != 1 || strata_model_n_outputs(model) != 1)
        fprintf(stderr, "%s: the model has several inputs or outputs; using the first\n", program);
    size_t in_size = sample_size(in_dims, in_rank), out_size = sample_size(out_dims, out_rank);
    if (in_size == 0 || out_size == 0) {
        fprintf(stderr, "%s: the model's input or output shape is unusable\n", program);
        goto done;
    }

    /* The batch: from the file, or a deterministic pattern in [0, 1]. */
    size_t batch, count;
    if (input_path) {
        input = read_f32_file(input_path, &count);
        if (!input) goto done;
        if (count == 0 || count % in_size != 0) {
            fprintf(stderr, "%s: input file '%s' holds %zu values, not a whole number of samples of %zu\n",
                    program, input_path, count, in_size);
            goto done;
        }
        batch = count / in_size;
    } else {
        batch = batch_option ? (size_t)batch_option : 4;
        if (batch > SIZE_MAX / sizeof(float) / in_size) {
            fprintf(stderr, "%s: batch %zu is too large\n", program, batch);
            goto done;
        }
        count = batch * in_size;
        input = malloc(count * sizeof(float));
        if (!input) {
            fprintf(stderr, "%s: out of memory for %zu input values\n", program, count);
            goto done;
        }
        for (size_t i = 0; i < count; i++)
            input[i] = (float)((uint32_t)(i * 2654435761u) >> 24) / 255.0f;
    }
    if (batch > SIZE_MAX / sizeof(float) / out_size) {
        fprintf(stderr, "%s: batch %zu is too large\n", program, batch);
        goto done;
    }
    output = malloc(batch * out_size * sizeof(float));
    if (!output) {
        fprintf(stderr, "%s: out of memory for %zu output values\n", program, batch * out_size);
        goto done;
    }

    /* Run. */
    strata_session_params params = strata_session_default_params();
    params.initial_batch = (int64_t)batch;
    if ((status = strata_session_create(model, &params, &session)) != STRATA_STATUS_OK) {
        exit_code = fail("creating a session", status);
        goto done;
    }
    status = strata_session_run(session, (int64_t)batch, input, count, output, batch * out_size);
    if (status != STRATA_STATUS_OK) {
        exit_code = fail("running the model", status);
        goto done;
    }

    /* Report. */
    const char *labels = strata_model_metadata(model, "class_labels");
    char label[256];
    for (size_t s = 0; s < batch; s++) {
        const float *row = output + s * out_size;
        size_t best = 0;
        for (size_t j = 1; j < out_size; j++)
            if (row[j] > row[best]) best = j;
        label_at(labels, best, label, sizeof label);
        if (label[0])
            printf("sample %zu: class %zu (%s)\n", s, best, label);
        else
            printf("sample %zu: class %zu\n", s, best);
        if (print_outputs) {
            printf("outputs %zu:", s);
            for (size_t j = 0; j < out_size; j++) printf(" %.9g", (double)row[j]);
            printf("\n");
        }
    }
    exit_code = 0;

done:
    strata_session_free(session);
    strata_model_free(model);
    free(input);
    free(output);
    return exit_code;
}
