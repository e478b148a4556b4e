// The in-place reducer protocol: which form the concepts find, that the fold keeps one
// accumulator per run of leaves (copies and moves are O(leaves), not O(elements)), and
// that results stay bitwise identical across pool sizes on the in-place paths.
#include <microtask/microtask.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <map>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <valarray>
#include <vector>

namespace mt = microtask;

namespace {

// ---- The concepts tell the two forms apart ----------------------------------------------

struct in_place_sum {
    using value_type = long;
    long identity() const { return 0; }
    void combine(long& left, long&& right) const { left += right; }
};
struct by_value_sum {
    using value_type = long;
    long identity() const { return 0; }
    long combine(long a, long b) const { return a + b; }
};
// Near misses of the in-place form: each must not count as a reducer.
struct in_place_not_const {
    using value_type = long;
    long identity() const { return 0; }
    void combine(long& left, long&& right) { left += right; }
};
struct in_place_wrong_argument {
    using value_type = long;
    long identity() const { return 0; }
    void combine(long& left, const std::string& right) const { left += static_cast<long>(right.size()); }
};
struct in_place_returns_value {  // neither form: takes a reference but returns a value
    using value_type = std::string;
    std::string identity() const { return {}; }
    std::string combine(std::string& left, std::string&& right) const { return left + right; }
};
struct accumulates_lengths {
    using value_type = std::size_t;
    std::size_t identity() const { return 0; }
    void combine(std::size_t& left, std::size_t&& right) const { left += right; }
    void accumulate(std::size_t& acc, const std::string& s) const { acc += s.size(); }
};
struct accumulate_not_const {
    using value_type = std::size_t;
    std::size_t identity() const { return 0; }
    void combine(std::size_t& left, std::size_t&& right) const { left += right; }
    void accumulate(std::size_t& acc, const std::string& s) { acc += s.size(); }
};

static_assert(mt::combines_in_place<in_place_sum> && !mt::combines_by_value<in_place_sum>);
static_assert(mt::combines_by_value<by_value_sum> && !mt::combines_in_place<by_value_sum>);
static_assert(mt::reducer<in_place_sum> && mt::reducer<by_value_sum>);
static_assert(!mt::reducer<in_place_not_const>);
static_assert(!mt::reducer<in_place_wrong_argument>);
static_assert(!mt::reducer<in_place_returns_value>);
static_assert(mt::accumulates_in_place<accumulates_lengths, std::string>);
static_assert(mt::reducer_for<accumulates_lengths, std::string>);
static_assert(!mt::reducer_for<accumulate_not_const, std::string>);
static_assert(!mt::accumulates_in_place<accumulates_lengths, int>);
// Every built-in reducer combines in place.
static_assert(mt::combines_in_place<mt::sum<double>> && mt::combines_in_place<mt::product<long>>);
static_assert(mt::combines_in_place<mt::min<int>> && mt::combines_in_place<mt::max<float>>);
static_assert(mt::combines_in_place<mt::concat<std::vector<int>>>);
static_assert(mt::accumulates_in_place<mt::concat<std::vector<int>>, std::optional<int>>);
static_assert(mt::accumulates_in_place<mt::concat<std::vector<int>>, int>);
static_assert(mt::accumulates_in_place<mt::sum<std::string>, const char*>);
static_assert(mt::combines_in_place<mt::histogram<4>>);
static_assert(mt::accumulates_in_place<mt::histogram<4>, unsigned char>);
static_assert(mt::combines_in_place<mt::merge_maps<std::map<int, int>>>);
// make_reducer takes either form and reports which.
inline constexpr auto append_in_place = [](std::string& left, std::string&& right) { left += right; };
inline constexpr auto append_by_value = [](std::string a, std::string b) { return a + b; };
static_assert(mt::combines_in_place<decltype(mt::make_reducer(std::string{}, append_in_place))>);
static_assert(mt::combines_by_value<decltype(mt::make_reducer(std::string{}, append_by_value))>);
static_assert(mt::reducer_operation<decltype(append_in_place), std::string>);
static_assert(!mt::reducer_operation<decltype(append_in_place), int>);

// ---- An accumulator that counts its copies and moves ------------------------------------

struct copy_counts {
    std::atomic<std::size_t> copies{0};
    std::atomic<std::size_t> moves{0};
    void reset() {
        copies = 0;
        moves = 0;
    }
    std::size_t total() const { return copies + moves; }
};
copy_counts g_counts;

// A polynomial hash of the elements in order (value = sum of x_i * 31^(n-1-i), modulo
// 2^64, and power = 31^n): exactly associative and not commutative, so the order of
// combining shows. Every copy and move is counted.
struct counted_sum {
    std::uint64_t value = 0;
    std::uint64_t power = 1;
    counted_sum() = default;
    counted_sum(const counted_sum& other) : value(other.value), power(other.power) { ++g_counts.copies; }
    counted_sum(counted_sum&& other) noexcept : value(other.value), power(other.power) { ++g_counts.moves; }
    counted_sum& operator=(const counted_sum& other) {
        value = other.value;
        power = other.power;
        ++g_counts.copies;
        return *this;
    }
    counted_sum& operator=(counted_sum&& other) noexcept {
        value = other.value;
        power = other.power;
        ++g_counts.moves;
        return *this;
    }
    void append(std::uint64_t x) {
        value = value * 31 + x;
        power *= 31;
    }
};

template <bool Exact>
struct counted_reducer {
    using value_type = counted_sum;
    static constexpr bool is_exactly_associative = Exact;
    counted_sum identity() const { return {}; }
    void combine(counted_sum& left, counted_sum&& right) const {
        left.value = left.value * right.power + right.value;
        left.power *= right.power;
    }
    void accumulate(counted_sum& acc, std::uint64_t x) const { acc.append(x); }
};

// The same fold, sequentially: the expected value (wrapping arithmetic, exact).
std::uint64_t expected_counted(std::size_t n) {
    std::uint64_t acc = 0;
    for (std::size_t i = 0; i < n; ++i) acc = acc * 31 + i;
    return acc;
}

}  // namespace

