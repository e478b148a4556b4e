// mt::sort and mt::stable_sort against std::sort and std::stable_sort.
#include <microtask/sort.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace mt = microtask;

namespace {

std::vector<std::int64_t> random_values(std::size_t n, std::uint64_t seed, std::int64_t bound) {
    microtask_test::splitmix64 rng(seed);
    std::vector<std::int64_t> values(n);
    for (auto& v : values) v = static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(bound)));
    return values;
}

// Sizes around every boundary: empty, one, odd, just below and above the serial cutoff
// (2 * 8192), and a size whose leaves and merges are all uneven.
const std::size_t k_sizes[] = {0, 1, 2, 3, 17, 1001, 16383, 16384, 16385, 100'003, 1'000'001};

}  // namespace

TEST_CASE("sort gives std::sort's order on random input", "[sort]") {
    const std::size_t threads = GENERATE(1, 2, 3, 8);
    mt::thread_pool pool{threads};
    for (std::size_t n : k_sizes) {
        n = std::min(n, microtask_test::scaled(n) + 16385);  // keep the parallel path under sanitizers
        CAPTURE(n);
        // Few distinct keys (many equal) and many distinct keys.
        for (std::int64_t bound : {std::int64_t{7}, std::int64_t{1} << 40}) {
            std::vector<std::int64_t> values = random_values(n, n * 31 + static_cast<std::uint64_t>(bound), bound);
            std::vector<std::int64_t> expected = values;
            std::sort(expected.begin(), expected.end());
            mt::sort(pool, values);
            REQUIRE(values == expected);
        }
    }
}

TEST_CASE("sort with a comparator, on a deque and on already ordered input", "[sort]") {
    mt::thread_pool pool{3};
    const std::size_t n = microtask_test::scaled(300'007) + 16385;
    std::vector<std::int64_t> source = random_values(n, 5, 1'000'000);

    std::deque<std::int64_t> descending(source.begin(), source.end());
    mt::sort(pool, descending, std::greater<>{});
    std::sort(source.begin(), source.end(), std::greater<>{});
    REQUIRE(std::equal(descending.begin(), descending.end(), source.begin(), source.end()));

    std::vector<std::int64_t> ascending(descending.rbegin(), descending.rend());
    std::vector<std::int64_t> expected = ascending;
    mt::sort(pool, ascending);  // sorted input
    REQUIRE(ascending == expected);
    std::reverse(ascending.begin(), ascending.end());
    mt::sort(pool, ascending);  // reversed input
    REQUIRE(ascending == expected);
}

TEST_CASE("stable_sort keeps equivalent elements in input order, for every pool size", "[sort]") {
    const std::size_t threads = GENERATE(1, 2, 5);
    mt::thread_pool pool{threads};
    for (std::size_t n : k_sizes) {
        n = std::min(n, microtask_test::scaled(n) + 16385);
        CAPTURE(n);
        // (key, original position): compared by key only, so the positions tell the order.
        std::vector<std::int64_t> keys = random_values(n, n + 11, 50);
        std::vector<std::pair<std::int64_t, std::size_t>> values(n);
        for (std::size_t i = 0; i < n; ++i) values[i] = {keys[i], i};
        auto by_key = [](const auto& a, const auto& b) { return a.first < b.first; };
        auto expected = values;
        std::stable_sort(expected.begin(), expected.end(), by_key);
        mt::stable_sort(pool, values, by_key);
        REQUIRE(values == expected);
    }
}

TEST_CASE("sort moves elements that cannot be copied or default-constructed", "[sort]") {
    mt::thread_pool pool{2};
    struct boxed {
        explicit boxed(std::int64_t v) : value(std::make_unique<std::int64_t>(v)) {}
        std::unique_ptr<std::int64_t> value;
    };
    const std::size_t n = microtask_test::scaled(100'001) + 16385;
    std::vector<std::int64_t> keys = random_values(n, 3, 1000);
    std::vector<boxed> values;
    values.reserve(n);
    for (std::int64_t k : keys) values.emplace_back(k);
    auto by_value = [](const boxed& a, const boxed& b) { return *a.value < *b.value; };
    mt::stable_sort(pool, values, by_value);
    std::stable_sort(keys.begin(), keys.end());
    for (std::size_t i = 0; i < n; ++i) REQUIRE(*values[i].value == keys[i]);
    std::vector<std::string> words;
    for (std::int64_t k : random_values(n, 4, 1 << 30)) words.push_back(std::to_string(k));
    std::vector<std::string> expected = words;
    std::sort(expected.begin(), expected.end());
    mt::sort(pool, words);
    REQUIRE(words == expected);
}

TEST_CASE("an exception from the comparator reaches the caller; the pool stays usable", "[sort]") {
    mt::thread_pool pool{3};
    const std::size_t n = microtask_test::scaled(200'000) + 16385;
    std::vector<std::string> words;
    for (std::int64_t k : random_values(n, 9, 1 << 30)) words.push_back(std::to_string(k));
    std::atomic<std::size_t> calls{0};
    auto failing = [&](const std::string& a, const std::string& b) {
        if (calls.fetch_add(1, std::memory_order_relaxed) == n) throw std::runtime_error("comparator");
        return a < b;
    };
    REQUIRE_THROWS_WITH(mt::stable_sort(pool, words, failing), "comparator");
    calls = 0;
    REQUIRE_THROWS_WITH(mt::sort(pool, words, failing), "comparator");
    // Valid (if unspecified) values remain, and the pool still sorts.
    mt::sort(pool, words);
    REQUIRE(std::is_sorted(words.begin(), words.end()));
}

TEST_CASE("the no-pool overloads sort on the default pool", "[sort]") {
    std::vector<std::int64_t> values = random_values(microtask_test::scaled(100'000) + 16385, 77, 1 << 20);
    std::vector<std::int64_t> expected = values;
    std::sort(expected.begin(), expected.end());
    std::vector<std::int64_t> copy = values;
    mt::sort(values);
    mt::stable_sort(copy);
    REQUIRE(values == expected);
    REQUIRE(copy == expected);
}
