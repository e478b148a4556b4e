// Workload "memory_reduce": the sum of a 10^8-element array of doubles (800 MB, far
// beyond any cache), so every peer is limited by memory bandwidth rather than by its
// scheduler. "memory_reduce/bandwidth" measures that limit in the same binary: a plain
// read of the array by thread_count() threads, with no scheduler at all. Every peer
// reports bytes/s, so each one reads as a fraction of the ceiling.
#include "bench_common.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <new>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>
#endif

namespace {

namespace mt = microtask;
using std::int64_t;

constexpr int64_t k_size = 100'000'000;

// std::allocator value-initialises: std::vector<double>(n) would write zeros to every
// page from the calling thread, placing all 800 MB on that thread's NUMA node. This one
// default-initialises (leaves doubles unwritten), so the parallel fill below is the
// first touch and each thread's slice lands on its own node.
template <class T>
struct untouched_allocator {
    using value_type = T;
    untouched_allocator() = default;
    template <class U>
    untouched_allocator(const untouched_allocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
    void deallocate(T* p, std::size_t n) noexcept { std::allocator<T>{}.deallocate(p, n); }
    template <class U>
    void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
        ::new (static_cast<void*>(p)) U;
    }
    template <class U, class... Args>
    void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
    template <class U>
    bool operator==(const untouched_allocator<U>&) const noexcept {
        return true;
    }
};

// Multiples of 0.25 below 256: every partial sum of up to 10^8 of them is below 2^35,
// so it is exact in a double, and all peers (whatever their association order) must
// produce the bitwise identical sum. That makes the check an == and not a tolerance.
double value_at(int64_t i) { return static_cast<double>(bench::work(i) & 1023) * 0.25; }

// The array, allocated and filled once, on first use (i.e. in the first benchmark's
// setup, untimed). Filled by thread_count() std::threads, one contiguous slice each,
// the same static split the static-schedule peers read it with.
std::span<const double> data() {
    static const std::vector<double, untouched_allocator<double>> values = [] {
        std::vector<double, untouched_allocator<double>> v(static_cast<std::size_t>(k_size));
        const auto threads = static_cast<int64_t>(bench::thread_count());
        std::vector<std::thread> fillers;
        for (int64_t t = 0; t < threads; ++t) {
            fillers.emplace_back([&v, t, threads] {
                for (int64_t i = k_size * t / threads; i < k_size * (t + 1) / threads; ++i)
                    v[static_cast<std::size_t>(i)] = value_at(i);
            });
        }
        for (auto& f : fillers) f.join();
        return v;
    }();
    return values;
}

double sum_slice(const double* first, const double* last) {
    double sum = 0;
    for (; first != last; ++first) sum += *first;
    return sum;
}

// The exact sum of the first n elements, computed once per size.
double expected(std::span<const double> values) {
    static std::map<std::size_t, double> cache;
    auto it = cache.find(values.size());
    if (it == cache.end())
        it = cache.emplace(values.size(), sum_slice(values.data(), values.data() + values.size())).first;
    return it->second;
}

// Times `compute(values)` over the first state.range(0) elements, checks each result
// (one compare) and reports bytes/s.
template <class Compute>
void run(benchmark::State& state, Compute compute) {
    const auto n = static_cast<std::size_t>(state.range(0));
    const std::span<const double> values = data().first(n);
    const double want = expected(values);
    for (auto _ : state) {
        // The array never changes, so without this the compiler could treat a serial
        // sum of it as loop-invariant.
        benchmark::ClobberMemory();
        const double got = compute(values);
        if (got != want) {
            state.SkipWithError("memory_reduce: result differs from the exact sum");
            break;
        }
    }
    bench::finish(state, state.range(0), want);
    state.SetBytesProcessed(state.iterations() * state.range(0) * static_cast<int64_t>(sizeof(double)));
}

// Start and end of slice t of `threads` equal contiguous slices.
std::pair<const double*, const double*> slice(std::span<const double> values, std::size_t t, std::size_t threads) {
    return {values.data() + values.size() * t / threads, values.data() + values.size() * (t + 1) / threads};
}

void serial(benchmark::State& state) {
    run(state, [](std::span<const double> values) { return sum_slice(values.data(), values.data() + values.size()); });
}

void async_chunked(benchmark::State& state) {
    run(state, [](std::span<const double> values) {
        const std::size_t threads = bench::thread_count();
        std::vector<std::future<double>> futures;
        futures.reserve(threads);
        for (std::size_t t = 0; t < threads; ++t) {
            const auto [first, last] = slice(values, t, threads);
            futures.push_back(std::async(std::launch::async, sum_slice, first, last));
        }
        double total = 0;
        for (auto& f : futures) total += f.get();
        return total;
    });
}

#if MICROTASK_BENCH_HAVE_TBB
void tbb_reduce(benchmark::State& state) {
    bench::limit_peers();
    run(state, [](std::span<const double> values) {
        return tbb::parallel_reduce(
            tbb::blocked_range<std::size_t>(0, values.size()), 0.0,
            [values](const tbb::blocked_range<std::size_t>& r, double acc) {
                return acc + sum_slice(values.data() + r.begin(), values.data() + r.end());
            },
            std::plus<double>{});
    });
}
#endif

#if MICROTASK_BENCH_HAVE_OPENMP
void omp_reduction(benchmark::State& state) {
    bench::limit_peers();
    run(state, [](std::span<const double> values) {
        const double* v = values.data();
        const auto n = static_cast<int64_t>(values.size());
        double sum = 0;
#pragma omp parallel for reduction(+ : sum) schedule(static)
        for (int64_t i = 0; i < n; ++i) sum += v[i];
        return sum;
    });
}
#endif

// mt::reduce with a pool is map_reduce with the identity map (default adaptive policy).
void microtask_reduce(benchmark::State& state) {
    run(state, [](std::span<const double> values) { return mt::reduce(bench::pool(), values, mt::sum<double>{}); });
}

// The ceiling: thread_count() threads, each reading its contiguous slice with four
// independent accumulators, so the additions' latency is hidden and only memory limits
// the rate. Thread start-up (tens of microseconds) is noise next to reading 800 MB.
double sum_slice_4(const double* first, const double* last) {
    double a = 0, b = 0, c = 0, d = 0;
    for (; last - first >= 4; first += 4) {
        a += first[0];
        b += first[1];
        c += first[2];
        d += first[3];
    }
    for (; first != last; ++first) a += *first;
    return (a + b) + (c + d);
}

void bandwidth(benchmark::State& state) {
    run(state, [](std::span<const double> values) {
        const std::size_t threads = bench::thread_count();
        std::vector<double> partial(threads);
        std::vector<std::thread> readers;
        readers.reserve(threads);
        for (std::size_t t = 0; t < threads; ++t) {
            readers.emplace_back([&partial, values, t, threads] {
                const auto [first, last] = slice(values, t, threads);
                partial[t] = sum_slice_4(first, last);
            });
        }
        for (auto& r : readers) r.join();
        double total = 0;
        for (double p : partial) total += p;
        return total;
    });
}

// Registers "memory_reduce/<peer>/100000000" (the argument is the element count).
void add(const char* peer, void (*fn)(benchmark::State&)) {
    bench::register_peer("memory_reduce", peer, fn, {k_size}, benchmark::kMillisecond);
}

[[maybe_unused]] const bool registered = [] {
    add("bandwidth", bandwidth);
    add("serial", serial);
    add("async_chunked", async_chunked);
#if MICROTASK_BENCH_HAVE_TBB
    add("tbb_reduce", tbb_reduce);
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
    add("omp_reduction", omp_reduction);
#endif
    add("microtask", microtask_reduce);
    return true;
}();

}  // namespace
