#include "test_support.hpp"

#include <microtask/microtask.hpp>

#include "catch.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <future>
#include <latch>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace mt = microtask;
using microtask_test::scaled;

TEST_CASE("thread_pool: size and the default size", "[thread_pool]") {
    mt::thread_pool pool{3};
    REQUIRE(pool.size() == 3);
    mt::thread_pool hardware;
    REQUIRE(hardware.size() >= 1);
    REQUIRE(hardware.size() == std::max(1u, std::thread::hardware_concurrency()));
}

TEST_CASE("thread_pool: a thread count below one is rejected with a clear message", "[thread_pool][errors]") {
    REQUIRE_THROWS_WITH(mt::thread_pool{0}, "microtask::thread_pool: thread count must be at least 1 (got 0)");
    REQUIRE_THROWS_AS(mt::thread_pool{0}, std::invalid_argument);
    REQUIRE_THROWS_WITH(mt::thread_pool{-3}, "microtask::thread_pool: thread count must be at least 1 (got -3)");
    REQUIRE_THROWS_AS(mt::thread_pool{1'000'000}, std::invalid_argument);
}

TEST_CASE("submit: returns the result through the future", "[thread_pool][submit]") {
    const auto threads = GENERATE(1, 2, 3, 8);
    mt::thread_pool pool{threads};
    auto fut = pool.submit([] { return 42; });
    REQUIRE(fut.valid());
    REQUIRE(fut.get() == 42);
    REQUIRE_FALSE(fut.valid());

    auto text = pool.submit([s = std::string("move-only captures work")] { return s; });
    REQUIRE(text.get() == "move-only captures work");

    std::atomic<int> side_effect{0};
    auto nothing = pool.submit([&] { side_effect = 7; });
    nothing.get();
    REQUIRE(side_effect == 7);

    auto owned = pool.submit([p = std::make_unique<int>(5)] { return *p * 2; });
    REQUIRE(owned.get() == 10);
}

TEST_CASE("submit: an exception reaches get() and the pool stays usable", "[thread_pool][submit][exceptions]") {
    mt::thread_pool pool{2};
    auto bad = pool.submit([]() -> int { throw std::runtime_error("task failed"); });
    REQUIRE_THROWS_WITH(bad.get(), "task failed");
    auto good = pool.submit([] { return 1; });
    REQUIRE(good.get() == 1);
}

TEST_CASE("future: misuse throws std::logic_error", "[thread_pool][submit][errors]") {
    mt::future<int> empty;
    REQUIRE_FALSE(empty.valid());
    REQUIRE_THROWS_AS(empty.get(), std::logic_error);
    REQUIRE_THROWS_AS(empty.wait(), std::logic_error);
    REQUIRE_THROWS_AS((void)empty.is_ready(), std::logic_error);
    mt::thread_pool pool{1};
    auto fut = pool.submit([] { return 3; });
    fut.wait();
    REQUIRE(fut.is_ready());
    auto moved = std::move(fut);
    REQUIRE_FALSE(fut.valid());
    REQUIRE(moved.get() == 3);
}

TEST_CASE("submit: a future dropped without get() still runs its task exactly once", "[thread_pool][submit]") {
    std::atomic<int> runs{0};
    {
        mt::thread_pool pool{2};
        for (int i = 0; i < 1000; ++i) (void)pool.submit([&] { runs.fetch_add(1); });
    }
    REQUIRE(runs == 1000);
}

TEST_CASE("submit: get() inside a task helps instead of deadlocking, even on one worker",
          "[thread_pool][submit][nested]") {
    const auto threads = GENERATE(1, 2);
    mt::thread_pool pool{threads};
    auto outer = pool.submit([&pool] {
        std::vector<mt::future<int>> inner;
        for (int i = 0; i < 100; ++i) inner.push_back(pool.submit([i] { return i; }));
        int total = 0;
        for (auto& f : inner) total += f.get();
        return total;
    });
    REQUIRE(outer.get() == 4950);
}

