// Bad input at run time: every runtime precondition of the public API that the library
// checks, tried with the boundary values and types, must throw the documented exception
// type with the documented message — also when the bad call happens inside a task and
// the exception travels to the caller through the pool. Each bad input leaves the pool
// usable. (Misuse that must not compile is tested in tests/compile_fail.)
#include "test_support.hpp"

#include <microtask/microtask.hpp>

#include "catch.hpp"

#include <climits>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

namespace mt = microtask;
using namespace microtask_test;

namespace {

/// Counts the bad inputs a test case tried, for its RELIABILITY line.
std::uint64_t g_bad_inputs = 0;

/// The test case's RELIABILITY line: the bad inputs tried, and the tasks it submitted
/// that must run (`tally`), with lost = submitted - ran, which must be 0.
void report(std::string_view name, const task_tally& tally) {
    reliability_counts counts{0, 0, g_bad_inputs, 0};
    counts.add(tally);
    REQUIRE(counts.lost == 0);
    report_reliability(name, counts);
}

/// Runs `bad`, which must throw exactly `Expected` (not merely something derived from
/// a base) with exactly `message`.
template <class Expected>
void require_rejected(const std::function<void()>& bad, const std::string& message) {
    ++g_bad_inputs;
    CAPTURE(message);
    bool threw = false;
    try {
        bad();
    } catch (const std::exception& e) {
        threw = true;
        CHECK(typeid(e) == typeid(Expected));
        CHECK(std::string(e.what()) == message);
    }
    REQUIRE(threw);
}

const std::string k_no_state =
    ": the future has no state (default-constructed, moved from, or get() was already called)";

std::string pool_below(const std::string& got) {
    return "microtask::thread_pool: thread count must be at least 1 (got " + got + ")";
}
std::string pool_above(const std::string& got) {
    return "microtask::thread_pool: thread count must be at most 4096 (got " + got + ")";
}
std::string grain_message(const std::string& got) {
    return "microtask::grain: grain size must be at least 1 (got " + got + ")";
}
std::string chunks_message(const std::string& got) {
    return "microtask::chunks: chunk count must be at least 1 (got " + got + ")";
}
std::string iota_message(const std::string& first, const std::string& last) {
    return "microtask::iota: first (" + first + ") must not be greater than last (" + last + ")";
}

}  // namespace

TEST_CASE(
    "bad input: thread_pool thread counts outside [1, 4096] are rejected for every integer type, "
    "with the value in the message",
    "[bad_input][thread_pool]") {
    g_bad_inputs = 0;
    using invalid = std::invalid_argument;
    require_rejected<invalid>([] { mt::thread_pool pool(0); }, pool_below("0"));
    require_rejected<invalid>([] { mt::thread_pool pool(-1); }, pool_below("-1"));
    require_rejected<invalid>([] { mt::thread_pool pool(INT_MIN); }, pool_below(std::to_string(INT_MIN)));
    require_rejected<invalid>([] { mt::thread_pool pool(std::size_t{0}); }, pool_below("0"));
    require_rejected<invalid>([] { mt::thread_pool pool(static_cast<short>(-7)); }, pool_below("-7"));
    require_rejected<invalid>([] { mt::thread_pool pool(static_cast<signed char>(0)); }, pool_below("0"));
    require_rejected<invalid>([] { mt::thread_pool pool(4097); }, pool_above("4097"));
    require_rejected<invalid>([] { mt::thread_pool pool(5000u); }, pool_above("5000"));
    require_rejected<invalid>([] { mt::thread_pool pool(LLONG_MAX); }, pool_above(std::to_string(LLONG_MAX)));
    require_rejected<invalid>([] { mt::thread_pool pool(std::numeric_limits<std::size_t>::max()); },
                              pool_above(std::to_string(std::numeric_limits<std::size_t>::max())));
    // The boundary below is accepted (4096 threads would be too slow to start here).
    mt::thread_pool one(1);
    REQUIRE(one.size() == 1);
    task_tally tally;
    tally.expect(1);
    REQUIRE(one.submit([&tally] {
                   tally.run_one();
                   return 1;
               })
                .get() == 1);
    report("bad_input_thread_pool", tally);
}

