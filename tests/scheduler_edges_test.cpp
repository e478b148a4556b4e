// Regression tests for the scheduler at its edges (tracker issue 11): nested waits on one
// task group, a pool destroyed while a running task still needs another worker, more
// outside callers than guest seats, starved outside submitters, and padding.
//
// Several of the old failures were hangs. Every scenario therefore runs on a thread of
// its own under a watchdog: if it does not finish in time the test prints what hung and
// ends the process with a failure (a hung pool cannot be recovered or destroyed), so
// ctest reports a failure instead of sitting until its timeout.
#include "test_support.hpp"

#include <microtask/microtask.hpp>

#include "catch.hpp"

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <future>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <memory>
#include <thread>
#include <utility>
#include <vector>

namespace mt = microtask;
using namespace std::chrono_literals;

namespace {

#ifdef MICROTASK_SANITIZED
constexpr auto k_hang_limit = 60s;
#else
constexpr auto k_hang_limit = 20s;
#endif

/// Runs `scenario()` on a fresh thread and returns its result; a scenario that has not
/// finished within k_hang_limit is a hang: say so and end the process with status 1.
template <class Scenario>
auto run_with_watchdog(const char* what, Scenario scenario) {
    using result = std::invoke_result_t<Scenario&>;
    std::packaged_task<result()> task(std::move(scenario));
    std::future<result> outcome = task.get_future();
    std::thread runner(std::move(task));
    const bool finished = outcome.wait_for(k_hang_limit) == std::future_status::ready;
    if (!finished) {
        std::fprintf(stderr, "scheduler_edges_test: HANG: '%s' did not finish within %lld s\n", what,
                     static_cast<long long>(std::chrono::duration_cast<std::chrono::seconds>(k_hang_limit).count()));
        std::fflush(stderr);
        std::_Exit(1);
    }
    runner.join();
    return outcome.get();
}

void spin_until(const std::atomic<bool>& flag) {
    while (!flag.load()) std::this_thread::yield();
}

}  // namespace

// Issue 11.1. A thread that waits on a group, and while helping runs a task that waits on
// the same group, registered twice: the old code added "slot index + 1" to the group's
// state word at each wait, so the last task woke the slot named by the sum (another
// thread, or past the end of the slot array) and the waiter slept for ever.
TEST_CASE("task_group: nested waits on one group from one thread are all woken (regression)",
          "[scheduler][task_group]") {
    const int threads = GENERATE(1, 2, 4);
    const int depth = GENERATE(2, 3);
    CAPTURE(threads, depth);
    const int ran = run_with_watchdog("nested task_group waits", [threads, depth] {
        mt::thread_pool pool{threads};
        mt::task_group group{pool};
        std::atomic<bool> blocker_started{false};
        std::atomic<int> inner_waits{0};
        std::atomic<int> finished{0};
        // The group's one task: it runs on a worker and finishes only once every nested
        // wait has registered and has had time to park.
        group.run([&] {
            blocker_started = true;
            while (inner_waits.load() < depth - 1) std::this_thread::yield();
            std::this_thread::sleep_for(100ms);
            finished.fetch_add(1);
        });
        spin_until(blocker_started);
        // Plain tasks (not of the group) that wait on the group. This thread's outer wait
        // runs them (they are on its own leased seat, newest first) or a worker does.
        for (int i = 1; i < depth; ++i) {
            (void)pool.submit([&] {
                inner_waits.fetch_add(1);
                group.wait();
                finished.fetch_add(1);
            });
        }
        group.wait();
        // The inner waits that ran on workers may still be returning.
        while (finished.load() < depth) std::this_thread::yield();
        return finished.load();
    });
    REQUIRE(ran == depth);
}

TEST_CASE("task_group: several threads may wait on one group at once (regression)", "[scheduler][task_group]") {
    const int threads = GENERATE(1, 2, 4);
    CAPTURE(threads);
    const int woken = run_with_watchdog("task_group waited on by several threads", [threads] {
        mt::thread_pool pool{threads};
        mt::task_group group{pool};
        std::atomic<bool> release{false};
        std::atomic<bool> started{false};
        group.run([&] {
            started = true;
            spin_until(release);
        });
        spin_until(started);
        std::atomic<int> returned{0};
        std::vector<std::thread> waiters;
        for (int i = 0; i < 3; ++i) {
            waiters.emplace_back([&] {
                group.wait();
                returned.fetch_add(1);
            });
        }
        std::this_thread::sleep_for(100ms);  // let every waiter park
        release = true;
        for (std::thread& waiter : waiters) waiter.join();
        return returned.load();
    });
    REQUIRE(woken == 3);
}

