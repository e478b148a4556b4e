// mt::fold: the leaf-body form of map_reduce.
#include <microtask/microtask.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace mt = microtask;

TEST_CASE("fold hands each part to the body and combines in input order", "[fold]") {
    const std::size_t threads = GENERATE(1, 2, 3, 7);
    mt::thread_pool pool{threads};
    const std::size_t n = microtask_test::scaled(1'000'003);
    std::vector<int> values(n);
    std::iota(values.begin(), values.end(), 0);

    SECTION("a filter into a vector, in order (concat: exactly associative)") {
        const std::vector<int> kept =
            mt::fold(pool, values, mt::concat<std::vector<int>>{}, [](std::vector<int>& out, auto part) {
                for (int x : part)
                    if (x % 3 == 0) out.push_back(x);
            });
        REQUIRE(kept.size() == (n + 2) / 3);
        for (std::size_t k = 0; k < kept.size(); ++k) REQUIRE(kept[k] == static_cast<int>(3 * k));
    }
    SECTION("identity and an in-place combine; every element seen once") {
        std::atomic<std::size_t> calls{0};
        const std::vector<int> all = mt::fold(
            pool, values, std::vector<int>{},
            [&](std::vector<int>& out, auto part) {
                ++calls;
                out.insert(out.end(), part.begin(), part.end());
            },
            [](std::vector<int>& left, std::vector<int>&& right) {
                left.insert(left.end(), right.begin(), right.end());
            },
            mt::grain(1000));
        REQUIRE(all == values);
        REQUIRE(calls == (n + 999) / 1000);  // not exactly associative: one body call per leaf
    }
    SECTION("an index range, with a by-value combine") {
        const std::uint64_t sum = mt::fold(
            pool, mt::iota(std::uint64_t{0}, std::uint64_t{n}), std::uint64_t{0},
            [](std::uint64_t& acc, auto part) {
                for (std::uint64_t i : part) acc += i;
            },
            [](std::uint64_t a, std::uint64_t b) { return a + b; }, mt::chunks(5));
        REQUIRE(sum == std::uint64_t{n} * (n - 1) / 2);
    }
    SECTION("an empty range gives the identity without calling the body") {
        bool called = false;
        const std::string s = mt::fold(
            pool, std::vector<int>{}, std::string("id"), [&](std::string&, auto) { called = true; },
            [](std::string a, std::string b) { return a + b; });
        REQUIRE(s == "id");
        REQUIRE_FALSE(called);
    }
}

TEST_CASE("fold is deterministic for a floating-point accumulator across pool sizes", "[fold][determinism]") {
    const std::size_t n = microtask_test::scaled(500'000);
    const auto term = [](std::size_t i) { return 1.0 / (1.0 + static_cast<double>(i) * 0.37); };
    const auto body = [&](double& acc, auto part) {
        for (std::size_t i : part) acc += term(i);
    };
    double reference = 0;
    for (std::size_t threads : {1, 2, 3, 7}) {
        mt::thread_pool pool{threads};
        for (int round = 0; round < 3; ++round) {
            const double got = mt::fold(pool, mt::iota(std::size_t{0}, n), mt::sum<double>{}, body);
            if (threads == 1 && round == 0) reference = got;
            INFO("threads " << threads << " round " << round);
            REQUIRE(std::memcmp(&got, &reference, sizeof got) == 0);
        }
    }
    // And the step-by-step canonical fold on one thread gives the same bits.
    REQUIRE(mt::fold(mt::iota(std::size_t{0}, n), mt::sum<double>{}, body) == reference);
}

TEST_CASE("fold rethrows the first exception of a body and the pool stays usable", "[fold][exceptions]") {
    const std::size_t threads = GENERATE(1, 2, 7);
    mt::thread_pool pool{threads};
    std::atomic<int> runs{0};
    REQUIRE_THROWS_WITH(mt::fold(
                            pool, mt::iota(0, 10'000), mt::sum<long>{},
                            [&](long& acc, auto part) {
                                ++runs;
                                for (int i : part) {
                                    if (i == 5000) throw std::runtime_error("body");
                                    acc += i;
                                }
                            },
                            mt::grain(100)),
                        "body");
    REQUIRE(runs >= 1);
    REQUIRE(runs <= 100);
    REQUIRE(mt::fold(pool, mt::iota(0, 100), mt::sum<long>{}, [](long& acc, auto part) {
                for (int i : part) acc += i;
            }) == 4950);
}
