/*
 * strata.hpp — a header-only C++17 wrapper of strata.h.
 *
 * RAII owners for the C handles, exceptions that carry the status and message, and spans for
 * buffers. Nothing here adds behaviour: every member calls the C function of the same name and
 * turns a negative status into a `strata::Error`. Link exactly as for C (`-lstrata`, or
 * `Strata::strata` in CMake).
 *
 *   #include <strata.hpp>
 *
 *   strata::Model model("mnist.strata");                 // throws strata::Error on failure
 *   strata::Session session(model);                      // one per thread
 *   std::vector<float> images(2 * model.input(0).sample_size());
 *   std::vector<float> logits = session.run(2, images);  // or run(batch, in, out) into your buffer
 *   ...
 *   catch (const strata::Error &e) { e.status(); e.status_name(); e.what(); }
 *
 * Ownership: `Model` and `Session` are move-only. A `Session` keeps its model alive (as in C),
 * so a session may outlive the `Model` object it was made from.
 * Threads: a `Model` may be shared by any number of threads, and `Model::run`/`run_multi` are
 * thread-safe: concurrent calls each get exactly the single-threaded result (each runs on a
 * session of the model's pool that no other call is using; sessions are made on demand, one per
 * concurrent caller at most, and freed with the Model). A `Session` runs one call at a time: a
 * concurrent call from another thread throws Error with STRATA_STATUS_SESSION_BUSY.
 */
#ifndef STRATA_HPP
#define STRATA_HPP

#include "strata.h"

#include <array>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace strata {

/** A failed Strata call: the STRATA_STATUS_* code and strata_last_error()'s message. */
class Error : public std::runtime_error {
public:
    /** @param status a negative STRATA_STATUS_* code; @param message the library's sentence. */
    Error(int32_t status, const std::string &message)
        : std::runtime_error(message), status_(status) {}

    /** The STRATA_STATUS_* code (negative). */
    int32_t status() const noexcept { return status_; }

    /** A short static description of the status, e.g. "checksum mismatch". */
    const char *status_name() const noexcept { return strata_status_string(status_); }

private:
    int32_t status_;
};

namespace detail {
/** Throws Error(status, strata_last_error()) when status is not STRATA_STATUS_OK. */
inline void check(int32_t status) {
    if (status != STRATA_STATUS_OK) throw Error(status, strata_last_error());
}
} // namespace detail

/**
 * A non-owning view of `size()` contiguous elements (std::span's subset that Strata needs, for
 * C++17). Converts implicitly from std::vector, std::array, C arrays and any contiguous
 * container with data() and size(); `span<const float>` also from `span<float>`.
 */
template <class T>
class span {
public:
    using element_type = T;
    using value_type = std::remove_cv_t<T>;

    constexpr span() noexcept = default;
    constexpr span(T *data, std::size_t size) noexcept : data_(data), size_(size) {}
    template <std::size_t N>
    constexpr span(T (&array)[N]) noexcept : data_(array), size_(N) {}
    template <class Container,
              class = std::enable_if_t<
                  !std::is_array_v<std::remove_reference_t<Container>> &&
                  std::is_convertible_v<decltype(std::declval<Container &>().data()), T *>>,
              class = decltype(std::declval<Container &>().size())>
    constexpr span(Container &&container) noexcept
        : data_(container.data()), size_(container.size()) {}

    constexpr T *data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr T *begin() const noexcept { return data_; }
    constexpr T *end() const noexcept { return data_ + size_; }
    /** Element `i`; `i` must be < size() (unchecked, like std::span). */
    constexpr T &operator[](std::size_t i) const noexcept { return data_[i]; }

private:
    T *data_ = nullptr;
    std::size_t size_ = 0;
};

/** The library version, "MAJOR.MINOR.PATCH" (strata_version()). */
inline std::string version() { return strata_version(); }

