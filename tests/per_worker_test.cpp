// mt::per_worker: one value per thread that works for a pool, combined at the end.
#include <microtask/for_each.hpp>
#include <microtask/per_worker.hpp>
#include <microtask/range.hpp>
#include <microtask/reducers.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <numeric>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

namespace mt = microtask;

TEST_CASE("per_worker counts combine to the exact total, for sizes 0, 1 and odd", "[per_worker]") {
    const std::size_t threads = GENERATE(1, 2, 3, 8);
    mt::thread_pool pool{threads};
    for (std::size_t n :
         {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{1001}, microtask_test::scaled(1'000'003)}) {
        CAPTURE(n);
        mt::per_worker<std::uint64_t> sums(pool);
        mt::for_each(
            pool, mt::iota(std::size_t{0}, n), [&](std::size_t i) { sums.local() += i; }, mt::grain(64));
        REQUIRE(sums.combine(mt::sum<std::uint64_t>{}) == std::uint64_t{n} * (n == 0 ? 0 : n - 1) / 2);
        // One value per thread that took part: never more than the pool's threads plus the caller.
        REQUIRE(sums.size() <= threads + 1);
        REQUIRE((n == 0 || sums.size() >= 1));
    }
}

TEST_CASE("each thread gets its own value, made once by the factory", "[per_worker]") {
    mt::thread_pool pool{4};
    std::atomic<int> made{0};
    mt::per_worker<std::vector<std::thread::id>> seen(pool, [&] {
        made.fetch_add(1, std::memory_order_relaxed);
        return std::vector<std::thread::id>{};
    });
    const std::size_t n = microtask_test::scaled(200'001);
    mt::for_each(
        pool, mt::iota(std::size_t{0}, n), [&](std::size_t) { seen.local().push_back(std::this_thread::get_id()); },
        mt::grain(16));
    REQUIRE(static_cast<std::size_t>(made.load()) == seen.size());
    std::size_t total = 0;
    std::set<std::thread::id> owners;
    seen.for_each([&](std::vector<std::thread::id>& ids) {
        total += ids.size();
        // A worker's value is only ever touched by that worker.
        const std::set<std::thread::id> distinct(ids.begin(), ids.end());
        if (!ids.empty()) {
            REQUIRE(distinct.size() == 1);
            owners.insert(ids.front());
        }
    });
    REQUIRE(total == n);
    seen.clear();
    REQUIRE(seen.size() == 0);
}

TEST_CASE("threads without a seat in the pool get values of their own", "[per_worker]") {
    mt::thread_pool pool{2};
    mt::per_worker<int> counts(pool);
    std::vector<std::thread> outside;
    for (int t = 0; t < 5; ++t) {
        outside.emplace_back([&] {
            for (int k = 0; k < 1000; ++k) ++counts.local();
        });
    }
    for (auto& thread : outside) thread.join();
    ++counts.local();
    REQUIRE(counts.combine(mt::sum<int>{}) == 5001);
    REQUIRE(counts.size() == 6);
}

TEST_CASE("a factory that throws reaches the caller and stores nothing", "[per_worker]") {
    mt::thread_pool pool{2};
    bool fail = true;
    mt::per_worker<int> values(pool, [&] {
        if (fail) throw std::runtime_error("factory");
        return 7;
    });
    REQUIRE_THROWS_WITH(values.local(), "factory");
    REQUIRE(values.size() == 0);
    fail = false;
    REQUIRE(values.local() == 7);
}