TEST_CASE("the fold copies or moves an accumulator O(leaves) times, not O(elements)", "[in_place]") {
    const std::size_t threads = GENERATE(1, 2, 3, 7);
    mt::thread_pool pool{threads};
    const std::size_t n = microtask_test::scaled(1'000'000);
    const std::size_t grain = n / 100;  // 100 leaves
    const std::uint64_t want = expected_counted(n);
    const auto identity_map = [](std::size_t i) { return static_cast<std::uint64_t>(i); };
    INFO("threads " << threads << ", n " << n);

    SECTION("canonical tree (not exactly associative)") {
        g_counts.reset();
        const counted_sum got =
            mt::map_reduce(pool, mt::iota(std::size_t{0}, n), identity_map, counted_reducer<false>{}, mt::grain(grain));
        REQUIRE(got.value == want);
        INFO("copies " << g_counts.copies << ", moves " << g_counts.moves);
        REQUIRE(g_counts.total() <= 8 * 100);
    }
    SECTION("left to right (exactly associative)") {
        g_counts.reset();
        const counted_sum got =
            mt::map_reduce(pool, mt::iota(std::size_t{0}, n), identity_map, counted_reducer<true>{}, mt::grain(grain));
        REQUIRE(got.value == want);
        INFO("copies " << g_counts.copies << ", moves " << g_counts.moves);
        REQUIRE(g_counts.total() <= 8 * 100);
    }
    SECTION("adaptive (at most 2048 leaves)") {
        g_counts.reset();
        const counted_sum got =
            mt::map_reduce(pool, mt::iota(std::size_t{0}, n), identity_map, counted_reducer<false>{});
        REQUIRE(got.value == want);
        INFO("copies " << g_counts.copies << ", moves " << g_counts.moves);
        REQUIRE(g_counts.total() <= 8 * mt::adaptive::max_leaves);
    }
    SECTION("fold with a leaf body") {
        g_counts.reset();
        const counted_sum got = mt::fold(
            pool, mt::iota(std::size_t{0}, n), counted_reducer<false>{},
            [](counted_sum& acc, auto part) {
                for (std::size_t i : part) acc.append(i);
            },
            mt::grain(grain));
        REQUIRE(got.value == want);
        REQUIRE(g_counts.total() <= 8 * 100);
    }
}

