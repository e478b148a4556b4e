// Workload "per_worker": 10^8 indices counted into per-thread counters (hits of a cheap
// hash under a threshold), then combined; the shape of a Monte Carlo tally.
//
//   per_worker/serial     the plain loop
//   per_worker/microtask  mt::distribute over parts of 2^16, a local count per part added to
//                         per_worker<int64_t>::local() once (the guide's idiom)
//   per_worker/tbb        tbb::parallel_for (grain 2^16) + tbb::combinable<int64_t>::local() per range
#include "bench_common.hpp"

#include <cstdint>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/blocked_range.h>
#include <tbb/combinable.h>
#include <tbb/parallel_for.h>
#endif

namespace {

namespace mt = microtask;
using std::int64_t;

constexpr int64_t k_size = 100'000'000;

bool hit(int64_t i) { return bench::work(i) < (int64_t{1} << 22); }

const int64_t& expected() {
    static const int64_t want = [] {
        int64_t count = 0;
        for (int64_t i = 0; i < k_size; ++i) count += hit(i);
        return count;
    }();
    return want;
}

template <class Run>
void run_count(benchmark::State& state, Run run) {
    (void)expected();
    int64_t count = 0;
    for (auto _ : state) {
        count = run();
        if (count != expected()) state.SkipWithError("per_worker: count differs from the serial loop's");
    }
    bench::finish(state, k_size, count);
}

void per_worker_serial(benchmark::State& state) {
    run_count(state, [] {
        int64_t count = 0;
        for (int64_t i = 0; i < k_size; ++i) count += hit(i);
        return count;
    });
}
void per_worker_microtask(benchmark::State& state) {
    run_count(state, [] {
        // local() once per part, counting in a local variable, as the guide shows.
        mt::per_worker<int64_t> counts(bench::pool());
        const auto indices = mt::iota(int64_t{0}, k_size);
        mt::distribute(bench::pool(), mt::decompose(indices, mt::grain(1 << 16)), [&](auto part) {
            int64_t count = 0;
            for (int64_t i : part) count += hit(i);
            counts.local() += count;
        });
        return counts.combine(mt::sum<int64_t>{});
    });
}
#if MICROTASK_BENCH_HAVE_TBB
void per_worker_tbb(benchmark::State& state) {
    bench::limit_peers();
    run_count(state, [] {
        tbb::combinable<int64_t> counts([] { return int64_t{0}; });
        tbb::parallel_for(tbb::blocked_range<int64_t>(0, k_size, 1 << 16), [&](const tbb::blocked_range<int64_t>& r) {
            int64_t& count = counts.local();
            for (int64_t i = r.begin(); i < r.end(); ++i) count += hit(i);
        });
        return counts.combine([](int64_t a, int64_t b) { return a + b; });
    });
}
#endif

[[maybe_unused]] const bool registered = [] {
    bench::register_peer("per_worker", "serial", per_worker_serial, {k_size}, benchmark::kMillisecond);
    bench::register_peer("per_worker", "microtask", per_worker_microtask, {k_size}, benchmark::kMillisecond);
#if MICROTASK_BENCH_HAVE_TBB
    bench::register_peer("per_worker", "tbb", per_worker_tbb, {k_size}, benchmark::kMillisecond);
#endif
    return true;
}();

}  // namespace
