// The counting reducers: elementwise_sum / histogram, merge_maps, count_keys.
#include <microtask/microtask.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <valarray>
#include <vector>

namespace mt = microtask;

namespace {
std::vector<unsigned char> random_bytes(std::size_t n, std::uint64_t seed) {
    microtask_test::splitmix64 rng(seed);
    std::vector<unsigned char> bytes(n);
    for (auto& b : bytes) b = static_cast<unsigned char>(rng.next() >> 56);
    return bytes;
}
}  // namespace

TEST_CASE("histogram counts each element in its bin", "[counting][histogram]") {
    const std::size_t threads = GENERATE(1, 2, 3, 7);
    mt::thread_pool pool{threads};
    const auto bytes = random_bytes(microtask_test::scaled(1'000'000) + 17, threads);
    std::array<std::size_t, 256> want{};
    for (unsigned char b : bytes) ++want[b];

    // Per element: the identity map and accumulate's ++acc[bin].
    REQUIRE(mt::reduce(pool, bytes, mt::histogram<256>{}) == want);
    REQUIRE(mt::reduce(pool, bytes, mt::histogram<256>{}, mt::grain(1000)) == want);
    // A leaf body over whole parts.
    REQUIRE(mt::fold(pool, bytes, mt::histogram<256>{}, [](auto& bins, auto part) {
                for (unsigned char b : part) ++bins[b];
            }) == want);
    // A map to a coarser bin, with a narrower count type.
    const auto coarse = mt::map_reduce(
        pool, bytes, [](unsigned char b) { return b / 64; }, mt::histogram<4, std::uint32_t>{});
    REQUIRE(coarse[0] + coarse[1] + coarse[2] + coarse[3] == bytes.size());
    std::uint32_t top_quarter = 0;
    for (std::size_t b = 192; b < 256; ++b) top_quarter += static_cast<std::uint32_t>(want[b]);
    REQUIRE(coarse[3] == top_quarter);
    // An empty range gives the identity: all zeros.
    REQUIRE(mt::reduce(pool, std::vector<unsigned char>{}, mt::histogram<256>{}) == std::array<std::size_t, 256>{});
}

TEST_CASE("elementwise_sum over vectors and valarrays", "[counting]") {
    mt::thread_pool pool{3};
    // A dynamic number of bins, set on the reducer.
    const std::size_t bins = 10;
    const std::vector<long> counts = mt::map_reduce(
        pool, mt::iota(0, 1000), [](int i) { return i % 10; }, mt::elementwise_sum<std::vector<long>>{bins});
    REQUIRE(counts == std::vector<long>(10, 100));
    // Whole arrays, added element by element; an empty identity takes any one length.
    const std::vector<double> sums = mt::map_reduce(
        pool, mt::iota(0, 100),
        [](int i) {
            return std::vector<double>{1.0, static_cast<double>(i)};
        },
        mt::elementwise_sum<std::vector<double>>{});
    REQUIRE(sums == std::vector<double>{100.0, 4950.0});
    const std::valarray<int> va = mt::map_reduce(
        pool, mt::iota(0, 10),
        [](int i) {
            return std::valarray<int>{i, 2 * i};
        },
        mt::elementwise_sum<std::valarray<int>>{});
    REQUIRE(va[0] == 45);
    REQUIRE(va[1] == 90);
    STATIC_REQUIRE(mt::elementwise_sum<std::vector<long>>::is_exactly_associative);
    STATIC_REQUIRE_FALSE(mt::elementwise_sum<std::vector<double>>::is_exactly_associative);
}