// Issue 11.2. Each worker used to leave for good the first time its drain found nothing,
// so a task still running when the destructor began, which queued work and then waited
// for another worker to take it, waited for ever.
TEST_CASE("thread_pool: the destructor waits for work queued by tasks still running (regression)",
          "[scheduler][thread_pool]") {
    const int threads = GENERATE(2, 3, 4);
    CAPTURE(threads);
    const bool child_ran = run_with_watchdog("destructor with a running task that queues work", [threads] {
        auto pool = std::make_unique<mt::thread_pool>(threads);
        mt::thread_pool* raw = pool.get();
        std::atomic<bool> destroying{false};
        std::atomic<bool> started{false};
        std::atomic<bool> child{false};
        (void)pool->submit([&, raw] {
            started = true;
            spin_until(destroying);
            // Long enough for the other workers' drains to find nothing.
            std::this_thread::sleep_for(50ms);
            (void)raw->submit([&] { child = true; });  // onto this worker's own deque
            // Not a helping wait: only another worker can run the child.
            spin_until(child);
        });
        spin_until(started);
        destroying = true;
        pool.reset();
        return child.load();
    });
    REQUIRE(child_ran);
}

namespace {
/// A pool's number of guest seats, as the scheduler computes it.
std::size_t guest_seat_count() { return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 8, 32); }
}  // namespace

// Issue 11.3 (and 11.4). Outside threads each in join(B, get a future of pool A) hold
// every guest seat of B while the A tasks they wait for each need a seat in B for a
// map_reduce. The old code made a thread with no free seat block on a semaphore, helping
// nobody: nothing finished.
TEST_CASE("outside callers beyond the guest seats still make progress (regression)", "[scheduler][join]") {
    const std::size_t callers = guest_seat_count() + 1;
    const int b_threads = GENERATE(1, 2);
    CAPTURE(callers, b_threads);
    const std::int64_t total = run_with_watchdog("more outside callers than guest seats", [callers, b_threads] {
        // One A worker per caller, so that every A task is started by a worker (and not
        // run inline by the caller's get()), exactly as when A is busy.
        mt::thread_pool pool_a{callers};
        mt::thread_pool pool_b{b_threads};
        std::atomic<std::size_t> inside_join{0};
        const std::size_t seats = guest_seat_count();
        std::vector<std::int64_t> results(callers, 0);
        std::vector<std::thread> outside;
        for (std::size_t c = 0; c < callers; ++c) {
            outside.emplace_back([&, c] {
                std::atomic<bool> started{false};
                auto from_a = pool_a.submit([&] {
                    started = true;
                    // Wait until B's guest seats are all held by the callers.
                    while (inside_join.load() < seats) std::this_thread::yield();
                    return mt::map_reduce(
                        pool_b, mt::iota(0, 20000), [](int i) { return std::int64_t{i}; }, mt::sum<std::int64_t>{});
                });
                auto [value, one] = mt::join(
                    pool_b,
                    [&] {
                        inside_join.fetch_add(1);
                        spin_until(started);
                        return from_a.get();
                    },
                    [] { return std::int64_t{1}; });
                results[c] = value + one;
            });
        }
        for (std::thread& thread : outside) thread.join();
        std::int64_t sum = 0;
        for (std::int64_t r : results) sum += r;
        return sum;
    });
    REQUIRE(total == static_cast<std::int64_t>(callers) * (std::int64_t{20000} * 19999 / 2 + 1));
}

