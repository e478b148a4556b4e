// Workload "fine_reduce": the sum of bench::work(i) over i in [0, n). Each element costs
// a few nanoseconds, so the sizes run from far too small to split (10^3) to large enough
// that every runtime should scale (10^8); the interesting part is where each peer starts
// to win over the plain loop, and what it costs when the job is tiny.
#include "bench_common.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <string>
#include <vector>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>
#endif

namespace {

namespace mt = microtask;
using std::int64_t;

// The size the grain-based peers (async, microtask_grain) cut the range into.
constexpr int64_t k_grain = 65536;

// The naive async peer holds at most this many futures (i.e. threads) at once. At the
// largest size, 10^8 / 65536 = 1526 subtasks, so the cap is never reached here; it only
// keeps the peer sane if someone adds a larger size.
constexpr std::size_t k_max_live_futures = 2000;

int64_t sum_range(int64_t begin, int64_t end) {
    int64_t sum = 0;
    for (int64_t i = begin; i < end; ++i) sum += bench::work(i);
    return sum;
}

// The serial sum for each size, computed once (untimed) and shared by every peer's check.
int64_t expected(int64_t n) {
    return bench::computed_once(n, [](int64_t size) { return sum_range(0, size); });
}

// Runs `compute(n)` in the timed loop and checks every result against the serial sum:
// the comparison is one integer compare, so it costs nothing next to the sum.
template <class Compute>
void run(benchmark::State& state, Compute compute) {
    const int64_t requested = state.range(0);
    const int64_t want = expected(requested);
    for (auto _ : state) {
        // Keeps the compiler from treating n as a constant and hoisting a pure serial
        // computation out of the loop.
        const int64_t n = bench::opaque(requested);
        const int64_t got = compute(n);
        if (got != want) {
            state.SkipWithError("fine_reduce: result differs from the serial sum");
            break;
        }
    }
    bench::finish(state, state.range(0), want);
}

void serial(benchmark::State& state) {
    run(state, [](int64_t n) { return sum_range(0, n); });
}

// What a std-only user writes first: one std::async per 65536 indices. libstdc++ starts
// a thread per launch::async future, so this measures thread creation as much as work.
void async_per_subtask(benchmark::State& state) {
    run(state, [](int64_t n) {
        std::deque<std::future<int64_t>> live;
        int64_t total = 0;
        for (int64_t begin = 0; begin < n; begin += k_grain) {
            if (live.size() == k_max_live_futures) {
                total += live.front().get();
                live.pop_front();
            }
            const int64_t end = begin + k_grain < n ? begin + k_grain : n;
            live.push_back(std::async(std::launch::async, sum_range, begin, end));
        }
        for (auto& f : live) total += f.get();
        return total;
    });
}

// The better std::async form: one future per thread, each over a contiguous slice.
void async_chunked(benchmark::State& state) {
    run(state, [](int64_t n) {
        const auto threads = static_cast<int64_t>(bench::thread_count());
        std::vector<std::future<int64_t>> futures;
        futures.reserve(static_cast<std::size_t>(threads));
        for (int64_t t = 0; t < threads; ++t) {
            futures.push_back(std::async(std::launch::async, sum_range, n * t / threads, n * (t + 1) / threads));
        }
        int64_t total = 0;
        for (auto& f : futures) total += f.get();
        return total;
    });
}

#if MICROTASK_BENCH_HAVE_TBB
using index_range = tbb::blocked_range<int64_t>;

// oneTBB's everyday form: default grainsize (1) with the auto_partitioner, which
// splits adaptively on steals.
void tbb_reduce(benchmark::State& state) {
    bench::limit_peers();
    run(state, [](int64_t n) {
        return tbb::parallel_reduce(
            index_range(0, n), int64_t{0},
            [](const index_range& r, int64_t acc) { return acc + sum_range(r.begin(), r.end()); },
            std::plus<int64_t>{});
    });
}

// The deterministic variant always uses the simple_partitioner, so it splits down to
// the grainsize and a grainsize must be chosen. oneTBB's guide asks for chunks of at
// least ~100k cycles; the simple_partitioner leaves chunks of grainsize/2 to grainsize,
// and a loop of work(i) runs at ~1 ns (2-3 cycles) per index, so 65536 gives chunks of
// roughly 80k-170k cycles. It is also microtask_grain's size, which eases comparison.
constexpr int64_t k_tbb_det_grain = 65536;

void tbb_det_reduce(benchmark::State& state) {
    bench::limit_peers();
    run(state, [](int64_t n) {
        return tbb::parallel_deterministic_reduce(
            index_range(0, n, k_tbb_det_grain), int64_t{0},
            [](const index_range& r, int64_t acc) { return acc + sum_range(r.begin(), r.end()); },
            std::plus<int64_t>{});
    });
}
#endif

#if MICROTASK_BENCH_HAVE_OPENMP
void omp_reduction(benchmark::State& state) {
    bench::limit_peers();
    run(state, [](int64_t n) {
        int64_t sum = 0;
#pragma omp parallel for reduction(+ : sum) schedule(static)
        for (int64_t i = 0; i < n; ++i) sum += bench::work(i);
        return sum;
    });
}
#endif

// A lambda rather than the function name `bench::work`: a function pointer would be
// called indirectly inside microtask's fold, whereas every other peer inlines work().
constexpr auto work_of = [](int64_t i) { return bench::work(i); };

void microtask_adaptive(benchmark::State& state) {
    run(state,
        [](int64_t n) { return mt::map_reduce(bench::pool(), mt::iota(int64_t{0}, n), work_of, mt::sum<int64_t>{}); });
}

void microtask_grain(benchmark::State& state) {
    run(state, [](int64_t n) {
        return mt::map_reduce(bench::pool(), mt::iota(int64_t{0}, n), work_of, mt::sum<int64_t>{}, mt::grain(k_grain));
    });
}

// Registers "fine_reduce/<peer>/<n>" for n = 10^3 ... 10^8. Every peer, serial included,
// uses real time: Google Benchmark then appends "/real_time" to every name alike, and
// the multithreaded peers must be timed by the wall clock anyway.
void add(const char* peer, void (*fn)(benchmark::State&)) {
    bench::register_peer("fine_reduce", peer, fn, {1'000, 10'000, 100'000, 1'000'000, 10'000'000, 100'000'000},
                         benchmark::kMicrosecond);
}

[[maybe_unused]] const bool registered = [] {
    add("serial", serial);
    add("async", async_per_subtask);
    add("async_chunked", async_chunked);
#if MICROTASK_BENCH_HAVE_TBB
    add("tbb_reduce", tbb_reduce);
    add("tbb_det_reduce", tbb_det_reduce);
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
    add("omp_reduction", omp_reduction);
#endif
    add("microtask", microtask_adaptive);
    add("microtask_grain", microtask_grain);
    return true;
}();

}  // namespace
