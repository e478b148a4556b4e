#include <microtask/microtask.hpp>

#include "catch.hpp"

#include <atomic>
#include <deque>
#include <limits>
#include <list>
#include <map>
#include <optional>
#include <ranges>
#include <set>
#include <string>
#include <vector>

namespace mt = microtask;

namespace {
// A catalogue of near-misses: each must be rejected by the concept, so that misuse
// fails to compile with a message naming `reducer` / `reducer_for`.
struct no_identity {
    using value_type = int;
    int combine(int a, int b) const { return a + b; }
};
struct no_combine {
    using value_type = int;
    int identity() const { return 0; }
};
struct no_value_type {
    int identity() const { return 0; }
    int combine(int a, int b) const { return a + b; }
};
struct identity_of_wrong_type {
    using value_type = int;
    std::string identity() const { return {}; }
    int combine(int a, int b) const { return a + b; }
};
struct combine_not_const {
    using value_type = int;
    int identity() const { return 0; }
    int combine(int a, int b) { return a + b; }
};
struct user_sum {  // a correct user-written reducer
    using value_type = long;
    long identity() const { return 0; }
    long combine(long a, long b) const { return a + b; }
};
}  // namespace

TEST_CASE("reducer concepts accept reducers and reject near-misses", "[reducers][concepts]") {
    STATIC_REQUIRE(mt::reducer<mt::sum<int>>);
    STATIC_REQUIRE(mt::reducer<mt::product<double>>);
    STATIC_REQUIRE(mt::reducer<mt::min<float>>);
    STATIC_REQUIRE(mt::reducer<mt::max<long>>);
    STATIC_REQUIRE(mt::reducer<mt::concat<std::vector<int>>>);
    STATIC_REQUIRE(mt::reducer<mt::concat<std::string>>);
    STATIC_REQUIRE(mt::reducer<mt::concat<std::deque<int>>>);
    STATIC_REQUIRE(mt::reducer<mt::concat<std::list<int>>>);
    STATIC_REQUIRE(mt::reducer<user_sum>);
    STATIC_REQUIRE(mt::reducer_for<mt::sum<long>, int>);
    STATIC_REQUIRE(mt::reducer_for<mt::concat<std::vector<int>>, std::vector<int>>);

    STATIC_REQUIRE_FALSE(mt::reducer<no_identity>);
    STATIC_REQUIRE_FALSE(mt::reducer<no_combine>);
    STATIC_REQUIRE_FALSE(mt::reducer<no_value_type>);
    STATIC_REQUIRE_FALSE(mt::reducer<identity_of_wrong_type>);
    STATIC_REQUIRE_FALSE(mt::reducer<combine_not_const>);
    STATIC_REQUIRE_FALSE(mt::reducer<int>);
    STATIC_REQUIRE_FALSE(mt::reducer_for<mt::sum<int>, std::string>);
    // concat also accumulates single elements and optionals of them (see concat)...
    STATIC_REQUIRE(mt::reducer_for<mt::concat<std::vector<int>>, int>);
    STATIC_REQUIRE(mt::reducer_for<mt::concat<std::vector<int>>, std::optional<int>>);
    STATIC_REQUIRE(mt::accumulates<mt::concat<std::string>, char>);
    // ...but nothing else.
    STATIC_REQUIRE_FALSE(mt::reducer_for<mt::concat<std::vector<int>>, std::string>);
    STATIC_REQUIRE_FALSE(mt::reducer_for<mt::concat<std::vector<int>>, std::optional<std::string>>);
    STATIC_REQUIRE_FALSE(mt::accumulates<mt::sum<int>, int>);
    STATIC_REQUIRE_FALSE(mt::appendable_container<std::set<int>>);  // no insert at end
    STATIC_REQUIRE_FALSE(mt::appendable_container<std::map<int, int>>);
}

