/*
 * strata.h — the C interface of Strata, an embeddable neural-network inference runtime.
 *
 * Strata runs feedforward networks converted from PyTorch (see tools/convert) and stored in
 * `.strata` files (docs/FORMAT.md). This header is the whole public contract of libstrata.
 *
 * Object model
 *   strata_model    An immutable, validated model: graph plus weights, loaded from a file
 *                   (mapped read-only) or from memory (copied). Any number of threads may use
 *                   one model at the same time. A session keeps its model alive: freeing the
 *                   model while sessions exist is allowed, and its memory is released when the
 *                   last of them is freed.
 *   strata_session  Per-thread mutable state for running a model: its buffers, sized at
 *                   creation and grown on demand by the largest batch seen — or bounded by a
 *                   memory limit or a caller-provided workspace, in which case bigger batches
 *                   run in chunks with bitwise-identical results. Cheap to create.
 *                   One call at a time; create one session per thread.
 *
 * Threads
 *   Model functions may be called from any number of threads at once. A session runs one call
 *   at a time, and this is enforced: strata_session_run, strata_session_run_multi,
 *   strata_session_set_profiling, strata_session_profile_step, strata_session_set_stateful and
 *   strata_session_reset_state take the session's atomic in-use flag for their duration (a few
 *   nanoseconds), and a call that finds it taken — another thread's call, or this run's own
 *   abort callback — returns STRATA_STATUS_SESSION_BUSY at once, touching nothing (never a wrong output with OK). Handing a session from one thread to
 *   another between calls is fine. strata_session_free racing a call: see strata_session_free.
 *   strata_last_error() is per thread. A run can be stopped from outside through the session's
 *   abort callback (strata_session_params.abort_callback), which returns STRATA_STATUS_CANCELLED.
 *
 * Lifetimes
 *   Handles are freed once, by their _free function; using a handle after freeing it is
 *   undefined (it cannot be detected). Freeing a model first is allowed, see above.
 *
 * Errors
 *   Every function that can fail returns an int32_t status: STRATA_STATUS_OK (0) or a negative
 *   STRATA_STATUS_* code (the list is append-only). After a failure, strata_last_error()
 *   returns a sentence naming the offending thing; it is thread-local. Nothing a caller passes
 *   can crash the process: NULL pointers, wrong sizes and hostile files are reported, never
 *   trapped on.
 *
 * CPU
 *   On x86-64 this build needs AVX2 and FMA (x86-64-v3: Intel Haswell, AMD Zen or newer). On an
 *   older CPU every load function returns STRATA_STATUS_UNSUPPORTED with a message saying so;
 *   nothing faults. The kernels are portable Swift SIMD and also build for aarch64 (NEON).
 *
 * Usage
 *   strata_model *model = NULL;
 *   if (strata_model_load_file("mnist.strata", &model) != STRATA_STATUS_OK) {
 *       fprintf(stderr, "strata: %s\n", strata_last_error());
 *       return 1;
 *   }
 *   strata_session *session = NULL;
 *   if (strata_session_create(model, NULL, &session) != STRATA_STATUS_OK) { ... } // NULL = defaults
 *   float input[2 * 784] = {0};                             // two 28x28 images
 *   float logits[2 * 10];
 *   int32_t status = strata_session_run(session, 2, input, 2 * 784, logits, 2 * 10);
 *   if (status != STRATA_STATUS_OK) fprintf(stderr, "%s\n", strata_last_error());
 *   strata_session_free(session);
 *   strata_model_free(model);
 */
#ifndef STRATA_H
#define STRATA_H

#include <stddef.h>
#include <stdint.h>

#if defined(_WIN32)
#  define STRATA_API
#else
#  define STRATA_API __attribute__((visibility("default")))
#endif

#if !defined(__has_feature)
#  define STRATA_HAS_FEATURE(x) 0
#else
#  define STRATA_HAS_FEATURE(x) __has_feature(x)
#endif
#if STRATA_HAS_FEATURE(nullability)
#  define STRATA_NONNULL _Nonnull
#  define STRATA_NULLABLE _Nullable
#else
#  define STRATA_NONNULL
#  define STRATA_NULLABLE
#endif

