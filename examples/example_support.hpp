// Shared plumbing for the example programs: command-line options, timing, and the one
// result line every example prints (scripts/demo collects those lines into a table).
#pragma once

#include <microtask/microtask.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

namespace example {

struct options {
    long size = 0;     // the problem size (its meaning is the example's)
    long threads = 0;  // 0: one worker per hardware thread
    unsigned long seed = 42;
    bool quick = false;  // a small size, for the test suite
};

[[noreturn]] inline void usage(const char* program, const char* what, const char* message) {
    std::fprintf(stderr,
                 "%s: %s\n"
                 "usage: %s [--size N>=1] [--threads N>=1] [--seed N] [--quick]\n"
                 "  %s\n",
                 program, message, program, what);
    std::exit(2);
}

inline long parse_positive(const char* program, const char* what, const char* flag, const char* text) {
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < 1) {
        usage(program, what, (std::string(flag) + " needs a positive integer, got '" + text + "'").c_str());
    }
    return value;
}

/// Parses --size, --threads, --seed and --quick; anything else prints the usage and
/// exits with status 2. `what` says what the example does and what --size means.
inline options parse(int argc, char** argv, const char* what, long default_size, long quick_size) {
    options result;
    result.size = default_size;
    const char* program = argc > 0 ? argv[0] : "example";
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--quick") {
            result.quick = true;
            result.size = quick_size;
        } else if (arg == "--size" && has_value) {
            result.size = parse_positive(program, what, "--size", argv[++i]);
        } else if (arg == "--threads" && has_value) {
            result.threads = parse_positive(program, what, "--threads", argv[++i]);
        } else if (arg == "--seed" && has_value) {
            const char* text = argv[++i];
            char* end = nullptr;
            result.seed = std::strtoul(text, &end, 10);
            if (end == text || *end != '\0' || text[0] == '-') {
                usage(program, what, (std::string("--seed needs a non-negative integer, got '") + text + "'").c_str());
            }
        } else if (arg == "--help" || arg == "-h") {
            std::printf("usage: %s [--size N>=1] [--threads N>=1] [--seed N] [--quick]\n  %s\n", program, what);
            std::exit(0);
        } else {
            usage(program, what, ("unknown or incomplete argument '" + std::string(arg) + "'").c_str());
        }
    }
    return result;
}

/// The pool the example runs on: --threads workers, or one per hardware thread. (The
/// calling thread works too while it waits on the pool, so N workers compute on up to
/// N + 1 threads.) A count the pool rejects ends the program with its message, status 2.
inline microtask::thread_pool make_pool(const options& opts) {
    try {
        return opts.threads > 0 ? microtask::thread_pool{opts.threads} : microtask::thread_pool{};
    } catch (const std::invalid_argument& error) {
        std::fprintf(stderr, "%s\n", error.what());
        std::exit(2);
    }
}

/// The splitmix64 output function: a bijective 64-bit mix, for deriving seeds.
inline std::uint64_t mix64(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/// The splitmix64 generator step (a Weyl sequence passed through mix64): advances
/// `state` and returns 64 well-mixed bits. Small and fast; the examples seed one per
/// subtask from (seed, subtask index), never per thread, so their inputs are the same
/// whatever the thread count.
inline std::uint64_t splitmix64(std::uint64_t& state) { return mix64(state += 0x9E3779B97F4A7C15ull); }

/// Wall-clock seconds that `body()` takes.
template <class Body>
double seconds(Body&& body) {
    const auto start = std::chrono::steady_clock::now();
    body();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Prints the example's summary and its result line, and returns the exit status:
/// 0 when `ok` (microtask's answer matched the sequential computation), 1 otherwise.
/// The line "RESULT|name|ok|serial|async|microtask" is what scripts/demo tabulates.
inline int finish(const char* name, bool ok, double serial_s, double async_s, double microtask_s) {
    std::printf("%s: %s; serial %.4f s, std::async %.4f s, microtask %.4f s (%.2fx serial)\n", name,
                ok ? "result matches the sequential computation" : "MISMATCH against the sequential computation",
                serial_s, async_s, microtask_s, microtask_s > 0 ? serial_s / microtask_s : 0.0);
    std::printf("RESULT|%s|%s|%.6f|%.6f|%.6f\n", name, ok ? "ok" : "FAIL", serial_s, async_s, microtask_s);
    return ok ? 0 : 1;
}

}  // namespace example