TEST_CASE("other concepts: ranges, map functions, decomposers", "[concepts]") {
    STATIC_REQUIRE(mt::splittable_range<std::vector<int>&>);
    STATIC_REQUIRE(mt::splittable_range<decltype(mt::iota(0, 1))>);
    STATIC_REQUIRE_FALSE(mt::splittable_range<std::list<int>&>);  // not random access
    STATIC_REQUIRE_FALSE(mt::splittable_range<std::set<int>&>);
    STATIC_REQUIRE(mt::map_function<int (*)(int), int>);
    STATIC_REQUIRE_FALSE(mt::map_function<void (*)(int), int>);  // nothing to reduce
    STATIC_REQUIRE_FALSE(mt::map_function<int (*)(std::string), int>);
    auto split = [](int n) { return std::vector<int>(static_cast<std::size_t>(n), 1); };
    STATIC_REQUIRE(mt::decomposer<decltype(split), int>);
    STATIC_REQUIRE_FALSE(mt::decomposer<decltype(split), std::string>);
    STATIC_REQUIRE(mt::partition_policy<mt::adaptive>);
    STATIC_REQUIRE_FALSE(mt::partition_policy<int>);
}

TEST_CASE("built-in reducers: identities and combines", "[reducers]") {
    REQUIRE(mt::sum<int>{}.identity() == 0);
    REQUIRE(mt::combine(mt::sum<int>{}, 2, 3) == 5);
    REQUIRE(mt::product<int>{}.identity() == 1);
    REQUIRE(mt::combine(mt::product<int>{}, 2, 3) == 6);
    REQUIRE(mt::min<int>{}.identity() == std::numeric_limits<int>::max());
    REQUIRE(mt::combine(mt::min<int>{}, 2, -3) == -3);
    REQUIRE(mt::max<double>{}.identity() == -std::numeric_limits<double>::infinity());
    REQUIRE(mt::combine(mt::max<double>{}, 2.5, -3) == 2.5);
    REQUIRE(mt::combine(mt::concat<std::string>{}, "ab", "cd") == "abcd");
    REQUIRE(mt::combine(mt::concat<std::vector<int>>{}, {}, {1, 2}) == std::vector<int>{1, 2});

    STATIC_REQUIRE(mt::sum<int>::is_exactly_associative);
    STATIC_REQUIRE_FALSE(mt::sum<double>::is_exactly_associative);
    STATIC_REQUIRE(mt::concat<std::string>::is_exactly_associative);
}

TEST_CASE("sum of a class type starts from its empty value, not T(0) (regression)", "[reducers]") {
    // sum<std::string>'s identity used to be std::string(0): construction from a null
    // pointer, undefined behaviour that ASan reports.
    REQUIRE(mt::sum<std::string>{}.identity().empty());
    mt::thread_pool pool{2};
    const std::string joined = mt::map_reduce(
        pool, mt::iota(0, 26), [](int i) { return std::string(1, static_cast<char>('a' + i)); }, mt::sum<std::string>{},
        mt::grain(3));
    REQUIRE(joined == "abcdefghijklmnopqrstuvwxyz");
}

TEST_CASE("concat moves the partial containers instead of copying them", "[reducers][concat]") {
    std::vector<int> left{1, 2};
    std::vector<int> right(1000, 7);
    const int* right_storage = right.data();
    auto joined = mt::combine(mt::concat<std::vector<int>>{}, std::vector<int>{}, std::move(right));
    REQUIRE(joined.data() == right_storage);  // an empty left side hands over the right buffer
    auto appended = mt::combine(mt::concat<std::vector<int>>{}, std::move(left), std::move(joined));
    REQUIRE(appended.size() == 1002);
    REQUIRE(appended.front() == 1);
}

TEST_CASE("make_reducer: identity, combine and the exactness tag", "[reducers]") {
    auto longest =
        mt::make_reducer(std::string{}, [](std::string a, std::string b) { return a.size() >= b.size() ? a : b; });
    STATIC_REQUIRE(mt::reducer<decltype(longest)>);
    STATIC_REQUIRE_FALSE(decltype(longest)::is_exactly_associative);
    REQUIRE(longest.identity().empty());
    REQUIRE(longest.combine("abc", "de") == "abc");
    REQUIRE(longest.combine("ab", "cd") == "ab");  // ties keep the left one: order matters

    auto bit_or = mt::make_reducer(
        0u, [](unsigned a, unsigned b) { return a | b; }, mt::exactly_associative);
    STATIC_REQUIRE(decltype(bit_or)::is_exactly_associative);
    mt::thread_pool pool{2};
    REQUIRE(mt::map_reduce(
                pool, mt::iota(0u, 16u), [](unsigned i) { return 1u << i; }, bit_or) == 0xFFFFu);
}

