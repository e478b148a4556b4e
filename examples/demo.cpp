// The microtask demo: the three primitives and the fused forms on real work, each checked
// against a sequential computation and timed against serial code and std::async.
//
//   demo [--quick] [--threads N] [--size N]
#include <microtask/microtask.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mt = microtask;

namespace {

// A few nanoseconds of work per index with a dependency chain the compiler cannot
// vectorise away, so that serial, std::async and microtask all run the same code.
inline long work(long i) {
    unsigned long x = static_cast<unsigned long>(i) * 0x9E3779B97F4A7C15ul;
    for (int k = 0; k < 4; ++k) x = (x ^ (x >> 29)) * 0xBF58476D1CE4E5B9ul;
    return static_cast<long>(x & 0xFF);
}

long fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
long parallel_fib(mt::thread_pool& pool, int n) {
    if (n < 20) return fib(n);  // below this a fork costs more than it saves
    auto [a, b] = mt::join(
        pool, [&] { return parallel_fib(pool, n - 1); }, [&] { return parallel_fib(pool, n - 2); });
    return a + b;
}

template <class F>
double seconds(F&& f) {
    const auto start = std::chrono::steady_clock::now();
    f();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct row {
    std::string name;
    bool ok;
    double serial, async, microtask;
};

[[noreturn]] void usage(const char* message) {
    std::fprintf(stderr, "demo: %s\nusage: demo [--quick] [--threads N>=1] [--size N>=1]\n", message);
    std::exit(2);
}

long parse_positive(const char* text, const char* what) {
    char* end = nullptr;
    const long value = std::strtol(text, &end, 10);
    if (end == text || *end != '\0' || value < 1) usage((std::string(what) + " must be a positive integer").c_str());
    return value;
}

}  // namespace

int main(int argc, char** argv) {
    long size = 50'000'000;
    long threads = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--quick") {
            size = 200'000;
        } else if (arg == "--threads" && i + 1 < argc) {
            threads = parse_positive(argv[++i], "--threads");
        } else if (arg == "--size" && i + 1 < argc) {
            size = parse_positive(argv[++i], "--size");
        } else {
            usage(("unknown argument '" + std::string(arg) + "'").c_str());
        }
    }
    mt::thread_pool pool = threads > 0 ? mt::thread_pool{threads} : mt::thread_pool{};
    const unsigned async_tasks = std::max<unsigned>(2, static_cast<unsigned>(pool.size()) * 4);
    std::vector<row> rows;

    // 1. decompose / distribute / reduce, step by step.
    {
        long expected = 0, a = 0, m = 0;
        const double serial = seconds([&] {
            for (long i = 0; i < size; ++i) expected += work(i);
        });
        const double async = seconds([&] {
            std::vector<std::future<long>> parts;
            const long chunk = (size + async_tasks - 1) / async_tasks;
            for (long lo = 0; lo < size; lo += chunk) {
                parts.push_back(std::async(std::launch::async, [lo, hi = std::min(size, lo + chunk)] {
                    long s = 0;
                    for (long i = lo; i < hi; ++i) s += work(i);
                    return s;
                }));
            }
            for (auto& f : parts) a += f.get();
        });
        const double micro = seconds([&] {
            auto parts = mt::decompose(mt::iota(0L, size), mt::grain(1 << 16));
            auto partials = mt::distribute(pool, parts, [](auto part) {
                long s = 0;
                for (long i : part) s += work(i);
                return s;
            });
            m = mt::reduce(partials, mt::sum<long>{});
        });
        rows.push_back({"decompose/distribute/reduce", expected == a && expected == m, serial, async, micro});
    }

    // 2. map_reduce with adaptive decomposition, deterministic floating-point sum.
    {
        auto term = [](long i) { return std::sqrt(double(work(i))); };
        double expected = 0, m1 = 0, m2 = 0, a = 0;
        const double serial = seconds([&] {
            for (long i = 0; i < size; ++i) expected += term(i);
        });
        const double async = seconds([&] {
            std::vector<std::future<double>> parts;
            const long chunk = (size + async_tasks - 1) / async_tasks;
            for (long lo = 0; lo < size; lo += chunk) {
                parts.push_back(std::async(std::launch::async, [&term, lo, hi = std::min(size, lo + chunk)] {
                    double s = 0;
                    for (long i = lo; i < hi; ++i) s += term(i);
                    return s;
                }));
            }
            for (auto& f : parts) a += f.get();
        });
        const double micro = seconds([&] { m1 = mt::map_reduce(pool, mt::iota(0L, size), term, mt::sum<double>{}); });
        mt::thread_pool single{1};
        m2 = mt::map_reduce(single, mt::iota(0L, size), term, mt::sum<double>{});
        const bool close =
            std::abs(m1 - expected) <= 1e-9 * std::abs(expected) && std::abs(a - expected) <= 1e-9 * std::abs(expected);
        rows.push_back({"map_reduce sum<double> (bitwise = 1 thread)", close && m1 == m2, serial, async, micro});
    }

    // 3. ordered concat: keep the indices whose work value is small, in order.
    {
        // An optional per index: concat appends the engaged ones, in order.
        auto keep = [](long i) { return work(i) < 16 ? std::optional<long>(i) : std::nullopt; };
        std::vector<long> expected, a, m;
        const double serial = seconds([&] {
            for (long i = 0; i < size; ++i)
                if (work(i) < 16) expected.push_back(i);
        });
        const double async = seconds([&] {
            std::vector<std::future<std::vector<long>>> parts;
            const long chunk = (size + async_tasks - 1) / async_tasks;
            for (long lo = 0; lo < size; lo += chunk) {
                parts.push_back(std::async(std::launch::async, [lo, hi = std::min(size, lo + chunk)] {
                    std::vector<long> out;
                    for (long i = lo; i < hi; ++i)
                        if (work(i) < 16) out.push_back(i);
                    return out;
                }));
            }
            for (auto& f : parts) {
                auto part = f.get();
                a.insert(a.end(), part.begin(), part.end());
            }
        });
        const double micro =
            seconds([&] { m = mt::map_reduce(pool, mt::iota(0L, size), keep, mt::concat<std::vector<long>>{}); });
        rows.push_back({"map_reduce concat (order kept)", expected == a && expected == m, serial, async, micro});
    }

    // 4. fork-join: fib with mt::join.
    {
        const int n = size >= 10'000'000 ? 34 : 24;
        long expected = 0, a = 0, m = 0;
        const double serial = seconds([&] { expected = fib(n); });
        const double async = seconds([&] {
            auto left = std::async(std::launch::async, [n] { return fib(n - 1); });
            a = fib(n - 2) + left.get();
        });
        const double micro = seconds([&] { m = parallel_fib(pool, n); });
        rows.push_back({"join: fib(" + std::to_string(n) + ")", expected == a && expected == m, serial, async, micro});
    }

    std::printf("microtask demo: %zu worker threads, size %ld\n\n", pool.size(), size);
    std::printf("%-45s %-6s %10s %10s %10s %8s\n", "workload", "check", "serial s", "async s", "microtask", "speedup");
    bool all_ok = true;
    for (const row& r : rows) {
        all_ok = all_ok && r.ok;
        std::printf("%-45s %-6s %10.4f %10.4f %10.4f %7.2fx\n", r.name.c_str(), r.ok ? "ok" : "FAIL", r.serial, r.async,
                    r.microtask, r.serial / r.microtask);
    }
    std::printf("\n%s\n", all_ok ? "all results match the sequential computation"
                                 : "MISMATCH against the sequential computation");
    return all_ok ? 0 : 1;
}
