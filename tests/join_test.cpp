#include "test_support.hpp"

#include <microtask/microtask.hpp>

#include "catch.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

namespace mt = microtask;

namespace {
long serial_fib(int n) { return n < 2 ? n : serial_fib(n - 1) + serial_fib(n - 2); }

long parallel_fib(mt::thread_pool& pool, int n) {
    if (n < 2) return n;
    auto [a, b] = mt::join(
        pool, [&] { return parallel_fib(pool, n - 1); }, [&] { return parallel_fib(pool, n - 2); });
    return a + b;
}
}  // namespace

TEST_CASE("join: returns both results", "[join]") {
    mt::thread_pool pool{4};
    auto [a, b] = mt::join(
        pool, [] { return serial_fib(20); }, [] { return std::string("right"); });
    REQUIRE(a == 6765);
    REQUIRE(b == "right");
}

TEST_CASE("join: a task per call of recursive fib, on every pool size", "[join][nested]") {
    const auto threads = GENERATE(1, 2, 3, 8);
    mt::thread_pool pool{threads};
    const int n = microtask_test::scaled(10) == 1 ? 18 : 22;
    REQUIRE(parallel_fib(pool, n) == serial_fib(n));
    // Also from inside a task of the pool (the caller is a worker then).
    REQUIRE(pool.submit([&] { return parallel_fib(pool, n); }).get() == serial_fib(n));
}

TEST_CASE("join: void callables give std::monostate", "[join]") {
    mt::thread_pool pool{2};
    std::atomic<int> calls{0};
    auto [a, b] = mt::join(
        pool, [&] { calls++; }, [&] { calls++; });
    STATIC_REQUIRE(std::is_same_v<decltype(a), std::monostate>);
    REQUIRE(calls == 2);
}

TEST_CASE("join: exceptions from either side reach the caller; the pool stays usable", "[join][exceptions]") {
    const auto threads = GENERATE(1, 2, 3);
    mt::thread_pool pool{threads};
    auto throws_left = [&] {
        (void)mt::join(
            pool, []() -> int { throw std::runtime_error("left"); }, [] { return 1; });
    };
    REQUIRE_THROWS_WITH(throws_left(), "left");

    auto throws_right = [&] {
        (void)mt::join(
            pool, [] { return 1; }, []() -> int { throw std::runtime_error("right"); });
    };
    REQUIRE_THROWS_WITH(throws_right(), "right");

    // Deep inside a recursion, with the right side likely stolen.
    std::function<long(int)> rec = [&](int n) -> long {
        if (n == 0) throw std::out_of_range("leaf");
        auto [x, y] = mt::join(
            pool, [&] { return rec(n - 1); }, [&] { return rec(n - 1); });
        return x + y;
    };
    REQUIRE_THROWS_AS(rec(10), std::out_of_range);
    REQUIRE(parallel_fib(pool, 15) == 610);
}

TEST_CASE("join: when the left side throws, a right side nobody started is skipped", "[join][exceptions]") {
    mt::thread_pool pool{1};
    std::atomic<bool> right_ran{false};
    // On a one-worker pool called from that worker, nobody can steal the right side.
    auto attempt = [&] {
        microtask_test::run_on_worker(pool, [&] {
            (void)mt::join(
                pool, []() -> int { throw std::runtime_error("stop"); },
                [&] {
                    right_ran = true;
                    return 0;
                });
        });
    };
    REQUIRE_THROWS_WITH(attempt(), "stop");
    REQUIRE_FALSE(right_ran);
}

namespace {
/// Counts its live instances, so that a test can see every one destroyed.
struct counted {
    static inline std::atomic<int> live{0};
    counted() noexcept { ++live; }
    counted(const counted&) noexcept { ++live; }
    counted(counted&&) noexcept { ++live; }
    counted& operator=(const counted&) = default;
    counted& operator=(counted&&) = default;
    ~counted() { --live; }
};
struct counted_error {
    counted payload;
};
}  // namespace

TEST_CASE("join: when the left side throws, a stolen right side's result or exception is destroyed",
          "[join][exceptions]") {
    // The right side lives in the caller's frame until the join returns: its result (or
    // its exception) must be destroyed, not leaked, when the left side's exception wins.
    const bool right_throws = GENERATE(false, true);
    mt::thread_pool pool{2};
    std::atomic<bool> right_started{false};
    bool right_was_stolen = false;
    auto attempt = [&] {
        (void)mt::join(
            pool,
            [&]() -> int {
                // The caller is not a worker: the right side can only run on a thief.
                const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
                while (!right_started.load() && std::chrono::steady_clock::now() < deadline) {
                    std::this_thread::yield();
                }
                right_was_stolen = right_started.load();
                throw std::runtime_error("left");
            },
            [&]() -> counted {
                right_started = true;
                if (right_throws) throw counted_error{};
                return counted{};
            });
    };
    REQUIRE_THROWS_WITH(attempt(), "left");
    REQUIRE(right_was_stolen);
    CHECK(counted::live.load() == 0);
}