#if defined(__clang__)
#  pragma clang diagnostic push
#  pragma clang diagnostic ignored "-Wnullability-extension"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------ */
/* Versions                                                                                    */

/** Library version this header belongs to (semantic versioning). */
#define STRATA_VERSION_MAJOR 0
#define STRATA_VERSION_MINOR 2
#define STRATA_VERSION_PATCH 0
/** ABI version: changes only when a program built against an older header could break. */
#define STRATA_ABI_VERSION 1
/** Newest `.strata` file format major version this library reads. */
#define STRATA_FORMAT_VERSION_MAJOR 1

/** The library's version as "MAJOR.MINOR.PATCH"; a static string, never NULL. */
STRATA_API const char *STRATA_NONNULL strata_version(void);

/** The library's ABI version; compare with STRATA_ABI_VERSION to detect a mismatched library. */
STRATA_API int32_t strata_abi_version(void);

/* ------------------------------------------------------------------------------------------ */
/* Status codes (append-only; a retired code stays reserved)                                   */

#define STRATA_STATUS_OK 0                     /**< Success. */
#define STRATA_STATUS_INVALID_ARGUMENT (-1)    /**< An argument is out of range (batch ≤ 0, index, …). */
#define STRATA_STATUS_NULL_POINTER (-2)        /**< A required pointer argument is NULL. */
#define STRATA_STATUS_IO_ERROR (-3)            /**< The file could not be opened, read or mapped. */
#define STRATA_STATUS_TRUNCATED (-4)           /**< The file ends before its declared size. */
#define STRATA_STATUS_BAD_MAGIC (-5)           /**< Not a .strata file. */
#define STRATA_STATUS_UNSUPPORTED_VERSION (-6) /**< The file needs a newer (or older) library. */
#define STRATA_STATUS_CHECKSUM_MISMATCH (-7)   /**< A CRC32 does not match: the file is corrupted. */
#define STRATA_STATUS_MALFORMED (-8)           /**< The file breaks a rule of docs/FORMAT.md. */
#define STRATA_STATUS_UNSUPPORTED (-9)         /**< Valid file, but an op, dtype or feature this library lacks. */
#define STRATA_STATUS_SHAPE_MISMATCH (-10)     /**< Shapes disagree (graph, or caller's buffers vs. the model). */
#define STRATA_STATUS_BUFFER_TOO_SMALL (-11)   /**< A caller-provided buffer is too small. */
#define STRATA_STATUS_OUT_OF_MEMORY (-12)      /**< Memory could not be allocated. */
#define STRATA_STATUS_INTERNAL (-13)           /**< A bug in Strata; please report it with the message. */
#define STRATA_STATUS_CANCELLED (-14)          /**< The session's abort callback stopped the run. */
#define STRATA_STATUS_SESSION_BUSY (-15)       /**< Another call was using the session at the same time, or it is being freed. */

/**
 * A short, static description of a status code, e.g. "checksum mismatch".
 * Unknown codes give "unknown status". Never NULL; never fails.
 */
STRATA_API const char *STRATA_NONNULL strata_status_string(int32_t status);

/**
 * The message of the most recent failure on the calling thread: a sentence naming the
 * offending file, tensor, node, argument or size. "" when no call on this thread has failed.
 * Successful calls do not clear it, so read it only after a call has failed. The string stays
 * valid until the next failing Strata call on the same thread.
 * Never NULL; never fails.
 */
STRATA_API const char *STRATA_NONNULL strata_last_error(void);

/* ------------------------------------------------------------------------------------------ */
/* Models                                                                                      */

/** An immutable, validated model; shareable by any number of threads. */
typedef struct strata_model strata_model;

/**
 * Loads and fully validates a .strata file, mapping it read-only (zero copy).
 *
 * @param path       NUL-terminated file path.
 * @param out_model  Receives the new model; free it with strata_model_free().
 * @return STRATA_STATUS_OK; NULL_POINTER (path or out_model NULL); IO_ERROR (missing or
 *         unreadable file); TRUNCATED; BAD_MAGIC; UNSUPPORTED_VERSION; CHECKSUM_MISMATCH;
 *         MALFORMED; UNSUPPORTED (an op or dtype this library lacks, or a CPU without AVX2/FMA);
 *         SHAPE_MISMATCH; OUT_OF_MEMORY.
 *         On failure *out_model is set to NULL (when out_model is not NULL), nothing is
 *         allocated and the file is not kept open.
 */
