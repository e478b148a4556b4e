// Workload `fork_join`: recursive fib(30) that forks at every call whose n is above a
// cutoff (the benchmark argument, 0 and 10) and runs plain serial fib below it. With
// cutoff 0 almost every call is a fork, so the time is dominated by the cost of one
// fork-join; ns_per_task divides the elapsed time by the exact number of forks.
#include "bench_common.hpp"

#include <chrono>
#include <cstdint>
#include <future>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/task_group.h>
#endif

namespace {

namespace mt = microtask;

constexpr int k_fib_n = 30;
constexpr std::int64_t k_fib_30 = 832040;

std::int64_t fib_serial(int n) { return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2); }

/// Forks performed by one fib(n) call with this cutoff: one per call with n >= 2 and
/// n > cutoff (calls with n < 2 are leaves and never fork).
std::int64_t fork_count(int n, int cutoff) {
    if (n < 2 || n <= cutoff) return 0;
    return 1 + fork_count(n - 1, cutoff) + fork_count(n - 2, cutoff);
}

/// Runs `fib(n, cutoff)` in the timed loop, checks every result, and sets the counters:
///   ns_per_task  elapsed real time / (iterations * forks per fib(30) call with this
///                cutoff). Every peer of one cutoff is divided by the same count, so for
///                serial and async_depth4, which fork less, it is a normalised time.
///   forks        the forks the peer really makes per call.
/// (A library rate counter with kInvert would print "s" after a value in ns, hence the
/// own clock.)
template <class Fib>
void run(benchmark::State& state, std::int64_t forks_done, Fib fib) {
    const int cutoff = static_cast<int>(state.range(0));
    const auto start = std::chrono::steady_clock::now();
    for (auto _ : state) {
        const int n = bench::opaque(k_fib_n);  // no hoisting a pure call out of the loop
        const std::int64_t r = fib(n, cutoff);
        benchmark::DoNotOptimize(r);
        if (r != k_fib_30) {
            state.SkipWithError("fork_join: result differs from serial fib(30)");
            break;
        }
    }
    const std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    const double forks = static_cast<double>(fork_count(k_fib_n, cutoff));
    state.counters["ns_per_task"] = elapsed.count() / (static_cast<double>(state.iterations()) * forks);
    state.counters["forks"] = static_cast<double>(forks_done);
}

void bm_serial(benchmark::State& state) {
    run(state, 0, [](int n, int) { return fib_serial(n); });
}

std::int64_t fib_microtask(mt::thread_pool& pool, int n, int cutoff) {
    if (n < 2) return n;
    if (n <= cutoff) return fib_serial(n);
    auto [a, b] = mt::join(
        pool, [&] { return fib_microtask(pool, n - 1, cutoff); }, [&] { return fib_microtask(pool, n - 2, cutoff); });
    return a + b;
}

void bm_microtask(benchmark::State& state) {
    mt::thread_pool& pool = bench::pool();
    run(state, fork_count(k_fib_n, static_cast<int>(state.range(0))),
        [&pool](int n, int cutoff) { return fib_microtask(pool, n, cutoff); });
}

#if MICROTASK_BENCH_HAVE_TBB
// The usual idiom: a task_group per call, run one side, compute the other, wait.
std::int64_t fib_tbb(int n, int cutoff) {
    if (n < 2) return n;
    if (n <= cutoff) return fib_serial(n);
    std::int64_t a = 0;
    tbb::task_group group;
    group.run([&] { a = fib_tbb(n - 1, cutoff); });
    const std::int64_t b = fib_tbb(n - 2, cutoff);
    group.wait();
    return a + b;
}

void bm_tbb_task_group(benchmark::State& state) {
    bench::limit_peers();
    run(state, fork_count(k_fib_n, static_cast<int>(state.range(0))), fib_tbb);
}
#endif

#if MICROTASK_BENCH_HAVE_OPENMP
std::int64_t fib_omp(int n, int cutoff) {
    if (n < 2) return n;
    if (n <= cutoff) return fib_serial(n);
    std::int64_t a = 0;
#pragma omp task shared(a) firstprivate(n, cutoff)
    a = fib_omp(n - 1, cutoff);
    const std::int64_t b = fib_omp(n - 2, cutoff);
#pragma omp taskwait
    return a + b;
}

void bm_omp_task(benchmark::State& state) {
    bench::limit_peers();
    run(state, fork_count(k_fib_n, static_cast<int>(state.range(0))), [](int n, int cutoff) {
        std::int64_t r = 0;
        // One thread starts the recursion; the rest of the team runs the tasks.
#pragma omp parallel
#pragma omp single
        r = fib_omp(n, cutoff);
        return r;
    });
}
#endif

// std::async starts a thread per call: forking at every call would mean ~1.3M threads,
// so only the top 4 levels fork (15 asyncs) and everything below runs serially. The
// cutoff argument does not apply; it is registered under both sizes so that it appears
// next to the other peers.
constexpr int k_async_depth = 4;

std::int64_t fib_async(int n, int depth) {
    if (n < 2) return n;
    if (depth >= k_async_depth) return fib_serial(n);
    auto a = std::async(std::launch::async, fib_async, n - 1, depth + 1);
    const std::int64_t b = fib_async(n - 2, depth + 1);
    return a.get() + b;
}

void bm_async_depth4(benchmark::State& state) {
    run(state, (1 << k_async_depth) - 1, [](int n, int) { return fib_async(n, 0); });
}

// Serial fib(30) takes a few ms; the cutoff-0 peers take tens to hundreds of ms.
#define FORK_JOIN_BENCH(peer) \
    BENCHMARK(bm_##peer)->Name("fork_join/" #peer)->Arg(0)->Arg(10)->UseRealTime()->Unit(benchmark::kMillisecond)

FORK_JOIN_BENCH(serial);
FORK_JOIN_BENCH(microtask);
#if MICROTASK_BENCH_HAVE_TBB
FORK_JOIN_BENCH(tbb_task_group);
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
FORK_JOIN_BENCH(omp_task);
#endif
FORK_JOIN_BENCH(async_depth4);

#undef FORK_JOIN_BENCH

}  // namespace
