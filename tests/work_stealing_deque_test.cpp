#include "test_support.hpp"

#include <microtask/detail/work_stealing_deque.hpp>

#include "catch.hpp"

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

using deque = microtask::detail::work_stealing_deque<std::uintptr_t>;
using status = deque::steal_status;

TEST_CASE("deque: owner pops LIFO, thieves steal FIFO", "[deque]") {
    deque d(4);
    for (std::uintptr_t i = 1; i <= 3; ++i) d.push(i);
    REQUIRE(d.size_hint() == 3);
    auto stolen = d.steal();
    REQUIRE(stolen.status == status::success);
    REQUIRE(stolen.item == 1);  // oldest
    REQUIRE(d.pop() == 3);      // newest
    REQUIRE(d.pop() == 2);
    REQUIRE(d.pop() == 0);  // empty value
    REQUIRE(d.steal().status == status::empty);
    REQUIRE(d.empty());
}

TEST_CASE("deque: grows past its initial capacity and keeps every item", "[deque]") {
    deque d(2);
    constexpr std::uintptr_t n = 10'000;
    for (std::uintptr_t i = 1; i <= n; ++i) d.push(i);
    REQUIRE(d.capacity() >= n);
    // Half from the top, half from the bottom: all values come back exactly once.
    std::vector<int> seen(n + 1, 0);
    for (std::uintptr_t i = 0; i < n / 2; ++i) {
        auto r = d.steal();
        REQUIRE(r.status == status::success);
        REQUIRE(r.item == i + 1);
        ++seen[r.item];
    }
    while (std::uintptr_t v = d.pop()) ++seen[v];
    for (std::uintptr_t i = 1; i <= n; ++i) REQUIRE(seen[i] == 1);
}

TEST_CASE("deque: wraps around without losing items", "[deque]") {
    deque d(8);
    std::uintptr_t next = 1, expected = 1;
    for (int round = 0; round < 1000; ++round) {
        for (int k = 0; k < 5; ++k) d.push(next++);
        for (int k = 0; k < 5; ++k) {
            auto r = d.steal();
            REQUIRE(r.status == status::success);
            REQUIRE(r.item == expected++);
        }
    }
    REQUIRE(d.capacity() == 8);  // never needed to grow
}

TEST_CASE("deque: a ring full when last looked at is reused once thieves emptied it", "[deque]") {
    // The owner keeps the last top it read and reads top again only when that says the
    // ring is full: a ring the thieves emptied meanwhile must be reused, not grown, and
    // the reused slots must hold the new items.
    deque d(8);
    for (std::uintptr_t i = 1; i <= 8; ++i) d.push(i);
    for (std::uintptr_t i = 1; i <= 8; ++i) REQUIRE(d.steal().item == i);
    for (std::uintptr_t i = 9; i <= 16; ++i) d.push(i);
    REQUIRE(d.capacity() == 8);
    d.push(17);  // now really full: grows, keeping 9..16 in order
    REQUIRE(d.capacity() == 16);
    for (std::uintptr_t i = 9; i <= 12; ++i) REQUIRE(d.steal().item == i);
    for (std::uintptr_t i = 17; i >= 13; --i) REQUIRE(d.pop() == i);
    REQUIRE(d.pop() == 0);
}

TEST_CASE("deque: one owner and several thieves take every item exactly once", "[deque][concurrency]") {
    const std::size_t items = microtask_test::scaled(2'000'000);
    const int thieves = 3;
    deque d(16);
    std::vector<std::atomic<std::uint8_t>> taken(items + 1);
    std::atomic<bool> done{false};
    std::atomic<std::size_t> stolen_count{0};

    std::vector<std::thread> threads;
    for (int t = 0; t < thieves; ++t) {
        threads.emplace_back([&] {
            std::size_t mine = 0;
            while (!done.load(std::memory_order_acquire) || !d.empty()) {
                auto r = d.steal();
                if (r.status == status::success) {
                    taken[r.item].fetch_add(1, std::memory_order_relaxed);
                    ++mine;
                }
            }
            stolen_count.fetch_add(mine);
        });
    }
    // The owner pushes in bursts and pops some back, so the deque grows and drains
    // repeatedly while thieves race it for the last item.
    std::uintptr_t next = 1;
    while (next <= items) {
        const std::uintptr_t burst = 1 + (next * 7919) % 300;
        for (std::uintptr_t k = 0; k < burst && next <= items; ++k) d.push(next++);
        for (std::uintptr_t k = 0; k < burst / 2; ++k) {
            if (std::uintptr_t v = d.pop()) taken[v].fetch_add(1, std::memory_order_relaxed);
        }
    }
    while (std::uintptr_t v = d.pop()) taken[v].fetch_add(1, std::memory_order_relaxed);
    done.store(true, std::memory_order_release);
    for (auto& t : threads) t.join();

    std::size_t lost = 0, duplicated = 0;
    for (std::size_t i = 1; i <= items; ++i) {
        const auto count = taken[i].load();
        lost += count == 0;
        duplicated += count > 1;
    }
    CHECK(lost == 0);
    CHECK(duplicated == 0);
    CHECK(stolen_count.load() > 0);  // the thieves really competed
}