STRATA_API int32_t strata_model_load_file(const char *STRATA_NULLABLE path,
                                          strata_model *STRATA_NULLABLE *STRATA_NULLABLE out_model);

/**
 * Loads and fully validates a .strata image held in memory. The bytes are copied into an
 * aligned buffer owned by the model: the caller may free `data` as soon as this returns.
 *
 * @param data       The file's bytes.
 * @param size       Their count in bytes.
 * @param out_model  Receives the new model; free it with strata_model_free().
 * @return As strata_model_load_file(), except IO_ERROR; also INVALID_ARGUMENT when `size`
 *         exceeds PTRDIFF_MAX. On failure *out_model is NULL and nothing is allocated.
 */
STRATA_API int32_t strata_model_load_memory(const void *STRATA_NULLABLE data, size_t size,
                                            strata_model *STRATA_NULLABLE *STRATA_NULLABLE out_model);

/**
 * Releases the caller's reference to a model. Accepts NULL. The file is unmapped once every
 * session made from the model has been freed too. Using `model` after this call is undefined.
 */
STRATA_API void strata_model_free(strata_model *STRATA_NULLABLE model);

/** Number of graph inputs (≥ 1), or STRATA_STATUS_NULL_POINTER when model is NULL. */
STRATA_API int32_t strata_model_n_inputs(const strata_model *STRATA_NULLABLE model);

/** Number of graph outputs (≥ 1), or STRATA_STATUS_NULL_POINTER when model is NULL. */
STRATA_API int32_t strata_model_n_outputs(const strata_model *STRATA_NULLABLE model);

/**
 * Name of input `index` (0-based), valid as long as the model lives.
 * @return The name, or NULL when model is NULL or index is out of range (see strata_last_error()).
 */
STRATA_API const char *STRATA_NULLABLE strata_model_input_name(const strata_model *STRATA_NULLABLE model,
                                                               int32_t index);

/**
 * Name of output `index` (0-based), valid as long as the model lives.
 * @return The name, or NULL when model is NULL or index is out of range (see strata_last_error()).
 */
STRATA_API const char *STRATA_NULLABLE strata_model_output_name(const strata_model *STRATA_NULLABLE model,
                                                                int32_t index);

/**
 * Shape of input `index`. Dimension 0 is the batch and reads -1 (any batch size).
 *
 * @param out_dims   Receives up to `capacity` dimensions; may be NULL when capacity is 0.
 * @param capacity   Number of int64_t slots in out_dims (8 always suffices).
 * @param out_rank   Receives the rank, even when capacity is too small.
 * @return STRATA_STATUS_OK; NULL_POINTER (model, out_rank, or out_dims with capacity > 0);
 *         INVALID_ARGUMENT (index out of range); BUFFER_TOO_SMALL (capacity < rank: *out_rank
 *         is set, out_dims is untouched).
 */
STRATA_API int32_t strata_model_input_shape(const strata_model *STRATA_NULLABLE model, int32_t index,
                                            int64_t *STRATA_NULLABLE out_dims, size_t capacity,
                                            size_t *STRATA_NULLABLE out_rank);

/** Shape of output `index`; same contract as strata_model_input_shape(). */
STRATA_API int32_t strata_model_output_shape(const strata_model *STRATA_NULLABLE model, int32_t index,
                                             int64_t *STRATA_NULLABLE out_dims, size_t capacity,
                                             size_t *STRATA_NULLABLE out_rank);

/**
 * The metadata value stored under `key` (e.g. "producer", "class_labels"; see docs/FORMAT.md).
 * @return The NUL-terminated value, valid as long as the model lives, or NULL when the key is
 *         absent or an argument is NULL (absence alone does not set strata_last_error()).
 */
STRATA_API const char *STRATA_NULLABLE strata_model_metadata(const strata_model *STRATA_NULLABLE model,
                                                             const char *STRATA_NULLABLE key);