// Issue 11.4. More outside threads than guest seats, which all leave their seats at once,
// again and again: a semaphore that wakes a waiter only on a 0 -> 1 transition (libstdc++
// 12) can leave a waiter asleep while seats are free.
TEST_CASE("outside callers queueing for guest seats are never left asleep (regression)", "[scheduler][join]") {
    const std::size_t callers = guest_seat_count() + 4;
    const int rounds = static_cast<int>(microtask_test::scaled(300));
    const int completed = run_with_watchdog("guest seat hand-over", [callers, rounds] {
        mt::thread_pool pool{2};
        std::atomic<int> done{0};
        // Every round, all callers ask for a seat at once and the seated ones leave at
        // about the same moment, so several seats come free together while others wait.
        std::barrier round_start(static_cast<std::ptrdiff_t>(callers));
        std::vector<std::thread> outside;
        for (std::size_t c = 0; c < callers; ++c) {
            outside.emplace_back([&] {
                for (int r = 0; r < rounds; ++r) {
                    round_start.arrive_and_wait();
                    auto [a, b] = mt::join(
                        pool,
                        [] {
                            std::this_thread::sleep_for(500us);
                            return 1;
                        },
                        [] { return 1; });
                    done.fetch_add(a + b - 1);
                }
            });
        }
        for (std::thread& thread : outside) thread.join();
        return done.load();
    });
    REQUIRE(completed == static_cast<int>(callers) * rounds);
}

// Issue 11.5. Thieves scanned the outside threads' leased seats lowest first: an outside
// thread that kept its seat non-empty kept another outside thread's single task waiting
// until it stopped submitting.
TEST_CASE("outside submitters do not starve one another (regression)", "[scheduler][thread_pool]") {
    const int threads = GENERATE(1, 2);
    CAPTURE(threads);
    const double delay_ms = run_with_watchdog("a starved outside submitter", [threads] {
        mt::thread_pool pool{threads};
        std::atomic<bool> flooding{false};
        std::atomic<bool> victim_ran{false};
        std::atomic<std::int64_t> outstanding{0};
        const auto flood_limit = 3s;
        // The first outside thread leases the lowest leased seat and keeps it non-empty.
        std::thread flooder([&] {
            const auto start = std::chrono::steady_clock::now();
            while (!victim_ran.load() && std::chrono::steady_clock::now() - start < flood_limit) {
                if (outstanding.load() > 2000) {
                    flooding = true;
                    std::this_thread::yield();
                    continue;
                }
                outstanding.fetch_add(1);
                (void)pool.submit([&] {
                    const auto until = std::chrono::steady_clock::now() + 20us;
                    while (std::chrono::steady_clock::now() < until) {
                    }
                    outstanding.fetch_sub(1);
                });
            }
        });
        spin_until(flooding);
        // The second outside thread (this one) leases the next seat and submits one task.
        const auto submitted = std::chrono::steady_clock::now();
        std::atomic<std::int64_t> ran_at{0};
        (void)pool.submit([&] {
            ran_at = (std::chrono::steady_clock::now() - submitted).count();
            victim_ran = true;
        });
        flooder.join();
        while (!victim_ran.load()) std::this_thread::yield();
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::duration(ran_at.load())).count();
    });
    CAPTURE(delay_ms);
    REQUIRE(delay_ms < 1000.0);
}

// Issue 11.9. A seat's sleep word (written by whoever wakes the seat) shared a cache line
// with rng_state (written by the owner on every steal round), so every steal round of a
// busy thread invalidated the line a waker was about to CAS, and the reverse.
TEST_CASE("seat: fields other threads write and fields the owner writes are on separate lines (regression)",
          "[scheduler]") {
    using mt::detail::k_cache_line;
    const auto line = [](const void* address) { return reinterpret_cast<std::uintptr_t>(address) / k_cache_line; };
    auto seat = std::make_unique<mt::detail::seat>();
    // Written by wakers and finishers.
    const auto shared = line(&seat->sleep_state);
    REQUIRE(line(&seat->wait_key) == shared);
    // Written by the owner on every look for work.
    REQUIRE(line(&seat->rng_state) != shared);
    REQUIRE(line(&seat->fairness_tick) != shared);
    REQUIRE(line(&seat->extras_cursor) != shared);
    // Neither on the deque's lines.
    REQUIRE(line(&seat->deque) != shared);
    REQUIRE(line(&seat->deque) != line(&seat->rng_state));
    // The sleeper count, read on every fork, has a line of its own.
    STATIC_REQUIRE(alignof(mt::detail::parking) == k_cache_line);
    STATIC_REQUIRE(sizeof(mt::detail::parking) == k_cache_line);
}