namespace {
// Counts copies of non-empty values: the reducer's identity (empty) is copied once per
// leaf of the tree, which is not a copy of a partial. Leaves run on the pool's threads,
// so the count is atomic (a plain int was a data race that TSan reported).
struct copy_counter {
    static inline std::atomic<int> copies{0};
    std::vector<int> items;
    copy_counter() = default;
    copy_counter(std::vector<int> v) : items(std::move(v)) {}
    copy_counter(const copy_counter& other) : items(other.items) { count_copy(); }
    copy_counter(copy_counter&&) noexcept = default;
    copy_counter& operator=(const copy_counter& other) {
        items = other.items;
        count_copy();
        return *this;
    }
    void count_copy() const {
        if (!items.empty()) copies.fetch_add(1, std::memory_order_relaxed);
    }
    copy_counter& operator=(copy_counter&&) noexcept = default;
};
}  // namespace

TEST_CASE("reduce: rvalue partials are moved into combine, lvalue partials are kept", "[reducers][reduce]") {
    auto append = mt::make_reducer(copy_counter{}, [](copy_counter a, copy_counter b) {
        a.items.insert(a.items.end(), b.items.begin(), b.items.end());
        return a;
    });
    std::vector<copy_counter> partials{copy_counter{{1, 2}}, copy_counter{{3}}, copy_counter{{4, 5}}};
    copy_counter::copies = 0;
    auto kept = mt::reduce(partials, append);
    REQUIRE(kept.items == std::vector<int>{1, 2, 3, 4, 5});
    REQUIRE(partials[0].items.size() == 2);  // the caller still has them
    const int copies_when_kept = copy_counter::copies.load();
    REQUIRE(copies_when_kept >= 3);

    copy_counter::copies = 0;
    auto moved = mt::reduce(std::move(partials), std::move(append));  // no reducer copy either
    REQUIRE(moved.items == std::vector<int>{1, 2, 3, 4, 5});
    REQUIRE(copy_counter::copies.load() == 0);  // no partial is copied
}

TEST_CASE("reduce: an rvalue view's elements belong to someone else and are not moved (regression)",
          "[reducers][reduce]") {
    std::vector<std::string> names{"ab", "cd", "ef"};
    auto joined = mt::reduce(names | std::views::filter([](const std::string& s) { return !s.empty(); }),
                             mt::concat<std::string>{});
    REQUIRE(joined == "abcdef");
    REQUIRE(names == std::vector<std::string>{"ab", "cd", "ef"});
}

TEST_CASE("min and max are exactly associative for integers only (NaN breaks it for floats)", "[reducers]") {
    STATIC_REQUIRE(mt::min<int>::is_exactly_associative);
    STATIC_REQUIRE(mt::max<long>::is_exactly_associative);
    STATIC_REQUIRE_FALSE(mt::min<double>::is_exactly_associative);
    STATIC_REQUIRE_FALSE(mt::max<float>::is_exactly_associative);
}

TEST_CASE("concat of optionals keeps the optionals when they are the elements (regression)", "[reducers][concat]") {
    mt::concat<std::vector<std::optional<int>>> keep_all;
    std::vector<std::optional<int>> parts{1, std::nullopt, 3};
    auto joined = mt::reduce(parts, keep_all);
    REQUIRE(joined == std::vector<std::optional<int>>{1, std::nullopt, 3});
    mt::thread_pool pool{2};
    auto mapped = mt::map_reduce(
        pool, mt::iota(0, 4), [](int i) { return i % 2 == 0 ? std::optional<int>(i) : std::nullopt; }, keep_all);
    REQUIRE(mapped == std::vector<std::optional<int>>{0, std::nullopt, 2, std::nullopt});
}