/**
 * Throws Error(STRATA_STATUS_UNSUPPORTED_VERSION) when the library loaded at run time has a
 * different ABI version than this header (STRATA_ABI_VERSION).
 */
inline void check_abi() {
    const int32_t abi = strata_abi_version();
    if (abi != STRATA_ABI_VERSION)
        throw Error(STRATA_STATUS_UNSUPPORTED_VERSION,
                    "libstrata has ABI version " + std::to_string(abi) + ", strata.hpp needs " +
                        std::to_string(STRATA_ABI_VERSION));
}

namespace detail {
/**
 * The idle sessions behind Model::run (thread-safe): a call takes one (or makes one with default
 * params) and gives it back, so at most one session per concurrent caller is ever made. The
 * destructor frees them.
 */
class SessionPool {
public:
    SessionPool() = default;
    SessionPool(const SessionPool &) = delete;
    SessionPool &operator=(const SessionPool &) = delete;
    ~SessionPool() {
        for (strata_session *s : idle_) strata_session_free(s);
    }

    /** An idle session, or a new one for `model`. Throws Error. */
    strata_session *take(const strata_model *model) {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!idle_.empty()) {
                strata_session *s = idle_.back();
                idle_.pop_back();
                return s;
            }
        }
        strata_session *s = nullptr;
        check(strata_session_create(model, nullptr, &s));
        return s;
    }

    /** Puts `s` back (frees it if the list cannot grow). */
    void give_back(strata_session *s) noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        try {
            idle_.push_back(s);
        } catch (...) {
            strata_session_free(s);
        }
    }

    /** Idle sessions now. */
    std::size_t idle() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return idle_.size();
    }

private:
    mutable std::mutex mutex_;
    std::vector<strata_session *> idle_;
};

/** Holds one of a pool's sessions for the duration of a call. */
class PooledSession {
public:
    PooledSession(SessionPool &pool, const strata_model *model) : pool_(pool), session_(pool.take(model)) {}
    PooledSession(const PooledSession &) = delete;
    PooledSession &operator=(const PooledSession &) = delete;
    ~PooledSession() { pool_.give_back(session_); }
    strata_session *get() const noexcept { return session_; }

private:
    SessionPool &pool_;
    strata_session *session_;
};

/** strata_session_run_multi with initializer lists (Session::run_multi, Model::run_multi). */
inline void run_multi(strata_session *session, int64_t batch, std::initializer_list<span<const float>> inputs,
                      std::initializer_list<span<float>> outputs) {
    constexpr std::size_t kStack = 16;
    const float *in_stack[kStack];
    std::size_t in_count_stack[kStack];
    float *out_stack[kStack];
    std::size_t out_count_stack[kStack];
    std::vector<const float *> in_heap;
    std::vector<std::size_t> in_count_heap, out_count_heap;
    std::vector<float *> out_heap;
    const float **ins = in_stack;
    std::size_t *in_counts = in_count_stack;
    float **outs = out_stack;
    std::size_t *out_counts = out_count_stack;
    if (inputs.size() > kStack) {
        in_heap.resize(inputs.size());
        in_count_heap.resize(inputs.size());
        ins = in_heap.data();
        in_counts = in_count_heap.data();
    }
    if (outputs.size() > kStack) {
        out_heap.resize(outputs.size());
        out_count_heap.resize(outputs.size());
        outs = out_heap.data();
        out_counts = out_count_heap.data();
    }
    std::size_t i = 0;
    for (const span<const float> &s : inputs) { ins[i] = s.data(); in_counts[i] = s.size(); ++i; }
    i = 0;
    for (const span<float> &s : outputs) { outs[i] = s.data(); out_counts[i] = s.size(); ++i; }
    check(strata_session_run_multi(session, batch, ins, in_counts, inputs.size(), outs, out_counts, outputs.size()));
}
} // namespace detail

/** A graph input or output: its name and shape; shape[0] is the batch and reads -1 (any). */
struct TensorInfo {
    std::string name;
    std::vector<int64_t> shape;

