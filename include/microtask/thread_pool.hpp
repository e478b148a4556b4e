// microtask — thread_pool.hpp
/// @file
/// The work-stealing thread pool every primitive runs on.
#pragma once

#include "cancellation.hpp"
#include "concepts.hpp"
#include "detail/cpu_count.hpp"
#include "detail/scheduler.hpp"
#include "future.hpp"
#include "stats.hpp"
#include "worker_hooks.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace microtask {

class thread_pool;

namespace detail {
struct pool_access {
    static scheduler& of(thread_pool& pool) noexcept;
};
}  // namespace detail

/// A fixed set of worker threads with one lock-free work-stealing deque each.
///
/// Idle workers spin briefly, then sleep (no CPU use while idle). A worker that waits on
/// the pool (future::get, task_group::wait, join, a nested map_reduce) runs other tasks
/// of the pool meanwhile, so nested parallelism neither deadlocks nor oversubscribes.
/// An outside thread that runs join, map_reduce or task_group::wait borrows a guest seat
/// and works on that operation too (when every guest seat is taken it never waits for
/// one: it runs the operation on a private seat, on its own thread); its future::get
/// runs its task if nobody started it, and otherwise just blocks.
///
/// Not copyable or movable. All members are thread-safe, except that the destructor must
/// not run concurrently with any other use of the pool.
class thread_pool {
public:
    /// One worker per CPU this process may use: the hardware threads, limited by the
    /// affinity mask (taskset, a cpuset) and the cgroup CPU quota (docker --cpus), at
    /// least one; or, if the environment variable MICROTASK_NUM_THREADS is set, that many.
    /// Throws std::invalid_argument if MICROTASK_NUM_THREADS is set but is not an integer
    /// in [1, 4096], and std::system_error if a thread cannot be started (the threads
    /// already started are stopped first).
    thread_pool() : thread_pool(default_thread_count()) {}

    /// `thread_count` workers. Throws std::invalid_argument if thread_count < 1 or
    /// thread_count > 4096, and std::system_error if a thread cannot be started.
    template <std::integral Count>
    explicit thread_pool(Count thread_count) : m_scheduler(checked_count(thread_count)) {}

    /// `thread_count` workers that run `hooks.on_start(index)` first and
    /// `hooks.on_stop(index)` last (see worker_hooks). Returns once every on_start has
    /// returned. Throws std::invalid_argument as above, the first exception an on_start
    /// threw (after stopping the pool), and std::system_error.
    template <std::integral Count>
    thread_pool(Count thread_count, worker_hooks hooks) : m_scheduler(checked_count(thread_count), std::move(hooks)) {}

    /// The default number of workers (as thread_pool()), with hooks.
    explicit thread_pool(worker_hooks hooks) : m_scheduler(default_thread_count(), std::move(hooks)) {}

    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    /// Runs every task already submitted (including tasks those tasks submit, also
    /// while the destructor is draining), then joins the workers: the workers leave only
    /// once no task is queued or running. No task is lost. Must not run concurrently with
    /// any other use of the pool, nor inside the pool (in one of its own tasks, or a wait
    /// that helps it): that prints a message to stderr and aborts, since it cannot join
    /// its own thread.
    ~thread_pool() = default;

    /// Number of worker threads. O(1), any thread.
    [[nodiscard]] std::size_t size() const noexcept { return m_scheduler.worker_count(); }

    /// Per-worker counters (index = worker index) since the pool started or the last
    /// reset_stats(): tasks run and stolen, failed steals, sleeps, idle and busy time.
    /// Any thread, any time; O(size()); a snapshot of a running pool may be a few events
    /// behind. Throws std::bad_alloc.
    [[nodiscard]] std::vector<worker_stats> stats() const {
        const std::lock_guard lock(m_stats_mutex);
        const auto now = std::chrono::steady_clock::now();
        const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now - m_stats_since);
        std::vector<worker_stats> result(size());
        for (std::size_t i = 0; i < size(); ++i) {
            const auto current = read_counters(i);
            const auto& base = m_stats_baseline[i];
            worker_stats& out = result[i];
            out.tasks_run = current[0] - base[0];
            out.tasks_stolen = current[1] - base[1];
            out.failed_steals = current[2] - base[2];
            out.times_parked = current[3] - base[3];
            out.idle = std::min(elapsed, std::chrono::nanoseconds(static_cast<std::int64_t>(current[4] - base[4])));
            out.busy = elapsed - out.idle;
        }
        return result;
    }

    /// Starts the counters of stats() from zero again. Any thread; O(size()). (The
    /// workers' own counters are not written: a baseline is kept instead, so that each
    /// counter keeps a single writer.) Throws std::bad_alloc.
    void reset_stats() {
        const std::lock_guard lock(m_stats_mutex);
        m_stats_baseline.resize(size());
        for (std::size_t i = 0; i < size(); ++i) m_stats_baseline[i] = read_counters(i);
        m_stats_since = std::chrono::steady_clock::now();
    }

    /// Index in [0, size()) of the calling worker thread of this pool; std::nullopt on
    /// any other thread (including an outside thread helping while it waits). O(1).
    [[nodiscard]] std::optional<std::size_t> this_worker_index() const noexcept {
        const detail::seat* own = m_scheduler.current_seat();
        if (own == nullptr || own->is_guest) return std::nullopt;
        return own->index;
    }

    /// Queues a copy of `fn` (decayed) to run exactly once on the pool and returns a
    /// future for its result. The task may outlive the calling scope: capture by value.
    /// From a worker thread the task goes on that worker's own deque (LIFO, no lock); an
    /// outside thread leases a seat on its first submit and pushes there (lock-free),
    /// or uses the pool's injection queue when all 16 leasable seats are taken. Task
    /// blocks are recycled per thread, so steady-state submits do not call malloc.
    /// Throws std::bad_alloc; the task's own exceptions are rethrown by future::get().
    /// Returns future<result of fn()>; spelled `auto` so that clang, which substitutes
    /// into a return type before it checks constraints, reports a bad `fn` as value_task.
    template <class F>
        requires value_task<std::decay_t<F>>
    [[nodiscard]] auto submit(F&& fn) {
        using result = std::invoke_result_t<std::decay_t<F>&>;
        auto* task = new detail::future_task<result, std::decay_t<F>>(std::forward<F>(fn), m_scheduler);
        future<result> handle(task);  // holds the second reference from here on
        try {
            m_scheduler.submit(task);
        } catch (...) {
            task->release();  // the queue's reference: the task was never queued
            throw;
        }
        return handle;
    }

    /// submit that drops the task if `stop` is stopped before the task starts: `fn` is
    /// then never called (its captures are still destroyed), and future::get() throws
    /// mt::operation_cancelled. A task that has started runs to its end. The token is
    /// checked once, when the task starts (on a worker, or inline in future::wait/get).
    /// Otherwise the same as submit(fn).
    template <class F>
        requires value_task<std::decay_t<F>>
    [[nodiscard]] auto submit(F&& fn, stop_token stop) {
        return submit([fn = std::forward<F>(fn), stop = std::move(stop)]() mutable -> decltype(auto) {
            if (stop.stop_requested()) throw operation_cancelled();
            return fn();
        });
    }