namespace {

// A vector that logs its reserve() calls, and can be told to refuse them.
std::atomic<std::size_t> g_reserve_calls{0};
std::atomic<std::size_t> g_largest_reserve{0};
std::atomic<bool> g_refuse_reserve{false};

struct reserve_logging_vector : std::vector<int> {
    void reserve(std::size_t n) {
        g_reserve_calls.fetch_add(1, std::memory_order_relaxed);
        std::size_t seen = g_largest_reserve.load(std::memory_order_relaxed);
        while (seen < n && !g_largest_reserve.compare_exchange_weak(seen, n, std::memory_order_relaxed)) {
        }
        if (g_refuse_reserve.load(std::memory_order_relaxed)) throw std::bad_alloc();
        std::vector<int>::reserve(n);
    }
};

void reset_reserve_log(bool refuse) {
    g_reserve_calls = 0;
    g_largest_reserve = 0;
    g_refuse_reserve = refuse;
}

std::vector<int> kept_serially(std::size_t n, int keep_every) {
    std::vector<int> out;
    for (std::size_t i = 0; i < n; ++i)
        if (static_cast<int>(i) % keep_every == 0) out.push_back(static_cast<int>(i));
    return out;
}

}  // namespace

TEST_CASE("a run's accumulator reserves, after its first leaf, what the run will add at that rate",
          "[in_place][reducers]") {
    // 64 leaves of 100: the calling thread's run starts with leaf 0, which keeps 50, so it
    // reserves 50 for itself plus 50 for each of the 63 leaves left, plus 1/16 of those.
    // A thief's run reserves less (fewer leaves left). The result is the serial one.
    const std::size_t threads = GENERATE(1, 2, 3, 7);
    mt::thread_pool pool{threads};
    constexpr std::size_t n = 6400;
    const auto keep_even = [](std::size_t i) {
        return i % 2 == 0 ? std::optional<int>(static_cast<int>(i)) : std::nullopt;
    };
    INFO("threads " << threads);

    SECTION("the first leaf sets the reservation") {
        reset_reserve_log(false);
        const reserve_logging_vector got = mt::map_reduce(pool, mt::iota(std::size_t{0}, n), keep_even,
                                                          mt::concat<reserve_logging_vector>{}, mt::grain(100));
        REQUIRE(static_cast<const std::vector<int>&>(got) == kept_serially(n, 2));
        REQUIRE(g_largest_reserve.load() == 50 + 50 * 63 + 50 * 63 / 16);
    }
    SECTION("a refused reservation only leaves the accumulator to grow as before") {
        reset_reserve_log(true);
        const reserve_logging_vector got = mt::map_reduce(pool, mt::iota(std::size_t{0}, n), keep_even,
                                                          mt::concat<reserve_logging_vector>{}, mt::grain(100));
        REQUIRE(static_cast<const std::vector<int>&>(got) == kept_serially(n, 2));
        REQUIRE(g_reserve_calls.load() >= 1);
        reset_reserve_log(false);
    }
    SECTION("a first leaf that keeps nothing reserves nothing") {
        reset_reserve_log(false);
        const auto keep_last_leaf = [](std::size_t i) {
            return i >= n - 100 ? std::optional<int>(static_cast<int>(i)) : std::nullopt;
        };
        const reserve_logging_vector got = mt::map_reduce(pool, mt::iota(std::size_t{0}, n), keep_last_leaf,
                                                          mt::concat<reserve_logging_vector>{}, mt::grain(100));
        REQUIRE(got.size() == 100);
        REQUIRE(got.front() == static_cast<int>(n - 100));
        // A run of 8 leaves or more starts at leaf 55 at the latest, which keeps nothing.
        REQUIRE(g_reserve_calls.load() == 0);
    }
    SECTION("an accumulator that does not grow (bins summed element-wise) reserves nothing") {
        reset_reserve_log(false);
        reserve_logging_vector zeros;
        zeros.assign(16, 0);
        const auto add_bins = [](reserve_logging_vector& left, reserve_logging_vector&& right) {
            for (std::size_t bin = 0; bin < left.size(); ++bin) left[bin] += right[bin];
        };
        const reserve_logging_vector got = mt::fold(
            pool, mt::iota(std::size_t{0}, n), mt::make_reducer(zeros, add_bins, mt::exactly_associative),
            [](reserve_logging_vector& bins, auto part) {
                for (std::size_t i : part) ++bins[i % 16];
            },
            mt::grain(100));
        REQUIRE(got.size() == 16);
        for (int count : got) REQUIRE(count == static_cast<int>(n / 16));
        REQUIRE(g_reserve_calls.load() == 0);
    }
    SECTION("mt::fold's leaf body is treated alike") {
        reset_reserve_log(false);
        const reserve_logging_vector got = mt::fold(
            pool, mt::iota(std::size_t{0}, n), mt::concat<reserve_logging_vector>{},
            [](reserve_logging_vector& out, auto part) {
                for (std::size_t i : part)
                    if (i % 2 == 0) out.push_back(static_cast<int>(i));
            },
            mt::grain(100));
        REQUIRE(static_cast<const std::vector<int>&>(got) == kept_serially(n, 2));
        REQUIRE(g_largest_reserve.load() == 50 + 50 * 63 + 50 * 63 / 16);
    }
}

