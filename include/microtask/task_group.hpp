// microtask — task_group.hpp
/// @file
/// A dynamic set of tasks waited on together.
#pragma once

#include "cancellation.hpp"
#include "detail/scheduler.hpp"
#include "detail/small_block_cache.hpp"
#include "detail/task.hpp"
#include "thread_pool.hpp"

#include <atomic>
#include <concepts>
#include <cstdint>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace microtask {

/// Runs any number of tasks on a pool and waits for all of them.
///
/// Every task passed to run() runs exactly once, even after another task of the group
/// threw; wait() then rethrows the first exception. The group can be reused after
/// wait() returns or throws.
/// Thread-safety: run() from any thread, also from inside the group's own tasks; wait()
/// from any thread, from several at once, and nested (a wait that, while helping, runs a
/// task which waits on the same group); when several waits overlap, the first exception
/// goes to one of them. The destructor waits for tasks still running (it cannot
/// rethrow, so call wait() to see exceptions).
///
/// Cancellation: once cancel() is called or the group's stop token is stopped, tasks
/// that have not started are skipped (they never run: the exception to "every task runs
/// exactly once"), running ones finish, and wait() throws mt::operation_cancelled if any
/// task was skipped. An exception does not cancel the group (its tasks are independent);
/// call cancel() where one task's failure should stop the others.
class task_group {
public:
    /// An empty group whose tasks run on `pool`. The pool must outlive the group.
    /// O(1), never throws.
    explicit task_group(thread_pool& pool) noexcept : m_sched(detail::pool_access::of(pool)) {}
    /// An empty group bound to `stop`: when it is stopped, the tasks that have not
    /// started are skipped, as after cancel(). O(1), never throws.
    task_group(thread_pool& pool, stop_token stop) noexcept
        : m_sched(detail::pool_access::of(pool)), m_stop(std::move(stop)) {}
    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;
    /// Waits for every task still pending (helping the pool meanwhile); an exception a
    /// task threw since the last wait() is discarded. Never throws.
    ~task_group() { wait_all(); }

    /// Queues a copy of `fn` (decayed) to run exactly once on the pool (the same path as
    /// thread_pool::submit). Any thread, also from inside the group's tasks and during
    /// wait(). O(1): one small block from a per-thread recycling cache. Throws
    /// std::bad_alloc, and then the task is not queued.
    template <class F>
        requires std::invocable<std::decay_t<F>&>
    void run(F&& fn) {
        auto* task = new group_task<std::decay_t<F>>(std::forward<F>(fn), *this);
        // relaxed: the task's decrement is ordered after this by the queue hand-off.
        m_state.fetch_add(k_one_task, std::memory_order_relaxed);
        try {
            m_sched.submit(task);
        } catch (...) {
            delete task;
            finish_one();  // as if it ran: a concurrent wait() may be parked on this count
            throw;
        }
    }

    /// Skips every task of the group that has not started yet, from any thread (also from
    /// inside one of its tasks); running tasks finish. Lasts until the next wait() returns
    /// or throws: tasks run after that run again. O(1), never throws.
    void cancel() noexcept {
        // relaxed: a task that reads a stale `false` had started before it could see the
        // request, which the contract allows; one queued after cancel() returned reads it
        // through the queue's release/acquire hand-off.
        m_cancel_requested.store(true, std::memory_order_relaxed);
    }

    /// True once cancel() was called (until the next wait() ends) or the token stopped.
    [[nodiscard]] bool is_cancelled() const noexcept {
        return m_cancel_requested.load(std::memory_order_relaxed) || m_stop.stop_requested();
    }

    /// Waits until every task run so far has finished; the waiting thread runs other
    /// tasks meanwhile. Rethrows the first exception a task threw since the last wait();
    /// otherwise throws mt::operation_cancelled if a task was skipped since then (see
    /// cancel()).
    /// Throws std::logic_error, before waiting, if called from inside one of this group's
    /// own tasks (or from a task that such a task helped run while it waited): that task
    /// is among those waited for, so the wait could never end.
    void wait() {
        if (detail::running_task_frame::runs_task_of(this)) {
            throw std::logic_error(
                "microtask::task_group::wait: called from inside one of the group's own tasks, "
                "which would wait for itself forever; wait from outside the group's tasks");
        }
        wait_all();
        std::exception_ptr error;
        {
            std::lock_guard lock(m_error_mutex);
            error = std::exchange(m_error, nullptr);
        }
        // relaxed: the skipping tasks' stores are ordered before wait_all()'s return by
        // their seq_cst finish_one().
        m_cancel_requested.store(false, std::memory_order_relaxed);
        const bool skipped = m_skipped.exchange(false, std::memory_order_relaxed);
        if (error) std::rethrow_exception(error);
        if (skipped) throw operation_cancelled();
    }

private:
    // m_state packs the pending-task count (bits 32-63), the number of registered waiters
    // (bits 0-15) and, in bits 16-31, the seat index + 1 of the waiter when exactly one is
    // registered (0: unknown), so a finishing task reads all of it in the one RMW that may
    // be its last touch of the group: the group can be destroyed right after. With one
    // known waiter the finisher wakes that seat; otherwise it finds the waiters through
    // their seats' wait_key (scheduler::wake_waiters_of), a scan of every seat that took a
    // fifth of a task's time in trees of small task groups (skynet). The count, not the
    // index alone, stays right when waits nest on one thread or come from several threads.
    static constexpr unsigned k_waiter_bits = 16;
    static constexpr std::uint64_t k_waiter_mask = (std::uint64_t{1} << k_waiter_bits) - 1;
    static constexpr std::uint64_t k_one_waiter = 1;
    static constexpr unsigned k_hint_shift = 16;
    static constexpr std::uint64_t k_hint_mask = std::uint64_t{0xFFFF} << k_hint_shift;
    static constexpr unsigned k_task_shift = 32;
    static constexpr std::uint64_t k_one_task = std::uint64_t{1} << k_task_shift;