TEST_CASE("submit: a million tasks from inside and outside the pool each run exactly once",
          "[thread_pool][submit][stress]") {
    const std::size_t total = scaled(1'000'000);
    const std::size_t outside = total / 4;
    const std::size_t per_parent = 100;
    const std::size_t parents = (total - outside) / per_parent;
    std::vector<std::atomic<std::uint8_t>> ran(outside + parents * per_parent);
    mt::thread_pool pool{4};  // more workers than cores: stealing and sleeping both happen
    {
        mt::task_group group{pool};
        // Tasks spawned by tasks land on the workers' deques and get stolen.
        for (std::size_t p = 0; p < parents; ++p) {
            group.run([&, p] {
                for (std::size_t k = 0; k < per_parent; ++k) {
                    group.run([&, index = outside + p * per_parent + k] { ran[index].fetch_add(1); });
                }
            });
        }
        // Tasks submitted from outside go through the injection queue.
        std::vector<mt::future<void>> futures;
        futures.reserve(outside);
        for (std::size_t i = 0; i < outside; ++i) futures.push_back(pool.submit([&, i] { ran[i].fetch_add(1); }));
        for (auto& f : futures) f.get();
        group.wait();
    }
    std::size_t lost = 0, duplicated = 0;
    for (auto& r : ran) {
        lost += r.load() == 0;
        duplicated += r.load() > 1;
    }
    REQUIRE(lost == 0);
    REQUIRE(duplicated == 0);
}

TEST_CASE("thread_pool: the destructor runs every pending task, including tasks they spawn",
          "[thread_pool][destruction]") {
    std::atomic<int> runs{0};
    const auto threads = GENERATE(1, 2, 8);
    {
        mt::thread_pool pool{threads};
        for (int i = 0; i < 200; ++i) {
            (void)pool.submit([&runs, &pool] {
                std::this_thread::sleep_for(std::chrono::microseconds(50));
                runs.fetch_add(1);
                (void)pool.submit([&runs] { runs.fetch_add(1); });  // queued while stopping
            });
        }
    }  // destroyed with most tasks still queued
    REQUIRE(runs == 400);
}

TEST_CASE("thread_pool: destruction while every worker sleeps", "[thread_pool][destruction]") {
    std::atomic<int> runs{0};
    for (int i = 0; i < 20; ++i) {
        mt::thread_pool pool{3};
        pool.submit([] {}).get();
        std::this_thread::sleep_for(std::chrono::milliseconds(2));          // long enough to park
        if (i % 2 == 0) (void)pool.submit([&runs] { runs.fetch_add(1); });  // wakes one sleeper
    }
    REQUIRE(runs == 10);
}

TEST_CASE("thread_pool: this_worker_index names the worker, and nothing outside", "[thread_pool]") {
    mt::thread_pool pool{3};
    REQUIRE_FALSE(pool.this_worker_index().has_value());
    // A std::promise, not mt::future::get(): a waiting outside thread helps and could
    // run the task itself, where it is not a worker.
    for (int i = 0; i < 50; ++i) {
        std::promise<std::optional<std::size_t>> index_promise;
        auto index_future = index_promise.get_future();
        (void)pool.submit([&] { index_promise.set_value(pool.this_worker_index()); });
        auto index = index_future.get();
        REQUIRE(index.has_value());
        REQUIRE(*index < pool.size());
    }
    mt::thread_pool other{1};
    auto foreign = other.submit([&pool] { return pool.this_worker_index(); }).get();
    REQUIRE_FALSE(foreign.has_value());
}

TEST_CASE("default_pool: one pool, safe to reach from many threads at once", "[thread_pool][default_pool]") {
    std::vector<mt::thread_pool*> seen(8, nullptr);
    std::vector<long> sums(8, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            seen[t] = &mt::default_pool();
            sums[t] = mt::map_reduce(
                mt::iota(0, 10'000), [](int i) { return long{i}; }, mt::sum<long>{});
        });
    }
    for (auto& t : threads) t.join();
    for (int t = 0; t < 8; ++t) {
        REQUIRE(seen[t] == &mt::default_pool());
        REQUIRE(sums[t] == 49'995'000);
    }
}

