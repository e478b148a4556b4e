// first_hit: the smallest nonce whose hash with --seed has 20 leading zero bits (a toy
// proof of work), found in parallel with mt::find_first over the --size candidates, and
// the same search for a target too hard to reach, given a time limit by an mt::deadline.
//
// find_first returns what std::find_if would: the first hit, not just any hit. A hit
// prunes every candidate to its right, so the search stops soon after the first hit is
// found instead of testing all --size candidates; the threads still scanning to its left
// finish their part, since a hit there would come first.
//
//   first_hit [--size CANDIDATES] [--threads N] [--seed N] [--quick]
#include "example_support.hpp"

#include <microtask/microtask.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <future>
#include <vector>

namespace mt = microtask;

namespace {

// Leading zero bits asked of a hit: about one candidate in 2^20 qualifies.
constexpr int k_zero_bits = 20;

// A few rounds of splitmix64 over (seed, nonce): a stand-in for a real hash.
std::uint64_t hash(std::uint64_t seed, long nonce) {
    std::uint64_t state = seed ^ (static_cast<std::uint64_t>(nonce) * 0x9E3779B97F4A7C15ull);
    std::uint64_t h = 0;
    for (int round = 0; round < 4; ++round) h ^= example::splitmix64(state);
    return h;
}

bool is_hit(std::uint64_t seed, long nonce, int zero_bits) { return (hash(seed, nonce) >> (64 - zero_bits)) == 0; }

// std::async peer: one contiguous run of candidates per task; a task stops at its own hit
// or once a hit to its left is known (the smallest hit so far is shared).
long first_hit_async(long size, std::uint64_t seed, long tasks) {
    std::atomic<long> best{size};
    std::vector<std::future<void>> futures;
    for (long t = 0; t < tasks; ++t) {
        const long lo = size * t / tasks;
        const long hi = size * (t + 1) / tasks;
        futures.push_back(std::async(std::launch::async, [&best, lo, hi, seed] {
            for (long nonce = lo; nonce < hi && nonce < best.load(std::memory_order_relaxed); ++nonce) {
                if (is_hit(seed, nonce, k_zero_bits)) {
                    long current = best.load(std::memory_order_relaxed);
                    while (nonce < current && !best.compare_exchange_weak(current, nonce)) {
                    }
                    return;
                }
            }
        }));
    }
    for (auto& f : futures) f.get();
    return best.load();
}

}  // namespace

int main(int argc, char** argv) {
    const example::options opts = example::parse(
        argc, argv,
        "find the first of --size nonces whose hash has 20 leading zero bits, then a search with a deadline",
        400'000'000, 20'000'000);
    mt::thread_pool pool = example::make_pool(opts);
    const long size = opts.size;
    const std::uint64_t seed = opts.seed;
    const auto candidates = mt::iota(0L, size);

    long serial_hit = size;
    const double serial_s = example::seconds([&] {
        const auto it = std::find_if(candidates.begin(), candidates.end(),
                                     [seed](long nonce) { return is_hit(seed, nonce, k_zero_bits); });
        serial_hit = it == candidates.end() ? size : *it;
    });

    long async_hit = size;
    const double async_s =
        example::seconds([&] { async_hit = first_hit_async(size, seed, 4 * static_cast<long>(pool.size())); });

    long micro_hit = size;
    const double micro_s = example::seconds([&] {
        const auto it =
            mt::find_first(pool, candidates, [seed](long nonce) { return is_hit(seed, nonce, k_zero_bits); });
        micro_hit = it == candidates.end() ? size : *it;
    });

    std::printf("first hit: %ld candidates, seed %lu, %d leading zero bits, threads: %zu\n", size, opts.seed,
                k_zero_bits, pool.size());
    std::printf("  first hit at nonce %ld (microtask), %ld (std::async), %ld (serial); %ld means none\n", micro_hit,
                async_hit, serial_hit, size);

    // A target no candidate is likely to meet (one in 2^40): the search would test all
    // --size candidates; the deadline ends it after 20 ms instead. The caller gets
    // operation_cancelled, never a "no hit" that was really "not finished".
    const char* outcome = "";
    const double limited_s = example::seconds([&] {
        mt::deadline limit(std::chrono::milliseconds(20));
        try {
            const auto it = mt::find_first(
                pool, candidates, [seed](long nonce) { return is_hit(seed, nonce, 40); }, limit.token());
            outcome = it == candidates.end() ? "searched everything within the deadline: no hit" : "a hit";
        } catch (const mt::operation_cancelled&) {
            outcome = "gave up at the 20 ms deadline";
        }
    });
    std::printf("  40 zero bits: %s (%.1f ms)\n", outcome, limited_s * 1e3);
    std::printf(
        "  (find_first tests only the candidates up to about the first hit; std::find_if the same, serially)\n\n");

    const bool ok = micro_hit == serial_hit && async_hit == serial_hit;
    return example::finish("first_hit", ok, serial_s, async_s, micro_s);
}
