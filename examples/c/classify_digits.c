/*
 * classify_digits — the C end of examples/cnn_digits.py: load the .strata file it wrote, run
 * every test image in one batch, print one predicted class per image.
 *
 *   classify_digits MODEL IMAGES.f32
 *
 * IMAGES.f32 holds raw little-endian float32 images, one after the other, in the model input's
 * sample shape. Prints "predictions: 3 7 ..." (the same line as cnn_digits.py). Errors print
 * strata_last_error() and exit with status 1.
 *
 * Build against an installed Strata:  cc -std=c11 classify_digits.c $(pkg-config --cflags --libs strata)
 * or this checkout (make lib):        cc -std=c11 -Iinclude examples/c/classify_digits.c -Lbuild/lib \
 *                                        -lstrata -Wl,-rpath,$PWD/build/lib -o classify_digits
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "strata.h"

/* Prints the failed call and Strata's sentence about it; returns the exit status. */
static int fail(const char *what, int32_t status) {
    fprintf(stderr, "classify_digits: %s: %s (%s)\n", what, strata_last_error(), strata_status_string(status));
    return 1;
}

/* Elements in one sample of input (is_input) or output `index`: the shape without dimension 0. */
static int32_t sample_size(const strata_model *model, int is_input, size_t *out_size) {
    int64_t dims[8];
    size_t rank = 0;
    int32_t status = is_input ? strata_model_input_shape(model, 0, dims, 8, &rank)
                              : strata_model_output_shape(model, 0, dims, 8, &rank);
    *out_size = 1;
    for (size_t i = 1; status == STRATA_STATUS_OK && i < rank; i++) *out_size *= (size_t)dims[i];
    return status;
}

/* Reads the whole file at path into a new buffer; NULL (after a message) on error. */
static float *read_floats(const char *path, size_t *out_count) {
    FILE *f = fopen(path, "rb");
    if (!f || fseek(f, 0, SEEK_END) != 0) {
        fprintf(stderr, "classify_digits: cannot read '%s'\n", path);
        if (f) fclose(f);
        return NULL;
    }
    long size = ftell(f);
    rewind(f);
    float *values = size > 0 ? malloc((size_t)size) : NULL;
    if (!values || fread(values, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "classify_digits: cannot read '%s'\n", path);
        free(values);
        fclose(f);
        return NULL;
    }
    fclose(f);
    *out_count = (size_t)size / sizeof(float);
    return values;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: classify_digits MODEL IMAGES.f32\n");
        return 2;
    }
    strata_model *model = NULL;
    int32_t status = strata_model_load_file(argv[1], &model);
    if (status != STRATA_STATUS_OK) return fail("loading the model", status);

    size_t per_image = 0, per_output = 0;  /* elements of one sample's input and output */
    if ((status = sample_size(model, 1, &per_image)) != STRATA_STATUS_OK ||
        (status = sample_size(model, 0, &per_output)) != STRATA_STATUS_OK) {
        strata_model_free(model);
        return fail("reading the model's shapes", status);
    }
    size_t count = 0;
    float *images = read_floats(argv[2], &count);
    if (!images || count % per_image != 0) {
        if (images) fprintf(stderr, "classify_digits: %s is not a whole number of %zu-float images\n", argv[2], per_image);
        free(images);
        strata_model_free(model);
        return 1;
    }
    size_t batch = count / per_image;
    float *logits = malloc(batch * per_output * sizeof(float));
    strata_session *session = NULL;
    if (!logits || (status = strata_session_create(model, NULL, &session)) != STRATA_STATUS_OK ||
        (status = strata_session_run(session, (int64_t)batch, images, count, logits, batch * per_output)) != STRATA_STATUS_OK) {
        int code = logits ? fail("running the model", status) : 1;
        strata_session_free(session);
        strata_model_free(model);
        free(images);
        free(logits);
        return code;
    }
    printf("predictions:");
    for (size_t i = 0; i < batch; i++) {
        size_t best = 0;
        for (size_t k = 1; k < per_output; k++)
            if (logits[i * per_output + k] > logits[i * per_output + best]) best = k;
        printf(" %zu", best);
    }
    printf("\n");
    strata_session_free(session);
    strata_model_free(model);
    free(images);
    free(logits);
    return 0;
}