// Issue 11.8. Deque rings only grew and retired rings lived until the pool died, and the
// task-block depot never shrank: after a burst of a million submits, resident memory
// stayed at the burst's peak for the life of the pool (the depot: of the process).
#ifndef MICROTASK_SANITIZED
namespace {
/// VmRSS of this process in KiB, from /proc/self/status (0 if unavailable).
std::size_t resident_kib() {
    std::FILE* status = std::fopen("/proc/self/status", "r");
    if (status == nullptr) return 0;
    char line[256];
    std::size_t kib = 0;
    while (std::fgets(line, sizeof line, status) != nullptr) {
        if (std::sscanf(line, "VmRSS: %zu kB", &kib) == 1) break;
    }
    std::fclose(status);
    return kib;
}
}  // namespace

TEST_CASE("memory a burst of submits took comes back after a quiet moment (regression)", "[scheduler][memory]") {
    const std::size_t growth_kib = run_with_watchdog("memory after a burst", [] {
        mt::thread_pool pool{2};
        for (int i = 0; i < 1000; ++i) (void)pool.submit([] {});
        pool.submit([] {}).get();
        std::this_thread::sleep_for(50ms);
#if defined(__GLIBC__)
        malloc_trim(0);  // measure what the pool holds, not what the allocator caches
#endif
        const std::size_t baseline = resident_kib();
        // A burst: submitted much faster than two workers run it, so the outside thread's
        // seat, its ring and the task blocks all grow to hundreds of thousands.
        constexpr int k_burst = 1'000'000;
        std::atomic<int> ran{0};
        for (int i = 0; i < k_burst; ++i) {
            (void)pool.submit([&ran] {
                const auto until = std::chrono::steady_clock::now() + 1us;
                while (std::chrono::steady_clock::now() < until) {
                }
                ran.fetch_add(1, std::memory_order_relaxed);
            });
        }
        while (ran.load() < k_burst) std::this_thread::sleep_for(1ms);
        // The quiet moment: the workers park (and trim), and this thread's next submit
        // finds its seat empty (and trims it).
        std::this_thread::sleep_for(100ms);
        pool.submit([] {}).get();
        std::this_thread::sleep_for(100ms);
#if defined(__GLIBC__)
        malloc_trim(0);
#endif
        const std::size_t after = resident_kib();
        return after > baseline ? after - baseline : 0;
    });
    CAPTURE(growth_kib);
    // Before: the depot alone kept ~100 MiB of task blocks, the seat's rings 16 MiB.
    REQUIRE(growth_kib < 16 * 1024);
}
#endif

// Issue 11.8, the mechanism: trim() frees retired rings while thieves are stealing. Under
// AddressSanitizer a thief reading a freed ring is a heap-use-after-free; everywhere,
// every item must be taken exactly once.
// Both ways a thief can announce itself: counted in the deque, or with a flag of its own
// (what the scheduler's seats do) that trim()'s readers_idle checks.
TEST_CASE("work_stealing_deque: trim() while thieves steal loses nothing and frees no ring in use",
          "[scheduler][memory]") {
    const bool own_flags = GENERATE(false, true);
    INFO("thieves announce with " << (own_flags ? "their own flags" : "the deque's count"));
    using deque = mt::detail::work_stealing_deque<std::uintptr_t>;
    std::atomic<bool> reading[2] = {false, false};
    const int rounds = static_cast<int>(microtask_test::scaled(400));
    // Grows the 8-slot ring each round: to 4096 slots when the thieves fall behind, only to
    // 16 when they keep up (an unoptimised build's pushes are that slow), so the trim
    // below shrinks anything above 8.
    constexpr int k_burst = 3000;
    deque d(8);
    std::vector<std::atomic<int>> taken(static_cast<std::size_t>(rounds) * k_burst);
    std::atomic<bool> stop{false};
    std::vector<std::thread> thieves;
    for (int t = 0; t < 2; ++t) {
        thieves.emplace_back([&, t] {
            std::atomic<bool>* flag = own_flags ? &reading[t] : nullptr;
            while (!stop.load(std::memory_order_relaxed)) {
                auto [status, item, label] = d.steal(deque::any_label, flag);
                if (status == deque::steal_status::success) taken[item].fetch_add(1);
            }
        });
    }
    std::size_t next = 0;
    for (int r = 0; r < rounds; ++r) {
        for (int i = 0; i < k_burst; ++i) d.push(next++);
        while (true) {
            const std::uintptr_t item = d.pop(~std::uintptr_t{0});
            if (item == ~std::uintptr_t{0}) break;
            taken[item].fetch_add(1);
        }
        d.trim(8, [&] {
            return !reading[0].load(std::memory_order_seq_cst) && !reading[1].load(std::memory_order_seq_cst);
        });
        REQUIRE(d.capacity() == 8);
    }
    stop = true;
    for (std::thread& thief : thieves) thief.join();
    std::size_t wrong = 0;
    for (auto& count : taken) wrong += count.load() != 1;
    REQUIRE(wrong == 0);
}

