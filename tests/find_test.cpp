// The searches of find.hpp: the same answers as the standard algorithms, early exit,
// exceptions, and ranges of every shape the concepts admit.
#include "catch.hpp"
#include "test_support.hpp"

#include <microtask/microtask.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <random>
#include <ranges>
#include <stdexcept>
#include <type_traits>
#include <vector>

namespace mt = microtask;
using microtask_test::scaled;

TEST_CASE("find_first: the same iterator as std::ranges::find_if, whatever the pool", "[find]") {
    const int threads = GENERATE(range(1, 8));
    mt::thread_pool pool(threads);
    const std::size_t n =
        GENERATE(std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{1023}, std::size_t{1025}, scaled(300'000));
    std::vector<std::uint32_t> values(n);
    std::mt19937 rng(static_cast<std::uint32_t>(n * 7 + static_cast<std::size_t>(threads)));
    for (auto& v : values) v = rng() % 1'000'000;
    // Matches: none, one at the front, the back, the middle, and several (the first counts).
    std::vector<std::size_t> positions{0, n / 2, n == 0 ? 0 : n - 1, n / 3, n / 5 * 4};
    for (std::size_t count = 0; count <= positions.size(); ++count) {
        std::vector<std::uint32_t> data = values;
        for (std::size_t k = 0; k < count && n > 0; ++k) data[positions[k]] = 1'000'000 + static_cast<std::uint32_t>(k);
        auto is_marked = [](std::uint32_t x) { return x >= 1'000'000; };
        INFO("n=" << n << " threads=" << threads << " marks=" << count);
        const auto expected = std::ranges::find_if(data, is_marked);
        REQUIRE(mt::find_first(pool, data, is_marked) == expected);
        const auto any = mt::find_any(pool, data, is_marked);
        if (expected == data.end()) {
            REQUIRE(any == data.end());
        } else {
            REQUIRE(any != data.end());
            REQUIRE(is_marked(*any));
        }
        REQUIRE(mt::any_of(pool, data, is_marked) == std::ranges::any_of(data, is_marked));
        REQUIRE(mt::none_of(pool, data, is_marked) == std::ranges::none_of(data, is_marked));
        auto unmarked = [&](std::uint32_t x) { return !is_marked(x); };
        REQUIRE(mt::all_of(pool, data, unmarked) == std::ranges::all_of(data, unmarked));
    }
}

TEST_CASE("find_first: every match position in a short range", "[find]") {
    mt::thread_pool pool(3);
    const std::size_t n = 3000;
    std::vector<int> data(n, 0);
    for (std::size_t at = 0; at < n; at += 7) {
        data[at] = 1;
        REQUIRE(mt::find_first(pool, data, [](int x) { return x == 1; }) == data.begin() + static_cast<long>(at));
        data[at] = 0;
    }
}

TEST_CASE("find: a match near the front stops the search early", "[find][early_exit]") {
    const int threads = GENERATE(range(1, 8));
    mt::thread_pool pool(threads);
    const std::size_t n = scaled(2'000'000);
    std::vector<int> data(n, 0);
    data[10] = 1;
    std::atomic<std::size_t> calls{0};
    auto counted = [&calls](int x) {
        calls.fetch_add(1, std::memory_order_relaxed);
        return x == 1;
    };
    REQUIRE(mt::find_first(pool, data, counted) == data.begin() + 10);
    // Each thread notices the match within one search block of 1024 elements.
    REQUIRE(calls.load() < n / 10);
    calls = 0;
    REQUIRE(mt::any_of(pool, data, counted));
    REQUIRE(calls.load() < n / 10);
    calls = 0;
    REQUIRE_FALSE(mt::all_of(pool, data, [&](int x) { return !counted(x); }));
    REQUIRE(calls.load() < n / 10);
}

TEST_CASE("find: the default pool, views and rvalue ranges", "[find]") {
    auto squares = std::views::iota(0, 100'000) | std::views::transform([](int i) { return i * i; });
    const auto it = mt::find_first(squares, [](int x) { return x > 1'000'000; });
    REQUIRE(it == std::ranges::find_if(squares, [](int x) { return x > 1'000'000; }));
    REQUIRE(*it == 1001 * 1001);
    REQUIRE(mt::any_of(std::views::iota(0, 1000), [](int i) { return i == 999; }));
    REQUIRE(mt::none_of(std::views::iota(0, 1000), [](int i) { return i < 0; }));
    REQUIRE(mt::all_of(std::views::iota(0, 1000), [](int i) { return i >= 0; }));
    REQUIRE(*mt::find_any(std::views::iota(0, 1000), [](int i) { return i % 100 == 99; }) % 100 == 99);
    // An rvalue container does not outlive the call: like std::ranges::find_if, no iterator.
    static_assert(
        std::is_same_v<decltype(mt::find_first(std::vector<int>{}, [](int) { return true; })), std::ranges::dangling>);
    static_assert(std::is_same_v<decltype(mt::find_first(std::views::iota(0, 3), [](int) { return true; })),
                                 std::ranges::iterator_t<std::ranges::iota_view<int, int>>>);
}

TEST_CASE("find: the predicate's exception reaches the caller, the pool stays usable", "[find][exceptions]") {
    const int threads = GENERATE(1, 2, 7);
    mt::thread_pool pool(threads);
    const std::size_t n = scaled(200'000);
    std::vector<int> data(n, 0);
    auto throwing = [n](int x) {
        if (static_cast<std::size_t>(x) == n) throw std::runtime_error("bad element");
        return x == 1;
    };
    data[n / 2] = static_cast<int>(n);
    REQUIRE_THROWS_AS(mt::find_first(pool, data, throwing), std::runtime_error);
    REQUIRE_THROWS_AS(mt::any_of(pool, data, throwing), std::runtime_error);
    data[n / 2] = 1;
    REQUIRE(mt::find_first(pool, data, throwing) == data.begin() + static_cast<long>(n / 2));
}

TEST_CASE("find: stopped token before and during the search", "[find][cancellation]") {
    const int threads = GENERATE(1, 4, 7);
    mt::thread_pool pool(threads);
    const std::size_t n = scaled(500'000);
    std::vector<int> data(n, 0);
    std::stop_source source;
    std::atomic<std::size_t> calls{0};
    auto stops = [&](int) {
        if (calls.fetch_add(1) == 5000) source.request_stop();
        return false;
    };
    REQUIRE_THROWS_AS(mt::find_first(pool, data, stops, source.get_token()), mt::operation_cancelled);
    REQUIRE(calls.load() < n);
    calls = 0;
    REQUIRE_THROWS_AS(mt::any_of(pool, data, stops, source.get_token()), mt::operation_cancelled);
    REQUIRE(calls.load() == 0);
    REQUIRE(mt::find_first(pool, data, stops) == data.end());  // no token: runs to the end
}

TEST_CASE("find: from inside a task of the pool, and nested in another search's predicate", "[find][nested]") {
    const int threads = GENERATE(1, 2, 5);
    mt::thread_pool pool(threads);
    const std::size_t n = scaled(100'000);
    std::vector<int> data(n, 0);
    data[n / 3] = 1;
    auto from_task = pool.submit([&] { return mt::find_first(pool, data, [](int x) { return x == 1; }); });
    const auto it = from_task.get();
    REQUIRE(it == data.begin() + static_cast<long>(n / 3));
    // The outer search's predicate runs an inner search: the outer hit is the first row
    // whose inner search finds the mark.
    std::vector<std::vector<int>> rows(64, std::vector<int>(1000, 0));
    rows[40][999] = 1;
    rows[50][0] = 1;
    const auto row = mt::find_first(
        pool, rows, [&pool](const std::vector<int>& r) { return mt::any_of(pool, r, [](int x) { return x == 1; }); });
    REQUIRE(row == rows.begin() + 40);
}
