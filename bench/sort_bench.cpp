// Workloads "sort" and "stable_sort": 10^7 random ints sorted in place.
//
//   sort/serial         std::sort             sort/microtask   mt::sort
//   sort/tbb            tbb::parallel_sort
//   stable_sort/serial  std::stable_sort      stable_sort/microtask  mt::stable_sort
//
// oneTBB has no parallel stable sort, so stable_sort compares with the serial one only.
// Each iteration sorts a fresh copy of the same input (the copy is not timed) and checks
// the result against std::sort's at a few sampled positions; the last one in full.
#include "bench_common.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/parallel_sort.h>
#endif

namespace {

namespace mt = microtask;
using std::int64_t;

constexpr int64_t k_size = 10'000'000;

const std::vector<int>& unsorted() {
    static const std::vector<int> values = [] {
        std::vector<int> v(static_cast<std::size_t>(k_size));
        std::mt19937 rng(20261202);
        for (int& x : v) x = static_cast<int>(rng());
        return v;
    }();
    return values;
}

const std::vector<int>& sorted() {
    static const std::vector<int> values = [] {
        std::vector<int> v = unsorted();
        std::sort(v.begin(), v.end());
        return v;
    }();
    return values;
}

bool same_sampled(const std::vector<int>& got) {
    const std::vector<int>& want = sorted();
    for (std::size_t k = 0; k < 64; ++k) {
        const std::size_t i = k * (want.size() - 1) / 63;
        if (got[i] != want[i]) return false;
    }
    return true;
}

template <class Sort>
void run_sort(benchmark::State& state, Sort sort_in_place) {
    (void)sorted();
    std::vector<int> values;
    for (auto _ : state) {
        state.PauseTiming();
        values = unsorted();
        state.ResumeTiming();
        sort_in_place(values);
        if (!same_sampled(values)) state.SkipWithError("sort: result differs from std::sort's");
    }
    if (values != sorted()) state.SkipWithError("sort: last result differs from std::sort's");
    bench::finish(state, k_size, values.size());
}

void sort_serial(benchmark::State& state) {
    run_sort(state, [](std::vector<int>& v) { std::sort(v.begin(), v.end()); });
}
void sort_microtask(benchmark::State& state) {
    run_sort(state, [](std::vector<int>& v) { mt::sort(bench::pool(), v); });
}
void stable_sort_serial(benchmark::State& state) {
    run_sort(state, [](std::vector<int>& v) { std::stable_sort(v.begin(), v.end()); });
}
void stable_sort_microtask(benchmark::State& state) {
    run_sort(state, [](std::vector<int>& v) { mt::stable_sort(bench::pool(), v); });
}
#if MICROTASK_BENCH_HAVE_TBB
void sort_tbb(benchmark::State& state) {
    bench::limit_peers();
    run_sort(state, [](std::vector<int>& v) { tbb::parallel_sort(v.begin(), v.end()); });
}
#endif

void add(const char* workload, const char* peer, void (*fn)(benchmark::State&)) {
    bench::register_peer(workload, peer, fn, {k_size}, benchmark::kMillisecond);
}

[[maybe_unused]] const bool registered = [] {
    add("sort", "serial", sort_serial);
    add("sort", "microtask", sort_microtask);
#if MICROTASK_BENCH_HAVE_TBB
    add("sort", "tbb", sort_tbb);
#endif
    add("stable_sort", "serial", stable_sort_serial);
    add("stable_sort", "microtask", stable_sort_microtask);
    return true;
}();

}  // namespace