TEST_CASE("bad input: grain and chunks below 1 are rejected, negative values included, with the value in the message",
          "[bad_input][partition]") {
    g_bad_inputs = 0;
    using invalid = std::invalid_argument;
    require_rejected<invalid>([] { (void)mt::grain(0); }, grain_message("0"));
    require_rejected<invalid>([] { (void)mt::grain(-1); }, grain_message("-1"));
    require_rejected<invalid>([] { (void)mt::grain(LLONG_MIN); }, grain_message(std::to_string(LLONG_MIN)));
    require_rejected<invalid>([] { (void)mt::grain(std::size_t{0}); }, grain_message("0"));
    require_rejected<invalid>([] { (void)mt::grain(0u); }, grain_message("0"));
    require_rejected<invalid>([] { (void)mt::chunks(0); }, chunks_message("0"));
    require_rejected<invalid>([] { (void)mt::chunks(-5); }, chunks_message("-5"));
    require_rejected<invalid>([] { (void)mt::chunks(static_cast<short>(0)); }, chunks_message("0"));
    require_rejected<invalid>([] { (void)mt::chunks(std::size_t{0}); }, chunks_message("0"));
    REQUIRE(mt::grain(1).size == 1);
    REQUIRE(mt::chunks(1).count == 1);
    REQUIRE(mt::grain(std::numeric_limits<std::size_t>::max()).size == std::numeric_limits<std::size_t>::max());

    // Where the policies are used: the error comes from building the policy, before any work.
    mt::thread_pool pool(2);
    std::vector<int> data(100, 1);
    require_rejected<invalid>(
        [&] {
            (void)mt::map_reduce(
                pool, data, [](int x) { return x; }, mt::sum<int>{}, mt::grain(0));
        },
        grain_message("0"));
    require_rejected<invalid>(
        [&] {
            mt::for_each(
                pool, data, [](int&) {}, mt::chunks(0));
        },
        chunks_message("0"));
    require_rejected<invalid>([&] { (void)mt::decompose(data, mt::chunks(-1)); }, chunks_message("-1"));
    require_rejected<invalid>([&] { (void)mt::reduce(pool, data, mt::sum<int>{}, mt::grain(-2)); },
                              grain_message("-2"));
    task_tally tally;
    tally.expect(data.size());
    REQUIRE(mt::map_reduce(
                pool, data,
                [&tally](int x) {
                    tally.run_one();
                    return x;
                },
                mt::sum<int>{}, mt::grain(1)) == 100);
    report("bad_input_policies", tally);
}

TEST_CASE(
    "bad input: iota with first greater than last is rejected for every integer type and mix, with both "
    "values in the message",
    "[bad_input][iota]") {
    g_bad_inputs = 0;
    using invalid = std::invalid_argument;
    require_rejected<invalid>([] { (void)mt::iota(5, 2); }, iota_message("5", "2"));
    require_rejected<invalid>([] { (void)mt::iota(-1, -2); }, iota_message("-1", "-2"));
    require_rejected<invalid>([] { (void)mt::iota(1, 0); }, iota_message("1", "0"));
    require_rejected<invalid>([] { (void)mt::iota(10u, 3u); }, iota_message("10", "3"));
    require_rejected<invalid>([] { (void)mt::iota(5L, 2); }, iota_message("5", "2"));
    require_rejected<invalid>([] { (void)mt::iota(INT_MAX, INT_MIN); },
                              iota_message(std::to_string(INT_MAX), std::to_string(INT_MIN)));
    require_rejected<invalid>([] { (void)mt::iota(std::numeric_limits<std::size_t>::max(), std::size_t{0}); },
                              iota_message(std::to_string(std::numeric_limits<std::size_t>::max()), "0"));
    // Mixed signedness is compared by value, not after conversion: 0u > -1.
    require_rejected<invalid>([] { (void)mt::iota(0u, -1); }, iota_message("0", "-1"));
    require_rejected<invalid>([] { (void)mt::iota(std::size_t{3}, -1L); }, iota_message("3", "-1"));
    REQUIRE(mt::iota(3, 3).empty());
    REQUIRE(mt::iota(-5, 5).size() == 10);
    report("bad_input_iota", task_tally{});  // no task: tasks=0, lost=0 by count
}

