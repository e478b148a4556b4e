#include "test_support.hpp"

#include <microtask/microtask.hpp>

#include "catch.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <numeric>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <variant>
#include <vector>

namespace mt = microtask;
using microtask_test::scaled;

namespace {

constexpr std::size_t k_grain = 64;

// The policies under test, as a variant so GENERATE can pick one.
using any_policy = std::variant<mt::adaptive, mt::grain, mt::chunks>;
any_policy policy_number(int i) {
    switch (i) {
        case 0:
            return mt::adaptive{};
        case 1:
            return mt::grain(k_grain);
        case 2:
            return mt::chunks(7);
        default:
            return mt::grain(1);
    }
}
std::string policy_name(int i) {
    const char* names[] = {"adaptive", "grain(64)", "chunks(7)", "grain(1)"};
    return names[i];
}

template <class F>
auto with_policy(int i, F&& f) {
    return std::visit([&](auto policy) { return f(policy); }, policy_number(i));
}

std::vector<std::size_t> sizes() { return {0, 1, 2, k_grain - 1, k_grain, k_grain + 1, 1000, scaled(100'003)}; }

std::uint64_t bits(double d) {
    std::uint64_t b;
    std::memcpy(&b, &d, sizeof b);
    return b;
}

}  // namespace

TEST_CASE("map_reduce: every built-in reducer matches the sequential result", "[map_reduce]") {
    const int threads = GENERATE(1, 2, 3, 8);
    const int policy = GENERATE(0, 1, 2, 3);
    mt::thread_pool pool{threads};
    for (std::size_t n : sizes()) {
        CAPTURE(threads, policy_name(policy), n);
        std::vector<std::int64_t> values(n);
        for (std::size_t i = 0; i < n; ++i) values[i] = static_cast<std::int64_t>((i * 2654435761u) % 1000) - 500;

        std::int64_t expected_sum = std::accumulate(values.begin(), values.end(), std::int64_t{0});
        std::int64_t expected_min = std::numeric_limits<std::int64_t>::max();
        std::int64_t expected_max = std::numeric_limits<std::int64_t>::lowest();
        std::uint64_t expected_product = 1;
        for (auto v : values) {
            expected_min = std::min(expected_min, v);
            expected_max = std::max(expected_max, v);
            expected_product *= static_cast<std::uint64_t>(v | 1);
        }
        with_policy(policy, [&](auto p) {
            REQUIRE(mt::map_reduce(
                        pool, values, [](std::int64_t v) { return v; }, mt::sum<std::int64_t>{}, p) == expected_sum);
            REQUIRE(mt::map_reduce(
                        pool, values, [](std::int64_t v) { return v; }, mt::min<std::int64_t>{}, p) == expected_min);
            REQUIRE(mt::map_reduce(
                        pool, values, [](std::int64_t v) { return v; }, mt::max<std::int64_t>{}, p) == expected_max);
            REQUIRE(mt::map_reduce(
                        pool, values, [](std::int64_t v) { return static_cast<std::uint64_t>(v | 1); },
                        mt::product<std::uint64_t>{}, p) == expected_product);
            auto kept = mt::map_reduce(
                pool, values,
                [](std::int64_t v) { return v > 0 ? std::vector<std::int64_t>{v} : std::vector<std::int64_t>{}; },
                mt::concat<std::vector<std::int64_t>>{}, p);
            std::vector<std::int64_t> expected_kept;
            for (auto v : values)
                if (v > 0) expected_kept.push_back(v);
            REQUIRE(kept == expected_kept);  // same elements, same order
            return 0;
        });
    }
}

TEST_CASE("map_reduce: concat keeps input order for string, deque and custom reducers", "[map_reduce][concat]") {
    const int threads = GENERATE(1, 3);
    const int policy = GENERATE(0, 1, 2, 3);
    mt::thread_pool pool{threads};
    const std::size_t n = scaled(20'000);
    auto letters = mt::iota(std::size_t{0}, n);
    with_policy(policy, [&](auto p) {
        std::string text = mt::map_reduce(
            pool, letters, [](std::size_t i) { return std::string(1, char('a' + i % 26)); }, mt::concat<std::string>{},
            p);
        REQUIRE(text.size() == n);
        for (std::size_t i = 0; i < n; ++i) REQUIRE(text[i] == char('a' + i % 26));

        std::deque<std::size_t> indices = mt::map_reduce(
            pool, letters, [](std::size_t i) { return std::deque<std::size_t>{i}; },
            mt::concat<std::deque<std::size_t>>{}, p);
        REQUIRE(indices.size() == n);
        for (std::size_t i = 0; i < n; ++i) REQUIRE(indices[i] == i);

        // A non-commutative user reducer: "first seen" keeps the leftmost non-empty value.
        auto first_seen =
            mt::make_reducer(std::string{}, [](std::string a, std::string b) { return a.empty() ? b : a; });
        REQUIRE(mt::map_reduce(
                    pool, letters, [](std::size_t i) { return std::to_string(i); }, first_seen, p) == "0");
        return 0;
    });
}

TEST_CASE("map_reduce: concat of single elements and optionals filters in input order", "[map_reduce][concat]") {
    const int threads = GENERATE(1, 2, 3);
    const int policy = GENERATE(0, 1, 2, 3);
    mt::thread_pool pool{threads};
    for (std::size_t n : sizes()) {
        CAPTURE(threads, policy_name(policy), n);
        auto indices = mt::iota(std::size_t{0}, n);
        with_policy(policy, [&](auto p) {
            auto kept = mt::map_reduce(
                pool, indices, [](std::size_t i) { return i % 3 == 1 ? std::optional<std::size_t>(i) : std::nullopt; },
                mt::concat<std::vector<std::size_t>>{}, p);
            std::vector<std::size_t> expected;
            for (std::size_t i = 0; i < n; ++i)
                if (i % 3 == 1) expected.push_back(i);
            REQUIRE(kept == expected);
            auto all = mt::map_reduce(
                pool, indices, [](std::size_t i) { return i * 2; }, mt::concat<std::deque<std::size_t>>{}, p);
            REQUIRE(all.size() == n);
            for (std::size_t i = 0; i < n; ++i) REQUIRE(all[i] == 2 * i);
            return 0;
        });
    }
}

TEST_CASE("map_reduce: a floating-point sum is bitwise identical across pool sizes and runs",
          "[map_reduce][determinism]") {
    const int policy = GENERATE(0, 1, 2, 3);
    const std::size_t n = scaled(300'007);
    // Values of wildly different magnitudes make the sum depend on combining order.
    auto term = [](std::size_t i) { return std::sin(double(i)) * std::pow(10.0, double(i % 17) - 8.0); };
    auto reference = with_policy(policy, [&](auto p) {
        mt::thread_pool pool{1};
        return mt::map_reduce(pool, mt::iota(std::size_t{0}, n), term, mt::sum<double>{}, p);
    });
    // A left-to-right sum differs, so the check below can fail if the tree is not fixed.
    double serial = 0;
    for (std::size_t i = 0; i < n; ++i) serial += term(i);
    CHECK(std::abs(serial - reference) <= 1e-6 * std::abs(serial) + 1e-9);

    for (int threads : {1, 2, 3, 8}) {
        mt::thread_pool pool{threads};
        for (int run = 0; run < 5; ++run) {
            CAPTURE(policy_name(policy), threads, run);
            double value = with_policy(policy, [&](auto p) {
                return mt::map_reduce(pool, mt::iota(std::size_t{0}, n), term, mt::sum<double>{}, p);
            });
            REQUIRE(bits(value) == bits(reference));
            // From inside the pool (caller is a worker, others steal) too.
            double nested =
                pool.submit([&] {
                        return with_policy(policy, [&](auto p) {
                            return mt::map_reduce(pool, mt::iota(std::size_t{0}, n), term, mt::sum<double>{}, p);
                        });
                    })
                    .get();
            REQUIRE(bits(nested) == bits(reference));
        }
    }
}

TEST_CASE("map_reduce: an empty range gives the identity", "[map_reduce]") {
    mt::thread_pool pool{2};
    std::vector<double> none;
    REQUIRE(mt::map_reduce(
                pool, none, [](double x) { return x; }, mt::product<double>{}) == 1.0);
    REQUIRE(mt::map_reduce(
                pool, mt::iota(5, 5), [](int x) { return x; }, mt::max<int>{}) == std::numeric_limits<int>::lowest());
    REQUIRE(std::isinf(mt::map_reduce(
        pool, none, [](double x) { return x; }, mt::min<double>{})));
}

TEST_CASE("map_reduce: the usage of the README", "[map_reduce]") {
    mt::thread_pool pool{4};
    const long n = static_cast<long>(scaled(1'000'000));
    long expected = 0;
    for (long i = 0; i < n; ++i) expected += i * i;
    REQUIRE(mt::map_reduce(
                pool, mt::iota(0L, n), [](long i) { return i * i; }, mt::sum<long>{}) == expected);
    REQUIRE(mt::map_reduce(
                pool, mt::iota(0, 10), [](int) { return 2.0; }, mt::product<double>{}) == 1024.0);
    REQUIRE(mt::map_reduce(
                mt::iota(0L, n), [](long i) { return i * i; }, mt::sum<long>{}) == expected);
    auto longest =
        mt::make_reducer(std::string{}, [](std::string a, std::string b) { return a.size() >= b.size() ? a : b; });
    std::vector<std::string> words{"a", "abc", "xyz", "ab"};
    REQUIRE(mt::map_reduce(
                pool, words, [](const std::string& w) { return w; }, longest) == "abc");
}

TEST_CASE("map_reduce: nested inside map_reduce and inside tasks, on 1 and 2 threads", "[map_reduce][nested]") {
    const int threads = GENERATE(1, 2);
    const int policy = GENERATE(0, 1, 2);
    mt::thread_pool pool{threads};
    with_policy(policy, [&](auto p) {
        auto inner = [&](int row) {
            return mt::map_reduce(
                pool, mt::iota(0, 300), [row](int col) { return long{row} * col; }, mt::sum<long>{}, p);
        };
        long total = mt::map_reduce(pool, mt::iota(0, 200), inner, mt::sum<long>{}, p);
        REQUIRE(total == 19'900L * 44'850L);
        long in_task =
            pool.submit([&] { return mt::map_reduce(pool, mt::iota(0, 200), inner, mt::sum<long>{}, p); }).get();
        REQUIRE(in_task == total);
        mt::task_group group{pool};
        std::atomic<long> from_group{0};
        for (int k = 0; k < 4; ++k)
            group.run([&] { from_group += mt::map_reduce(pool, mt::iota(0, 200), inner, mt::sum<long>{}, p); });
        group.wait();
        REQUIRE(from_group == 4 * total);
        return 0;
    });
}

TEST_CASE("map_reduce: the first exception reaches the caller, the rest is skipped, the pool stays usable",
          "[map_reduce][exceptions]") {
    const int threads = GENERATE(1, 2, 3);
    const int policy = GENERATE(0, 1, 2, 3);
    mt::thread_pool pool{threads};
    const std::size_t n = scaled(50'000);
    std::atomic<std::size_t> calls{0};
    with_policy(policy, [&](auto p) {
        auto failing = [&](std::size_t i) {
            calls.fetch_add(1, std::memory_order_relaxed);
            if (i == n / 3) throw std::domain_error("bad element");
            return i;
        };
        REQUIRE_THROWS_WITH(mt::map_reduce(pool, mt::iota(std::size_t{0}, n), failing, mt::sum<std::size_t>{}, p),
                            "bad element");
        // From a throwing combine as well.
        auto bad_combine = mt::make_reducer(0, [](int a, int b) -> int {
            if (a + b > 1000) throw std::overflow_error("combine failed");
            return a + b;
        });
        REQUIRE_THROWS_AS(mt::map_reduce(
                              pool, mt::iota(0, 5000), [](int) { return 1; }, bad_combine, p),
                          std::overflow_error);
        // Still usable.
        REQUIRE(mt::map_reduce(
                    pool, mt::iota(0, 100), [](int i) { return i; }, mt::sum<int>{}, p) == 4950);
        return 0;
    });
}

TEST_CASE("map_reduce: after a failure the remaining subtasks are skipped", "[map_reduce][exceptions]") {
    // From the only worker of a one-thread pool nobody can steal, so leaves run in order
    // and every leaf after the failing one must be skipped.
    mt::thread_pool pool{1};
    const std::size_t n = 10'000;
    std::atomic<std::size_t> calls{0};
    auto attempt = [&] {
        return microtask_test::run_on_worker(pool, [&] {
            return mt::map_reduce(
                pool, mt::iota(std::size_t{0}, n),
                [&](std::size_t i) {
                    calls.fetch_add(1);
                    if (i == 100) throw std::runtime_error("stop here");
                    return i;
                },
                mt::sum<std::size_t>{}, mt::grain(1));
        });
    };
    REQUIRE_THROWS_WITH(attempt(), "stop here");
    REQUIRE(calls.load() == 101);
}

TEST_CASE("for_each: visits every element once and may modify it", "[for_each]") {
    const int threads = GENERATE(1, 2, 3, 8);
    const int policy = GENERATE(0, 1, 2, 3);
    mt::thread_pool pool{threads};
    for (std::size_t n : sizes()) {
        std::vector<int> values(n);
        std::iota(values.begin(), values.end(), 0);
        with_policy(policy, [&](auto p) {
            mt::for_each(
                pool, values, [](int& x) { x = x * 2 + 1; }, p);
            return 0;
        });
        for (std::size_t i = 0; i < n; ++i) REQUIRE(values[i] == int(i) * 2 + 1);
    }
    std::vector<int> values(1000, 1);
    mt::for_each(values, [](int& x) { x += 1; });  // default_pool
    REQUIRE(std::accumulate(values.begin(), values.end(), 0) == 2000);
}

TEST_CASE("for_each: an exception reaches the caller", "[for_each][exceptions]") {
    mt::thread_pool pool{2};
    std::vector<int> values(10'000, 0);
    REQUIRE_THROWS_WITH(mt::for_each(pool, values,
                                     [&values](int& x) {
                                         if (&x == &values[7777]) throw std::runtime_error("visit failed");
                                         x = 1;
                                     }),
                        "visit failed");
}

TEST_CASE("reduce: a parallel reduction of a range", "[reduce]") {
    mt::thread_pool pool{3};
    std::vector<double> values(scaled(100'000), 0.5);
    REQUIRE(mt::reduce(pool, values, mt::sum<double>{}) == 0.5 * double(values.size()));
    REQUIRE(mt::reduce(pool, mt::iota(1, 11), mt::product<long>{}) == 3'628'800L);
}

namespace {
// A tree of map_reduce calls through one call site: the learned cost of the cheap
// bottom level must not make the upper levels run serially (regression).
long tree_leaves(mt::thread_pool& pool, int depth, std::set<std::thread::id>& threads, std::mutex& mutex) {
    if (depth == 0) {
        std::this_thread::sleep_for(std::chrono::microseconds(100));
        std::lock_guard lock(mutex);
        threads.insert(std::this_thread::get_id());
        return 1;
    }
    return mt::map_reduce(
        pool, mt::iota(0, 8), [&](int) { return tree_leaves(pool, depth - 1, threads, mutex); }, mt::sum<long>{});
}
}  // namespace

TEST_CASE("map_reduce: a recursive tree of calls through one call site still runs in parallel",
          "[map_reduce][nested]") {
    mt::thread_pool pool{2};
    std::mutex mutex;
    for (int rep = 0; rep < 5; ++rep) {
        std::set<std::thread::id> threads;
        REQUIRE(tree_leaves(pool, 3, threads, mutex) == 512);
        CAPTURE(rep);
        REQUIRE(threads.size() >= 2);  // 51 ms of sleeping leaves: the workers took some
    }
}

namespace {
// Two map functions of one type (a plain function pointer): adaptive must keep one cost
// estimate per call site, not one per type.
long cheap_element(long i) { return i; }
long slow_element(long i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    return i;
}
std::mutex g_seen_mutex;
std::set<std::thread::id> g_seen_threads;
long slow_element_recording_thread(long i) {
    {
        std::lock_guard<std::mutex> lock(g_seen_mutex);
        g_seen_threads.insert(std::this_thread::get_id());
    }
    return slow_element(i);
}
}  // namespace

TEST_CASE("adaptive: a call site does not inherit another site's cost through a shared map type (regression)",
          "[map_reduce][adaptive]") {
    mt::thread_pool pool{3};
    using map_type = long (*)(long);
    // Site A: many cheap calls through the function-pointer type, so its cost is known short.
    map_type cheap = cheap_element;
    for (int round = 0; round < 200; ++round) {
        REQUIRE(mt::map_reduce(pool, mt::iota(0L, 8L), cheap, mt::sum<long>{}) == 28);
    }
    // Site B: 8 elements of 2 ms each through the same type. Judged by site A's estimate it
    // would run inline on the calling thread (16 ms on one thread); measured at its own
    // site, the first 2 ms leaf exceeds the inline budget and the rest is split.
    map_type slow = slow_element_recording_thread;
    g_seen_threads.clear();
    REQUIRE(mt::map_reduce(pool, mt::iota(0L, 8L), slow, mt::sum<long>{}) == 28);
    std::size_t threads_seen = 0;
    {
        std::lock_guard<std::mutex> lock(g_seen_mutex);
        threads_seen = g_seen_threads.size();
    }
    INFO("threads that ran site B's elements: " << threads_seen);
    REQUIRE(threads_seen >= 2);
    // And once learned, site B is known long: it splits from its first element again.
    g_seen_threads.clear();
    REQUIRE(mt::map_reduce(pool, mt::iota(0L, 8L), slow, mt::sum<long>{}) == 28);
    std::lock_guard<std::mutex> lock(g_seen_mutex);
    REQUIRE(g_seen_threads.size() >= 2);
}

namespace {
struct learning_leaf {};
struct learning_reducer {
    using value_type = long;
};
}  // namespace

TEST_CASE(
    "adaptive: a measurement far above the learned cost is taken at most doubled, and the next call measures again",
    "[map_reduce][adaptive]") {
    namespace d = mt::detail;
    const mt::call_site site{};
    // The first call of a site measures; its cost is taken as measured.
    d::call_judgement first = d::judge_call<learning_leaf, learning_reducer>(100, site);
    REQUIRE(first.length == d::call_length::measure);
    REQUIRE(first.cost != nullptr);
    std::atomic<std::uint32_t>& cell = *first.cost;
    d::learn_cost<learning_leaf, learning_reducer>(cell, 5000.0);
    REQUIRE(cell.load() == 5000);
    // Lower costs are taken at once: noise only ever lengthens a measurement.
    d::learn_cost<learning_leaf, learning_reducer>(cell, 1000.0);
    REQUIRE(cell.load() == 1000);
    // Skip to the next periodic measurement, so the count of calls starts afresh (calls
    // of 100 ns are measured once per 640: see the next test).
    int calls = 0;
    while (d::judge_call<learning_leaf, learning_reducer>(100, site).length != d::call_length::measure) {
        REQUIRE(++calls <= 640);
    }
    const d::call_judgement known = d::judge_call<learning_leaf, learning_reducer>(100, site);
    REQUIRE(known.length == d::call_length::known_short);
    REQUIRE(known.expected_picoseconds == 100'000.0);
    // One measurement 50 times too long (a preempted thread): the estimate only doubles,
    // and the very next call measures again instead of trusting it for 64 calls.
    d::learn_cost<learning_leaf, learning_reducer>(cell, 50'000.0);
    REQUIRE(cell.load() == 2000);
    REQUIRE(d::judge_call<learning_leaf, learning_reducer>(100, site).length == d::call_length::measure);
    // That call measured the usual cost: the outlier is gone.
    d::learn_cost<learning_leaf, learning_reducer>(cell, 1000.0);
    REQUIRE(cell.load() == 1000);
    const d::call_judgement after = d::judge_call<learning_leaf, learning_reducer>(100, site);
    REQUIRE(after.length == d::call_length::known_short);
    REQUIRE(after.expected_picoseconds == 100'000.0);
    // A real rise is followed by doubling, one call at a time.
    for (std::uint32_t expected : {2000u, 4000u, 8000u, 16000u}) {
        d::learn_cost<learning_leaf, learning_reducer>(cell, 1'000'000.0);
        REQUIRE(cell.load() == expected);
        REQUIRE(d::judge_call<learning_leaf, learning_reducer>(100, site).length == d::call_length::measure);
    }
}

namespace {
struct period_leaf {};
}  // namespace

TEST_CASE("adaptive: calls are re-measured every 64 calls, short ones only every 64 us of predicted work",
          "[map_reduce][adaptive]") {
    // A measured call costs a few clock reads and the canonical tree's setup: for calls of
    // tens of nanoseconds, one in 64 would cost each of them several percent.
    namespace d = mt::detail;
    const mt::call_site site{};
    std::atomic<std::uint32_t>& cell = *d::judge_call<period_leaf, learning_reducer>(100, site).cost;
    d::learn_cost<period_leaf, learning_reducer>(cell, 1000.0);  // 1 ns per element
    // The calls up to and including the next measured one.
    const auto calls_until_measured = [&](std::size_t size) {
        int calls = 1;
        while (d::judge_call<period_leaf, learning_reducer>(size, site).length != d::call_length::measure) ++calls;
        return calls;
    };
    STATIC_REQUIRE(d::k_remeasure_period == 64);
    STATIC_REQUIRE(d::k_remeasure_interval_picoseconds == 64e6);
    (void)calls_until_measured(2000);                         // wherever the count stood, it now starts afresh
    REQUIRE(calls_until_measured(2000) == 64);                // 2 us a call: every 64th
    REQUIRE(calls_until_measured(100) == 640);                // 100 ns a call: 640 make 64 us
    REQUIRE(calls_until_measured(1) == 64000);                // 1 ns a call
    d::learn_cost<period_leaf, learning_reducer>(cell, 1.0);  // 1 ps per element: the cap
    REQUIRE(calls_until_measured(1) == 65536);
}

TEST_CASE("shared short calls: back-to-back calls fold every element once, and a worker takes part",
          "[map_reduce][adaptive]") {
    mt::thread_pool pool{1};  // with the calling thread, two participants
    constexpr long k_size = 2048;
    std::vector<std::atomic<int>> mapped(k_size);
    const std::thread::id caller = std::this_thread::get_id();
    std::atomic<long> elements_on_worker{0};
    const auto map = [&](long i) {
        mapped[static_cast<std::size_t>(i)].fetch_add(1, std::memory_order_relaxed);
        if (std::this_thread::get_id() != caller) elements_on_worker.fetch_add(1, std::memory_order_relaxed);
        return i;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    const int k_min_calls = static_cast<int>(scaled(2000));
    int calls = 0;
    int wrong = 0;
    // Calls of a few microseconds each: known short after the first, halved with the
    // worker while it searches (or split by the canonical tree where sanitizers make
    // them long). Until the worker has taken part, for 2000 calls at least.
    while (calls < k_min_calls || (elements_on_worker.load() == 0 && std::chrono::steady_clock::now() < deadline)) {
        ++calls;
        wrong += mt::map_reduce(pool, mt::iota(0L, k_size), map, mt::sum<long>{}) == k_size * (k_size - 1) / 2 ? 0 : 1;
        for (const auto& count : mapped) wrong += count.load(std::memory_order_relaxed) == calls ? 0 : 1;
    }
    CAPTURE(calls);
    REQUIRE(wrong == 0);
    REQUIRE(elements_on_worker.load() > 0);
}

TEST_CASE("shared short calls: an exception in either half reaches the caller, and the pool stays usable",
          "[map_reduce][adaptive][exceptions]") {
    mt::thread_pool pool{1};
    constexpr long k_size = 2048;
    std::atomic<long> failing{-1};  // the element that throws; -1: none
    const auto map = [&](long i) {
        if (i == failing.load(std::memory_order_relaxed)) throw std::runtime_error("element failed");
        return i;
    };
    for (int round = 0; round < 200; ++round) {
        failing = -1;
        REQUIRE(mt::map_reduce(pool, mt::iota(0L, k_size), map, mt::sum<long>{}) == k_size * (k_size - 1) / 2);
        // The left half (the caller's) or the right half (the one a searching worker takes).
        failing = round % 2 == 0 ? 0 : k_size - 1;
        REQUIRE_THROWS_AS(mt::map_reduce(pool, mt::iota(0L, k_size), map, mt::sum<long>{}), std::runtime_error);
    }
}

TEST_CASE("map_reduce: an index range that ends at its type's maximum", "[map_reduce][bad_input]") {
    // The leaves step iterators with ++ up to the range's end, never past it (UBSan
    // would report a signed overflow).
    mt::thread_pool pool{2};
    constexpr int k_last = std::numeric_limits<int>::max();
    const long long expected = [] {
        long long total = 0;
        for (int i = k_last - 5000; i != k_last; ++i) total += i;
        return total;
    }();
    for (int rep = 0; rep < 3; ++rep) {
        REQUIRE(mt::map_reduce(
                    pool, mt::iota(k_last - 5000, k_last), [](int i) { return static_cast<long long>(i); },
                    mt::sum<long long>{}) == expected);
        REQUIRE(mt::map_reduce(
                    pool, mt::iota(k_last - 5000, k_last), [](int i) { return static_cast<long long>(i); },
                    mt::sum<long long>{}, mt::grain(7)) == expected);
    }
}
