// Shared pieces of the classic suite (classic_bench.cpp, classic_search_bench.cpp,
// classic_matmul_bench.cpp): the checked timing loop, per-child result slots, the
// OpenMP root, and the registration of "classic/<workload>/<peer>".
#pragma once

#include "bench_common.hpp"

#include <cstdint>
#include <memory>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/task_group.h>
#endif

namespace classic {

/// Runs `compute()` once per timed iteration and stops the benchmark with `error` as
/// soon as a result differs from `expected`: a wrong answer is never timed as a fast one.
/// (The comparison uses every result, so nothing needs benchmark::DoNotOptimize.)
template <class T, class Compute>
void run(benchmark::State& state, const T& expected, const char* error, Compute compute) {
    for (auto _ : state) {
        if (!(compute() == expected)) {
            state.SkipWithError(error);
            break;
        }
    }
}

/// The results of one node's child tasks, a slot per child, summed after the wait: each
/// task writes only its own slot, so no atomics, and the sum's order is fixed. Inline up
/// to 16 children (nqueens, skynet, most UTS nodes), on the heap beyond (a UTS root).
class child_sums {
public:
    explicit child_sums(int children)
        : m_size(children),
          m_heap(children > k_inline ? std::make_unique<std::int64_t[]>(children) : nullptr),
          m_slots(m_heap ? m_heap.get() : m_inline) {
        for (int i = 0; i < m_size; ++i) m_slots[i] = 0;
    }
    child_sums(const child_sums&) = delete;
    child_sums& operator=(const child_sums&) = delete;

    std::int64_t& operator[](int i) { return m_slots[i]; }

    std::int64_t total() const {
        std::int64_t sum = 0;
        for (int i = 0; i < m_size; ++i) sum += m_slots[i];
        return sum;
    }

private:
    static constexpr int k_inline = 16;
    int m_size;
    std::int64_t m_inline[k_inline];
    std::unique_ptr<std::int64_t[]> m_heap;
    std::int64_t* m_slots;
};

#if MICROTASK_BENCH_HAVE_OPENMP
/// `root()` run by one thread of an OpenMP team, so that the tasks it creates are run
/// by the whole team (the usual parallel + single opening of a task-parallel program).
template <class Root>
auto omp_root(Root root) {
    decltype(root()) result{};
#pragma omp parallel
#pragma omp single
    result = root();
    return result;
}
#endif

}  // namespace classic

/// Registers bm_<workload>_<peer> as "classic/<workload>/<peer>", timed by the wall clock.
#define CLASSIC_BENCH(workload, peer)          \
    BENCHMARK(bm_##workload##_##peer)          \
        ->Name("classic/" #workload "/" #peer) \
        ->UseRealTime()                        \
        ->Unit(benchmark::kMillisecond)

// The oneTBB and OpenMP peers exist only when their library is compiled in.
#if MICROTASK_BENCH_HAVE_TBB
#define CLASSIC_TBB_BENCH(workload) CLASSIC_BENCH(workload, tbb_task_group)
#else
#define CLASSIC_TBB_BENCH(workload) static_assert(true)
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
#define CLASSIC_OMP_BENCH(workload) CLASSIC_BENCH(workload, omp_task)
#else
#define CLASSIC_OMP_BENCH(workload) static_assert(true)
#endif
