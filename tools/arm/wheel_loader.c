/*
 * wheel_loader.c — what the Python bindings do with the library inside their wheel, done in C so
 * it runs under qemu-aarch64 (this machine has no aarch64 Python): dlopen() the file by path the
 * way ctypes.CDLL does (RTLD_NOW | RTLD_LOCAL), resolve every function the bindings declare
 * (strata._lib.PROTOTYPES), check strata_abi_version() and strata_version() against the
 * bindings' constants, then load a model and run one batch. Used by tools/arm/check_wheel.py.
 *
 *   wheel_loader LIB ABI VERSION MODEL INPUT.f32 BATCH OUTPUT_FLOATS OUTPUT.bin NAME...
 *
 * INPUT.f32 holds BATCH samples of input 0; OUTPUT.bin receives the OUTPUT_FLOATS output floats.
 * Exits 1 naming what failed.
 */
#define _DEFAULT_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strata.h"

static int fail(const char *what, const char *detail) {
    fprintf(stderr, "wheel_loader: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 10) {
        fprintf(stderr, "usage: %s LIB ABI VERSION MODEL INPUT.f32 BATCH OUTPUT_FLOATS OUTPUT.bin NAME...\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) return fail("dlopen", dlerror());
    for (int i = 9; i < argc; i++)
        if (!dlsym(lib, argv[i])) return fail("a function the bindings declare is missing", argv[i]);
    printf("wheel_loader: %s resolved all %d functions the bindings declare\n", argv[1], argc - 9);

#define SYMBOL(name) __typeof__(&name) p_##name = (__typeof__(&name))dlsym(lib, #name)
    SYMBOL(strata_abi_version);
    SYMBOL(strata_version);
    SYMBOL(strata_last_error);
    SYMBOL(strata_model_load_file);
    SYMBOL(strata_session_create);
    SYMBOL(strata_session_run);
    SYMBOL(strata_session_free);
    SYMBOL(strata_model_free);
    if (!p_strata_abi_version || !p_strata_version || !p_strata_last_error || !p_strata_model_load_file ||
        !p_strata_session_create || !p_strata_session_run || !p_strata_session_free || !p_strata_model_free)
        return fail("a function of strata.h is missing", NULL);
    if (p_strata_abi_version() != atoi(argv[2])) return fail("strata_abi_version() is not", argv[2]);
    if (strcmp(p_strata_version(), argv[3]) != 0) return fail("strata_version() is not", argv[3]);

    const long batch = atol(argv[6]), out_count = atol(argv[7]);
    FILE *f = fopen(argv[5], "rb");
    if (!f) return fail("cannot open", argv[5]);
    fseek(f, 0, SEEK_END);
    const long in_bytes = ftell(f);
    fseek(f, 0, SEEK_SET);
    float *input = malloc((size_t)in_bytes), *output = malloc(sizeof(float) * (size_t)out_count);
    if (!input || !output || fread(input, 1, (size_t)in_bytes, f) != (size_t)in_bytes) return fail("cannot read", argv[5]);
    fclose(f);

    strata_model *model = NULL;
    strata_session *session = NULL;
    if (p_strata_model_load_file(argv[4], &model) != STRATA_STATUS_OK) return fail("load", p_strata_last_error());
    if (p_strata_session_create(model, NULL, &session) != STRATA_STATUS_OK) return fail("session", p_strata_last_error());
    if (p_strata_session_run(session, batch, input, (size_t)in_bytes / sizeof(float), output, (size_t)out_count) !=
        STRATA_STATUS_OK)
        return fail("run", p_strata_last_error());
    p_strata_session_free(session);
    p_strata_model_free(model);

    FILE *out = fopen(argv[8], "wb");
    if (!out || fwrite(output, sizeof(float), (size_t)out_count, out) != (size_t)out_count || fclose(out) != 0)
        return fail("cannot write", argv[8]);
    printf("wheel_loader: strata %s (ABI %s) ran %s on a batch of %ld\n", argv[3], argv[2], argv[4], batch);
    free(input);
    free(output);
    dlclose(lib);
    return 0;
}
