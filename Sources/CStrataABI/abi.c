// CStrataABI exposes include/strata.h to Swift so the @_cdecl layer uses the header's own types
// (strata_session_params, status constants), and holds the CPU gate below.
//
// The CPU gate. The Swift modules are compiled for x86-64-v3 (AVX2 + FMA: `-target-cpu haswell`),
// so on an older CPU any of their code may fault with SIGILL. This file is compiled for the
// baseline ISA; the load functions — without which nothing else does any work — and
// strata_last_error are exported from here. They check the CPU once and, when it lacks AVX2 or
// FMA, return STRATA_STATUS_UNSUPPORTED with a message instead of entering Swift code.
// Setting STRATA_PRETEND_NO_AVX2=1 in the environment makes the gate refuse, for tests.
//
// On aarch64 the Swift modules use Advanced SIMD (NEON: fmla) and scalar floating point, both
// architectural in ARMv8-A Linux but reported by the kernel in HWCAP (getauxval): the gate refuses
// a CPU (or an emulator) that does not report them, with a message naming what is missing.
// STRATA_PRETEND_NO_AVX2=1 makes this gate refuse too (one switch for the tests on every machine).
#include "strata.h"

#include <stdatomic.h>
#include <stdlib.h>
#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_FP
#define HWCAP_FP (1UL << 0)
#endif
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1UL << 1)
#endif
#endif

int32_t strataimpl_model_load_file(const char *path, strata_model **out_model);
int32_t strataimpl_model_load_memory(const void *data, size_t size, strata_model **out_model);
int32_t strataimpl_model_load_file_with_params(const char *path, const strata_load_params *params,
                                               strata_model **out_model);
int32_t strataimpl_model_load_memory_with_params(const void *data, size_t size, const strata_load_params *params,
                                                 strata_model **out_model);
const char *strataimpl_last_error(void);

#if defined(__aarch64__)
static const char cpu_message[] =
    "this CPU does not report Advanced SIMD (NEON) and floating point (HWCAP asimd, fp), which this "
    "aarch64 build of libstrata needs (every ARMv8-A Linux core: Cortex-A53 and newer); no model can be loaded";
#else
static const char cpu_message[] =
    "this CPU lacks AVX2 or FMA, which this build of libstrata needs (x86-64-v3: Intel Haswell, "
    "AMD Zen or newer); no model can be loaded";
#endif

/* 0 = not checked yet, 1 = supported, 2 = unsupported. Threads racing through the first check
 * compute and store the same value; the atomic makes that race well defined (a plain or volatile
 * int is a data race in C11, and ThreadSanitizer reports it). */
static atomic_int cpu_state;
static _Thread_local int cpu_refused_here;

static int cpu_supported(void) {
    int state = atomic_load_explicit(&cpu_state, memory_order_relaxed);
    if (state == 0) {
        int ok = 1;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_cpu_init();
        ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#elif defined(__aarch64__) && defined(__linux__)
        unsigned long hwcap = getauxval(AT_HWCAP);
        ok = (hwcap & HWCAP_ASIMD) && (hwcap & HWCAP_FP);
#endif
        const char *pretend = getenv("STRATA_PRETEND_NO_AVX2");
        if (pretend && pretend[0] == '1') ok = 0;
        state = ok ? 1 : 2;
        atomic_store_explicit(&cpu_state, state, memory_order_relaxed);
    }
    return state == 1;
}

static int32_t refuse(strata_model **out_model) {
    if (out_model) *out_model = NULL;
    cpu_refused_here = 1;
    return STRATA_STATUS_UNSUPPORTED;
}

STRATA_API int32_t strata_model_load_file(const char *path, strata_model **out_model) {
    if (!cpu_supported()) return refuse(out_model);
    cpu_refused_here = 0;
    return strataimpl_model_load_file(path, out_model);
}

STRATA_API int32_t strata_model_load_memory(const void *data, size_t size, strata_model **out_model) {
    if (!cpu_supported()) return refuse(out_model);
    cpu_refused_here = 0;
    return strataimpl_model_load_memory(data, size, out_model);
}

STRATA_API int32_t strata_model_load_file_with_params(const char *path, const strata_load_params *params,
                                                      strata_model **out_model) {
    if (!cpu_supported()) return refuse(out_model);
    cpu_refused_here = 0;
    return strataimpl_model_load_file_with_params(path, params, out_model);
}

STRATA_API int32_t strata_model_load_memory_with_params(const void *data, size_t size, const strata_load_params *params,
                                                        strata_model **out_model) {
    if (!cpu_supported()) return refuse(out_model);
    cpu_refused_here = 0;
    return strataimpl_model_load_memory_with_params(data, size, params, out_model);
}

STRATA_API const char *strata_last_error(void) {
    return cpu_refused_here ? cpu_message : strataimpl_last_error();
}
