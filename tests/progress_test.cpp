// Progress reports: mt::progress passed to map_reduce, reduce, fold, for_each and
// distribute, alone or with a stop token, on pools of 1-7 threads. Each report is
// recorded; the checks run on the caller's thread after the operation returned.
#include "catch.hpp"
#include "test_support.hpp"

#include <microtask/microtask.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <stop_token>
#include <thread>
#include <utility>
#include <vector>

namespace mt = microtask;
using microtask_test::scaled;

namespace {

/// Records every report, and whether two ever overlapped.
struct recorder {
    std::mutex mutex;
    std::vector<std::pair<std::size_t, std::size_t>> reports;
    std::atomic<int> inside{0};
    std::atomic<int> overlaps{0};

    void operator()(std::size_t done, std::size_t total) {
        if (inside.fetch_add(1) != 0) ++overlaps;
        // Stay inside a little, so that a concurrent call would be caught overlapping.
        std::this_thread::yield();
        {
            const std::lock_guard lock(mutex);
            reports.emplace_back(done, total);
        }
        inside.fetch_sub(1);
    }

    /// Never concurrent, never decreasing, every report of `total`; and, if `complete`,
    /// the last report is (total, total).
    void require_well_formed(std::size_t total, bool complete) {
        REQUIRE(overlaps.load() == 0);
        std::size_t previous = 0;
        for (const auto& [done, of] : reports) {
            REQUIRE(of == total);
            REQUIRE(done >= previous);
            REQUIRE(done <= total);
            previous = done;
        }
        if (complete) {
            REQUIRE_FALSE(reports.empty());
            REQUIRE(reports.back() == std::make_pair(total, total));
        } else {
            REQUIRE((reports.empty() || reports.back().first < total));
        }
    }
};

/// Work heavy enough per element that leaves finish at different times.
std::size_t busy(std::size_t i) {
    std::size_t x = i;
    for (int k = 0; k < 200; ++k) x = x * 6364136223846793005ull + 1442695040888963407ull;
    return (x >> 60) + i;
}

}  // namespace

