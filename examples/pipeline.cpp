// The three primitives spelled out: decompose a job into parts, distribute the parts over
// the pool (logging which thread ran each part), reduce the partial results. Then the
// same in one call with map_reduce.
//
// The job: the sum of squares 0^2 + 1^2 + ... + (N-1)^2. The exact value needs about
// 3 log2(N) bits, more than 64 for large N, so it is computed in unsigned 64-bit
// arithmetic, i.e. modulo 2^64: wrap-around is well defined, still exact, and addition
// modulo 2^64 is associative, so every grouping gives the same answer. The closed form
// N(N-1)(2N-1)/6 gives an independent check.
//
//   pipeline [--size N] [--threads N] [--seed N] [--quick]
#include "example_support.hpp"

#include <microtask/microtask.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <future>
#include <map>
#include <optional>
#include <ranges>
#include <string>
#include <vector>

namespace mt = microtask;

namespace {

using u64 = std::uint64_t;

// The one loop every version runs, so serial, std::async and microtask do the same work.
// Four independent sums per iteration: a loop of one multiply-add per index runs at one
// or two cycles per index depending only on where its branch lands relative to a 64-byte
// boundary; four per iteration make that placement nearly irrelevant.
u64 sum_of_squares_loop(u64 lo, u64 hi) {
    u64 s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    u64 i = lo;
    for (; hi - i >= 4; i += 4) {
        s0 += i * i;
        s1 += (i + 1) * (i + 1);
        s2 += (i + 2) * (i + 2);
        s3 += (i + 3) * (i + 3);
    }
    for (; i < hi; ++i) s0 += i * i;
    return (s0 + s1) + (s2 + s3);
}

// Every version calls the loop through this pointer, so none gets its own inlined copy
// (they all run the very same machine code), and the serial call cannot be moved out of
// its timed region.
u64 (*const volatile sum_of_squares)(u64, u64) = sum_of_squares_loop;

// N(N-1)(2N-1)/6 modulo 2^64: divide the factors by 2 and 3 first (one of N, N-1 is even,
// one of N, N-1, 2N-1 is a multiple of 3), then multiply with wrap-around.
u64 closed_form(u64 n) {
    u64 a = n, b = n - 1, c = 2 * n - 1;
    (a % 2 == 0 ? a : b) /= 2;
    (a % 3 == 0 ? a : b % 3 == 0 ? b : c) /= 3;
    return a * b * c;
}

// What one subtask reports: who ran it, on which part, with which partial result. Each
// subtask returns its own report, so logging needs no lock.
struct part_report {
    std::optional<std::size_t> worker;  // std::nullopt: the calling thread, helping
    u64 lo = 0, hi = 0;
    u64 partial = 0;
};

std::string thread_name(const std::optional<std::size_t>& worker) {
    return worker ? "worker " + std::to_string(*worker) : std::string("caller");
}

}  // namespace