/* ------------------------------------------------------------------------------------------ */
/* Sessions                                                                                    */

/** Per-thread state for running a model; use from one thread at a time. */
typedef struct strata_session strata_session;

/**
 * A session's abort callback (strata_session_params.abort_callback): returns non-zero to stop
 * the current run, 0 to let it continue.
 */
typedef int32_t (*strata_abort_callback)(void *STRATA_NULLABLE user_data);

/** Options for strata_session_create(). Get defaults from strata_session_default_params(). */
typedef struct strata_session_params {
    /**
     * sizeof(strata_session_params) as compiled by the caller; lets the struct grow. A caller
     * built against an older header passes a smaller size: the fields past it take their
     * defaults. A size below 24 (the first version's struct: size, initial_batch, n_threads) is
     * rejected; fields past this version's struct (a newer caller's) are ignored.
     */
    size_t size;
    /** Batch size to plan buffers for at creation (≥ 1); larger batches grow them once. Default 1. */
    int64_t initial_batch;
    /**
     * Threads a run uses, 0…256: 0 or 1 = the calling thread only (the default); n ≥ 2 = the
     * calling thread plus n - 1 workers owned by the session, which spin briefly after a run and
     * then sleep (an idle session uses no CPU). Outputs are bitwise identical for every value.
     * Work is split into n fixed parts that the threads claim, so a late worker costs at most the
     * one-thread time. A worker that finds itself on the calling thread's CPU moves to another
     * CPU of its affinity set (it narrows its affinity for an instant, then restores it).
     */
    int32_t n_threads;
    /* ---- appended after the first version (size 24): bounded memory and cancellation ---- */
    /**
     * Most bytes of scratch the session may hold (its buffers and the threads' GEMM scratch, as
     * counted by strata_session_workspace_size()); 0 = no limit (the default). A batch larger
     * than fits runs in chunks of as many samples as fit, with outputs bitwise identical to one
     * pass. strata_session_create() fails with OUT_OF_MEMORY when not even one sample fits.
     * Not counted: the session's bookkeeping (a few hundred bytes per plan step) and its worker
     * threads' stacks.
     */
    size_t memory_limit;
    /**
     * Caller-provided scratch memory (any alignment), or NULL (the default: the session
     * allocates its own). The session keeps all its buffers in it, never allocates more for
     * runs, and never frees it; it must stay valid, and be used by nothing else, until
     * strata_session_free(). Batches larger than fit run in chunks, as with memory_limit (which
     * may also be set; the smaller bound wins). Size it with strata_session_workspace_size().
     */
    void *STRATA_NULLABLE workspace;
    /** Size of `workspace` in bytes; must be 0 when workspace is NULL. */
    size_t workspace_size;
    /**
     * Called by strata_session_run() on the calling thread before each step of the plan (so
     * also between chunks) with abort_user_data; a non-zero return stops the run with
     * STRATA_STATUS_CANCELLED. NULL (the default) = never. It may be called from whatever thread
     * runs the session, must be cheap, and must not call Strata functions on this session.
     */
    strata_abort_callback STRATA_NULLABLE abort_callback;
    /** Passed to abort_callback; Strata never dereferences it. */
    void *STRATA_NULLABLE abort_user_data;
} strata_session_params;

/** Default session parameters, with `size` filled in. Never fails. */
STRATA_API strata_session_params strata_session_default_params(void);

/**
 * Creates a session for `model`; the session holds a reference that keeps the model alive.
 *
 * @param params       NULL for defaults, or a struct from strata_session_default_params().
 * @param out_session  Receives the session; free it with strata_session_free().
 * @return STRATA_STATUS_OK; NULL_POINTER (model or out_session); INVALID_ARGUMENT (params->size
 *         too small, initial_batch < 1, n_threads outside 0…256, workspace NULL with a non-zero
 *         workspace_size); OUT_OF_MEMORY (buffers or worker threads, or a memory_limit below
 *         what one sample needs); BUFFER_TOO_SMALL (a workspace smaller than one sample needs).
 *         On failure *out_session is NULL and nothing is allocated.
 */