    /** Number of f32 values in one sample: the product of shape[1...]. */
    std::size_t sample_size() const noexcept {
        std::size_t n = 1;
        for (std::size_t i = 1; i < shape.size(); ++i) n *= static_cast<std::size_t>(shape[i]);
        return n;
    }
};

/** Owns a strata_model (immutable; shareable by threads). Move-only. */
class Model {
public:
    /** Loads and validates a .strata file (strata_model_load_file). Throws Error. */
    explicit Model(const std::string &path) { detail::check(strata_model_load_file(path.c_str(), &handle_)); }

    /** Loads and validates an in-memory image (copied; strata_model_load_memory). Throws Error. */
    static Model from_memory(const void *data, std::size_t size) {
        strata_model *handle = nullptr;
        detail::check(strata_model_load_memory(data, size, &handle));
        return Model(handle);
    }

    /** Takes ownership of a handle from the C API (may be NULL: an empty Model). */
    explicit Model(strata_model *adopted) noexcept : handle_(adopted) {}

    Model(Model &&other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)), pool_(std::move(other.pool_)) {}
    Model &operator=(Model &&other) noexcept {
        if (this != &other) {
            pool_ = std::move(other.pool_);  // frees this model's pooled sessions first
            strata_model_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }
    Model(const Model &) = delete;
    Model &operator=(const Model &) = delete;
    ~Model() { strata_model_free(handle_); }

    /** The C handle (still owned by this object); NULL after a move. */
    strata_model *get() const noexcept { return handle_; }
    /** Gives up ownership of the C handle; the caller frees it with strata_model_free(). */
    strata_model *release() noexcept { return std::exchange(handle_, nullptr); }
    explicit operator bool() const noexcept { return handle_ != nullptr; }

    /** Number of inputs. Throws Error (NULL_POINTER) on an empty Model. */
    int32_t n_inputs() const { return count(strata_model_n_inputs(handle_)); }
    /** Number of outputs. Throws Error (NULL_POINTER) on an empty Model. */
    int32_t n_outputs() const { return count(strata_model_n_outputs(handle_)); }

    /** Input `index`: name and shape. Throws Error (INVALID_ARGUMENT when out of range). */
    TensorInfo input(int32_t index) const {
        return info(strata_model_input_name(handle_, index), &strata_model_input_shape, index);
    }
    /** Output `index`: name and shape. Throws Error (INVALID_ARGUMENT when out of range). */
    TensorInfo output(int32_t index) const {
        return info(strata_model_output_name(handle_, index), &strata_model_output_shape, index);
    }
    /** Every input, in order. */
    std::vector<TensorInfo> inputs() const {
        std::vector<TensorInfo> all;
        for (int32_t i = 0, n = n_inputs(); i < n; ++i) all.push_back(input(i));
        return all;
    }
    /** Every output, in order. */
    std::vector<TensorInfo> outputs() const {
        std::vector<TensorInfo> all;
        for (int32_t i = 0, n = n_outputs(); i < n; ++i) all.push_back(output(i));
        return all;
    }

    /**
     * Bytes of scratch a session made with `params` (NULL = defaults) needs to run `batch`
     * samples in one pass (strata_session_workspace_size()): the memory_limit or workspace_size
     * that runs such batches unchunked. Throws Error.
     */
    size_t workspace_size(int64_t batch, const strata_session_params *params = nullptr) const {
        size_t bytes = 0;
        detail::check(strata_session_workspace_size(handle_, params, batch, &bytes));
        return bytes;
    }

    /** The metadata value under `key` (e.g. "producer"), or nullopt when absent. */
    std::optional<std::string> metadata(const std::string &key) const {
        const char *value = strata_model_metadata(handle_, key.c_str());
        if (value == nullptr) return std::nullopt;
        return std::string(value);
    }

    /**
     * Runs `batch` samples as Session::run does, on a session of this model's pool. Thread-safe:
     * any number of threads may call it at once; each gets exactly the single-threaded result.
     * Throws Error (NULL_POINTER on an empty Model).
     */
    void run(int64_t batch, span<const float> input, span<float> output) const {
        detail::PooledSession session(pool(), handle_);
        detail::check(strata_session_run(session.get(), batch, input.data(), input.size(), output.data(), output.size()));
    }

    /** As run(batch, input, output), into a new vector of batch × output sample size values. */
    std::vector<float> run(int64_t batch, span<const float> input) const {
        const bool single = n_inputs() == 1 && n_outputs() == 1;
        const std::size_t in_sample = single ? this->input(0).sample_size() : 0;
        const bool consistent = batch > 0 && in_sample > 0 && input.size() % in_sample == 0 &&
                                input.size() / in_sample == static_cast<std::size_t>(batch);
        if (!consistent) {  // let the library report the exact problem (never allocate for it)
            float unused = 0;
            run(batch, input, span<float>(&unused, 1));
        }
        std::vector<float> out(static_cast<std::size_t>(batch) * output(0).sample_size());
        run(batch, input, out);
        return out;
    }

    /** As Session::run_multi, on a session of this model's pool; thread-safe as run(). */
    void run_multi(int64_t batch, std::initializer_list<span<const float>> inputs,
                   std::initializer_list<span<float>> outputs) const {
        detail::PooledSession session(pool(), handle_);
        detail::run_multi(session.get(), batch, inputs, outputs);
    }

    /** Idle sessions in the pool of run() now (at most the largest number of concurrent calls). */
    std::size_t pooled_sessions() const { return pool_ ? pool_->idle() : 0; }

private:
    using ShapeFn = int32_t (*)(const strata_model *, int32_t, int64_t *, size_t, size_t *);

    static int32_t count(int32_t n) {
        detail::check(n < 0 ? n : STRATA_STATUS_OK);
        return n;
    }

    TensorInfo info(const char *name, ShapeFn shape_fn, int32_t index) const {
        if (name == nullptr) detail::check(handle_ ? STRATA_STATUS_INVALID_ARGUMENT : STRATA_STATUS_NULL_POINTER);
        std::array<int64_t, 8> dims{};
        size_t rank = 0;
        int32_t status = shape_fn(handle_, index, dims.data(), dims.size(), &rank);
        std::vector<int64_t> shape;
        if (status == STRATA_STATUS_BUFFER_TOO_SMALL) {
            shape.resize(rank);
            status = shape_fn(handle_, index, shape.data(), shape.size(), &rank);
        } else {
            shape.assign(dims.begin(), dims.begin() + static_cast<std::ptrdiff_t>(rank));
        }
        detail::check(status);
        return TensorInfo{name, std::move(shape)};
    }

    detail::SessionPool &pool() const {
        if (handle_ == nullptr) throw Error(STRATA_STATUS_NULL_POINTER, "strata::Model::run: the Model is empty (moved from or released)");
        if (!pool_) throw Error(STRATA_STATUS_OUT_OF_MEMORY, "strata::Model::run: cannot allocate the session pool");
        return *pool_;
    }

    strata_model *handle_ = nullptr;
    // Made with the Model (never throws: NULL when out of memory, reported by run()).
    std::unique_ptr<detail::SessionPool> pool_{new (std::nothrow) detail::SessionPool()};
};