TEST_CASE("bad input: a future without state rejects get, wait and is_ready with std::logic_error naming the member",
          "[bad_input][future]") {
    g_bad_inputs = 0;
    using logic = std::logic_error;
    mt::thread_pool pool(2);
    task_tally tally;
    auto counted = [&tally](auto task) {
        tally.expect(1);
        return [&tally, task] {
            tally.run_one();
            return task();
        };
    };
    for (int how = 0; how < 3; ++how) {
        // 0: default-constructed, 1: moved from, 2: after get().
        mt::future<int> value;
        mt::future<void> nothing;
        if (how == 1) {
            auto a = pool.submit(counted([] { return 1; }));
            auto b = pool.submit(counted([] {}));
            value = std::move(a);
            nothing = std::move(b);
            mt::future<int> taken_value = std::move(value);
            mt::future<void> taken_nothing = std::move(nothing);
            REQUIRE(taken_value.get() == 1);
            taken_nothing.get();
        } else if (how == 2) {
            value = pool.submit(counted([] { return 2; }));
            nothing = pool.submit(counted([] {}));
            REQUIRE(value.get() == 2);
            nothing.get();
        }
        CAPTURE(how);
        REQUIRE_FALSE(value.valid());
        REQUIRE_FALSE(nothing.valid());
        require_rejected<logic>([&] { (void)value.get(); }, "microtask::future::get" + k_no_state);
        require_rejected<logic>([&] { value.wait(); }, "microtask::future::wait" + k_no_state);
        require_rejected<logic>([&] { (void)value.is_ready(); }, "microtask::future::is_ready" + k_no_state);
        require_rejected<logic>([&] { nothing.get(); }, "microtask::future::get" + k_no_state);
        require_rejected<logic>([&] { nothing.wait(); }, "microtask::future::wait" + k_no_state);
        require_rejected<logic>([&] { (void)nothing.is_ready(); }, "microtask::future::is_ready" + k_no_state);
    }
    REQUIRE(pool.submit(counted([] { return 3; })).get() == 3);
    report("bad_input_future", tally);
}

TEST_CASE(
    "bad input: a bad argument inside a subtask reaches the caller with its type and message intact, "
    "through every primitive, and the pool stays usable",
    "[bad_input][exceptions]") {
    g_bad_inputs = 0;
    using invalid = std::invalid_argument;
    mt::thread_pool pool(3);
    const std::string message = grain_message("0");
    auto bad = [](int i) {
        if (i == 37) (void)mt::grain(i - 37);
        return i;
    };
    // Counted: the tasks the library must run (a submitted task, every task of a group,
    // and the last map_reduce). Subtasks an exception may cancel are not counted.
    task_tally tally;
    tally.expect(1);
    require_rejected<invalid>(
        [&] {
            (void)pool
                .submit([&] {
                    tally.run_one();
                    return bad(37);
                })
                .get();
        },
        message);
    require_rejected<invalid>([&] { (void)mt::map_reduce(pool, mt::iota(0, 100), bad, mt::sum<int>{}); }, message);
    require_rejected<invalid>([&] { (void)mt::map_reduce(pool, mt::iota(0, 100), bad, mt::sum<int>{}, mt::grain(1)); },
                              message);
    require_rejected<invalid>([&] { mt::for_each(pool, mt::iota(0, 100), [&](int i) { (void)bad(i); }); }, message);
    require_rejected<invalid>([&] { (void)mt::distribute(pool, mt::iota(0, 100), bad); }, message);
    require_rejected<invalid>(
        [&] {
            (void)mt::join(
                pool, [&] { return bad(1); }, [&] { return bad(37); });
        },
        message);
    require_rejected<invalid>(
        [&] {
            mt::task_group group(pool);
            tally.expect(100);
            for (int i = 0; i < 100; ++i) {
                group.run([&bad, &tally, i] {
                    tally.run_one();
                    (void)bad(i);
                });
            }
            group.wait();
        },
        message);
    // From inside a nested call on a worker: the error crosses two levels.
    require_rejected<invalid>(
        [&] {
            (void)pool
                .submit([&] { return mt::map_reduce(pool, mt::iota(0, 100), bad, mt::sum<int>{}, mt::chunks(4)); })
                .get();
        },
        message);
    tally.expect(100);
    REQUIRE(mt::map_reduce(
                pool, mt::iota(0, 100),
                [&tally](int i) {
                    tally.run_one();
                    return i;
                },
                mt::sum<int>{}) == 4950);
    report("bad_input_inside_tasks", tally);
}