STRATA_API int32_t strata_session_create(const strata_model *STRATA_NULLABLE model,
                                         const strata_session_params *STRATA_NULLABLE params,
                                         strata_session *STRATA_NULLABLE *STRATA_NULLABLE out_session);

/**
 * Frees a session. Accepts NULL.
 *
 * Freeing a session while another thread's call (strata_session_run, …) is using it is
 * detected: that call completes normally (its outputs and status are what they would have
 * been) and the session is released as it returns. Until then, further calls on the session
 * return STRATA_STATUS_SESSION_BUSY and a second strata_session_free is ignored. Not detectable
 * (undefined, as any use of freed memory): a call or a second free that starts after the
 * session has been released — after a free that found it idle has returned, or after the
 * racing call has returned.
 */
STRATA_API void strata_session_free(strata_session *STRATA_NULLABLE session);

/**
 * Runs the model on a batch of `batch` samples, for a model with one input and one output.
 *
 * On x86-64 a run computes with subnormals flushed to zero (MXCSR FTZ and DAZ), so tiny weights
 * or activations never take the slow path: subnormal inputs count as 0 and subnormal results
 * become 0. It sets the two bits on the calling thread for the run only (the abort callback runs
 * with them set) and restores the caller's MXCSR before returning; the session's worker threads
 * keep them set. On aarch64 a run does the same with FPCR.FZ (bit 24), which flushes subnormal
 * inputs and results alike, so both give the same bits. Other CPUs run with the caller's
 * floating-point settings unchanged.
 *
 * @param batch         Number of samples, ≥ 1.
 * @param input         batch × (input elements per sample) f32 values, sample after sample
 *                      (row-major, in the input's declared shape).
 * @param input_count   Number of floats in `input`; must equal batch × input sample size.
 * @param output        Receives batch × (output elements per sample) f32 values; must not
 *                      overlap `input`.
 * @param output_count  Number of floats `output` can hold; must be at least that many.
 *                      NaN and ±Inf inputs are computed with like any value (IEEE 754 rules) and
 *                      propagate to the outputs they reach; they are not an error.
 * @return STRATA_STATUS_OK; NULL_POINTER (session, input or output); INVALID_ARGUMENT
 *         (batch < 1, or batch so large sizes overflow); SHAPE_MISMATCH (input_count wrong);
 *         BUFFER_TOO_SMALL (output_count too small); UNSUPPORTED (the model has several
 *         inputs or outputs); OUT_OF_MEMORY (buffers for a new, larger batch; never for a
 *         session with a memory_limit or workspace, which runs big batches in chunks);
 *         CANCELLED (the abort callback returned non-zero); SESSION_BUSY (another call was
 *         using the session, or it is being freed: nothing was read or written).
 *         After a failure the output buffer's contents are unspecified (arguments are checked
 *         before anything is written; a cancelled run may have written part of it) and the
 *         session stays usable.
 */
STRATA_API int32_t strata_session_run(strata_session *STRATA_NULLABLE session, int64_t batch,
                                      const float *STRATA_NULLABLE input, size_t input_count,
                                      float *STRATA_NULLABLE output, size_t output_count);

/* ------------------------------------------------------------------------------------------ */
/* Integrity, trusted loading and self-test (format 1.1)                                       */
/*
 * A .strata file carries a CRC-32 per section (always checked at load unless the caller opts
 * out below), may record a SHA-256 of its payload (metadata key "payload_sha256"), and may embed
 * a few reference inputs with the outputs PyTorch computed for them (the optional SELFTEST
 * section, written by `strata-convert --self-test N`). strata_model_self_test() runs them on
 * this machine and reports the largest difference: proof that conversion and runtime agree.
 *
 *   strata_self_test_result r = { sizeof r };
 *   if (strata_model_self_test(model, &r) != STRATA_STATUS_OK || !r.passed) { ... }
 */

/** Options for strata_model_load_*_with_params(). Get defaults from strata_load_default_params(). */
typedef struct strata_load_params {
    /**
     * sizeof(strata_load_params) as compiled by the caller; lets the struct grow. A size smaller
     * than this version's struct is rejected; fields past it (a newer caller's) are ignored.
     */
    size_t size;
    /**
     * 1 (default): verify the header and every section CRC-32 while loading. 0: skip them, for
     * trusted, very large files (every other rule is still enforced; strata_model_verify() can
     * check them later).
     */
    int32_t verify_checksums;
} strata_load_params;

