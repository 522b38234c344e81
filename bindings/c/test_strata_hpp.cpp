// test_strata_hpp.cpp — checks strata.hpp's contract against a real model:
//   test_strata_hpp MODEL
// MODEL must have one input and one output. Prints one line per check and "ok" at the end;
// exits 1 at the first failed check. Built with -std=c++17 -Wall -Wextra -Werror -pedantic
// by bindings/python/tests/test_cpp_wrapper.py.
#include <strata.hpp>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            std::fprintf(stderr, "FAILED line %d: %s\n", __LINE__, #cond);            \
            return 1;                                                                 \
        }                                                                             \
    } while (0)

// Runs `f`, which must throw strata::Error with `status`; returns the message ("" if not).
template <class F>
std::string expect_error(int32_t status, F &&f, bool &ok) {
    try {
        f();
    } catch (const strata::Error &e) {
        ok = e.status() == status && std::strlen(e.what()) > 0 &&
             std::string(e.status_name()) == strata_status_string(status);
        return e.what();
    }
    ok = false;
    return "";
}

static_assert(!std::is_copy_constructible_v<strata::Model>, "Model is move-only");
static_assert(!std::is_copy_constructible_v<strata::Session>, "Session is move-only");
static_assert(std::is_nothrow_move_constructible_v<strata::Model>, "Model moves never throw");
static_assert(std::is_nothrow_move_constructible_v<strata::Session>, "Session moves never throw");
static_assert(std::is_base_of_v<std::runtime_error, strata::Error>, "Error is a runtime_error");

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    const std::string path = argv[1];
    bool ok = false;

    // Versions.
    CHECK(strata::version() == strata_version());
    strata::check_abi();
    std::puts("version and ABI");

    // A missing file: IO_ERROR, and the message names the file.
    std::string message = expect_error(STRATA_STATUS_IO_ERROR, [] { strata::Model m("/nonexistent/x.strata"); }, ok);
    CHECK(ok && message.find("/nonexistent/x.strata") != std::string::npos);
    // Garbage bytes from memory: BAD_MAGIC or TRUNCATED, never a crash.
    const char junk[64] = "definitely not a strata file";
    try {
        strata::Model::from_memory(junk, sizeof junk);
        CHECK(false);
    } catch (const strata::Error &e) {
        CHECK(e.status() == STRATA_STATUS_BAD_MAGIC || e.status() == STRATA_STATUS_TRUNCATED);
    }
    std::puts("load errors carry status and message");

    // Load from file and from memory; describe.
    strata::Model model(path);
    CHECK(model && model.n_inputs() == 1 && model.n_outputs() == 1);
    const strata::TensorInfo in = model.input(0), out = model.output(0);
    CHECK(!in.name.empty() && in.shape.size() >= 2 && in.shape[0] == -1 && in.sample_size() > 0);
    CHECK(out.shape[0] == -1 && out.sample_size() > 0);
    CHECK(model.inputs().size() == 1 && model.outputs().size() == 1 && model.outputs()[0].name == out.name);
    expect_error(STRATA_STATUS_INVALID_ARGUMENT, [&] { (void)model.input(1); }, ok);
    CHECK(ok);
    CHECK(!model.metadata("no such key").has_value());
    std::ifstream file(path, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    strata::Model copy = strata::Model::from_memory(bytes.data(), bytes.size());
    CHECK(copy.output(0).shape == out.shape);
    std::puts("describe");

    // Run: the vector-returning and the caller's-buffer overloads agree, for several batches.
    std::vector<float> input(3 * in.sample_size());
    for (std::size_t i = 0; i < input.size(); ++i) input[i] = static_cast<float>(i % 17) / 17.0f;
    strata::Session session(model);
    CHECK(session.input_sample_size() == in.sample_size() && session.output_sample_size() == out.sample_size());
    const std::vector<float> a = session.run(3, input);
    CHECK(a.size() == 3 * out.sample_size());
    std::vector<float> b(a.size(), -1.0f);
    session.run(3, input, b);
    CHECK(a == b);
    // One sample at a time gives the same rows (std::array and span-of-vector conversions).
    for (std::size_t s = 0; s < 3; ++s) {
        std::vector<float> row(out.sample_size());
        session.run(1, strata::span<const float>(input.data() + s * in.sample_size(), in.sample_size()), row);
        CHECK(std::equal(row.begin(), row.end(), a.begin() + static_cast<std::ptrdiff_t>(s * out.sample_size())));
    }
    // The multi-buffer call (strata_session_run_multi) gives the same bits for a 1-in/1-out model.
    std::vector<float> c(a.size(), -1.0f);
    session.run_multi(3, {input}, {c});
    CHECK(a == c);
    std::puts("run");

    // Run errors: status + message, and the session stays usable.
    std::vector<float> small(out.sample_size());
    expect_error(STRATA_STATUS_BUFFER_TOO_SMALL, [&] { session.run(3, input, small); }, ok);
    CHECK(ok);
    expect_error(STRATA_STATUS_SHAPE_MISMATCH, [&] { (void)session.run(2, input); }, ok);
    CHECK(ok);
    expect_error(STRATA_STATUS_INVALID_ARGUMENT, [&] { (void)session.run(0, input); }, ok);
    CHECK(ok);
    CHECK(session.run(3, input) == a);
    expect_error(STRATA_STATUS_INVALID_ARGUMENT, [&] { session.run_multi(3, {input, input}, {c}); }, ok);
    std::puts("run errors");

    // Bounded memory and cancellation through the params struct.
    const size_t one = model.workspace_size(1), three = model.workspace_size(3);
    CHECK(three >= one);
    std::vector<unsigned char> workspace(one);  // room for one sample: a batch of 3 runs in chunks
    strata_session_params params = strata::Session::default_params();
    params.workspace = workspace.data();
    params.workspace_size = workspace.size();
    strata::Session bounded(model, &params);
    CHECK(bounded.run(3, input) == a);
    params = strata::Session::default_params();
    params.abort_callback = [](void *) -> int32_t { return 1; };
    strata::Session cancelled(model, &params);
    expect_error(STRATA_STATUS_CANCELLED, [&] { (void)cancelled.run(3, input); }, ok);
    CHECK(ok);
    std::puts("bounded memory");

    // Model::run is thread-safe: 8 threads share the model; every call gives the single-threaded
    // result (the model's pool makes at most one session per concurrent caller).
    CHECK(model.run(3, input) == a);
    std::vector<float> pooled(a.size(), -1.0f), pooled_multi(a.size(), -1.0f);
    model.run(3, input, pooled);
    model.run_multi(3, {input}, {pooled_multi});
    CHECK(pooled == a && pooled_multi == a);
    std::atomic<int> wrong{0}, failed{0}, right{0}, busy{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int r = 0; r < 200; ++r) {
                try {
                    if (r % 2) {
                        if (model.run(3, input) != a) ++wrong;
                        continue;
                    }
                    const std::size_t s = static_cast<std::size_t>((t + r) % 3);
                    std::vector<float> row(out.sample_size());
                    model.run(1, strata::span<const float>(input.data() + s * in.sample_size(), in.sample_size()), row);
                    if (!std::equal(row.begin(), row.end(), a.begin() + static_cast<std::ptrdiff_t>(s * out.sample_size()))) ++wrong;
                } catch (const strata::Error &) {
                    ++failed;
                }
            }
        });
    }
    for (std::thread &th : threads) th.join();
    CHECK(wrong == 0 && failed == 0);
    CHECK(model.pooled_sessions() >= 1 && model.pooled_sessions() <= 8);
    // A Session shared by 2 threads (against its rule): each call is right or SESSION_BUSY.
    threads.clear();
    for (int t = 0; t < 2; ++t) {
        threads.emplace_back([&] {
            for (int r = 0; r < 500; ++r) {
                try {
                    if (session.run(3, input) == a) ++right; else ++wrong;
                } catch (const strata::Error &e) {
                    if (e.status() == STRATA_STATUS_SESSION_BUSY) ++busy; else ++failed;
                }
            }
        });
    }
    for (std::thread &th : threads) th.join();
    CHECK(wrong == 0 && failed == 0 && right + busy == 1000 && right > 0);
    std::printf("threads: Model::run shared by 8 threads exact; a shared Session: %d right, %d SESSION_BUSY\n",
                right.load(), busy.load());

    // Ownership: moves leave empty owners; a session outlives its Model object.
    strata::Model moved = std::move(copy);
    CHECK(!copy && moved && copy.get() == nullptr);
    expect_error(STRATA_STATUS_NULL_POINTER, [&] { (void)copy.n_inputs(); }, ok);
    CHECK(ok);
    expect_error(STRATA_STATUS_NULL_POINTER, [&] { (void)copy.run(3, input); }, ok);
    CHECK(ok);
    strata::Session survivor(moved);
    moved = strata::Model(path);              // frees the previous model object
    { strata::Model gone = std::move(moved); } // and this one
    CHECK(survivor.run(3, input) == a);
    strata::Session taken = std::move(survivor);
    CHECK(survivor.get() == nullptr && taken.get() != nullptr);
    strata_model *raw = model.release();
    CHECK(raw != nullptr && !model);
    strata::Model adopted(raw);
    CHECK(adopted.n_inputs() == 1);
    std::puts("ownership");

    std::puts("ok");
    return 0;
}