TEST_CASE(
    "bad input: iota with a bound that would change value in the common index type is rejected "
    "(regression)",
    "[bad_input][iota]") {
    // Accepted before: iota(-1, 2u) became [4294967295, 2) of unsigned, whose elements
    // are 4294967295, 0, 1 (not -1, 0, 1) and whose end - begin is negative.
    g_bad_inputs = 0;
    using invalid = std::invalid_argument;
    const std::string not_representable = ") is not representable in the common type of first and last";
    require_rejected<invalid>([] { (void)mt::iota(-1, 2u); }, "microtask::iota: first (-1" + not_representable);
    require_rejected<invalid>([] { (void)mt::iota(-5L, std::size_t{3}); },
                              "microtask::iota: first (-5" + not_representable);
    require_rejected<invalid>([] { (void)mt::iota(INT_MIN, 0u); },
                              "microtask::iota: first (" + std::to_string(INT_MIN) + not_representable);
    REQUIRE(mt::iota(0, 5u).size() == 5);
    REQUIRE(mt::iota(-3L, 2u).size() == 5);              // long holds every unsigned: nothing changes value
    report("bad_input_iota_common_type", task_tally{});  // no task: tasks=0, lost=0 by count
}

TEST_CASE("iota: a range wider than its index type's maximum has the right size, parts and elements (regression)",
          "[bad_input][iota]") {
    // size() used to subtract in the signed type: INT_MAX - INT_MIN overflowed (UB) and
    // gave SIZE_MAX instead of 2^32 - 1. Indexing and iterator steps must not overflow
    // either (an offset past INT_MAX, computed in int, did).
    const auto everything = mt::iota(INT_MIN, INT_MAX);
    REQUIRE(everything.size() == std::size_t{UINT_MAX});
    REQUIRE(everything[0] == INT_MIN);
    REQUIRE(everything[everything.size() - 1] == INT_MAX - 1);
    // Offsets beyond INT_MAX through the iterator too (UBSan checks there is no overflow).
    const auto far = static_cast<std::ptrdiff_t>(everything.size() - 1);
    REQUIRE(*(everything.begin() + far) == INT_MAX - 1);
    REQUIRE(everything.begin()[far] == INT_MAX - 1);
    REQUIRE(*(everything.end() - far) == INT_MIN + 1);
    REQUIRE(everything.end() - everything.begin() == far + 1);
    const auto parts = mt::decompose(everything, mt::chunks(3));
    REQUIRE(parts.size() == 3);
    std::size_t total = 0;
    for (const auto& part : parts) total += part.size();
    REQUIRE(total == std::size_t{UINT_MAX});
    REQUIRE(*parts[0].begin() == INT_MIN);
    REQUIRE(*parts[1].begin() == INT_MIN + 1431655765);
    REQUIRE(*parts[2].begin() == 715827882);  // INT_MIN + 2 * 1431655765
    REQUIRE(mt::iota(std::int8_t{-128}, std::int8_t{127}).size() == 255);
    mt::thread_pool pool(2);
    REQUIRE(mt::map_reduce(
                pool, mt::iota(std::int8_t{-128}, std::int8_t{127}), [](std::int8_t i) { return int{i}; },
                mt::sum<int>{}) == -255);  // -128 + ... + 126
}
