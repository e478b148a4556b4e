// mt::pipeline: serial source, parallel transform, serial in-order sink.
#include <microtask/pipeline.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace mt = microtask;

TEST_CASE("pipeline output equals the serial loop's, in order, with the bound kept", "[pipeline]") {
    const std::size_t threads = GENERATE(1, 2, 4);
    mt::thread_pool pool{threads};
    for (std::size_t tokens : {std::size_t{1}, std::size_t{2}, std::size_t{7}}) {
        for (std::size_t n :
             {std::size_t{0}, std::size_t{1}, std::size_t{3}, std::size_t{1001}, microtask_test::scaled(100'003)}) {
            CAPTURE(threads, tokens, n);
            std::size_t produced = 0;
            std::atomic<std::size_t> in_flight{0};
            std::size_t most_in_flight = 0;  // written by the sink only (serial)
            std::vector<std::string> out;
            mt::pipeline(
                pool, tokens,
                [&]() -> std::optional<std::uint64_t> {
                    if (produced == n) return std::nullopt;
                    in_flight.fetch_add(1, std::memory_order_relaxed);
                    return produced++;
                },
                [](std::uint64_t x) { return std::to_string(x * x % 1000003); },
                [&](std::string&& s) {
                    most_in_flight = std::max(most_in_flight, in_flight.load(std::memory_order_relaxed));
                    in_flight.fetch_sub(1, std::memory_order_relaxed);
                    out.push_back(std::move(s));
                });
            REQUIRE(out.size() == n);
            for (std::uint64_t i = 0; i < n; ++i) REQUIRE(out[i] == std::to_string(i * i % 1000003));
            REQUIRE(most_in_flight <= tokens);
            REQUIRE(in_flight.load() == 0);
        }
    }
}

TEST_CASE("a stage's exception reaches the caller; the pool stays usable", "[pipeline]") {
    mt::thread_pool pool{3};
    for (int failing_stage = 0; failing_stage < 3; ++failing_stage) {
        CAPTURE(failing_stage);
        int next = 0;
        std::vector<int> out;
        auto source = [&]() -> std::optional<int> {
            if (failing_stage == 0 && next == 500) throw std::runtime_error("stage");
            if (next == 1000) return std::nullopt;
            return next++;
        };
        auto transform = [&](int x) {
            if (failing_stage == 1 && x == 500) throw std::runtime_error("stage");
            return x + 1;
        };
        auto sink = [&](int&& x) {
            if (failing_stage == 2 && x == 501) throw std::runtime_error("stage");
            out.push_back(x);
        };
        REQUIRE_THROWS_WITH(mt::pipeline(pool, 4, source, transform, sink), "stage");
        // Results up to the failure arrived in order.
        for (std::size_t i = 0; i < out.size(); ++i) REQUIRE(out[i] == static_cast<int>(i) + 1);
        REQUIRE(out.size() <= 500);
    }
    int left = 10;
    int total = 0;
    mt::pipeline(
        pool, 3, [&]() -> std::optional<int> { return left > 0 ? std::optional<int>(left--) : std::nullopt; },
        [](int x) { return 2 * x; }, [&](int&& x) { total += x; });
    REQUIRE(total == 110);
    REQUIRE_THROWS_AS(mt::pipeline(
                          pool, 0, [] { return std::optional<int>(); }, [](int x) { return x; }, [](int&&) {}),
                      std::invalid_argument);
}
