// Shared pieces of the benchmark suite.
//
// Naming: every benchmark is registered as "<workload>/<peer>" with its size as the
// argument, e.g. "fine_reduce/microtask/100000000". scripts/bench-compare reads the JSON
// output and divides each peer's median time by microtask's for the same workload and
// size. Peers: serial, async, async_chunked, tbb_*, omp_*, microtask*. The classic suite
// (classic_bench.cpp) has one level more and no size: "classic/<workload>/<peer>", whose
// workload the report takes to be "classic/<workload>".
#pragma once

#include <microtask/microtask.hpp>

#include <benchmark/benchmark.h>

#include <malloc.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <thread>
#include <type_traits>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/global_control.h>
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
#include <omp.h>
#endif

namespace bench {

namespace mt = microtask;

/// Every peer uses the same number of threads: one per hardware thread.
inline unsigned thread_count() {
    const unsigned hardware = std::thread::hardware_concurrency();
    return hardware == 0 ? 1 : hardware;
}

/// The microtask pool all benchmarks share (created on first use). It has one worker
/// fewer than thread_count() because the calling thread also works (it runs the root
/// of every map_reduce and join, and unstarted tasks it waits on): thread_count()
/// threads in all, as in oneTBB's arena under the same limit and OpenMP's team.
inline mt::thread_pool& pool() {
    static mt::thread_pool the_pool{thread_count() > 1 ? thread_count() - 1 : 1};
    return the_pool;
}

/// Limits oneTBB and OpenMP to thread_count() threads; call at the top of each peer.
inline void limit_peers() {
#if MICROTASK_BENCH_HAVE_TBB
    static tbb::global_control limit(tbb::global_control::max_allowed_parallelism, thread_count());
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
    static const bool once = [] {
        omp_set_num_threads(static_cast<int>(thread_count()));
        return true;
    }();
    (void)once;
#endif
}

/// A few nanoseconds of work per index. The multiply-xorshift chain carries a data
/// dependency through each step, so no compiler vectorises it, and it is inlined
/// identically into every peer.
inline std::int64_t work(std::int64_t i) {
    std::uint64_t x = static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 29)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 32)) * 0x94D049BB133111EBull;
    return static_cast<std::int64_t>(x >> 40);
}

/// Registers `fn` as "<workload>/<peer>/<arg>" for each size in `args`, timed by the
/// wall clock (Google Benchmark then appends "/real_time" to every name alike).
inline benchmark::internal::Benchmark* register_peer(const char* workload, const char* peer,
                                                     void (*fn)(benchmark::State&),
                                                     std::initializer_list<std::int64_t> args,
                                                     benchmark::TimeUnit unit) {
    auto* b = benchmark::RegisterBenchmark((std::string(workload) + "/" + peer).c_str(), fn);
    for (std::int64_t arg : args) b->Arg(arg);
    return b->UseRealTime()->Unit(unit);
}

/// The serial answer for one size, computed once (untimed) and shared by every peer's
/// check: compute(key) on the first call for a key, the cached value afterwards. Each
/// call site (each lambda type) has its own cache. Main thread only.
template <class Compute>
const std::invoke_result_t<Compute&, std::int64_t>& computed_once(std::int64_t key, Compute compute) {
    static std::map<std::int64_t, std::invoke_result_t<Compute&, std::int64_t>> cache;
    auto it = cache.find(key);
    if (it == cache.end()) it = cache.emplace(key, compute(key)).first;
    return it->second;
}

/// `value`, through a volatile round trip the optimiser cannot see through, so that a
/// pure computation on it is not hoisted out of the timed loop. Not
/// benchmark::DoNotOptimize(variable): with g++ 12 at -O2, its "+m,r" asm constraint on an
/// int that is read afterwards made the variable read back as 0 (a program that printed
/// it showed the miscompilation; -O3 and clang were unaffected).
template <class T>
T opaque(T value) {
    volatile T copy = value;
    return copy;
}

/// Reports items per second and keeps the result alive.
template <class T>
void finish(benchmark::State& state, std::int64_t items_per_iteration, const T& result) {
    benchmark::DoNotOptimize(result);
    state.SetItemsProcessed(state.iterations() * items_per_iteration);
}

/// glibc raises its mmap threshold after a large block is freed, so a peer that runs
/// right after another one's big vectors were freed gets its own from already-mapped heap
/// memory (no page faults) while the one before it did not: the order of registration
/// then decided a filter's winner by ~25%. Fixing the thresholds high (32 MiB, glibc's
/// ceiling, and a heap that is not trimmed) gives every peer the warm heap a
/// long-running program has, alike.
inline const bool k_malloc_thresholds_fixed = [] {
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 512 * 1024 * 1024);
    return true;
}();

/// Records in the JSON output's context which optional peers this binary was built with,
/// so that scripts/bench-report can tell a peer left out at build time (a note) from one
/// that went missing from a run (a failure).
inline const bool k_peer_libraries_recorded = [] {
#if MICROTASK_BENCH_HAVE_TBB
    benchmark::AddCustomContext("microtask_bench_tbb", "1");
#else
    benchmark::AddCustomContext("microtask_bench_tbb", "0");
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
    benchmark::AddCustomContext("microtask_bench_openmp", "1");
#else
    benchmark::AddCustomContext("microtask_bench_openmp", "0");
#endif
    return true;
}();

}  // namespace bench