TEST_CASE("in-place paths are bitwise identical on pools of 1, 2, 3 and 7 threads", "[in_place][determinism]") {
    const std::size_t n = microtask_test::scaled(200'000);
    const auto values = [](std::size_t i) {
        return std::sin(static_cast<double>(i) * 0.001) * 1e3 + 1.0 / (1.0 + static_cast<double>(i));
    };

    // Reference results on one thread, then every other pool must match bit for bit.
    std::valarray<double> reference_va;
    std::vector<std::size_t> reference_concat;
    std::map<std::size_t, double> reference_map;
    double reference_fold = 0;
    for (std::size_t threads : {1, 2, 3, 7}) {
        mt::thread_pool pool{threads};
        INFO("threads " << threads);
        for (int round = 0; round < 3; ++round) {
            // Floating-point sum over a non-trivial type, combined in place (+=).
            const std::valarray<double> va = mt::map_reduce(
                pool, mt::iota(std::size_t{0}, n),
                [&](std::size_t i) {
                    return std::valarray<double>{values(i), values(i) * values(i), 1.0};
                },
                mt::sum<std::valarray<double>>{});
            // concat keeps the input order, with optionals accumulated in place.
            const std::vector<std::size_t> kept = mt::map_reduce(
                pool, mt::iota(std::size_t{0}, n),
                [&](std::size_t i) { return i % 7 == 3 ? std::optional(i) : std::nullopt; },
                mt::concat<std::vector<std::size_t>>{});
            // A map merge with floating-point values (not exactly associative: canonical tree).
            const std::map<std::size_t, double> merged = mt::map_reduce(
                pool, mt::iota(std::size_t{0}, n),
                [&](std::size_t i) {
                    return std::pair{i % 13, values(i)};
                },
                mt::merge_maps<std::map<std::size_t, double>>{});
            // A leaf body summing doubles, over the canonical tree.
            const double folded = mt::fold(
                pool, mt::iota(std::size_t{0}, n), 0.0,
                [&](double& acc, auto part) {
                    for (std::size_t i : part) acc += values(i);
                },
                [](double a, double b) { return a + b; });
            if (threads == 1 && round == 0) {
                reference_va = va;
                reference_concat = kept;
                reference_map = merged;
                reference_fold = folded;
                continue;
            }
            REQUIRE(va.size() == reference_va.size());
            for (std::size_t k = 0; k < va.size(); ++k)
                REQUIRE(std::memcmp(&va[k], &reference_va[k], sizeof(double)) == 0);
            REQUIRE(kept == reference_concat);
            REQUIRE(merged.size() == reference_map.size());
            for (const auto& [key, value] : merged) {
                REQUIRE(std::memcmp(&value, &reference_map.at(key), sizeof(double)) == 0);
            }
            REQUIRE(std::memcmp(&folded, &reference_fold, sizeof(double)) == 0);
        }
    }
    // And the values are right, not merely stable.
    REQUIRE(reference_concat.size() == (n + 3) / 7);
    for (std::size_t k = 0; k < reference_concat.size(); ++k) REQUIRE(reference_concat[k] == 7 * k + 3);
    REQUIRE(reference_va[2] == static_cast<double>(n));
    double sequential = 0;
    for (std::size_t i = 0; i < n; ++i) sequential += values(i);
    REQUIRE(std::abs(reference_fold - sequential) <= 1e-9 * std::abs(sequential));
    REQUIRE(std::abs(reference_va[0] - sequential) <= 1e-9 * std::abs(sequential));
}

TEST_CASE("make_reducer with an in-place operation", "[in_place][reducers]") {
    mt::thread_pool pool{3};
    const auto joined = mt::map_reduce(
        pool, mt::iota(0, 200), [](int i) { return std::to_string(i % 10); },
        mt::make_reducer(std::string{}, [](std::string& left, std::string&& right) { left += right; }), mt::grain(7));
    std::string want;
    for (int i = 0; i < 200; ++i) want += std::to_string(i % 10);
    REQUIRE(joined == want);
    REQUIRE(mt::combine(mt::make_reducer(std::string{}, append_in_place), "ab", "cd") == "abcd");
}

TEST_CASE("sum over class types adds in place; an empty valarray counts as zero", "[in_place][reducers]") {
    mt::thread_pool pool{2};
    const std::valarray<int> total = mt::map_reduce(
        pool, mt::iota(0, 1000),
        [](int i) {
            return std::valarray<int>{i, 1};
        },
        mt::sum<std::valarray<int>>{});
    REQUIRE(total.size() == 2);
    REQUIRE(total[0] == 999 * 1000 / 2);
    REQUIRE(total[1] == 1000);
    // reduce over a range of class values adds each one without a copy first.
    const std::vector<std::string> words{"a", "bc", "", "def"};
    REQUIRE(mt::reduce(pool, words, mt::sum<std::string>{}, mt::grain(1)) == "abcdef");
    REQUIRE(mt::combine(mt::sum<std::valarray<int>>{}, {}, {1, 2})[1] == 2);
}

namespace {
struct throwing_reducer {
    using value_type = std::vector<int>;
    static constexpr bool is_exactly_associative = true;
    std::vector<int> identity() const { return {}; }
    void combine(std::vector<int>& left, std::vector<int>&& right) const {
        if (!right.empty() && right.front() == -1) throw std::runtime_error("combine");
        left.insert(left.end(), right.begin(), right.end());
    }
    void accumulate(std::vector<int>& acc, int x) const {
        if (x == 777) throw std::runtime_error("accumulate");
        acc.push_back(x);
    }
};
}  // namespace

TEST_CASE("an exception inside an in-place accumulate or combine reaches the caller", "[in_place][exceptions]") {
    const std::size_t threads = GENERATE(1, 2, 3, 7);
    mt::thread_pool pool{threads};
    REQUIRE_THROWS_WITH(mt::map_reduce(
                            pool, mt::iota(0, 5000), [](int i) { return i; }, throwing_reducer{}, mt::grain(10)),
                        "accumulate");
    REQUIRE_THROWS_WITH(mt::reduce(std::vector<std::vector<int>>{{1}, {-1}}, throwing_reducer{}), "combine");
    // The pool is still usable.
    REQUIRE(mt::map_reduce(
                pool, mt::iota(0, 100), [](int i) { return i; }, mt::sum<int>{}) == 4950);
}

// ---- The filter idiom's branch-free gather (detail/gather_engaged.hpp) ------------------

static_assert(mt::detail::gathers_engaged_values<mt::concat<std::vector<int>>, std::optional<int>>);
static_assert(mt::detail::gathers_engaged_values<mt::concat<std::vector<double>>, std::optional<double>>);
// Not gathered: values that are not plain bytes, of another type than the element, bool,
// or an optional that is itself the element.
static_assert(!mt::detail::gathers_engaged_values<mt::concat<std::vector<std::string>>, std::optional<std::string>>);
static_assert(!mt::detail::gathers_engaged_values<mt::concat<std::vector<long>>, std::optional<int>>);
static_assert(!mt::detail::gathers_engaged_values<mt::concat<std::vector<bool>>, std::optional<bool>>);
static_assert(!mt::detail::gathers_engaged_values<mt::concat<std::vector<std::optional<int>>>, std::optional<int>>);

TEST_CASE("the optional filter keeps exactly the engaged values, in order, across buffer boundaries",
          "[in_place][reducers][filter]") {
    const auto threads = GENERATE(1, 2, 3, 7);
    mt::thread_pool pool(threads);
    CHECK(mt::detail::value_at_optional_start<int>());
    for (const std::size_t size : {0, 1, 255, 256, 257, 511, 513, 1000, 100003}) {
        std::vector<int> values(size);
        for (std::size_t i = 0; i < size; ++i) values[i] = static_cast<int>((i * 2654435761u) % 1000);
        // Nothing kept, everything kept, one in eight, runs of kept and dropped.
        const std::vector<std::function<bool(int)>> keeps = {[](int) { return false; }, [](int) { return true; },
                                                             [](int x) { return x % 8 == 0; },
                                                             [](int x) { return x % 100 < 50; }};
        for (const auto& keep : keeps) {
            CAPTURE(threads, size);
            std::vector<int> want;
            for (int x : values)
                if (keep(x)) want.push_back(x);
            auto got = mt::map_reduce(
                pool, values, [&](int x) { return keep(x) ? std::optional<int>(x) : std::nullopt; },
                mt::concat<std::vector<int>>{});
            REQUIRE(got == want);
            // A non-contiguous range (indices) takes the same path.
            std::vector<int> want_indices;
            for (std::size_t i = 0; i < size; ++i)
                if (keep(values[i])) want_indices.push_back(static_cast<int>(i));
            auto got_indices = mt::map_reduce(
                pool, mt::iota(0, static_cast<int>(size)),
                [&](int i) { return keep(values[static_cast<std::size_t>(i)]) ? std::optional<int>(i) : std::nullopt; },
                mt::concat<std::vector<int>>{});
            REQUIRE(got_indices == want_indices);
        }
    }
}

TEST_CASE("an exception from the map of the optional filter reaches the caller", "[in_place][filter][exceptions]") {
    const auto threads = GENERATE(1, 2, 3);
    mt::thread_pool pool(threads);
    std::vector<int> values(50000);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = static_cast<int>(i);
    auto filter = [&](int failing) {
        return mt::map_reduce(
            pool, values,
            [failing](int x) {
                if (x == failing) throw std::runtime_error("map");
                return x % 3 == 0 ? std::optional<int>(x) : std::nullopt;
            },
            mt::concat<std::vector<int>>{});
    };
    REQUIRE_THROWS_AS(filter(0), std::runtime_error);
    REQUIRE_THROWS_AS(filter(25000), std::runtime_error);
    REQUIRE_THROWS_AS(filter(49999), std::runtime_error);
    REQUIRE(filter(-1).size() == 16667);  // the pool is still usable
}