TEST_CASE("thread_pool: more outside threads than guest seats wait their turn and finish", "[thread_pool][guests]") {
    mt::thread_pool pool{2};
    constexpr int outside_threads = 24;  // more than the guest seats
    std::vector<long> results(outside_threads, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < outside_threads; ++t) {
        threads.emplace_back([&, t] {
            for (int rep = 0; rep < 20; ++rep) {
                auto [a, b] = mt::join(
                    pool, [t] { return long{t}; },
                    [&pool] {
                        return mt::map_reduce(
                            pool, mt::iota(0, 1000), [](int i) { return long{i}; }, mt::sum<long>{});
                    });
                results[t] += a + b;
            }
        });
    }
    for (auto& t : threads) t.join();
    for (int t = 0; t < outside_threads; ++t) REQUIRE(results[t] == 20 * (t + 499'500L));
}

TEST_CASE("submit: an outside get() takes only what it needs from the queue (regression)",
          "[thread_pool][submit][guests]") {
    // The only worker is blocked until after a.get() returns. While a.get() helps, it must
    // not queue `c` (which also waits for the caller) on its own seat and run it first.
    mt::thread_pool pool{1};
    std::atomic<bool> go{false};
    auto wait_for_go = [&go] {
        while (!go.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    };
    std::promise<void> worker_busy;
    auto blocker = pool.submit([&] {
        worker_busy.set_value();
        wait_for_go();
    });
    worker_busy.get_future().wait();
    auto a = pool.submit([] { return 1; });
    auto c = pool.submit(wait_for_go);
    auto x1 = pool.submit([] { return 2; });
    auto x2 = pool.submit([] { return 3; });
    REQUIRE(a.get() == 1);
    go = true;
    c.get();
    blocker.get();
    REQUIRE(x1.get() + x2.get() == 5);
}

TEST_CASE("submit: outside threads keep a leased seat; tasks survive the thread and the pool",
          "[thread_pool][submit][guests]") {
    std::atomic<int> runs{0};
    SECTION("a thread that exits with tasks still on its seat") {
        mt::thread_pool pool{1};
        std::promise<void> release_worker;
        auto blocked = release_worker.get_future().share();
        (void)pool.submit([blocked] { blocked.wait(); });  // keep the only worker busy
        std::thread submitter([&] {
            for (int i = 0; i < 100; ++i) (void)pool.submit([&runs] { runs.fetch_add(1); });
        });  // exits with its seat's tasks not yet run: they must move, not vanish
        submitter.join();
        release_worker.set_value();
        pool.submit([] {}).get();
        while (runs.load() < 100) std::this_thread::yield();
        REQUIRE(runs == 100);
    }
    SECTION("alternating between pools, and a new pool where an old one was") {
        for (int round = 0; round < 20; ++round) {
            mt::thread_pool a{2};
            mt::thread_pool b{1};
            for (int i = 0; i < 10; ++i) {
                REQUIRE(a.submit([i] { return i; }).get() == i);
                REQUIRE(b.submit([i] { return -i; }).get() == -i);
                (void)a.submit([&runs] { runs.fetch_add(1); });
            }
        }  // pools die with the lease still pointing at them
        REQUIRE(runs == 200);
    }
    SECTION("more submitting threads than seats") {
        mt::thread_pool pool{2};
        std::vector<std::thread> threads;
        for (int t = 0; t < 40; ++t) {
            threads.emplace_back([&] {
                std::vector<mt::future<int>> futures;
                for (int i = 0; i < 200; ++i) futures.push_back(pool.submit([] { return 1; }));
                int sum = 0;
                for (auto& f : futures) sum += f.get();
                runs.fetch_add(sum);
            });
        }
        for (auto& t : threads) t.join();
        REQUIRE(runs == 40 * 200);
    }
}

TEST_CASE("future: get() on a task nobody started runs it on the calling thread, once", "[thread_pool][submit]") {
    mt::thread_pool pool{1};
    std::promise<void> release_worker;
    auto blocked = release_worker.get_future().share();
    std::promise<void> worker_busy;
    auto blocker = pool.submit([&worker_busy, blocked] {
        worker_busy.set_value();
        blocked.wait();
    });
    worker_busy.get_future().wait();
    std::atomic<int> runs{0};
    auto task = pool.submit([&runs] {
        runs.fetch_add(1);
        return std::this_thread::get_id();
    });
    REQUIRE(task.get() == std::this_thread::get_id());  // the worker is busy: we ran it
    release_worker.set_value();
    blocker.get();
    pool.submit([] {}).get();  // the queue entry of `task` has been reached by now...
    REQUIRE(runs == 1);        // ...and did not run it a second time
}

TEST_CASE("the fairness look skips the leased seat of an outside thread inside a call", "[thread_pool][guests]") {
    // A worker's every 32nd look for work goes to the outside threads' seats first, so
    // that tasks submitted and left there are not starved. A seat whose thread is inside
    // a call on the pool runs its own tasks: taking its oldest task then only moved the
    // task tree back and forth (skynet ran 1.5-2x slower), so such a seat is "attended"
    // and skipped by that look.
    mt::thread_pool pool{1};
    REQUIRE(pool.submit([] { return 0; }).get() == 0);  // this thread now leases a seat
    auto& seats = mt::detail::pool_access::of(pool);
    mt::detail::seat* leased = seats.current_seat();
    REQUIRE(leased != nullptr);
    CHECK_FALSE(leased->attended.load());  // submitted and gone: unattended
    mt::join(
        pool, [&] { CHECK(leased->attended.load()); },  // inside a call: attended
        [] {});
    CHECK_FALSE(leased->attended.load());
    // A guest seat (another outside thread's call) is attended for as long as it is taken.
    std::thread guest([&] {
        mt::join(
            pool,
            [&] {
                mt::detail::seat* own = seats.current_seat();
                REQUIRE(own != nullptr);
                CHECK((own->is_private || own->attended.load()));
            },
            [] {});
    });
    guest.join();
}

TEST_CASE("submit: a leased seat in use by a join is not given up for another pool (regression)",
          "[thread_pool][submit][guests]") {
    mt::thread_pool a{1};
    mt::thread_pool b{1};
    REQUIRE(b.submit([] { return 0; }).get() == 0);  // this thread now leases a seat in b
    auto& seats = mt::detail::pool_access::of(b);
    mt::detail::seat* leased = seats.current_seat();
    REQUIRE(leased != nullptr);
    auto [from_a, sum] = mt::join(
        b,
        [&] {
            // Submitting to a must not release the b seat this join runs on.
            const int value = a.submit([] { return 1; }).get();
            REQUIRE(leased->occupied.load());
            REQUIRE(seats.current_seat() == leased);
            return value;
        },
        [&b] {
            return mt::map_reduce(
                b, mt::iota(0, 1000), [](int i) { return i; }, mt::sum<int>{});
        });
    REQUIRE(from_a == 1);
    REQUIRE(sum == 499'500);
}

TEST_CASE("future: get() or wait() inside the future's own task throws std::logic_error instead of hanging",
          "[thread_pool][submit][errors]") {
    const auto threads = GENERATE(1, 2);
    mt::thread_pool pool{threads};
    // The task reaches its own future through a promise filled after submit returns. The
    // outside thread does not call get() until the task has tried: get() would otherwise
    // race to run the task inline itself, taking the state out of `self` first.
    std::promise<mt::future<int>*> own;
    auto own_future = own.get_future().share();
    std::atomic<int> verdict{0};
    mt::future<int> self = pool.submit([own_future, &verdict]() -> int {
        mt::future<int>& me = *own_future.get();
        try {
            me.wait();
            verdict = -2;  // returned: impossible, it waited for itself
        } catch (const std::logic_error& error) {
            verdict = std::string(error.what()).find("own task") == std::string::npos ? -1 : 1;
        }
        return 7;
    });
    own.set_value(&self);
    while (verdict.load() == 0) std::this_thread::yield();
    REQUIRE(verdict.load() == 1);
    REQUIRE(self.get() == 7);

    // Waiting on another task's future from inside a task still works (and helps).
    auto outer = pool.submit([&pool] { return pool.submit([] { return 20; }).get() + 1; });
    REQUIRE(outer.get() == 21);
}

TEST_CASE("worker_hooks: on_start on every worker before the constructor returns, on_stop after the last task",
          "[thread_pool][hooks]") {
    const std::size_t workers = GENERATE(1u, 2u, 5u);
    std::mutex mutex;
    std::vector<int> started(workers, 0), stopped(workers, 0);
    thread_local long t_worker_index = -1;  // what on_start set up, seen by the tasks
    std::atomic<int> tasks_after_stop{0};
    {
        mt::thread_pool pool(workers, mt::worker_hooks{[&](std::size_t i) {
                                                           const std::lock_guard lock(mutex);
                                                           ++started.at(i);
                                                           t_worker_index = static_cast<long>(i);
                                                       },
                                                       [&](std::size_t i) {
                                                           const std::lock_guard lock(mutex);
                                                           ++stopped.at(i);
                                                       }});
        {
            const std::lock_guard lock(mutex);
            CHECK(started == std::vector<int>(workers, 1));  // all of them, already
        }
        // Every task a worker runs sees what its on_start set up.
        std::atomic<int> unset{0};
        mt::for_each(
            pool, mt::iota(0, 10'000),
            [&](int) {
                if (pool.this_worker_index().has_value() &&
                    t_worker_index != static_cast<long>(*pool.this_worker_index()))
                    ++unset;
            },
            mt::grain(10));
        CHECK(unset.load() == 0);
        for (int i = 0; i < 100; ++i) {
            (void)pool.submit([&] {
                const std::lock_guard lock(mutex);
                for (int s : stopped) tasks_after_stop += s;
            });
        }
    }
    CHECK(stopped == std::vector<int>(workers, 1));
    CHECK(tasks_after_stop.load() == 0);  // no task ran after any on_stop
}

TEST_CASE("worker_hooks: an on_start that throws makes the constructor throw, and stops the pool",
          "[thread_pool][hooks]") {
    std::atomic<int> stops{0};
    const auto make = [&] {
        mt::thread_pool pool(3, mt::worker_hooks{[](std::size_t i) {
                                                     if (i == 1) throw std::runtime_error("cannot pin worker 1");
                                                 },
                                                 [&](std::size_t) { ++stops; }});
    };
    CHECK_THROWS_WITH(make(), "cannot pin worker 1");
    CHECK(stops.load() == 3);  // every worker ran to its end and was joined
}

TEST_CASE("stats: per-worker counts of tasks run and stolen match what ran where; reset starts from zero",
          "[thread_pool][stats]") {
    const std::size_t workers = GENERATE(1u, 2u, 3u);
    mt::thread_pool pool(workers);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // let every worker park once
    for (const mt::worker_stats& w : pool.stats()) CHECK(w.times_parked >= 1);
    pool.reset_stats();
    for (const mt::worker_stats& w : pool.stats()) {
        CHECK(w.tasks_run == 0);
        CHECK(w.tasks_stolen == 0);
        CHECK(w.times_parked == 0);
    }
    // Submitted from this thread (to its leased seat), waited for without helping: every
    // task is taken, by stealing, by a worker, and counted there.
    constexpr int k_tasks = 2000;
    std::vector<std::atomic<int>> ran_on(workers);
    std::latch all_done(k_tasks);
    for (int t = 0; t < k_tasks; ++t) {
        (void)pool.submit([&] {
            ran_on.at(*pool.this_worker_index()).fetch_add(1);
            all_done.count_down();
        });
    }
    // A task is counted before it runs, so the latch's hand-over makes every count visible.
    all_done.wait();
    const auto stats = pool.stats();
    REQUIRE(stats.size() == workers);
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < workers; ++i) {
        INFO("worker " << i);
        CHECK(stats[i].tasks_run == static_cast<std::uint64_t>(ran_on[i].load()));
        CHECK(stats[i].tasks_stolen == stats[i].tasks_run);
        CHECK(stats[i].busy + stats[i].idle > std::chrono::nanoseconds(0));
        total += stats[i].tasks_run;
    }
    CHECK(total == k_tasks);
}
