#include "test_support.hpp"

#include <microtask/microtask.hpp>

#include "catch.hpp"

#include <cmath>
#include <cstring>
#include <numeric>
#include <ranges>
#include <stdexcept>
#include <string>
#include <vector>

namespace mt = microtask;

TEST_CASE("decompose: grain gives parts of at most n covering the range in order", "[decompose]") {
    for (long n : {0L, 1L, 4095L, 4096L, 4097L, 100'000L}) {
        CAPTURE(n);
        auto parts = mt::decompose(mt::iota(0L, n), mt::grain(4096));
        REQUIRE(parts.size() == static_cast<std::size_t>((n + 4095) / 4096));
        long next = 0;
        for (auto part : parts) {
            REQUIRE(!part.empty());
            REQUIRE(part.size() <= 4096);
            REQUIRE(*part.begin() == next);
            next += static_cast<long>(part.size());
        }
        REQUIRE(next == n);
    }
}

TEST_CASE("decompose: chunks gives min(k, size) nearly equal parts", "[decompose]") {
    std::vector<int> values(10);
    auto parts = mt::decompose(values, mt::chunks(3));
    REQUIRE(parts.size() == 3);
    REQUIRE(parts[0].size() == 4);
    REQUIRE(parts[1].size() == 3);
    REQUIRE(parts[2].size() == 3);
    REQUIRE(mt::decompose(values, mt::chunks(50)).size() == 10);
    auto adaptive = mt::decompose(mt::iota(0, 1'000'000));
    REQUIRE(adaptive.size() == mt::adaptive::max_leaves);
}

TEST_CASE("decompose, distribute, reduce: the three primitives step by step", "[decompose][distribute]") {
    const auto threads = GENERATE(1, 2, 3, 8);
    mt::thread_pool pool{threads};
    const long n = 1'000'003;
    auto parts = mt::decompose(mt::iota(0L, n), mt::grain(4096));
    auto partials = mt::distribute(pool, parts, [](auto part) {
        long s = 0;
        for (long i : part) s += i % 1000;
        return s;
    });
    REQUIRE(partials.size() == parts.size());
    long expected_first = 0;
    for (long i = 0; i < static_cast<long>(parts[0].size()); ++i) expected_first += i % 1000;
    REQUIRE(partials[0] == expected_first);  // results come back in part order
    long expected = 0;
    for (long i = 0; i < n; ++i) expected += i % 1000;
    REQUIRE(mt::reduce(partials, mt::sum<long>{}) == expected);
}

namespace {
struct power {
    double base;
    int exponent;
};
}  // namespace

TEST_CASE("decompose with a user decomposer: 2^10 as ten subtasks of 2^1", "[decompose][distribute]") {
    mt::thread_pool pool{4};
    auto split = [](const power& p) {
        return std::vector<power>(static_cast<std::size_t>(p.exponent), power{p.base, 1});
    };
    auto subtasks = mt::decompose(power{2.0, 10}, split);
    REQUIRE(subtasks.size() == 10);
    auto partials = mt::distribute(pool, subtasks, [](const power& p) { return std::pow(p.base, p.exponent); });
    REQUIRE(mt::reduce(partials, mt::product<double>{}) == 1024.0);
}

TEST_CASE("distribute: void subtasks, ordering of results, and exceptions", "[distribute]") {
    mt::thread_pool pool{3};
    std::vector<std::string> names{"alpha", "beta", "gamma", "delta"};
    auto lengths = mt::distribute(pool, names, [](const std::string& s) { return s.size(); });
    REQUIRE(lengths == std::vector<std::size_t>{5, 4, 5, 5});

    std::vector<int> counters(100, 0);
    auto indices = mt::iota(0, 100);
    mt::distribute(pool, indices, [&](int i) { counters[static_cast<std::size_t>(i)] += 1; });
    REQUIRE(std::accumulate(counters.begin(), counters.end(), 0) == 100);

    REQUIRE_THROWS_WITH(mt::distribute(pool, indices,
                                       [](int i) {
                                           if (i == 42) throw std::runtime_error("part 42 failed");
                                           return i;
                                       }),
                        "part 42 failed");
    std::vector<int> none;
    REQUIRE(mt::distribute(pool, none, [](int i) { return i; }).empty());
}

TEST_CASE("errors: bad arguments throw std::invalid_argument saying what was wrong", "[errors]") {
    REQUIRE_THROWS_AS(mt::grain(0), std::invalid_argument);
    REQUIRE_THROWS_WITH(mt::grain(0), "microtask::grain: grain size must be at least 1 (got 0)");
    REQUIRE_THROWS_AS(mt::chunks(0), std::invalid_argument);
    REQUIRE_THROWS_WITH(mt::chunks(0), "microtask::chunks: chunk count must be at least 1 (got 0)");
    REQUIRE_THROWS_AS(mt::iota(5, 2), std::invalid_argument);
    REQUIRE_THROWS_WITH(mt::iota(5, 2), "microtask::iota: first (5) must not be greater than last (2)");
    REQUIRE_THROWS_WITH(mt::grain(-1), "microtask::grain: grain size must be at least 1 (got -1)");
    REQUIRE_NOTHROW(mt::iota(3, 3));
}

namespace {

// Not commutative and not associative in floating point: any change in the order or the
// grouping of combines shows in the bits.
struct affine {
    double scale = 1.0;
    double shift = 0.0;
};
struct compose_affine {
    using value_type = affine;
    [[nodiscard]] affine identity() const { return {}; }
    // (left then right): x -> right.scale * (left.scale * x + left.shift) + right.shift
    void combine(affine& left, affine&& right) const {
        left = {right.scale * left.scale, right.scale * left.shift + right.shift};
    }
    void accumulate(affine& acc, double x) const { combine(acc, affine{1.0 + x * 1e-3, x}); }
};

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

TEST_CASE("decompose, distribute, reduce combine like the fused map_reduce, bit for bit (issue 17)",
          "[decompose][distribute][determinism]") {
    // The step-by-step reduce used to be a left fold, which differed from map_reduce's
    // canonical tree in 13 of these 16 cases.
    const std::size_t threads = GENERATE(1u, 2u, 3u, 7u);
    mt::thread_pool pool(threads);
    const auto value = [](long i) { return std::sin(static_cast<double>(i)) * 1e3; };
    // 10^6 in the plain build, 10^5 under the sanitizers.
    const std::vector<long> sizes{1000L, 10'000L, 100'000L, static_cast<long>(microtask_test::scaled(1'000'000))};
    for (long n : sizes) {
        for (long g : {1L, 7L, 100L, 1000L}) {
            INFO("threads " << threads << ", n " << n << ", grain " << g);
            const auto parts = mt::decompose(mt::iota(0L, n), mt::grain(g));
            std::vector<double> sums = mt::distribute(pool, parts, [&](auto part) {
                double s = 0.0;
                for (long i : part) s += value(i);
                return s;
            });
            const double fused = mt::map_reduce(pool, mt::iota(0L, n), value, mt::sum<double>{}, mt::grain(g));
            CHECK(same_bits(mt::reduce(sums, mt::sum<double>{}), fused));             // lvalue partials
            CHECK(same_bits(mt::reduce(std::move(sums), mt::sum<double>{}), fused));  // moved partials
            if (n > 10'000) continue;
            std::vector<affine> maps = mt::distribute(pool, parts, [&](auto part) {
                affine acc;
                for (long i : part) compose_affine{}.accumulate(acc, value(i));
                return acc;
            });
            const affine fused_map = mt::map_reduce(pool, mt::iota(0L, n), value, compose_affine{}, mt::grain(g));
            const affine stepwise = mt::reduce(maps, compose_affine{});
            CHECK(same_bits(stepwise.scale, fused_map.scale));
            CHECK(same_bits(stepwise.shift, fused_map.shift));
        }
    }
}

TEST_CASE("reduce without a pool: the canonical tree over any input range, concat keeps order",
          "[decompose][determinism]") {
    // A range that is not sized (a filter) is collected first and combined the same way.
    std::vector<double> values(5000);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = std::sin(static_cast<double>(i)) * 1e3;
    auto positive = values | std::views::filter([](double x) { return x > 0; });
    std::vector<double> kept(positive.begin(), positive.end());
    const double tree = mt::map_reduce(
        mt::default_pool(), kept, [](double x) { return x; }, mt::sum<double>{}, mt::grain(1));
    CHECK(same_bits(mt::reduce(positive, mt::sum<double>{}), tree));
    CHECK(same_bits(mt::reduce(kept, mt::sum<double>{}), tree));
    // concat over the parts puts them back in order, also with more parts than adaptive's
    // leaves.
    std::vector<std::vector<int>> pieces(5000);
    for (std::size_t i = 0; i < pieces.size(); ++i) pieces[i] = {static_cast<int>(i), -static_cast<int>(i)};
    const std::vector<int> joined = mt::reduce(std::move(pieces), mt::concat<std::vector<int>>{});
    REQUIRE(joined.size() == 10'000);
    for (std::size_t i = 0; i < 5000; ++i) {
        REQUIRE(joined[2 * i] == static_cast<int>(i));
        REQUIRE(joined[2 * i + 1] == -static_cast<int>(i));
    }
}