/** Owns a strata_session: per-thread state for running a model. Move-only. */
class Session {
public:
    /**
     * strata_session_default_params(): initial_batch 1, n_threads 1, no memory limit, no
     * workspace, no abort callback. Set memory_limit, workspace/workspace_size (the buffer must
     * outlive the Session) or abort_callback/abort_user_data before passing it to the
     * constructor; a cancelled run throws Error with status STRATA_STATUS_CANCELLED.
     */
    static strata_session_params default_params() noexcept { return strata_session_default_params(); }

    /**
     * Creates a session for `model` (strata_session_create); it keeps the model alive.
     * @param params NULL for defaults. Throws Error.
     */
    explicit Session(const Model &model, const strata_session_params *params = nullptr) {
        detail::check(strata_session_create(model.get(), params, &handle_));
        if (model.n_inputs() == 1 && model.n_outputs() == 1) {
            input_sample_ = model.input(0).sample_size();
            output_sample_ = model.output(0).sample_size();
        }
    }

    Session(Session &&other) noexcept
        : handle_(std::exchange(other.handle_, nullptr)), input_sample_(other.input_sample_),
          output_sample_(other.output_sample_) {}
    Session &operator=(Session &&other) noexcept {
        if (this != &other) {
            strata_session_free(handle_);
            handle_ = std::exchange(other.handle_, nullptr);
            input_sample_ = other.input_sample_;
            output_sample_ = other.output_sample_;
        }
        return *this;
    }
    Session(const Session &) = delete;
    Session &operator=(const Session &) = delete;
    ~Session() { strata_session_free(handle_); }

