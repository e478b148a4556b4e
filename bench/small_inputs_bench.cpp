// Workload `small_inputs`: the fixed cost of one parallel call. Each iteration makes
// 1000 reductions over n elements of work(i) (n = 64 ... 4096, the benchmark argument),
// far too little work to pay for a split; a library that forks anyway pays wake-ups and
// synchronisation on every call. ns_per_call = elapsed time / calls.
#include "bench_common.hpp"

#include <chrono>
#include <cstdint>
#include <functional>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>
#endif

namespace {

namespace mt = microtask;

constexpr std::int64_t k_calls = 1000;

// Call c reduces over [c, c + n): the inputs differ from call to call, so the compiler
// cannot hoist one reduction out of the 1000-call loop.
std::int64_t serial_reduce(std::int64_t first, std::int64_t n) {
    std::int64_t sum = 0;
    for (std::int64_t i = first; i < first + n; ++i) sum += bench::work(i);
    return sum;
}

std::int64_t expected(std::int64_t n) {
    std::int64_t total = 0;
    for (std::int64_t c = 0; c < k_calls; ++c) total += serial_reduce(c, n);
    return total;
}

/// Runs `calls(n)` (1000 reductions, returning their total) in the timed loop, checks
/// every total against the serial one, and sets ns_per_call = elapsed real time /
/// (iterations * 1000), measured with our own clock: a library rate counter with kInvert
/// would print "s" after a value in ns.
template <class Calls>
void run(benchmark::State& state, Calls calls) {
    const std::int64_t requested = state.range(0);
    const std::int64_t want = expected(requested);
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        const std::int64_t n = bench::opaque(requested);  // no hoisting the pure serial loop out of the loop
        if (calls(n) != want) {
            state.SkipWithError("small_inputs: result differs from serial");
            break;
        }
    }
    const std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    state.counters["ns_per_call"] = elapsed.count() / (static_cast<double>(state.iterations()) * k_calls);
    bench::finish(state, k_calls * state.range(0), want);
}

void bm_serial(benchmark::State& state) {
    run(state, [](std::int64_t n) {
        std::int64_t total = 0;
        for (std::int64_t c = 0; c < k_calls; ++c) total += serial_reduce(c, n);
        return total;
    });
}

void bm_microtask(benchmark::State& state) {
    mt::thread_pool& pool = bench::pool();
    run(state, [&pool](std::int64_t n) {
        std::int64_t total = 0;
        for (std::int64_t c = 0; c < k_calls; ++c) {
            total += mt::map_reduce(
                pool, mt::iota(c, c + n), [](std::int64_t i) { return bench::work(i); }, mt::sum<std::int64_t>{});
        }
        return total;
    });
}

// The same calls over an index range of int, as `mt::iota(0, n)` gives when n is an int.
void bm_microtask_int(benchmark::State& state) {
    mt::thread_pool& pool = bench::pool();
    run(state, [&pool](std::int64_t n) {
        std::int64_t total = 0;
        for (int c = 0; c < static_cast<int>(k_calls); ++c) {
            total += mt::map_reduce(
                pool, mt::iota(c, c + static_cast<int>(n)), [](std::int64_t i) { return bench::work(i); },
                mt::sum<std::int64_t>{});
        }
        return total;
    });
}

#if MICROTASK_BENCH_HAVE_TBB
void bm_tbb_reduce(benchmark::State& state) {
    bench::limit_peers();
    using range = tbb::blocked_range<std::int64_t>;
    run(state, [](std::int64_t n) {
        std::int64_t total = 0;
        for (std::int64_t c = 0; c < k_calls; ++c) {
            total += tbb::parallel_reduce(
                range(c, c + n), std::int64_t{0},
                [](const range& r, std::int64_t s) {
                    for (std::int64_t i = r.begin(); i != r.end(); ++i) s += bench::work(i);
                    return s;
                },
                std::plus<>());
        }
        return total;
    });
}
#endif

#if MICROTASK_BENCH_HAVE_OPENMP
void bm_omp_reduction(benchmark::State& state) {
    bench::limit_peers();
    run(state, [](std::int64_t n) {
        std::int64_t total = 0;
        for (std::int64_t c = 0; c < k_calls; ++c) {
            std::int64_t s = 0;
#pragma omp parallel for reduction(+ : s)
            for (std::int64_t i = c; i < c + n; ++i) s += bench::work(i);
            total += s;
        }
        return total;
    });
}
#endif

#define SMALL_INPUTS_BENCH(peer)      \
    BENCHMARK(bm_##peer)              \
        ->Name("small_inputs/" #peer) \
        ->Arg(64)                     \
        ->Arg(256)                    \
        ->Arg(1024)                   \
        ->Arg(4096)                   \
        ->UseRealTime()               \
        ->Unit(benchmark::kMicrosecond)

SMALL_INPUTS_BENCH(serial);
SMALL_INPUTS_BENCH(microtask);
SMALL_INPUTS_BENCH(microtask_int);
#if MICROTASK_BENCH_HAVE_TBB
SMALL_INPUTS_BENCH(tbb_reduce);
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
SMALL_INPUTS_BENCH(omp_reduction);
#endif

#undef SMALL_INPUTS_BENCH

}  // namespace