/** Default load parameters (verify_checksums = 1), with `size` filled in. Never fails. */
STRATA_API strata_load_params strata_load_default_params(void);

/**
 * strata_model_load_file() with options.
 *
 * @param params  NULL for defaults, or a struct from strata_load_default_params().
 * @return As strata_model_load_file(); also INVALID_ARGUMENT when params->size is too small or
 *         params->verify_checksums is neither 0 nor 1. On failure *out_model is NULL (when
 *         out_model is not NULL), nothing is allocated and the file is not kept open.
 */
STRATA_API int32_t strata_model_load_file_with_params(const char *STRATA_NULLABLE path,
                                                      const strata_load_params *STRATA_NULLABLE params,
                                                      strata_model *STRATA_NULLABLE *STRATA_NULLABLE out_model);

/**
 * strata_model_load_memory() with options (the bytes are copied, as there).
 *
 * @param params  NULL for defaults, or a struct from strata_load_default_params().
 * @return As strata_model_load_memory(); also INVALID_ARGUMENT for bad params (see
 *         strata_model_load_file_with_params()). On failure *out_model is NULL and nothing is
 *         allocated.
 */
STRATA_API int32_t strata_model_load_memory_with_params(const void *STRATA_NULLABLE data, size_t size,
                                                        const strata_load_params *STRATA_NULLABLE params,
                                                        strata_model *STRATA_NULLABLE *STRATA_NULLABLE out_model);

/**
 * Re-checks a loaded model's bytes: the header CRC, every section's CRC-32 (also when it was
 * loaded with verify_checksums = 0), and the payload SHA-256 when the file records one. Reads
 * the whole file once.
 *
 * @param out_sha256_checked  Optional (may be NULL): receives 1 when a payload SHA-256 was
 *                            recorded and matched, 0 when the file records none.
 * @return STRATA_STATUS_OK; NULL_POINTER (model); CHECKSUM_MISMATCH (the message names the
 *         header, the section or the digest). On failure *out_sha256_checked is untouched; the
 *         model stays usable (it is never modified).
 */
STRATA_API int32_t strata_model_verify(const strata_model *STRATA_NULLABLE model,
                                       int32_t *STRATA_NULLABLE out_sha256_checked);

/** Result of strata_model_self_test(). The caller sets `size`; the library fills the rest. */
typedef struct strata_self_test_result {
    /** sizeof(strata_self_test_result) as compiled by the caller (set before the call). */
    size_t size;
    /** Reference samples run (one batch). */
    int64_t n_samples;
    /** Output elements compared. */
    int64_t n_elements;
    /** Largest |strata - reference| over every output element (infinity for a NaN output). */
    double max_abs_error;
    /** Largest |strata - reference| / (atol + rtol × |reference|), ≤ 1 when passed. */
    double max_error_ratio;
    /** 1 when every output element is within the file's tolerance, else 0. */
    int32_t passed;
} strata_self_test_result;

/**
 * Runs the reference inputs embedded in the model file (SELFTEST section) on this machine and
 * compares the outputs with the reference outputs stored next to them (computed by the source
 * framework at conversion). Uses a private session; thread-safe like any model getter.
 *
 * @param out_result  Receives the comparison; its `size` must be set by the caller.
 * @return STRATA_STATUS_OK when the test ran — check out_result->passed; NULL_POINTER (model
 *         or out_result); INVALID_ARGUMENT (out_result->size too small); UNSUPPORTED (the file
 *         has no self-test data); OUT_OF_MEMORY. On failure *out_result is untouched.
 */
STRATA_API int32_t strata_model_self_test(const strata_model *STRATA_NULLABLE model,
                                          strata_self_test_result *STRATA_NULLABLE out_result);

/* ------------------------------------------------------------------------------------------ */
/* Profiling                                                                                   */

/**
 * Turns per-step timing of later strata_session_run() calls on (non-zero; resets the counts) or
 * off (0). Profiled runs still allocate nothing; they read the clock twice per step.
 * @return STRATA_STATUS_OK; NULL_POINTER (session); SESSION_BUSY (another call was using the
 *         session). On failure nothing changes.
 */
