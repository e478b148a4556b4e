// Cancellation: every entry point that takes a std::stop_token, stopped before the call,
// mid-way and after completion, on pools of 1-7 threads; exceptions and cancellation
// together; task_group::cancel(); submit with a token; future::wait_for; mt::deadline.
#include "catch.hpp"
#include "test_support.hpp"

#include <microtask/microtask.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <latch>
#include <numeric>
#include <ranges>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

namespace mt = microtask;
using microtask_test::scaled;

namespace {

/// Watches one cancellable operation: how many units of work (leaves, tasks, elements)
/// started and finished, how many elements they covered, whether any started after the
/// caller already had the operation's outcome, and requests the stop once `stop_at`
/// elements have been reached (mid-way cancellation).
struct watch {
    std::stop_source source;
    std::size_t stop_at = 0;  // 0: never stop from inside
    std::atomic<std::size_t> started{0};
    std::atomic<std::size_t> finished{0};
    std::atomic<std::size_t> elements{0};
    std::atomic<bool> outcome_seen{false};
    std::atomic<std::size_t> late{0};

    void enter(std::size_t count) {
        if (outcome_seen.load()) ++late;
        ++started;
        const std::size_t before = elements.fetch_add(count);
        if (stop_at != 0 && before < stop_at && before + count >= stop_at) source.request_stop();
    }
    void leave() { ++finished; }
};

/// A unit of work: counts itself in `w` from start to end.
struct unit {
    watch& w;
    explicit unit(watch& watched, std::size_t count = 1) : w(watched) { w.enter(count); }
    unit(const unit&) = delete;
    unit& operator=(const unit&) = delete;
    ~unit() { w.leave(); }
};

struct entry_point {
    std::string name;
    std::size_t total;  // elements the operation covers when it runs to the end
    // Runs the operation with the token; checks its result when it returns; throws
    // mt::operation_cancelled when cancelled.
    std::function<void(mt::thread_pool&, std::stop_token, watch&)> run;
};

std::vector<entry_point> entry_points() {
    const std::size_t n = scaled(200'000);
    const std::size_t tasks = scaled(2'000) < 200 ? 200 : scaled(2'000);
    std::vector<entry_point> all;
    auto values = std::make_shared<std::vector<int>>(n);
    std::iota(values->begin(), values->end(), 0);
    const long expected_sum = static_cast<long>(n) * static_cast<long>(n - 1) / 2;

    // Map functions and predicates that count each call as a unit of work.
    auto counted_value = [](watch& w) {
        return [&w](int x) {
            const unit u(w);
            return long{x};
        };
    };
    auto counted_test = [](watch& w, bool (*test)(int)) {
        return [&w, test](int x) {
            const unit u(w);
            return test(x);
        };
    };
    auto counted_mark = [](watch& w) {
        return [&w](int& x) {
            const unit u(w);
            ++x;
        };
    };
    bool (*const negative)(int) = [](int x) { return x < 0; };
    bool (*const non_negative)(int) = [](int x) { return x >= 0; };

    all.push_back({"map_reduce", n, [=](mt::thread_pool& pool, std::stop_token stop, watch& w) {
                       const long sum = mt::map_reduce(pool, *values, counted_value(w), mt::sum<long>{}, stop);
                       REQUIRE(sum == expected_sum);
                   }});
    all.push_back({"map_reduce grain(16)", n, [=](mt::thread_pool& pool, std::stop_token stop, watch& w) {
                       const long sum =
                           mt::map_reduce(pool, *values, counted_value(w), mt::sum<long>{}, stop, mt::grain(16));
                       REQUIRE(sum == expected_sum);
                   }});
    // A reducer that is not exactly associative: the canonical-tree path of the engine.
    all.push_back({"map_reduce sum<double>", n, [=](mt::thread_pool& pool, std::stop_token stop, watch& w) {
                       const double sum = mt::map_reduce(
                           pool, *values,
                           [&w](int x) {
                               const unit u(w);
                               return double(x);
                           },
                           mt::sum<double>{}, stop);
                       REQUIRE(sum == static_cast<double>(expected_sum));  // exact: every partial sum is < 2^53
                   }});
    all.push_back({"reduce(pool, ...)", n, [=](mt::thread_pool& pool, std::stop_token stop, watch& w) {
                       auto counted = std::views::iota(std::size_t{0}, n) | std::views::transform([&w](std::size_t i) {
                                          const unit u(w);
                                          return static_cast<long>(i);
                                      });
                       const long sum = mt::reduce(pool, counted, mt::sum<long>{}, stop);
                       REQUIRE(sum == expected_sum);
                   }});
    all.push_back({"fold", n, [=](mt::thread_pool& pool, std::stop_token stop, watch& w) {
                       const long sum = mt::fold(
                           pool, *values, mt::sum<long>{},
                           [&w](long& acc, auto part) {
                               const unit u(w, part.size());
                               for (int x : part) acc += x;
                           },
                           stop);
                       REQUIRE(sum == expected_sum);
                   }});
    all.push_back({"for_each", n, [=](mt::thread_pool& pool, std::stop_token stop, watch& w) {
                       std::vector<int> seen(n, 0);
                       mt::for_each(pool, seen, counted_mark(w), stop);
                       REQUIRE(std::ranges::count(seen, 1) == static_cast<std::ptrdiff_t>(n));
                   }});
    all.push_back({"distribute (void)", tasks, [=](mt::thread_pool& pool, std::stop_token stop, watch& w) {
                       std::vector<int> seen(tasks, 0);
                       mt::distribute(pool, seen, counted_mark(w), stop);
                       REQUIRE(std::ranges::count(seen, 1) == static_cast<std::ptrdiff_t>(tasks));
                   }});
    all.push_back({"distribute (values)", tasks, [=](mt::thread_pool& pool, std::stop_token stop, watch& w) {
                       const auto squares = mt::distribute(
                           pool, std::views::iota(std::size_t{0}, tasks),
                           [&w](std::size_t i) {
                               const unit u(w);
                               return i * i;
                           },
                           stop);
                       REQUIRE(squares.size() == tasks);
                       REQUIRE(squares.back() == (tasks - 1) * (tasks - 1));
                   }});
    // No match (or no counter-example): every element is tested unless cancelled.
    all.push_back({"find_first", n, [=](mt::thread_pool& pool, std::stop_token stop, watch& w) {
                       const bool none =
                           mt::find_first(pool, *values, counted_test(w, negative), stop) == values->end();
                       REQUIRE(none);
                   }});
    all.push_back({"find_any", n, [=](mt::thread_pool& pool, std::stop_token stop, watch& w) {
                       const bool none = mt::find_any(pool, *values, counted_test(w, negative), stop) == values->end();
                       REQUIRE(none);
                   }});
    all.push_back({"any_of / none_of", n, [=](mt::thread_pool& pool, std::stop_token stop, watch& w) {
                       const bool none = mt::none_of(pool, *values, counted_test(w, negative), stop);
                       REQUIRE(none);
                   }});
    all.push_back({"all_of", n, [=](mt::thread_pool& pool, std::stop_token stop, watch& w) {
                       const bool every = mt::all_of(pool, *values, counted_test(w, non_negative), stop);
                       REQUIRE(every);
                   }});
    all.push_back({"task_group", tasks, [=](mt::thread_pool& pool, std::stop_token stop, watch& w) {
                       std::atomic<std::size_t> ran{0};
                       mt::task_group group(pool, stop);
                       for (std::size_t i = 0; i < tasks; ++i) {
                           group.run([&w, &ran] {
                               const unit u(w);
                               ++ran;
                           });
                       }
                       group.wait();
                       REQUIRE(ran.load() == tasks);
                   }});
    all.push_back({"submit", tasks, [=](mt::thread_pool& pool, std::stop_token stop, watch& w) {
                       std::vector<mt::future<std::size_t>> futures;
                       for (std::size_t i = 0; i < tasks; ++i) {
                           futures.push_back(pool.submit(
                               [&w, i] {
                                   const unit u(w);
                                   return i;
                               },
                               stop));
                       }
                       bool cancelled = false;
                       std::size_t sum = 0;
                       for (auto& f : futures) {
                           try {
                               sum += f.get();
                           } catch (const mt::operation_cancelled&) {
                               cancelled = true;
                           }
                       }
                       if (cancelled) throw mt::operation_cancelled();
                       REQUIRE(sum == tasks * (tasks - 1) / 2);
                   }});
    return all;
}

/// After the caller has the outcome: nothing of the operation may start any more. Runs
/// more work through every worker, then checks.
void require_nothing_runs_after(mt::thread_pool& pool, watch& w) {
    w.outcome_seen = true;
    const std::size_t n = scaled(100'000);
    const auto sum = mt::map_reduce(
        pool, std::views::iota(std::size_t{0}, n), [](std::size_t i) { return i; }, mt::sum<std::size_t>{},
        mt::grain(64));
    REQUIRE(sum == n * (n - 1) / 2);  // the pool is usable
    REQUIRE(w.late.load() == 0);
    REQUIRE(w.started.load() == w.finished.load());
}

}  // namespace

TEST_CASE("cancellation: a token stopped before the call runs nothing and throws operation_cancelled",
          "[cancellation]") {
    const int threads = GENERATE(range(1, 8));
    mt::thread_pool pool(threads);
    for (const entry_point& entry : entry_points()) {
        INFO(entry.name << " on " << threads << " threads");
        watch w;
        w.source.request_stop();
        REQUIRE_THROWS_AS(entry.run(pool, w.source.get_token(), w), mt::operation_cancelled);
        REQUIRE(w.started.load() == 0);
        require_nothing_runs_after(pool, w);
    }
}

TEST_CASE("cancellation: a stop mid-way skips the rest, lets started work finish, and throws", "[cancellation]") {
    const int threads = GENERATE(range(1, 8));
    mt::thread_pool pool(threads);
    for (const entry_point& entry : entry_points()) {
        INFO(entry.name << " on " << threads << " threads");
        watch w;
        w.stop_at = entry.total / 20;
        REQUIRE_THROWS_AS(entry.run(pool, w.source.get_token(), w), mt::operation_cancelled);
        REQUIRE(w.elements.load() >= w.stop_at);   // it was running
        REQUIRE(w.elements.load() < entry.total);  // and it stopped early
        require_nothing_runs_after(pool, w);
    }
}

TEST_CASE("cancellation: a token stopped only after the call returned changes nothing", "[cancellation]") {
    const int threads = GENERATE(range(1, 8));
    mt::thread_pool pool(threads);
    for (const entry_point& entry : entry_points()) {
        INFO(entry.name << " on " << threads << " threads");
        watch w;
        entry.run(pool, w.source.get_token(), w);  // checks its own complete result
        w.source.request_stop();
        REQUIRE(w.elements.load() == entry.total);
        require_nothing_runs_after(pool, w);
    }
}

TEST_CASE("cancellation: a leaf's exception wins over the stop it caused, and skips the rest without a token",
          "[cancellation][exceptions]") {
    const int threads = GENERATE(1, 2, 7);
    mt::thread_pool pool(threads);
    const std::size_t n = scaled(100'000);
    std::stop_source source;
    std::atomic<std::size_t> calls{0};
    auto failing = [&](std::size_t i) {
        ++calls;
        if (i == n / 3) {
            source.request_stop();
            throw std::runtime_error("leaf failed");
        }
        return i;
    };
    REQUIRE_THROWS_AS(mt::map_reduce(pool, std::views::iota(std::size_t{0}, n), failing, mt::sum<std::size_t>{},
                                     source.get_token(), mt::grain(16)),
                      std::runtime_error);
    // Without a token, the first exception alone cuts the operation short.
    calls = 0;
    std::stop_source unused;
    auto failing_early = [&](std::size_t i) {
        ++calls;
        if (i == 10) throw std::runtime_error("leaf failed");
        return i;
    };
    REQUIRE_THROWS_AS(
        mt::map_reduce(pool, std::views::iota(std::size_t{0}, n), failing_early, mt::sum<std::size_t>{}, mt::grain(16)),
        std::runtime_error);
    REQUIRE(calls.load() < n);
}

TEST_CASE("cancellation: a nested operation sharing the token cancels the outer one", "[cancellation][nested]") {
    const int threads = GENERATE(1, 3, 7);
    mt::thread_pool pool(threads);
    std::stop_source source;
    const std::stop_token token = source.get_token();
    std::atomic<std::size_t> outer_calls{0};
    auto outer = [&](std::size_t i) {
        ++outer_calls;
        if (i == 5) source.request_stop();
        return mt::map_reduce(
            pool, std::views::iota(std::size_t{0}, std::size_t{1000}), [](std::size_t j) { return j; },
            mt::sum<std::size_t>{}, token);
    };
    REQUIRE_THROWS_AS(mt::map_reduce(pool, std::views::iota(std::size_t{0}, std::size_t{4000}), outer,
                                     mt::sum<std::size_t>{}, token, mt::grain(1)),
                      mt::operation_cancelled);
    REQUIRE(outer_calls.load() < 4000);
}

TEST_CASE("task_group::cancel: skips unstarted tasks, wait() throws once, the group is reusable",
          "[task_group][cancellation]") {
    const int threads = GENERATE(range(1, 8));
    mt::thread_pool pool(threads);
    mt::task_group group(pool);

    SECTION("cancel before run: nothing runs") {
        std::atomic<int> ran{0};
        group.cancel();
        REQUIRE(group.is_cancelled());
        for (int i = 0; i < 100; ++i) group.run([&ran] { ++ran; });
        REQUIRE_THROWS_AS(group.wait(), mt::operation_cancelled);
        REQUIRE(ran.load() == 0);
    }
    SECTION("cancel from inside a task: the rest is skipped, started tasks finish") {
        watch w;
        const int tasks = 2000;
        const int canceller = 100;
        auto submit = [&](int i) {
            group.run([&w, &group, i] {
                const unit u(w);
                if (i == canceller) group.cancel();
            });
        };
        for (int i = 0; i <= canceller; ++i) submit(i);
        // Only a worker runs tasks while this thread does not wait, so the cancelling task
        // runs before the rest is submitted: those are certainly skipped. Without this the
        // test raced: a thread popping its own tasks newest-first could start all of them
        // before the cancelling one ran, and then nothing was skipped.
        while (!group.is_cancelled()) std::this_thread::yield();
        for (int i = canceller + 1; i < tasks; ++i) submit(i);
        REQUIRE_THROWS_AS(group.wait(), mt::operation_cancelled);
        REQUIRE(w.started.load() < static_cast<std::size_t>(tasks));
        require_nothing_runs_after(pool, w);
    }
    SECTION("cancel after every task finished: wait() returns normally") {
        std::atomic<int> ran{0};
        for (int i = 0; i < 100; ++i) group.run([&ran] { ++ran; });
        group.wait();
        group.cancel();
        group.wait();  // nothing was skipped
        REQUIRE(ran.load() == 100);
    }
    SECTION("an exception wins over the cancellation") {
        for (int i = 0; i < 100; ++i) {
            group.run([&group, i] {
                if (i == 0) {
                    group.cancel();
                    throw std::runtime_error("task failed");
                }
            });
        }
        // The task that threw may have run after the others started; either way its
        // exception is reported, not the cancellation.
        REQUIRE_THROWS_AS(group.wait(), std::runtime_error);
    }
    // Reusable: after the wait that reported the cancellation, tasks run again.
    group.wait();
    REQUIRE_FALSE(group.is_cancelled());
    std::atomic<int> ran{0};
    for (int i = 0; i < 50; ++i) group.run([&ran] { ++ran; });
    group.wait();
    REQUIRE(ran.load() == 50);
}

TEST_CASE("submit with a token: an unstarted task is dropped, a started one finishes", "[submit][cancellation]") {
    mt::thread_pool pool(1);
    std::latch release(1);
    std::atomic<bool> blocker_started{false};
    // Occupy the only worker so the next task stays queued.
    auto blocker = pool.submit([&] {
        blocker_started = true;
        release.wait();
        return 1;
    });
    while (!blocker_started.load()) std::this_thread::yield();
    std::stop_source source;
    std::atomic<int> called{0};
    auto dropped = pool.submit([&called] { return ++called; }, source.get_token());
    auto kept = pool.submit([&called] { return 10; }, std::stop_token{});
    source.request_stop();
    release.count_down();
    REQUIRE(blocker.get() == 1);
    REQUIRE_THROWS_AS(dropped.get(), mt::operation_cancelled);
    REQUIRE(kept.get() == 10);
    REQUIRE(called.load() == 0);

    // After completion: a stop no longer matters.
    std::stop_source later;
    auto done = pool.submit([] { return 5; }, later.get_token());
    done.wait();
    later.request_stop();
    REQUIRE(done.get() == 5);
}

TEST_CASE("future::wait_for / wait_until: timeout while the task cannot finish, ready once it has",
          "[future][deadline]") {
    mt::thread_pool pool(2);
    std::latch release(1);
    auto f = pool.submit([&] {
        release.wait();
        return 7;
    });
    REQUIRE(f.wait_for(std::chrono::milliseconds(2)) == std::future_status::timeout);
    REQUIRE(f.wait_until(std::chrono::steady_clock::now() + std::chrono::microseconds(100)) ==
            std::future_status::timeout);
    REQUIRE(f.wait_for(std::chrono::seconds(0)) == std::future_status::timeout);
    release.count_down();
    REQUIRE(f.wait_for(std::chrono::minutes(5)) == std::future_status::ready);
    REQUIRE(f.wait_until(std::chrono::system_clock::now()) == std::future_status::ready);
    REQUIRE(f.get() == 7);
    REQUIRE_THROWS_AS(f.wait_for(std::chrono::seconds(1)), std::logic_error);
}

TEST_CASE("deadline: an operation still running at the deadline throws operation_cancelled", "[deadline]") {
    const int threads = GENERATE(1, 2, 7);
    mt::thread_pool pool(threads);
    mt::deadline limit(std::chrono::milliseconds(5));
    std::atomic<std::size_t> calls{0};
    // Each element waits for the deadline, so the operation cannot finish before it.
    const std::size_t n = 100'000;
    REQUIRE_THROWS_AS(mt::for_each(
                          pool, std::views::iota(std::size_t{0}, n),
                          [&](std::size_t) {
                              ++calls;
                              while (!limit.expired()) std::this_thread::yield();
                          },
                          limit.token(), mt::grain(1)),
                      mt::operation_cancelled);
    REQUIRE(limit.expired());
    REQUIRE(calls.load() < n);
}

TEST_CASE("deadline: request_stop() stops early; a deadline destroyed first never stops its token", "[deadline]") {
    std::stop_token kept;
    {
        mt::deadline limit(std::chrono::hours(1));
        kept = limit.token();
        REQUIRE_FALSE(limit.expired());
    }
    REQUIRE_FALSE(kept.stop_requested());
    REQUIRE(kept.stop_possible() == false);  // no source left to stop it

    mt::deadline early(std::chrono::hours(1));
    REQUIRE(early.request_stop());
    REQUIRE(early.expired());
    REQUIRE(early.token().stop_requested());
    REQUIRE_FALSE(early.request_stop());
}