    /** The C handle (still owned by this object); NULL after a move. */
    strata_session *get() const noexcept { return handle_; }

    /** f32 values per input sample (0 for a model with several inputs or outputs). */
    std::size_t input_sample_size() const noexcept { return input_sample_; }
    /** f32 values per output sample (0 for a model with several inputs or outputs). */
    std::size_t output_sample_size() const noexcept { return output_sample_; }

    /**
     * Runs `batch` samples (strata_session_run): input.size() must be batch × input sample
     * size, output must hold at least batch × output sample size. Throws Error; after a
     * failure the output's contents are unspecified and the session stays usable.
     */
    void run(int64_t batch, span<const float> input, span<float> output) {
        detail::check(strata_session_run(handle_, batch, input.data(), input.size(), output.data(), output.size()));
    }

    /** As run(batch, input, output), into a new vector of batch × output sample size values. */
    std::vector<float> run(int64_t batch, span<const float> input) {
        const bool consistent = batch > 0 && input_sample_ > 0 &&
                                input.size() % input_sample_ == 0 &&
                                input.size() / input_sample_ == static_cast<std::size_t>(batch);
        if (!consistent) {  // let the library report the exact problem (never allocate for it)
            float unused = 0;
            run(batch, input, span<float>(&unused, 1));
        }
        std::vector<float> output(static_cast<std::size_t>(batch) * output_sample_);
        run(batch, input, output);
        return output;
    }

    /**
     * Runs `batch` samples with one buffer per graph input and per graph output, in graph order
     * (strata_session_run_multi): any number of inputs and outputs. inputs[i].size() must be
     * batch × input i's sample size; outputs[i] must hold at least batch × output i's sample
     * size. Throws Error (arguments are checked before anything is written). Builds two small
     * pointer arrays on the stack for up to 16 buffers each, else on the heap.
     */
    void run_multi(int64_t batch, std::initializer_list<span<const float>> inputs,
                   std::initializer_list<span<float>> outputs) {
        detail::run_multi(handle_, batch, inputs, outputs);
    }

    /**
     * Turns held recurrent state on or off (strata_session_set_stateful): when on, each run
     * continues every stream (one per batch row) where the previous run left it. Either
     * forgets the held state. Throws Error (UNSUPPORTED for a model without a recurrent layer).
     */
    void set_stateful(bool enabled) { detail::check(strata_session_set_stateful(handle_, enabled ? 1 : 0)); }

    /** Whether the session holds recurrent state between runs (strata_session_is_stateful). */
    bool stateful() const noexcept { return strata_session_is_stateful(handle_) == 1; }

    /** Starts every stream again from the initial state (strata_session_reset_state). Throws Error. */
    void reset_state() { detail::check(strata_session_reset_state(handle_)); }

private:
    strata_session *handle_ = nullptr;
    std::size_t input_sample_ = 0;
    std::size_t output_sample_ = 0;
};

} // namespace strata

#endif /* STRATA_HPP */
