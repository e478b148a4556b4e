// Workload "scan": the inclusive prefix sum of 5*10^7 random longs into a second array.
//
//   scan/serial      std::inclusive_scan       scan/microtask  mt::inclusive_scan
//   scan/tbb         tbb::parallel_scan (the two-pass body form)
//
// A scan is memory-bound: it reads 400 MB and writes 400 MB. The bandwidth it can reach
// is measured beside it by "copy" (the same traffic with no arithmetic):
//   copy/serial      std::copy                 copy/microtask  std::copy per leaf, mt::for_each
// scan/serial against copy/microtask bounds what any parallel scan can gain here.
#include "bench_common.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/blocked_range.h>
#include <tbb/parallel_scan.h>
#endif

namespace {

namespace mt = microtask;
using std::int64_t;

constexpr int64_t k_size = 50'000'000;

const std::vector<long>& input() {
    static const std::vector<long> values = [] {
        std::vector<long> v(static_cast<std::size_t>(k_size));
        std::mt19937_64 rng(14);
        for (long& x : v) x = static_cast<long>(rng() % 1000);
        return v;
    }();
    return values;
}

const std::vector<long>& expected() {
    static const std::vector<long> want = [] {
        std::vector<long> out(input().size());
        std::inclusive_scan(input().begin(), input().end(), out.begin());
        return out;
    }();
    return want;
}

template <class Scan>
void run_scan(benchmark::State& state, Scan scan, bool check) {
    (void)expected();
    std::vector<long> out(input().size(), 0);  // touched once, untimed: no page faults in the loop
    for (auto _ : state) {
        scan(input(), out);
        benchmark::ClobberMemory();
    }
    if (check && out != expected()) state.SkipWithError("scan: result differs from std::inclusive_scan's");
    bench::finish(state, k_size, out.back());
}

void scan_serial(benchmark::State& state) {
    run_scan(
        state,
        [](const std::vector<long>& in, std::vector<long>& out) {
            std::inclusive_scan(in.begin(), in.end(), out.begin());
        },
        true);
}
void scan_microtask(benchmark::State& state) {
    run_scan(
        state,
        [](const std::vector<long>& in, std::vector<long>& out) { mt::inclusive_scan(bench::pool(), in, out.begin()); },
        true);
}
#if MICROTASK_BENCH_HAVE_TBB
void scan_tbb(benchmark::State& state) {
    bench::limit_peers();
    run_scan(
        state,
        [](const std::vector<long>& in, std::vector<long>& out) {
            tbb::parallel_scan(
                tbb::blocked_range<std::size_t>(0, in.size()), 0L,
                [&](const tbb::blocked_range<std::size_t>& r, long sum, bool is_final) {
                    for (std::size_t i = r.begin(); i < r.end(); ++i) {
                        sum += in[i];
                        if (is_final) out[i] = sum;
                    }
                    return sum;
                },
                [](long a, long b) { return a + b; });
        },
        true);
}
#endif
void copy_serial(benchmark::State& state) {
    run_scan(
        state,
        [](const std::vector<long>& in, std::vector<long>& out) { std::copy(in.begin(), in.end(), out.begin()); },
        false);
}
void copy_microtask(benchmark::State& state) {
    run_scan(
        state,
        [](const std::vector<long>& in, std::vector<long>& out) {
            const auto parts = mt::decompose(mt::iota(std::size_t{0}, in.size()), mt::chunks(64));
            mt::distribute(bench::pool(), parts, [&](auto part) {
                std::copy(in.begin() + static_cast<std::ptrdiff_t>(*part.begin()),
                          in.begin() + static_cast<std::ptrdiff_t>(*part.begin() + part.size()),
                          out.begin() + static_cast<std::ptrdiff_t>(*part.begin()));
            });
        },
        false);
}

void add(const char* workload, const char* peer, void (*fn)(benchmark::State&)) {
    bench::register_peer(workload, peer, fn, {k_size}, benchmark::kMillisecond);
}

[[maybe_unused]] const bool registered = [] {
    add("scan", "serial", scan_serial);
    add("scan", "microtask", scan_microtask);
#if MICROTASK_BENCH_HAVE_TBB
    add("scan", "tbb", scan_tbb);
#endif
    add("copy", "serial", copy_serial);
    add("copy", "microtask", copy_microtask);
    return true;
}();

}  // namespace