int main(int argc, char** argv) {
    const example::options opts =
        example::parse(argc, argv, "sum of squares over [0, N) via decompose / distribute / reduce; --size is N",
                       2'000'000'000, 20'000);
    mt::thread_pool pool = example::make_pool(opts);
    const u64 n = static_cast<u64>(opts.size);
    // --seed is accepted for uniformity; this job has no randomness.

    // Serial: one loop.
    u64 serial = 0;
    const double serial_s = example::seconds([&] { serial = sum_of_squares(0, n); });

    // std::async: 4 futures per worker over equal chunks, summed in order.
    u64 async_result = 0;
    const double async_s = example::seconds([&] {
        const u64 futures = 4 * pool.size();
        const u64 chunk = (n + futures - 1) / futures;
        std::vector<std::future<u64>> parts;
        for (u64 lo = 0; lo < n; lo += chunk) {
            parts.push_back(std::async(std::launch::async, sum_of_squares, lo, std::min(n, lo + chunk)));
        }
        for (auto& f : parts) async_result += f.get();
    });

    // microtask, step by step. The grain is a function of N only (about 64 parts), so the
    // parts, and with them every partial result, are the same for any --threads.
    const u64 grain = std::max<u64>(1, (n + 63) / 64);
    std::vector<part_report> reports;
    u64 stepwise = 0;
    std::size_t part_count = 0;
    const double microtask_s = example::seconds([&] {
        // 1. decompose: [0, N) cut into subranges of at most `grain` indices (views, no copy).
        const auto range = mt::iota(u64{0}, n);
        const auto parts = mt::decompose(range, mt::grain(grain));
        part_count = parts.size();
        // 2. distribute: one subtask per part; the reports come back in part order.
        reports = mt::distribute(pool, parts, [&pool](auto part) {
            const u64 lo = *part.begin();
            const u64 hi = lo + part.size();
            return part_report{pool.this_worker_index(), lo, hi, sum_of_squares(lo, hi)};
        });
        // 3. reduce: combine the partials in part order.
        std::vector<u64> partials;
        partials.reserve(reports.size());
        for (const part_report& report : reports) partials.push_back(report.partial);
        stepwise = mt::reduce(partials, mt::sum<u64>{});
    });

    // The same in one call: adaptive decomposition, no parts or partials materialised.
    // (Its loop is the plain one-index-per-iteration loop, compiled inside the library's
    // fold, so its time can differ from the others' by code placement alone; see above.)
    u64 fused = 0;
    const double fused_s = example::seconds([&] {
        fused = mt::map_reduce(
            pool, mt::iota(u64{0}, n), [](u64 i) { return i * i; }, mt::sum<u64>{});
    });

    // The log: 16 parts spread evenly over the range (the first ones alone would all be
    // the caller's: it runs the leftmost half of every fork), then how many parts each
    // thread ran.
    constexpr std::size_t shown = 16;
    const std::size_t step = std::max<std::size_t>(1, (reports.size() + shown - 1) / shown);
    std::printf("decompose: [0, %llu) with grain(%llu) -> %zu parts; distribute on %zu workers",
                static_cast<unsigned long long>(n), static_cast<unsigned long long>(grain), part_count, pool.size());
    if (step > 1) std::printf("; 1 part in %zu shown", step);
    std::printf(":\n");
    for (std::size_t i = 0; i < reports.size(); i += step) {
        const part_report& r = reports[i];
        char range[64];
        std::snprintf(range, sizeof range, "[%llu, %llu)", static_cast<unsigned long long>(r.lo),
                      static_cast<unsigned long long>(r.hi));
        std::printf("  part %3zu  %-26s ran on %-9s  partial %llu\n", i, range, thread_name(r.worker).c_str(),
                    static_cast<unsigned long long>(r.partial));
    }
    std::map<std::size_t, std::size_t> per_thread;  // key: worker index, or size() for the caller
    for (const part_report& r : reports) ++per_thread[r.worker.value_or(pool.size())];
    std::printf("parts per thread:");
    for (const auto& [who, count] : per_thread) {
        const auto worker = who == pool.size() ? std::nullopt : std::optional<std::size_t>(who);
        std::printf("  %s: %zu", thread_name(worker).c_str(), count);
    }
    std::printf("\n");

    const u64 expected = closed_form(n);
    std::printf("sum of i^2 for i in [0, %llu) mod 2^64:\n", static_cast<unsigned long long>(n));
    std::printf("  decompose/distribute/reduce %llu (%.4f s)\n", static_cast<unsigned long long>(stepwise),
                microtask_s);
    std::printf("  map_reduce in one call      %llu (%.4f s)\n", static_cast<unsigned long long>(fused), fused_s);
    std::printf("  serial loop                 %llu\n", static_cast<unsigned long long>(serial));
    std::printf("  closed form N(N-1)(2N-1)/6  %llu\n", static_cast<unsigned long long>(expected));

    const bool ok = serial == expected && async_result == serial && stepwise == serial && fused == serial;
    return example::finish("pipeline", ok, serial_s, async_s, microtask_s);
}