// The sleep protocol's hardest case (docs/design.md section 7): a task pushes work onto its
// own deque and then blocks on something only that work will do, without helping. The
// pushed task must reach a sleeping worker: the pusher never comes back to its deque.
// Between rounds the pool goes idle long enough for its workers to park (or to be on the
// way), so pushes race with threads going to sleep and with searchers giving up.
TEST_CASE("a task that submits and then blocks gets its work run by a sleeping worker", "[scheduler][sleep]") {
    for (const int workers : {2, 3, 4}) {
        run_with_watchdog("submit from a task, then block on that work", [workers] {
            mt::thread_pool pool(workers);
            constexpr int k_rounds = 200;
            int completed = 0;
            for (int round = 0; round < k_rounds; ++round) {
                std::atomic<bool> inner_ran{false};
                auto outer = pool.submit([&pool, &inner_ran] {
                    (void)pool.submit([&inner_ran] {
                        inner_ran.store(true, std::memory_order_release);
                        inner_ran.notify_one();
                    });
                    // Blocks this worker without running pool work: only another worker,
                    // woken for the push above, can run the inner task.
                    inner_ran.wait(false, std::memory_order_acquire);
                });
                outer.get();
                completed += inner_ran.load(std::memory_order_acquire) ? 1 : 0;
                // Let the workers go idle: sometimes just spinning, sometimes parked.
                std::this_thread::sleep_for(std::chrono::microseconds(round % 7 == 0 ? 300 : round % 3 * 40));
            }
            CHECK(completed == k_rounds);
        });
    }
}

// The searcher rule: forks made while a worker searches do not wake sleepers, but work left
// behind when the last searcher stops must still be taken. Many short fork-join calls from
// an outside thread with more workers than cores, each call followed by an idle gap; with
// the adaptive policy, calls learned to be short but over 3 us are shared with a searching
// worker (fold_shared_short) or wake one for the next call.
TEST_CASE("short fork-join calls between idle gaps all complete with the right result", "[scheduler][sleep]") {
    run_with_watchdog("short calls between idle gaps", [] {
        mt::thread_pool pool(4);
        std::int64_t wrong = 0;
        const auto slow_identity = [](std::int64_t i) {
            std::uint64_t x = static_cast<std::uint64_t>(i);
            for (int round = 0; round < 8; ++round) x = x * 6364136223846793005ull + 1442695040888963407ull;
            return i ^ static_cast<std::int64_t>(x >> 56);
        };
        std::int64_t expected = 0;
        for (std::int64_t i = 0; i < 4096; ++i) expected += slow_identity(i);
        for (int call = 0; call < 2000; ++call) {
            const std::int64_t fine = mt::map_reduce(pool, mt::iota(std::int64_t{0}, std::int64_t{4096}), slow_identity,
                                                     mt::sum<std::int64_t>{}, mt::grain(64));
            const std::int64_t adaptive = mt::map_reduce(pool, mt::iota(std::int64_t{0}, std::int64_t{4096}),
                                                         slow_identity, mt::sum<std::int64_t>{});
            wrong += fine == expected ? 0 : 1;
            wrong += adaptive == expected ? 0 : 1;
            if (call % 200 == 0) std::this_thread::sleep_for(std::chrono::microseconds(250));
        }
        CHECK(wrong == 0);
    });
}