STRATA_API int32_t strata_session_set_profiling(strata_session *STRATA_NULLABLE session, int32_t enabled);

/**
 * Number of steps in the session's execution plan (after fusion, e.g. Linear+Relu is one step),
 * or STRATA_STATUS_NULL_POINTER when session is NULL.
 */
STRATA_API int32_t strata_session_n_steps(const strata_session *STRATA_NULLABLE session);

/**
 * Describes step `index` and its mean wall time over the runs profiled since profiling was
 * turned on (0 and 0 runs when it is off).
 *
 * @param out_name               Receives e.g. "Linear+Relu [fc1, relu] [N, 784] -> [N, 128]",
 *                               valid while the session lives; may be NULL.
 * @param out_mean_microseconds  Receives the mean time per run; may be NULL.
 * @param out_runs               Receives the number of profiled runs; may be NULL.
 * @return STRATA_STATUS_OK; NULL_POINTER (session); INVALID_ARGUMENT (index out of range);
 *         SESSION_BUSY (another call was using the session: a run updates the counts).
 *         On failure the out-parameters are untouched.
 */
STRATA_API int32_t strata_session_profile_step(const strata_session *STRATA_NULLABLE session, int32_t index,
                                               const char *STRATA_NULLABLE *STRATA_NULLABLE out_name,
                                               double *STRATA_NULLABLE out_mean_microseconds,
                                               int64_t *STRATA_NULLABLE out_runs);

/* ------------------------------------------------------------------------------------------ */
/* Bounded memory                                                                              */
/*
 * A session's scratch memory is its arena (activations: a fixed number of bytes per sample)
 * plus a fixed scratch per thread (103 KiB for the GEMM when the model has quantized weights,
 * none for f32 weights; plus im2col panels for Conv).
 * strata_session_workspace_size() says how much a batch needs; pass that as memory_limit, or a
 * buffer that large as workspace, and batches up to that size run in one pass, larger ones in
 * chunks:
 *
 *   size_t bytes = 0;
 *   strata_session_workspace_size(model, NULL, 256, &bytes);     // room for 256 samples
 *   strata_session_params p = strata_session_default_params();
 *   p.workspace = my_buffer; p.workspace_size = bytes;            // or: p.memory_limit = bytes;
 *   strata_session_create(model, &p, &session);
 */

/**
 * Bytes of scratch memory a session made with `params` needs to run `batch` samples in one
 * pass: a memory_limit or workspace_size of at least this runs batches up to `batch` without
 * chunking. Linear in batch; includes 64 bytes so that a workspace of any alignment fits.
 *
 * @param params     NULL for defaults; only size and n_threads are read (each thread has its own
 *                   GEMM scratch).
 * @param batch      Samples per pass, ≥ 1.
 * @param out_bytes  Receives the size in bytes.
 * @return STRATA_STATUS_OK; NULL_POINTER (model or out_bytes); INVALID_ARGUMENT (batch < 1,
 *         params->size too small, n_threads outside 0…256, or a size that overflows). On
 *         failure *out_bytes is untouched.
 */
STRATA_API int32_t strata_session_workspace_size(const strata_model *STRATA_NULLABLE model,
                                                 const strata_session_params *STRATA_NULLABLE params,
                                                 int64_t batch, size_t *STRATA_NULLABLE out_bytes);

/* Several inputs and outputs                                                                  */
/*
 * Models may have several graph inputs and outputs (a two-input Add, an LSTM returning Y, Y_h and
 * Y_c, a classifier returning logits and features). strata_session_run() takes one of each;
 * this call takes one buffer per graph input and per graph output, in graph order (the order of
 * strata_model_input_name() / strata_model_output_name()). Every buffer holds `batch` samples.
 *
 *   const float *ins[2]  = { a, b };       size_t in_counts[2]  = { batch * 16, batch * 16 };
 *   float       *outs[1] = { y };          size_t out_counts[1] = { batch * 16 };
 *   strata_session_run_multi(session, batch, ins, in_counts, 2, outs, out_counts, 1);
 */

