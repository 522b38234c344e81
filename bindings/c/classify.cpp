// classify.cpp — the C sample classify.c, written against the C++17 wrapper strata.hpp.
//
//   classify_cpp MODEL [BATCH]
//
// Runs BATCH (default 4) samples of the same deterministic pattern as `classify` and prints
// the same lines as `classify --print-outputs --batch BATCH MODEL`:
//
//   sample <i>: class <k> (<label>)
//   outputs <i>: <v0> <v1> ...           each printed with %.9g
//
// Errors print the status and the library's message to stderr and exit with status 1.
//
// Build:  c++ -std=c++17 -Wall -Wextra -Werror -pedantic classify.cpp $(pkg-config --cflags --libs strata)
#include <strata.hpp>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

// The i-th line of a "\n"-separated list, or "" when there is none.
std::string label_at(const std::string &labels, std::size_t index) {
    std::size_t start = 0;
    for (std::size_t i = 0; i < index; ++i) {
        start = labels.find('\n', start);
        if (start == std::string::npos) return "";
        ++start;
    }
    return labels.substr(start, labels.find('\n', start) - start);
}

} // namespace

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        std::fprintf(stderr, "usage: classify_cpp MODEL [BATCH]\n");
        return 2;
    }
    const long long batch = argc == 3 ? std::atoll(argv[2]) : 4;
    try {
        strata::check_abi();
        strata::Model model(argv[1]);
        strata::TensorInfo in = model.input(0), out = model.output(0);
        std::fprintf(stderr, "input \"%s\" rank %zu, output \"%s\" rank %zu\n", in.name.c_str(),
                     in.shape.size(), out.name.c_str(), out.shape.size());

        std::vector<float> input(static_cast<std::size_t>(batch > 0 ? batch : 0) * in.sample_size());
        for (std::size_t i = 0; i < input.size(); ++i)
            input[i] = static_cast<float>(static_cast<std::uint32_t>(i * 2654435761u) >> 24) / 255.0f;

        strata_session_params params = strata::Session::default_params();
        params.initial_batch = batch > 0 ? batch : 1;
        strata::Session session(model, &params);
        const std::vector<float> output = session.run(batch, input);

        const std::string labels = model.metadata("class_labels").value_or("");
        const std::size_t width = out.sample_size();
        for (std::size_t s = 0; s < static_cast<std::size_t>(batch); ++s) {
            const strata::span<const float> row(output.data() + s * width, width);
            std::size_t best = 0;
            for (std::size_t j = 1; j < row.size(); ++j)
                if (row[j] > row[best]) best = j;
            const std::string label = label_at(labels, best);
            if (label.empty())
                std::printf("sample %zu: class %zu\n", s, best);
            else
                std::printf("sample %zu: class %zu (%s)\n", s, best, label.c_str());
            std::printf("outputs %zu:", s);
            for (float v : row) std::printf(" %.9g", static_cast<double>(v));
            std::printf("\n");
        }
    } catch (const strata::Error &e) {
        std::fprintf(stderr, "classify_cpp: %s (%s, status %d)\n", e.what(), e.status_name(),
                     static_cast<int>(e.status()));
        return 1;
    }
    return 0;
}