TEST_CASE("elementwise_sum rejects bins out of range and arrays of different sizes", "[counting][bad_input]") {
    mt::thread_pool pool{2};
    REQUIRE_THROWS_AS(mt::map_reduce(
                          pool, mt::iota(0, 100), [](int i) { return i; }, mt::histogram<50>{}),
                      std::out_of_range);
    REQUIRE_THROWS_WITH(mt::map_reduce(
                            pool, mt::iota(0, 3), [](int i) { return i - 1; }, mt::histogram<8>{}),
                        "microtask::elementwise_sum: bin -1 is outside [0, 8)");
    REQUIRE_THROWS_WITH(
        mt::map_reduce(
            pool, mt::iota(1, 4), [](int i) { return std::vector<int>(static_cast<std::size_t>(i), 1); },
            mt::elementwise_sum<std::vector<int>>{}, mt::grain(1)),
        Catch::Contains("partial results differ in size"));
    // Nothing was lost: the pool still works.
    REQUIRE(mt::reduce(pool, std::vector<unsigned char>{1, 1, 2}, mt::histogram<3>{})[1] == 2);
}

TEST_CASE("count_keys counts words; merge_maps merges with an operation, in order", "[counting][maps]") {
    const std::size_t threads = GENERATE(1, 2, 3, 7);
    mt::thread_pool pool{threads};
    std::vector<std::string> vocabulary;
    for (int i = 0; i < 300; ++i) vocabulary.push_back("w" + std::to_string(i));
    microtask_test::splitmix64 rng(42);
    std::vector<std::string_view> words(microtask_test::scaled(200'000));
    for (auto& w : words) w = vocabulary[rng.below(rng.below(300) + 1)];

    std::unordered_map<std::string, std::size_t> want;
    for (std::string_view w : words) ++want[std::string(w)];

    using counts = std::unordered_map<std::string, std::size_t>;
    const counts got = mt::map_reduce(
        pool, words, [](std::string_view w) { return w; }, mt::count_keys<counts>{});
    REQUIRE(got == want);
    STATIC_REQUIRE(mt::count_keys<counts>::is_exactly_associative);
    // std::map with transparent comparison looks up a string_view without building a string.
    const std::map<std::string, std::size_t, std::less<>> ordered =
        mt::reduce(pool, words, mt::count_keys<std::map<std::string, std::size_t, std::less<>>>{});
    REQUIRE(ordered.size() == want.size());
    for (const auto& [word, n] : ordered) REQUIRE(want.at(word) == n);

    // merge_maps with a non-commutative operation: the values of each key are joined in
    // input order, whichever map was larger when two were merged.
    const auto joined = mt::map_reduce(
        pool, mt::iota(0, 2000),
        [](int i) {
            return std::pair{i % 3, std::to_string(i % 10)};
        },
        mt::merge_maps<std::unordered_map<int, std::string>>{}, mt::grain(7));
    for (int key = 0; key < 3; ++key) {
        std::string expected;
        for (int i = key; i < 2000; i += 3) expected += std::to_string(i % 10);
        REQUIRE(joined.at(key) == expected);
    }
    // A custom operation: the maximum per key.
    const auto peak = mt::map_reduce(
        pool, mt::iota(0, 1000),
        [](int i) {
            return std::pair{i % 4, (i * 37) % 1000};
        },
        mt::merge_maps<std::map<int, int>, decltype([](int a, int b) { return a < b ? b : a; })>{});
    REQUIRE(peak.size() == 4);
    for (const auto& [key, value] : peak) {
        int expected = 0;
        for (int i = key; i < 1000; i += 4) expected = std::max(expected, (i * 37) % 1000);
        REQUIRE(value == expected);
    }
}

TEST_CASE("merge_maps merges the smaller map into the larger, keeping operand order", "[counting][maps]") {
    const mt::merge_maps<std::map<int, std::string>> merge;
    std::map<int, std::string> left{{1, "a"}};
    std::map<int, std::string> right{{1, "b"}, {2, "c"}, {3, "d"}};
    merge.combine(left, std::move(right));
    REQUIRE(left == std::map<int, std::string>{{1, "ab"}, {2, "c"}, {3, "d"}});
    std::map<int, std::string> big{{1, "x"}, {2, "y"}};
    merge.combine(big, std::map<int, std::string>{{2, "z"}});
    REQUIRE(big == std::map<int, std::string>{{1, "x"}, {2, "yz"}});
}