    template <class F>
    class group_task final : public detail::task_base, public detail::recycled_allocation {
    public:
        group_task(F&& fn, task_group& group) : task_base{&run}, m_fn(std::move(fn)), m_group(group) {}
        group_task(const F& fn, task_group& group) : task_base{&run}, m_fn(fn), m_group(group) {}

    private:
        static void run(task_base* base) noexcept {
            auto* self = static_cast<group_task*>(base);
            task_group& group = self->m_group;
            if (group.is_cancelled()) {
                group.m_skipped.store(true, std::memory_order_relaxed);  // read after finish_one (seq_cst)
            } else {
                try {
                    const detail::running_task_frame frame(&group);
                    self->m_fn();
                } catch (...) {
                    group.record_failure();
                }
            }
            delete self;
            group.finish_one();
        }
        F m_fn;
        task_group& m_group;
    };

    // A mutex, not an atomic flag: run() may overlap wait(), and wait() must never see
    // "failed" before the exception_ptr is fully written. Only the failure path locks.
    void record_failure() noexcept {
        std::lock_guard lock(m_error_mutex);
        if (!m_error) m_error = std::current_exception();
    }

    void finish_one() noexcept {
        detail::scheduler& sched = m_sched;
        const void* const key = this;  // only compared once `this` may be gone
        // seq_cst: pairs with wait_all()'s registration and its seq_cst reads (the
        // Dekker pairing of parking::park). After this RMW `this` may be destroyed.
        const std::uint64_t before = m_state.fetch_sub(k_one_task, std::memory_order_seq_cst);
        if ((before >> k_task_shift) != 1 || (before & k_waiter_mask) == 0) return;
        const std::uint64_t hint = (before & k_hint_mask) >> k_hint_shift;
        if ((before & k_waiter_mask) == 1 && hint != 0) {
            // The one waiter registered when our RMW read the state: it had stored its key
            // before registering, so it is waiting for this group (or has just stopped,
            // and then a spurious wake-up is harmless).
            sched.wake_seat(sched.seat_at(static_cast<std::size_t>(hint - 1)));
        } else {
            sched.wake_waiters_of(key);
        }
    }

    [[nodiscard]] bool idle() const noexcept { return (m_state.load(std::memory_order_seq_cst) >> k_task_shift) == 0; }

    /// Registers a waiter on seat `own`: the count, and the seat as the hint when it is
    /// the only waiter (a private seat, outside the pool's array, gives no hint).
    /// seq_cst: see wait_all().
    void register_waiter(const detail::seat& own) noexcept {
        const std::uint64_t seat_hint =
            own.index < m_sched.seat_count() && own.index < 0xFFFF ? std::uint64_t{own.index} + 1 : 0;
        std::uint64_t state = m_state.load(std::memory_order_relaxed);
        std::uint64_t next;
        do {
            next = (state & ~k_hint_mask) + k_one_waiter;
            // A second waiter makes the hint unknown: one index cannot name both.
            if ((state & k_waiter_mask) == 0) next |= seat_hint << k_hint_shift;
        } while (!m_state.compare_exchange_weak(state, next, std::memory_order_seq_cst, std::memory_order_relaxed));
    }

    /// Undoes register_waiter; the hint becomes unknown (the waiter left may be another).
    /// relaxed: a finisher that still counts us only wakes this seat spuriously (it
    /// re-checks its own condition), which is harmless.
    void deregister_waiter() noexcept {
        std::uint64_t state = m_state.load(std::memory_order_relaxed);
        while (
            !m_state.compare_exchange_weak(state, (state & ~k_hint_mask) - k_one_waiter, std::memory_order_relaxed)) {
        }
    }

    void wait_all() noexcept {
        if (idle()) return;
        m_sched.run_in_seat([this](detail::seat& own) {
            // seq_cst: the key must be visible to a finisher whose RMW reads our
            // registration below (it synchronises with our registration RMW and then loads the
            // key with seq_cst). The outer key is restored afterwards: waits nest.
            const void* const outer = own.wait_key.exchange(this, std::memory_order_seq_cst);
            register_waiter(own);
            m_sched.wait_until(own, [this] { return idle(); });
            deregister_waiter();
            // seq_cst: an outer wait on another group parks on this seat next; that
            // group's finisher must read the restored key, and its seq_cst load comes
            // after this store in the total order whenever our park's re-check missed it.
            own.wait_key.store(outer, std::memory_order_seq_cst);
        });
    }

    detail::scheduler& m_sched;
    stop_token m_stop;
    std::atomic<bool> m_cancel_requested{false};
    std::atomic<bool> m_skipped{false};  // a task was skipped since the last wait()
    std::atomic<std::uint64_t> m_state{0};
    std::mutex m_error_mutex;
    std::exception_ptr m_error;
};

}  // namespace microtask
