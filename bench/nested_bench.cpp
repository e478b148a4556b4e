// Workload `nested`: a reduction whose body runs another reduction. The outer one is
// over R rows (the benchmark argument, 256), the inner one over 10^4 columns of
// work(row * C + col). Nested parallelism must neither deadlock nor oversubscribe.
#include "bench_common.hpp"

#include <cstdint>
#include <functional>
#include <map>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>
#endif

namespace {

namespace mt = microtask;

constexpr std::int64_t k_columns = 10'000;

std::int64_t serial_nested(std::int64_t rows) {
    std::int64_t sum = 0;
    for (std::int64_t row = 0; row < rows; ++row) {
        for (std::int64_t col = 0; col < k_columns; ++col) sum += bench::work(row * k_columns + col);
    }
    return sum;
}

/// The serial result per row count, computed once outside the timed loops.
std::int64_t expected(std::int64_t rows) {
    return bench::computed_once(rows, [](std::int64_t count) { return serial_nested(count); });
}

bool check(benchmark::State& state, std::int64_t got, std::int64_t want) {
    if (got == want) return true;
    state.SkipWithError("nested: result differs from serial");
    return false;
}

void bm_serial(benchmark::State& state) {
    const std::int64_t rows = state.range(0);
    const std::int64_t want = expected(rows);
    std::int64_t sum = 0;
    for (auto _ : state) {
        sum = serial_nested(rows);
        benchmark::DoNotOptimize(sum);
        if (!check(state, sum, want)) break;
    }
    bench::finish(state, rows * k_columns, sum);
}

void bm_microtask(benchmark::State& state) {
    const std::int64_t rows = state.range(0);
    const std::int64_t want = expected(rows);
    mt::thread_pool& pool = bench::pool();
    std::int64_t sum = 0;
    for (auto _ : state) {
        sum = mt::map_reduce(
            pool, mt::iota(std::int64_t{0}, rows),
            [&pool](std::int64_t row) {
                return mt::map_reduce(
                    pool, mt::iota(std::int64_t{0}, k_columns),
                    [row](std::int64_t col) { return bench::work(row * k_columns + col); }, mt::sum<std::int64_t>{});
            },
            mt::sum<std::int64_t>{});
        if (!check(state, sum, want)) break;
    }
    bench::finish(state, rows * k_columns, sum);
}

#if MICROTASK_BENCH_HAVE_TBB
void bm_tbb_reduce(benchmark::State& state) {
    bench::limit_peers();
    const std::int64_t rows = state.range(0);
    const std::int64_t want = expected(rows);
    using range = tbb::blocked_range<std::int64_t>;
    std::int64_t sum = 0;
    for (auto _ : state) {
        sum = tbb::parallel_reduce(
            range(0, rows), std::int64_t{0},
            [](const range& outer, std::int64_t acc) {
                for (std::int64_t row = outer.begin(); row != outer.end(); ++row) {
                    acc += tbb::parallel_reduce(
                        range(0, k_columns), std::int64_t{0},
                        [row](const range& inner, std::int64_t s) {
                            for (std::int64_t col = inner.begin(); col != inner.end(); ++col) {
                                s += bench::work(row * k_columns + col);
                            }
                            return s;
                        },
                        std::plus<>());
                }
                return acc;
            },
            std::plus<>());
        if (!check(state, sum, want)) break;
    }
    bench::finish(state, rows * k_columns, sum);
}
#endif

#if MICROTASK_BENCH_HAVE_OPENMP
// Nested parallel regions are off by default in OpenMP (max-active-levels 1), so OpenMP
// users typically parallelise the outer loop only and keep the inner loop plain, which
// is what this peer does.
void bm_omp(benchmark::State& state) {
    bench::limit_peers();
    const std::int64_t rows = state.range(0);
    const std::int64_t want = expected(rows);
    std::int64_t sum = 0;
    for (auto _ : state) {
        std::int64_t s = 0;
#pragma omp parallel for reduction(+ : s)
        for (std::int64_t row = 0; row < rows; ++row) {
            for (std::int64_t col = 0; col < k_columns; ++col) s += bench::work(row * k_columns + col);
        }
        sum = s;
        if (!check(state, sum, want)) break;
    }
    bench::finish(state, rows * k_columns, sum);
}
#endif

constexpr std::int64_t k_rows = 256;

#define NESTED_BENCH(peer) \
    BENCHMARK(bm_##peer)->Name("nested/" #peer)->Arg(k_rows)->UseRealTime()->Unit(benchmark::kMillisecond)

NESTED_BENCH(serial);
NESTED_BENCH(microtask);
#if MICROTASK_BENCH_HAVE_TBB
NESTED_BENCH(tbb_reduce);
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
NESTED_BENCH(omp);
#endif

#undef NESTED_BENCH

}  // namespace
