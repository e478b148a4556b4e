// Shared by the two translation units of static_init_test: checks that default_pool()
// works, runnable from constructors and destructors of static objects (before main and
// after it returns), where Catch2 cannot run. A failed check prints "FAILED: ..." and
// ends the process with exit code 1.
#pragma once

#include <microtask/microtask.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
#include <thread>
#include <vector>

namespace static_init {

/// Tasks the checks submitted (map elements, join sides, group and submitted tasks) and
/// tasks that ran, counted by the tasks themselves, for the RELIABILITY line.
inline std::atomic<unsigned long long> g_submitted{0};
inline std::atomic<unsigned long long> g_ran{0};

inline void ran_one() noexcept { g_ran.fetch_add(1, std::memory_order_relaxed); }

[[noreturn]] inline void fail(const char* where, const char* what) {
    std::fprintf(stderr, "FAILED: %s: %s\n", where, what);
    std::fflush(stderr);
    std::_Exit(1);
}

/// Every kind of use of the default pool, with its result checked. `where` names the
/// caller in a failure message. `alone`: no other thread uses the pool meanwhile, so a
/// submitted task can only have run on a worker (otherwise another thread's helping
/// wait may run it, which is fine).
inline void use_default_pool(const char* where, bool alone = true) {
    namespace mt = microtask;
    mt::thread_pool& pool = mt::default_pool();
    if (pool.size() < 1) fail(where, "default_pool() has no workers");
    // Adaptive and grain(1): the second always splits, so workers take part.
    const auto counted = [](int i) {
        ran_one();
        return long{i};
    };
    g_submitted.fetch_add(100'000 + 1000 + 2 + 100 + 1);
    if (mt::map_reduce(mt::iota(0, 100'000), counted, mt::sum<long>{}) != 4'999'950'000L) {
        fail(where, "map_reduce gave a wrong sum");
    }
    if (mt::map_reduce(mt::iota(0, 1000), counted, mt::sum<long>{}, mt::grain(1)) != 499'500L) {
        fail(where, "map_reduce with grain(1) gave a wrong sum");
    }
    auto [a, b] = mt::join([] { return ran_one(), 1; }, [] { return ran_one(), 2; });
    if (a + b != 3) fail(where, "join gave a wrong result");
    std::atomic<int> ran{0};
    {
        mt::task_group group(pool);
        for (int i = 0; i < 100; ++i) {
            group.run([&ran] {
                ran_one();
                ran.fetch_add(1);
            });
        }
        group.wait();
    }
    if (ran.load() != 100) fail(where, "task_group lost tasks");
    // A task must really run on a worker: wait with a std::future, which does not help
    // (mt::future::get() would run an unstarted task itself, even if no worker is left).
    std::promise<std::optional<std::size_t>> on_worker;
    auto answer = on_worker.get_future();
    (void)pool.submit([&on_worker, &pool] {
        ran_one();
        on_worker.set_value(pool.this_worker_index());
    });
    if (answer.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
        fail(where, "a submitted task never ran: the default pool's workers are gone");
    }
    if (alone && !answer.get().has_value()) fail(where, "a submitted task ran outside the pool's workers");
}

/// Many threads make their first call of default_pool() at the same moment.
inline void use_default_pool_from_threads(const char* where, int count) {
    std::vector<std::thread> threads;
    std::atomic<int> ready{0};
    std::vector<microtask::thread_pool*> seen(static_cast<std::size_t>(count), nullptr);
    for (int t = 0; t < count; ++t) {
        threads.emplace_back([&, t] {
            ready.fetch_add(1);
            while (ready.load() < count) std::this_thread::yield();
            seen[static_cast<std::size_t>(t)] = &microtask::default_pool();
            use_default_pool(where, false);
        });
    }
    for (auto& thread : threads) thread.join();
    for (auto* pool : seen) {
        if (pool != &microtask::default_pool()) fail(where, "threads saw different default pools");
    }
}

}  // namespace static_init
