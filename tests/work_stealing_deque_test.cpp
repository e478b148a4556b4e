#include "test_support.hpp"

#include <microtask/detail/work_stealing_deque.hpp>

#include "catch.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>
#include <vector>

using deque = microtask::detail::work_stealing_deque<std::uintptr_t>;
using status = deque::steal_status;

namespace {
/// Threads that steal from a deque until stop() is called and the deque is empty,
/// counting in `taken[item]` each item they take.
class counting_thieves {
public:
    counting_thieves(deque& d, std::vector<std::atomic<std::uint8_t>>& taken, int count) {
        for (int t = 0; t < count; ++t) {
            m_threads.emplace_back([this, &d, &taken] {
                std::size_t mine = 0;
                while (!m_done.load(std::memory_order_acquire) || !d.empty()) {
                    const auto r = d.steal();
                    if (r.status == status::success) {
                        taken[r.item].fetch_add(1, std::memory_order_relaxed);
                        ++mine;
                    }
                }
                m_stolen.fetch_add(mine);
            });
        }
    }
    counting_thieves(const counting_thieves&) = delete;
    counting_thieves& operator=(const counting_thieves&) = delete;
    ~counting_thieves() { stop(); }

    /// Waits for the thieves to empty the deque and end; returns how many items they took.
    std::size_t stop() {
        m_done.store(true, std::memory_order_release);
        for (auto& t : m_threads) {
            if (t.joinable()) t.join();
        }
        return m_stolen.load();
    }

private:
    std::atomic<bool> m_done{false};
    std::atomic<std::size_t> m_stolen{0};
    std::vector<std::thread> m_threads;
};

/// Runs `round()` (which returns how many items its thieves stole) until some round's
/// thieves stole something, for up to 10 s; returns the total stolen. One round usually
/// suffices, but on a loaded machine the thieves' threads may not get a core before the
/// owner is done, and a race test in which nobody raced proves nothing.
template <class Round>
std::size_t rounds_until_stolen(Round round) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::size_t stolen = 0;
    do {
        stolen += round();
    } while (stolen == 0 && std::chrono::steady_clock::now() < deadline);
    return stolen;
}

/// Checks that every item 1..taken.size()-1 was taken exactly once.
void require_each_taken_once(const std::vector<std::atomic<std::uint8_t>>& taken) {
    std::size_t lost = 0, duplicated = 0;
    for (std::size_t i = 1; i < taken.size(); ++i) {
        const auto count = taken[i].load();
        lost += count == 0;
        duplicated += count > 1;
    }
    CHECK(lost == 0);
    CHECK(duplicated == 0);
}
}  // namespace

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
    const std::size_t stolen = rounds_until_stolen([items] {
        deque d(16);
        std::vector<std::atomic<std::uint8_t>> taken(items + 1);
        counting_thieves thieves(d, taken, 3);
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
        const std::size_t stolen_here = thieves.stop();
        require_each_taken_once(taken);
        return stolen_here;
    });
    CHECK(stolen > 0);  // the thieves really competed
}

TEST_CASE("deque: take_back returns the owner's newest item only while it is the newest and unclaimed", "[deque]") {
    deque d(4);
    const std::int64_t first = d.push(1);
    const std::int64_t second = d.push(2);
    REQUIRE(second == first + 1);
    // Not the newest: something lies above it, and nothing is taken.
    REQUIRE_FALSE(d.take_back(first));
    REQUIRE(d.size_hint() == 2);
    REQUIRE(d.take_back(second));
    REQUIRE(d.take_back(first));  // now it is the newest, and the last item
    REQUIRE(d.empty());

    // Claimed by a thief first: take_back says so and leaves the deque empty and usable.
    const std::int64_t third = d.push(3);
    const auto stolen = d.steal();
    REQUIRE(stolen.status == status::success);
    REQUIRE(stolen.item == 3);
    REQUIRE_FALSE(d.take_back(third));
    REQUIRE(d.empty());
    REQUIRE(d.pop() == 0);
    const std::int64_t fourth = d.push(4);
    REQUIRE(fourth == third + 1);
    REQUIRE(d.pop() == 4);
}

TEST_CASE("deque: take_back races thieves for every item, and each is taken exactly once", "[deque][concurrency]") {
    // The fork's shape: push, push and pop some work above it, then take the first item
    // back, often as the last item of the deque, while thieves steal from the other end.
    const std::size_t items = microtask_test::scaled(1'000'000);
    std::size_t taken_back = 0;
    const std::size_t stolen = rounds_until_stolen([items, &taken_back] {
        deque d(8);  // small, so that the pushes above also grow the ring
        std::vector<std::atomic<std::uint8_t>> taken(items + 1);
        counting_thieves thieves(d, taken, 2);
        std::uintptr_t next = 1;
        while (next <= items) {
            const std::uintptr_t mine = next++;
            const std::int64_t index = d.push(mine);
            const std::uintptr_t above = mine % 5 == 0 ? mine % 23 : 0;
            for (std::uintptr_t k = 0; k < above && next <= items; ++k) d.push(next++);
            // The general pop() takes back what lies above (never `mine`: it stops at it).
            while (d.size_hint() > 0 && d.bottom_index() > index + 1) {
                if (const std::uintptr_t v = d.pop()) taken[v].fetch_add(1, std::memory_order_relaxed);
            }
            if (d.bottom_index() == index + 1 && d.take_back(index)) {
                taken[mine].fetch_add(1, std::memory_order_relaxed);
                ++taken_back;
            }
        }
        const std::size_t stolen_here = thieves.stop();
        require_each_taken_once(taken);
        return stolen_here;
    });
    CHECK(taken_back > 0);
    CHECK(stolen > 0);
}
