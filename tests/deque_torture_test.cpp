// Deque torture: one owner pushing and popping, many thieves stealing, ten million items
// (a million under the sanitizers), the deque growing from capacity 1 and draining to
// empty again and again. Every item must be taken exactly once, owner pops must come
// out LIFO and every thief's steals FIFO. Repeats until MICROTASK_STRESS_SECONDS when
// that is set (scripts/stress --long).
#include "test_support.hpp"

#include <microtask/detail/work_stealing_deque.hpp>

#include "catch.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using namespace microtask_test;

namespace {

using deque = microtask::detail::work_stealing_deque<std::uintptr_t>;
using status = deque::steal_status;

struct torture_result {
    std::uint64_t popped = 0;
    std::uint64_t stolen = 0;
    std::uint64_t lost_races = 0;
    std::uint64_t lost = 0;
    std::uint64_t duplicated = 0;
    std::uint64_t order_violations = 0;
    std::size_t peak_size = 0;
    std::size_t capacity = 0;
};

/// Items are pushed in increasing order, so the deque always holds an increasing run
/// from top to bottom: a pop streak must see decreasing items, each thief increasing ones.
torture_result torture(std::uint64_t seed, std::size_t items, unsigned thieves) {
    deque d(1);  // the smallest ring: the first pushes already grow it
    std::vector<std::atomic<std::uint8_t>> taken(items + 1);
    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> stolen{0}, lost_races{0}, order_violations{0};

    std::vector<std::thread> threads;
    for (unsigned t = 0; t < thieves; ++t) {
        threads.emplace_back([&, t] {
            splitmix64 rng(seed ^ (t + 1));
            std::uintptr_t last = 0;
            std::uint64_t mine = 0, races = 0, disorder = 0;
            while (!done.load(std::memory_order_acquire) || !d.empty()) {
                const auto [result, item, label] = d.steal();
                if (result == status::success) {
                    taken[item].fetch_add(1, std::memory_order_relaxed);
                    disorder += item <= last;
                    last = item;
                    ++mine;
                } else if (result == status::lost_race) {
                    ++races;
                }
                if (rng.chance(1)) std::this_thread::yield();  // vary the interleavings
            }
            stolen.fetch_add(mine);
            lost_races.fetch_add(races);
            order_violations.fetch_add(disorder);
        });
    }

    torture_result out;
    splitmix64 rng(seed);
    std::uintptr_t next = 1;
    std::uint64_t pop_disorder = 0;
    auto pop_streak = [&](std::size_t count) {
        std::uintptr_t previous = ~std::uintptr_t{0};
        for (std::size_t k = 0; k < count; ++k) {
            const std::uintptr_t item = d.pop(0);
            if (item == 0) break;
            taken[item].fetch_add(1, std::memory_order_relaxed);
            pop_disorder += item >= previous;
            previous = item;
            ++out.popped;
        }
    };
    while (next <= items) {
        // Grow: a burst of up to 2^17 pushes with a few pops mixed in, so the ring doubles
        // many times while thieves read it; then shrink: pop back down, often to empty.
        // Mostly small bursts, where the owner and the thieves race for the last items.
        const std::size_t burst = std::size_t{1} << rng.between(0, rng.chance(10) ? 17 : 8);
        for (std::size_t k = 0; k < burst && next <= items; ++k) {
            d.push(next++);
            if (rng.chance(10)) pop_streak(rng.between(1, 3));
        }
        out.peak_size = std::max(out.peak_size, d.size_hint());
        if (rng.chance(5)) std::this_thread::yield();  // let the thieves at a full deque
        pop_streak(rng.chance(60) ? items : rng.below(burst + 1));
    }
    pop_streak(items);
    done.store(true, std::memory_order_release);
    for (auto& thread : threads) thread.join();

    out.stolen = stolen.load();
    out.lost_races = lost_races.load();
    out.order_violations = order_violations.load() + pop_disorder;
    out.capacity = d.capacity();
    for (std::size_t i = 1; i <= items; ++i) {
        const auto count = taken[i].load();
        out.lost += count == 0;
        out.duplicated += count > 1;
    }
    return out;
}

}  // namespace

TEST_CASE(
    "deque torture: one owner, many thieves, ten million items through a growing and draining deque, "
    "each taken exactly once in LIFO/FIFO order",
    "[stress][deque]") {
    const std::uint64_t seed = stress_seed();
    const std::size_t items = scaled(10'000'000);
    // Rounds repeat until the budget expires (one round under the sanitizers by default).
    const time_budget budget(stress_seconds(3, 0));
    INFO("seed " << seed);
    reliability_counts counts;
    run_rounds(budget, seed, 1, [&](std::uint64_t round_seed) {
        const unsigned thieves = 2 + static_cast<unsigned>(round_seed % 5);  // 2-6 on 2 cores
        const torture_result r = torture(round_seed, items, thieves);
        CAPTURE(round_seed, thieves, r.popped, r.stolen, r.lost_races, r.peak_size, r.capacity);
        counts.tasks += r.popped + r.stolen;  // items taken, as counted by their takers
        counts.lost += r.lost;
        REQUIRE(r.lost == 0);
        REQUIRE(r.duplicated == 0);
        REQUIRE(r.order_violations == 0);
        REQUIRE(r.popped + r.stolen == items);
        REQUIRE(r.stolen > 0);               // the thieves really competed
        REQUIRE(r.capacity >= r.peak_size);  // it grew to hold the largest burst
        REQUIRE(r.capacity >= std::size_t{1} << 10);
        std::printf(
            "deque_torture round seed %llu: %u thieves, popped %llu, stolen %llu, lost races %llu, peak %zu, "
            "capacity %zu\n",
            static_cast<unsigned long long>(round_seed), thieves, static_cast<unsigned long long>(r.popped),
            static_cast<unsigned long long>(r.stolen), static_cast<unsigned long long>(r.lost_races), r.peak_size,
            r.capacity);
    });
    report_reliability("deque_torture", counts, budget.elapsed_seconds(), seed);
}
