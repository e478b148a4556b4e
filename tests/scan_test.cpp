// mt::inclusive_scan and mt::exclusive_scan against <numeric>, and their determinism.
#include <microtask/scan.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace mt = microtask;

namespace {

std::vector<std::int64_t> random_values(std::size_t n, std::uint64_t seed) {
    microtask_test::splitmix64 rng(seed);
    std::vector<std::int64_t> values(n);
    for (auto& v : values) v = static_cast<std::int64_t>(rng.below(2001)) - 1000;
    return values;
}

// Empty, one, odd, around the parallel threshold (2^15), and a large odd size.
const std::size_t k_sizes[] = {0, 1, 2, 3, 999, 32767, 32768, 32769, 1'000'003};

}  // namespace

TEST_CASE("inclusive_scan and exclusive_scan equal std's on random integers", "[scan]") {
    const std::size_t threads = GENERATE(1, 2, 3, 8);
    mt::thread_pool pool{threads};
    for (std::size_t n : k_sizes) {
        n = std::min(n, microtask_test::scaled(n) + 32769);
        CAPTURE(n);
        const std::vector<std::int64_t> values = random_values(n, n + 1);
        std::vector<std::int64_t> expected(n);
        std::vector<std::int64_t> got(n, -7);

        std::inclusive_scan(values.begin(), values.end(), expected.begin());
        REQUIRE(mt::inclusive_scan(pool, values, got.begin()) == got.end());
        REQUIRE(got == expected);

        std::exclusive_scan(values.begin(), values.end(), expected.begin(), std::int64_t{5});
        REQUIRE(mt::exclusive_scan(pool, values, got.begin(), std::int64_t{5}) == got.end());
        REQUIRE(got == expected);

        // Another operation, with another policy (leaves of at most 1000).
        std::vector<std::int64_t> serial(n);
        std::inclusive_scan(values.begin(), values.end(), serial.begin(), std::ranges::max);
        mt::inclusive_scan(pool, values, got.begin(), std::ranges::max, mt::grain(1000));
        REQUIRE(got == serial);
    }
}

TEST_CASE("a scan in place, and into a different output type", "[scan]") {
    mt::thread_pool pool{3};
    const std::size_t n = microtask_test::scaled(500'001) + 32769;
    std::vector<std::int64_t> values = random_values(n, 42);
    std::vector<std::int64_t> expected(n);
    std::exclusive_scan(values.begin(), values.end(), expected.begin(), std::int64_t{0});
    mt::exclusive_scan(pool, values, values.begin(), std::int64_t{0});
    REQUIRE(values == expected);

    std::vector<int> small(n, 1);
    std::vector<double> doubles(n);
    mt::inclusive_scan(pool, small, doubles.begin());
    for (std::size_t i = 0; i < n; i += 997) REQUIRE(doubles[i] == static_cast<double>(i + 1));

    std::vector<std::string> letters(2001, "ab");
    std::vector<std::string> joined(letters.size());
    mt::exclusive_scan(pool, letters, joined.begin(), std::string("<"), std::plus<>{},
                       mt::grain(7));  // concatenation: not commutative
    std::string want = "<";
    for (std::size_t i = 0; i < letters.size(); ++i, want += "ab") REQUIRE(joined[i] == want);
}

TEST_CASE("a floating-point scan is bitwise the same for every pool size", "[scan][determinism]") {
    const std::size_t n = microtask_test::scaled(2'000'003) + 32769;
    microtask_test::splitmix64 rng(7);
    std::vector<double> values(n);
    // Magnitudes over many orders, so that a different association changes the bits.
    for (auto& v : values) {
        const double unit = static_cast<double>(rng.next() >> 11) * 0x1p-53;
        v = (rng.below(2) ? unit : -unit) * std::pow(10.0, static_cast<double>(rng.below(11)) - 5.0);
    }
    auto run = [&](std::size_t threads, auto policy) {
        mt::thread_pool pool{threads};
        std::vector<double> out(n);
        mt::inclusive_scan(pool, values, out.begin(), std::plus<>{}, policy);
        return out;
    };
    for (std::size_t leaves : {std::size_t{3}, std::size_t{64}}) {
        const std::vector<double> reference = run(1, mt::chunks(leaves));
        for (std::size_t threads : {2, 3, 8}) {
            for (int repeat = 0; repeat < 3; ++repeat) {
                const std::vector<double> again = run(threads, mt::chunks(leaves));
                REQUIRE(std::memcmp(again.data(), reference.data(), n * sizeof(double)) == 0);
            }
        }
    }
    const std::vector<double> adaptive_one = run(1, mt::adaptive{});
    REQUIRE(std::memcmp(run(2, mt::adaptive{}).data(), adaptive_one.data(), n * sizeof(double)) == 0);
    // The check can fail: another leaf structure gives other bits on this input.
    REQUIRE(std::memcmp(run(2, mt::chunks(3)).data(), adaptive_one.data(), n * sizeof(double)) != 0);
}

TEST_CASE("an exception from the operation reaches the caller; the pool stays usable", "[scan]") {
    const std::size_t threads = GENERATE(1, 2, 4);
    mt::thread_pool pool{threads};
    const std::size_t n = microtask_test::scaled(400'000) + 32769;
    const std::vector<std::int64_t> values = random_values(n, 3);
    std::vector<std::int64_t> out(n);
    std::atomic<std::size_t> calls{0};
    auto failing = [&](std::int64_t a, std::int64_t b) {
        if (calls.fetch_add(1, std::memory_order_relaxed) == n / 2) throw std::runtime_error("op");
        return a + b;
    };
    REQUIRE_THROWS_WITH(mt::inclusive_scan(pool, values, out.begin(), failing), "op");
    std::vector<std::int64_t> expected(n);
    std::inclusive_scan(values.begin(), values.end(), expected.begin());
    mt::inclusive_scan(pool, values, out.begin());
    REQUIRE(out == expected);
}

TEST_CASE("the no-pool overloads scan on the default pool", "[scan]") {
    const std::vector<std::int64_t> values = random_values(100'001, 9);
    std::vector<std::int64_t> expected(values.size());
    std::vector<std::int64_t> got(values.size());
    std::inclusive_scan(values.begin(), values.end(), expected.begin());
    mt::inclusive_scan(values, got.begin());
    REQUIRE(got == expected);
    std::exclusive_scan(values.begin(), values.end(), expected.begin(), std::int64_t{-1});
    mt::exclusive_scan(values, got.begin(), std::int64_t{-1});
    REQUIRE(got == expected);
}