TEST_CASE("progress: reports are never concurrent, never decrease, and end at (total, total)", "[progress]") {
    const int threads = GENERATE(range(1, 8));
    mt::thread_pool pool(threads);
    const std::size_t n = scaled(200'000);
    const auto range = mt::iota(std::size_t{0}, n);
    std::size_t expected = 0;
    for (std::size_t i = 0; i < n; ++i) expected += busy(i);

    recorder record;
    // Interval 0: a report after every leaf, the most a reporter can be asked to do.
    mt::progress bar([&record](std::size_t done, std::size_t total) { record(done, total); },
                     std::chrono::nanoseconds(0));

    SECTION("map_reduce, adaptive") {
        REQUIRE(mt::map_reduce(pool, range, busy, mt::sum<std::size_t>{}, bar) == expected);
        record.require_well_formed(n, true);
        REQUIRE(record.reports.size() >= 2);  // some report before the last one
        REQUIRE(bar.done() == n);
    }
    SECTION("map_reduce, grain(64), a by-value reducer (the canonical tree)") {
        auto by_value = mt::make_reducer(std::size_t{0}, [](std::size_t a, std::size_t b) { return a + b; });
        REQUIRE(mt::map_reduce(pool, range, busy, by_value, bar, mt::grain(64)) == expected);
        record.require_well_formed(n, true);
    }
    SECTION("reduce") {
        std::vector<std::size_t> values(n);
        std::iota(values.begin(), values.end(), std::size_t{0});
        REQUIRE(mt::reduce(pool, values, mt::sum<std::size_t>{}, bar) == n * (n - 1) / 2);
        record.require_well_formed(n, true);
    }
    SECTION("for_each") {
        std::vector<std::size_t> out(n);
        mt::for_each(
            pool, range, [&out](std::size_t i) { out[i] = busy(i); }, bar);
        REQUIRE(std::accumulate(out.begin(), out.end(), std::size_t{0}) == expected);
        record.require_well_formed(n, true);
    }
    SECTION("fold with a leaf body") {
        const auto total = mt::fold(
            pool, range, mt::sum<std::size_t>{},
            [](std::size_t& acc, auto part) {
                for (std::size_t i : part) acc += busy(i);
            },
            bar);
        REQUIRE(total == expected);
        record.require_well_formed(n, true);
    }
    SECTION("distribute counts parts") {
        const std::size_t parts = 97;
        const auto results = mt::distribute(
            pool, mt::iota(std::size_t{0}, parts), [](std::size_t p) { return busy(p); }, bar);
        REQUIRE(results.size() == parts);
        record.require_well_formed(parts, true);
    }
    SECTION("an empty range reports (0, 0) once") {
        REQUIRE(mt::map_reduce(pool, mt::iota(std::size_t{0}, std::size_t{0}), busy, mt::sum<std::size_t>{}, bar) == 0);
        REQUIRE(record.reports == std::vector<std::pair<std::size_t, std::size_t>>{{0, 0}});
    }
    SECTION("a progress object is reused by the next operation") {
        REQUIRE(mt::map_reduce(pool, range, busy, mt::sum<std::size_t>{}, bar) == expected);
        record.reports.clear();
        REQUIRE(mt::map_reduce(pool, mt::iota(std::size_t{0}, std::size_t{1000}), busy, mt::sum<std::size_t>{}, bar) >
                0);
        record.require_well_formed(1000, true);
    }
}

TEST_CASE("progress: at most one report per interval, plus the last", "[progress]") {
    mt::thread_pool pool(3);
    const std::size_t n = scaled(400'000);
    std::atomic<std::size_t> reports{0};
    const auto interval = std::chrono::milliseconds(20);
    mt::progress bar([&reports](std::size_t, std::size_t) { ++reports; }, interval);
    const auto start = std::chrono::steady_clock::now();
    (void)mt::map_reduce(pool, mt::iota(std::size_t{0}, n), busy, mt::sum<std::size_t>{}, bar, mt::grain(16));
    const auto elapsed = std::chrono::steady_clock::now() - start;
    // Each report moves the next one at least an interval later: however slow or fast the
    // machine, no more than elapsed / interval of them, plus the last.
    REQUIRE(reports.load() <= static_cast<std::size_t>(elapsed / interval) + 1);
    REQUIRE(reports.load() >= 1);
}

TEST_CASE("progress with a stop token: a cancelled operation makes no last report", "[progress][cancellation]") {
    const int threads = GENERATE(1, 2, 3, 7);
    mt::thread_pool pool(threads);
    const std::size_t n = scaled(200'000);
    recorder record;
    mt::progress bar([&record](std::size_t done, std::size_t total) { record(done, total); },
                     std::chrono::nanoseconds(0));
    // Stopped before the call: nothing runs, nothing is reported.
    std::stop_source before;
    before.request_stop();
    REQUIRE_THROWS_AS(
        mt::map_reduce(pool, mt::iota(std::size_t{0}, n), busy, mt::sum<std::size_t>{}, {before.get_token(), bar}),
        mt::operation_cancelled);
    REQUIRE(record.reports.empty());

    // Stopped mid-way: the call throws and makes no last report — unless every leaf had
    // already started when the stop came (a thread can be descheduled holding the leaf
    // that stops, while the others finish the rest), in which case the call completes
    // and so do its reports. Either way the reports are well formed.
    std::stop_source source;
    auto stop_midway = [&source](std::size_t i) {
        if (i == 1000) source.request_stop();
        return busy(i);
    };
    bool cancelled = false;
    try {
        (void)mt::map_reduce(pool, mt::iota(std::size_t{0}, n), stop_midway, mt::sum<std::size_t>{},
                             {source.get_token(), bar}, mt::grain(100));
    } catch (const mt::operation_cancelled&) {
        cancelled = true;
    }
    record.require_well_formed(n, !cancelled);

    // A token that is never stopped changes nothing.
    std::stop_source never;
    record.reports.clear();
    (void)mt::map_reduce(pool, mt::iota(std::size_t{0}, n), busy, mt::sum<std::size_t>{}, {never.get_token(), bar});
    record.require_well_formed(n, true);
}

TEST_CASE("progress: an exception from the report function reaches the caller", "[progress]") {
    const int threads = GENERATE(1, 2, 7);
    mt::thread_pool pool(threads);
    const std::size_t n = scaled(100'000);
    std::atomic<int> calls{0};
    mt::progress failing(
        [&calls](std::size_t, std::size_t) {
            ++calls;
            throw std::runtime_error("report failed");
        },
        std::chrono::nanoseconds(0));
    REQUIRE_THROWS_AS(
        mt::map_reduce(pool, mt::iota(std::size_t{0}, n), busy, mt::sum<std::size_t>{}, failing, mt::grain(100)),
        std::runtime_error);
    REQUIRE(calls.load() >= 1);
    // The pool is usable afterwards.
    REQUIRE(mt::map_reduce(
                pool, mt::iota(std::size_t{0}, std::size_t{1000}), [](std::size_t i) { return i; },
                mt::sum<std::size_t>{}) == 499'500);
}