private:
    friend struct detail::pool_access;

    static std::size_t default_thread_count() {
        const char* requested = std::getenv("MICROTASK_NUM_THREADS");
        if (requested == nullptr || *requested == '\0') return detail::usable_cpus();
        char* end = nullptr;
        errno = 0;
        const long long count = std::strtoll(requested, &end, 10);
        if (*end != '\0' || errno != 0 || count < 1 || std::cmp_greater(count, k_max_threads)) {
            throw std::invalid_argument("microtask::thread_pool: MICROTASK_NUM_THREADS must be an integer from 1 to " +
                                        std::to_string(k_max_threads) + " (got \"" + requested + "\")");
        }
        return static_cast<std::size_t>(count);
    }

    template <std::integral Count>
    static std::size_t checked_count(Count thread_count) {
        if (thread_count < 1) {
            throw std::invalid_argument("microtask::thread_pool: thread count must be at least 1 (got " +
                                        std::to_string(thread_count) + ")");
        }
        if (std::cmp_greater(thread_count, k_max_threads)) {
            throw std::invalid_argument("microtask::thread_pool: thread count must be at most " +
                                        std::to_string(k_max_threads) + " (got " + std::to_string(thread_count) + ")");
        }
        return static_cast<std::size_t>(thread_count);
    }

    static constexpr std::size_t k_max_threads = 4096;

    using counter_values = std::array<std::uint64_t, 5>;
    counter_values read_counters(std::size_t worker) const noexcept {
        // relaxed: each counter has one writer (its worker); a slightly stale value is
        // the documented snapshot semantics.
        const auto& c = m_scheduler.seat_at(worker).stats;
        return {c.tasks_run.load(std::memory_order_relaxed), c.tasks_stolen.load(std::memory_order_relaxed),
                c.failed_steals.load(std::memory_order_relaxed), c.times_parked.load(std::memory_order_relaxed),
                c.idle_ns.load(std::memory_order_relaxed)};
    }

    detail::scheduler m_scheduler;
    mutable std::mutex m_stats_mutex;
    std::vector<counter_values> m_stats_baseline = std::vector<counter_values>(m_scheduler.worker_count());
    std::chrono::steady_clock::time_point m_stats_since = std::chrono::steady_clock::now();
};

inline detail::scheduler& detail::pool_access::of(thread_pool& pool) noexcept { return pool.m_scheduler; }

/// The process-wide pool used by the overloads that take no pool: created on first use
/// with thread_pool's default size (one worker per CPU the process may use, or
/// MICROTASK_NUM_THREADS), safe to call from any thread. Throws what that constructor
/// throws (and the next call tries again). It is never
/// destroyed (like rayon's global pool): it stays usable until the process ends, also
/// from destructors of static objects and from threads still running at exit. Its idle
/// workers sleep; they are not joined at exit, so a task still queued or running when
/// the process exits may not run to the end: get() or wait() what you submit to it.
inline thread_pool& default_pool() {
    // Deliberately leaked. A function-local static object would be destroyed during
    // static destruction before every static object whose construction finished earlier
    // (reverse order), so such an object's destructor that uses the default pool would
    // use a dead pool; and its destructor would join the workers from whichever thread
    // calls exit(), a worker included. The pointer stays reachable, so leak checkers do
    // not report the pool.
    static thread_pool* const pool = new thread_pool;
    return *pool;
}

}  // namespace microtask
