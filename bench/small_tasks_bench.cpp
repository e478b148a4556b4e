// Workload `small_tasks`: 10^5 independent tiny tasks submitted from the benchmark's
// (outside) thread, then all awaited. The task body is a couple of instructions, so
// this measures the per-task cost of each library's dynamic-task path (tasks/s).
#include "bench_common.hpp"

#include <algorithm>
#include <cstdint>
#include <future>
#include <utility>
#include <vector>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/task_group.h>
#endif

namespace {

namespace mt = microtask;

/// The whole payload of one task: a small int.
inline int tiny(std::int64_t i) { return static_cast<int>(i % 7); }

std::int64_t expected_sum(std::int64_t n) {
    std::int64_t s = 0;
    for (std::int64_t i = 0; i < n; ++i) s += tiny(i);
    return s;
}

bool check(benchmark::State& state, std::int64_t got, std::int64_t expected) {
    if (got == expected) return true;
    state.SkipWithError("small_tasks: sum of task results is wrong");
    return false;
}

// std::async(launch::async) starts a thread per task, and the thread is only joined by
// the future's get(). Keeping 10^5 futures alive at once fails here with EAGAIN
// (std::system_error from thread creation), so tasks are submitted and collected in
// batches of 1000 live futures.
void bm_async(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const std::int64_t expected = expected_sum(n);
    constexpr std::int64_t k_batch = 1000;
    std::vector<std::future<int>> futures;
    futures.reserve(k_batch);
    std::int64_t sum = 0;
    for (auto _ : state) {
        sum = 0;
        for (std::int64_t first = 0; first < n; first += k_batch) {
            const std::int64_t last = std::min(n, first + k_batch);
            for (std::int64_t i = first; i < last; ++i) {
                futures.push_back(std::async(std::launch::async, [i] { return tiny(i); }));
            }
            for (auto& f : futures) sum += f.get();
            futures.clear();
        }
        if (!check(state, sum, expected)) break;
    }
    bench::finish(state, n, sum);
}

void bm_microtask_submit(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const std::int64_t expected = expected_sum(n);
    mt::thread_pool& pool = bench::pool();
    std::vector<mt::future<int>> futures;
    futures.reserve(static_cast<std::size_t>(n));
    std::int64_t sum = 0;
    for (auto _ : state) {
        for (std::int64_t i = 0; i < n; ++i) {
            futures.push_back(pool.submit([i] { return tiny(i); }));
        }
        sum = 0;
        for (auto& f : futures) sum += f.get();
        futures.clear();
        if (!check(state, sum, expected)) break;
    }
    bench::finish(state, n, sum);
}

// task_group tasks return nothing: each writes its int to its own element, summed after
// the wait (an atomic add per task would measure contention on one line instead). The
// summing loop also resets each element to k_not_run, so a task lost in any iteration
// leaves -1 where its 0..6 should be and the sum comes out too small.
constexpr int k_not_run = -1;
void bm_microtask_task_group(benchmark::State& state) {
    const std::int64_t n = state.range(0);
    const std::int64_t expected = expected_sum(n);
    mt::thread_pool& pool = bench::pool();
    std::vector<int> results(static_cast<std::size_t>(n), k_not_run);
    std::int64_t sum = 0;
    for (auto _ : state) {
        mt::task_group group{pool};
        int* out = results.data();
        for (std::int64_t i = 0; i < n; ++i) {
            group.run([out, i] { out[i] = tiny(i); });
        }
        group.wait();
        sum = 0;
        for (int& r : results) sum += std::exchange(r, k_not_run);
        if (!check(state, sum, expected)) break;
    }
    bench::finish(state, n, sum);
}

#if MICROTASK_BENCH_HAVE_TBB
void bm_tbb_task_group(benchmark::State& state) {
    bench::limit_peers();
    const std::int64_t n = state.range(0);
    const std::int64_t expected = expected_sum(n);
    std::vector<int> results(static_cast<std::size_t>(n), k_not_run);
    std::int64_t sum = 0;
    for (auto _ : state) {
        tbb::task_group group;
        int* out = results.data();
        for (std::int64_t i = 0; i < n; ++i) {
            group.run([out, i] { out[i] = tiny(i); });
        }
        group.wait();
        sum = 0;
        for (int& r : results) sum += std::exchange(r, k_not_run);
        if (!check(state, sum, expected)) break;
    }
    bench::finish(state, n, sum);
}
#endif

constexpr std::int64_t k_tasks = 100'000;

#define SMALL_TASKS_BENCH(peer, unit) \
    BENCHMARK(bm_##peer)->Name("small_tasks/" #peer)->Arg(k_tasks)->UseRealTime()->Unit(unit)

// A thread per task costs tens of microseconds: seconds per iteration for async.
SMALL_TASKS_BENCH(async, benchmark::kMillisecond);
SMALL_TASKS_BENCH(microtask_submit, benchmark::kMillisecond);
SMALL_TASKS_BENCH(microtask_task_group, benchmark::kMillisecond);
#if MICROTASK_BENCH_HAVE_TBB
SMALL_TASKS_BENCH(tbb_task_group, benchmark::kMillisecond);
#endif

#undef SMALL_TASKS_BENCH

}  // namespace