TEST_CASE("join: without a pool argument it runs on default_pool", "[join][default_pool]") {
    // The left side (run by this thread) waits until the right side has started, so the
    // right side can only run by being stolen by a worker of the pool join pushed it to:
    // it must find itself on a default_pool() worker. (If nobody stole it in 20 s, this
    // thread runs it after the left side gives up, off the pool, and the check fails.)
    std::atomic<bool> right_started{false};
    auto [a, b] = mt::join(
        [&right_started] {
            const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
            while (!right_started.load() && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
            return 1;
        },
        [&right_started] {
            right_started = true;
            return mt::default_pool().this_worker_index().has_value();
        });
    REQUIRE(a == 1);
    REQUIRE(b);  // the right side ran on a worker of default_pool()
    auto [c, d] = mt::join([] { return serial_fib(15); }, [] { return serial_fib(14); });
    REQUIRE(c + d == serial_fib(16));
}

TEST_CASE("join: across two pools", "[join][nested]") {
    mt::thread_pool first{2};
    mt::thread_pool second{2};
    auto [a, b] = mt::join(
        first, [&] { return parallel_fib(second, 15); }, [&] { return parallel_fib(first, 15); });
    REQUIRE(a == 610);
    REQUIRE(b == 610);
}

TEST_CASE("join: callables passed as lvalues run in place, not as copies", "[join]") {
    // An outside call hands temporaries that are trivially copyable to its out-of-line
    // path by value (cheaper forks); a named callable must still be the one that runs,
    // so that the caller sees its state afterwards.
    const auto threads = GENERATE(1, 2);
    mt::thread_pool pool{threads};
    auto count_left = [calls = 0]() mutable { return ++calls; };
    auto count_right = [calls = 0]() mutable { return ++calls; };
    auto [first_left, first_right] = mt::join(pool, count_left, count_right);  // from outside
    REQUIRE(first_left == 1);
    REQUIRE(first_right == 1);
    auto [second_left, second_right] =
        pool.submit([&] { return mt::join(pool, count_left, count_right); }).get();  // from a worker
    REQUIRE(second_left == 2);
    REQUIRE(second_right == 2);
    REQUIRE(count_left() == 3);
    REQUIRE(count_right() == 3);
    // A move-only callable is never copied: it is passed by reference.
    auto owned = std::make_unique<int>(7);
    auto [value, unit] = mt::join(
        pool, [p = std::move(owned)] { return *p; }, [] {});
    REQUIRE(value == 7);
    STATIC_REQUIRE(std::is_same_v<decltype(unit), std::monostate>);
}

TEST_CASE("join: every seat knows its pool, private seats included", "[join][guests]") {
    // A fork's job keeps only its owner's seat; whoever runs it finds the pool through
    // the seat. Outside callers beyond the guest seats sit in private seats.
    mt::thread_pool pool{1};
    auto& sched = mt::detail::pool_access::of(pool);
    const std::size_t callers = std::clamp<std::size_t>(std::thread::hardware_concurrency(), 8, 32) + 2;
    std::atomic<std::size_t> inside{0};
    std::atomic<std::size_t> private_seen{0};
    std::atomic<std::size_t> wrong_pool{0};
    std::vector<std::thread> outside;
    for (std::size_t c = 0; c < callers; ++c) {
        outside.emplace_back([&] {
            auto [a, b] = mt::join(
                pool,
                [&] {
                    mt::detail::seat* own = sched.current_seat();
                    if (own == nullptr || own->pool != &sched) wrong_pool.fetch_add(1);
                    if (own != nullptr && own->is_private) private_seen.fetch_add(1);
                    // Hold the seat until every caller holds one, so that some must be private.
                    inside.fetch_add(1);
                    while (inside.load() < callers) std::this_thread::yield();
                    return parallel_fib(pool, 12);
                },
                [&] { return parallel_fib(pool, 11); });
            if (a + b != serial_fib(13)) wrong_pool.fetch_add(1);
        });
    }
    for (std::thread& thread : outside) thread.join();
    REQUIRE(wrong_pool.load() == 0);
    REQUIRE(private_seen.load() >= 2);
}
