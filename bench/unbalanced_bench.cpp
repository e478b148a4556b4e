// Workload "unbalanced": the total Mandelbrot iteration count of an image, one subtask
// unit per row. The view is the upper half of the set (imaginary part 0 to 1.25), so the
// rows near the real axis, mostly inside the set, cost ~150x the rows at the top, and
// the expensive rows all sit at the start of the range: an equal split by row count
// (omp_static, microtask_chunks) gives one thread most of the work, which is exactly
// what load balancing has to fix. (A view symmetric about the real axis would make two
// equal halves cost the same and hide the imbalance on two threads.)
//
// The size argument is the number of rows; the picture stays the same, only its
// vertical resolution changes, so the imbalance has the same shape at every size.
#include "bench_common.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#endif

namespace {

namespace mt = microtask;
using std::int64_t;

constexpr int k_cols = 1024;
// 500 keeps the largest size at ~0.7 s serial; the costliest row is then ~150x the
// cheapest (2000 would make it ~600x, at 4x the run time).
constexpr int k_max_iterations = 500;
constexpr double k_x0 = -2.0, k_x1 = 0.5;
constexpr double k_y0 = 0.0, k_y1 = 1.25;

// Iterations spent on row `row` of an image `rows` high: the escape-time loop for each
// of its k_cols pixels, summed.
int64_t row_iterations(int64_t row, int64_t rows) {
    const double y = k_y0 + (static_cast<double>(row) + 0.5) * (k_y1 - k_y0) / static_cast<double>(rows);
    int64_t total = 0;
    for (int col = 0; col < k_cols; ++col) {
        const double x = k_x0 + (col + 0.5) * (k_x1 - k_x0) / k_cols;
        double zr = 0, zi = 0;
        int k = 0;
        while (k < k_max_iterations && zr * zr + zi * zi <= 4.0) {
            const double next_zr = zr * zr - zi * zi + x;
            zi = 2 * zr * zi + y;
            zr = next_zr;
            ++k;
        }
        total += k;
    }
    return total;
}

int64_t rows_iterations(int64_t begin, int64_t end, int64_t rows) {
    int64_t total = 0;
    for (int64_t row = begin; row < end; ++row) total += row_iterations(row, rows);
    return total;
}

// The serial count for each size, computed once (untimed) for every peer's check.
int64_t expected(int64_t rows) {
    return bench::computed_once(rows, [](int64_t count) { return rows_iterations(0, count, count); });
}

// Times `compute(rows)` and checks every result (one integer compare).
template <class Compute>
void run(benchmark::State& state, Compute compute) {
    int64_t rows = state.range(0);
    const int64_t want = expected(rows);
    for (auto _ : state) {
        benchmark::DoNotOptimize(rows);  // no hoisting of the pure serial computation
        const int64_t got = compute(rows);
        if (got != want) {
            state.SkipWithError("unbalanced: iteration count differs from the serial one");
            break;
        }
    }
    // Items are rows, so items/s compares across sizes.
    bench::finish(state, state.range(0), want);
}

void serial(benchmark::State& state) {
    run(state, [](int64_t rows) { return rows_iterations(0, rows, rows); });
}

// map_reduce over the row indices; the map computes one row.
template <class Policy>
int64_t microtask_rows(int64_t rows, Policy policy) {
    return mt::map_reduce(
        bench::pool(), mt::iota(int64_t{0}, rows), [rows](int64_t row) { return row_iterations(row, rows); },
        mt::sum<int64_t>{}, policy);
}

void microtask_adaptive(benchmark::State& state) {
    run(state, [](int64_t rows) { return microtask_rows(rows, mt::adaptive{}); });
}

// One subtask per row: the finest balancing; a row is ~6 us to ~1 ms of work.
void microtask_grain1(benchmark::State& state) {
    run(state, [](int64_t rows) { return microtask_rows(rows, mt::grain(1)); });
}

// One equal slice per thread: the static split, expected to lose here.
void microtask_chunks(benchmark::State& state) {
    run(state, [](int64_t rows) { return microtask_rows(rows, mt::chunks(bench::thread_count())); });
}

#if MICROTASK_BENCH_HAVE_TBB
// parallel_reduce over rows with the default auto_partitioner and grainsize 1.
void tbb_reduce(benchmark::State& state) {
    bench::limit_peers();
    run(state, [](int64_t rows) {
        return tbb::parallel_reduce(
            tbb::blocked_range<int64_t>(0, rows), int64_t{0},
            [rows](const tbb::blocked_range<int64_t>& r, int64_t acc) {
                return acc + rows_iterations(r.begin(), r.end(), rows);
            },
            std::plus<int64_t>{});
    });
}

// The loop form: parallel_for writes each row's count to its own slot, summed after.
void tbb_for(benchmark::State& state) {
    bench::limit_peers();
    run(state, [](int64_t rows) {
        std::vector<int64_t> per_row(static_cast<std::size_t>(rows));
        tbb::parallel_for(tbb::blocked_range<int64_t>(0, rows), [&per_row, rows](const tbb::blocked_range<int64_t>& r) {
            for (int64_t row = r.begin(); row != r.end(); ++row)
                per_row[static_cast<std::size_t>(row)] = row_iterations(row, rows);
        });
        return std::accumulate(per_row.begin(), per_row.end(), int64_t{0});
    });
}
#endif

// The same loop form with mt::for_each (adaptive), for comparison with tbb_for.
void microtask_for_each(benchmark::State& state) {
    run(state, [](int64_t rows) {
        std::vector<int64_t> per_row(static_cast<std::size_t>(rows));
        mt::for_each(bench::pool(), mt::iota(int64_t{0}, rows), [&per_row, rows](int64_t row) {
            per_row[static_cast<std::size_t>(row)] = row_iterations(row, rows);
        });
        return std::accumulate(per_row.begin(), per_row.end(), int64_t{0});
    });
}

#if MICROTASK_BENCH_HAVE_OPENMP
// The textbook OpenMP answer to uneven iterations: hand out one row at a time.
void omp_dynamic(benchmark::State& state) {
    bench::limit_peers();
    run(state, [](int64_t rows) {
        int64_t total = 0;
#pragma omp parallel for reduction(+ : total) schedule(dynamic, 1)
        for (int64_t row = 0; row < rows; ++row) total += row_iterations(row, rows);
        return total;
    });
}

void omp_static(benchmark::State& state) {
    bench::limit_peers();
    run(state, [](int64_t rows) {
        int64_t total = 0;
#pragma omp parallel for reduction(+ : total) schedule(static)
        for (int64_t row = 0; row < rows; ++row) total += row_iterations(row, rows);
        return total;
    });
}
#endif

// Registers "unbalanced/<peer>/<rows>": 256 rows (~90 ms serial) and 2048 (~0.7 s).
void add(const char* peer, void (*fn)(benchmark::State&)) {
    bench::register_peer("unbalanced", peer, fn, {256, 2048}, benchmark::kMillisecond);
}

[[maybe_unused]] const bool registered = [] {
    add("serial", serial);
#if MICROTASK_BENCH_HAVE_TBB
    add("tbb_reduce", tbb_reduce);
    add("tbb_for", tbb_for);
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
    add("omp_dynamic", omp_dynamic);
    add("omp_static", omp_static);
#endif
    add("microtask", microtask_adaptive);
    add("microtask_grain1", microtask_grain1);
    add("microtask_chunks", microtask_chunks);
    add("microtask_for_each", microtask_for_each);
    return true;
}();

}  // namespace