/**
 * Runs the model on `batch` samples with one buffer per graph input and per graph output.
 *
 * @param batch          Number of samples, ≥ 1.
 * @param inputs         n_inputs pointers, in graph-input order; inputs[i] holds batch ×
 *                       (elements per sample of input i) f32 values, sample after sample.
 * @param input_counts   n_inputs counts; input_counts[i] must equal that number of floats.
 * @param n_inputs       Must equal strata_model_n_inputs().
 * @param outputs        n_outputs pointers, in graph-output order; outputs[i] receives batch ×
 *                       (elements per sample of output i) f32 values. No output buffer may
 *                       overlap an input or another output.
 * @param output_counts  n_outputs capacities in floats; each must be at least that number.
 * @param n_outputs      Must equal strata_model_n_outputs().
 * @return STRATA_STATUS_OK; NULL_POINTER (session, an array, or one of its pointers);
 *         INVALID_ARGUMENT (n_inputs or n_outputs unlike the model's, batch < 1 or so large that
 *         sizes overflow); SHAPE_MISMATCH (an input count wrong); BUFFER_TOO_SMALL (an output
 *         count too small); and the run statuses of strata_session_run(). Messages name the
 *         input or output. Arguments are all checked before anything is written.
 */
STRATA_API int32_t strata_session_run_multi(strata_session *STRATA_NULLABLE session, int64_t batch,
                                            const float *STRATA_NULLABLE const *STRATA_NULLABLE inputs,
                                            const size_t *STRATA_NULLABLE input_counts, size_t n_inputs,
                                            float *STRATA_NULLABLE const *STRATA_NULLABLE outputs,
                                            const size_t *STRATA_NULLABLE output_counts, size_t n_outputs);

/* ------------------------------------------------------------------------------------------ */
/* Streaming (recurrent state held between runs)                                               */
/*
 * A stateful session carries every recurrent layer's state (RNN, GRU, LSTM: H, and C for LSTM)
 * from one run to the next, one stream per batch row: feed a sequence in chunks of any length
 * and the outputs are bitwise those of one run over the whole sequence. The first run after
 * strata_session_set_stateful(s, 1) or strata_session_reset_state() starts from each layer's
 * initial state (the model's H0/C0 inputs, or zeros); later runs ignore those inputs. Every run
 * must then have the batch of the first (else INVALID_ARGUMENT). A run that fails or is
 * cancelled leaves the held state as it was. See docs/EMBEDDING.md "Streaming".
 *
 *   strata_session_set_stateful(session, 1);
 *   for (each frame) strata_session_run(session, 1, frame, 40, logits, 12);   // 1 step per call
 *   strata_session_reset_state(session);                                      // a new stream
 */

/**
 * Turns held recurrent state on (non-zero) or off (0). Either forgets the state held so far.
 * The held state takes 2 × batch × (sum of the layers' state sizes) floats, allocated by the
 * first run at a new, larger batch.
 * @return STRATA_STATUS_OK; NULL_POINTER (session); UNSUPPORTED (turning it on for a model
 *         without a recurrent layer, or a session whose memory is a caller's workspace);
 *         SESSION_BUSY (another call was using the session). On failure nothing changes.
 */
STRATA_API int32_t strata_session_set_stateful(strata_session *STRATA_NULLABLE session, int32_t enabled);

/**
 * Forgets the held recurrent state: the next run starts every stream from the initial state (a
 * new stream, or a new batch size). Keeps the buffers.
 * @return STRATA_STATUS_OK; NULL_POINTER (session); INVALID_ARGUMENT (the session is not
 *         stateful); SESSION_BUSY (another call was using the session). On failure nothing changes.
 */
STRATA_API int32_t strata_session_reset_state(strata_session *STRATA_NULLABLE session);

/**
 * 1 when the session keeps recurrent state between runs, 0 when not, or
 * STRATA_STATUS_NULL_POINTER when session is NULL.
 */
STRATA_API int32_t strata_session_is_stateful(const strata_session *STRATA_NULLABLE session);

#ifdef __cplusplus
} /* extern "C" */
#endif

#if defined(__clang__)
#  pragma clang diagnostic pop
#endif

#endif /* STRATA_H */
