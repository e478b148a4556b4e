// microtask — detail/fork_join.hpp
// Binary fork-join with the forked job on the forking thread's stack: no allocation and
// no shared counter per fork. Used by mt::join and by the splitting inside map_reduce.
#pragma once

#include "scheduler.hpp"
#include "task.hpp"

#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace microtask::detail {

/// What the owner's slow path needs from a fork's job, whatever the body type: whether
/// anyone took it, whether it has finished, and where it was pushed.
class fork_state : public task_base {
public:
    fork_state(run_fn run_job, seat& owner) noexcept : task_base{run_job}, m_owner(owner) {}

    /// seq_cst: the owner reads this in scheduler::wait_until's `done` (Dekker pairing).
    [[nodiscard]] bool done() const noexcept { return m_done.load(std::memory_order_seq_cst); }

    /// Owner only: has anyone taken the job? (Relaxed: the case that matters is the
    /// owner itself having run it from a nested wait, which it sees in program order.)
    [[nodiscard]] bool started() const noexcept { return m_started.load(std::memory_order_relaxed); }

    /// The seat of the thread that forked; its deque holds the job.
    [[nodiscard]] seat& owner() const noexcept { return m_owner; }

    // The job's index in the owner's deque, for take_back(). Written by the push
    // (scheduler::push_local) and read back after `left` returns: from this frame, not
    // from a register that every call of the forking function would have to save.
    // Uninitialised until then: a default value would be one more store per fork.
    std::int64_t index;

protected:
    seat& m_owner;
    std::atomic<bool> m_started{false};
    std::atomic<bool> m_done{false};
};

/// The right-hand side of a fork, living in the forking frame. `Body` is invoked with the
/// seat of whichever thread runs it.
template <class Body>
class stack_job final : public fork_state {
public:
    using result_type = value_result_t<Body&, seat&>;

    stack_job(Body& body, seat& owner) noexcept : fork_state{&run_stolen, owner}, m_body(body) {}
    stack_job(const stack_job&) = delete;
    stack_job& operator=(const stack_job&) = delete;
    // Destroys nothing: the outcome exists only after a thief ran the job, and the owner
    // then consumes it with take_result() or discard_outcome(). Most jobs come back to
    // their owner unrun, and a destructor that tested for an outcome cost each fork a
    // store and a test (the compiler cannot know that nobody wrote it).
    ~stack_job() {}

    /// Precondition: done(), after a thief ran the job. Consumes the outcome.
    result_type take_result() {
        if (m_failed) {
            std::exception_ptr error = std::move(m_outcome.error);
            m_outcome.error.~exception_ptr();
            std::rethrow_exception(std::move(error));
        }
        // Destroyed after the return value is built from it, even if that move throws.
        struct destroy_after {
            result_type& value;
            ~destroy_after() { value.~result_type(); }
        } const guard{m_outcome.value};
        return std::move(m_outcome.value);
    }

    /// Precondition: done(), after a thief ran the job. Drops the outcome unread.
    void discard_outcome() noexcept {
        if (m_failed) {
            m_outcome.error.~exception_ptr();
        } else {
            m_outcome.value.~result_type();
        }
    }

private:
    static void run_stolen(task_base* base) noexcept {
        auto* self = static_cast<stack_job*>(base);
        self->m_started.store(true, std::memory_order_relaxed);
        try {
            // The thief's own seat in this pool (it may hold seats in other pools too).
            ::new (static_cast<void*>(std::addressof(self->m_outcome.value)))
                result_type(invoke_to_value(self->m_body, *self->m_owner.pool->current_seat()));
            self->m_failed = false;
        } catch (...) {
            ::new (static_cast<void*>(std::addressof(self->m_outcome.error)))
                std::exception_ptr(std::current_exception());
            self->m_failed = true;
        }
        seat& owner = self->m_owner;
        scheduler& sched = *owner.pool;
        // seq_cst: pairs with the owner's park() (store sleeping, then read done()). Also
        // publishes the outcome written above to the owner, which reads it after done().
        self->m_done.store(true, std::memory_order_seq_cst);
        // `self` may already be gone: the owner can return as soon as it sees m_done.
        sched.wake_seat(owner);
    }

    // The thief's result or exception; neither exists unless the job ran stolen.
    union outcome {
        outcome() noexcept {}
        ~outcome() {}
        result_type value;
        std::exception_ptr error;
    };

    // A small trivially copyable body (mt::join's, which holds a reference to the user's
    // callable) is kept by value: a thief then reaches the user's callable in one load,
    // and the fork stores no extra pointer. Only one of this copy and the original runs.
    using body_storage =
        std::conditional_t<std::is_trivially_copyable_v<Body> && sizeof(Body) <= 2 * sizeof(void*), Body, Body&>;

    body_storage m_body;
    outcome m_outcome;
    bool m_failed;  // written by the thief before m_done, read by the owner after it
};

/// The rare end of a fork: the job was not simply the newest item of the owner's deque
/// when `left` returned. Runs what `left` pushed and left behind, which sits above the
/// job (LIFO); stops as soon as the job has been taken, since below it lie outer frames'
/// offers, which must not run deep on this stack (a nested wait inside `left` may have
/// run the job). Returns true if the job came back unstarted (the caller runs its work
/// here), false once a thief or that nested wait has run it to completion. Out of line
/// and not a template, so that the common end of every fork is a short function; it
/// takes only the job (which knows its owner's seat, which knows its pool), so that the
/// forking function keeps nothing else alive across `left` for it.
[[gnu::noinline]] inline bool settle_fork(fork_state& job) {
    seat& own = job.owner();
    scheduler& sched = *own.pool;
    while (!job.started()) {
        task_base* task = own.deque.pop(nullptr);
        // Empty: a thief took the job (steals take the oldest first); wait for it below.
        if (task == nullptr) break;
        if (task == &job) return true;
        task->execute();
    }
    sched.wait_until(own, [&job] { return job.done(); });
    return false;
}

/// Runs `left(own)`; if it throws, settles the fork before the exception leaves this
/// frame (the job lives there, so it must neither stay offered nor be still running on
/// a thief), skipping the job if it had not started. Settling runs inside the handler:
/// an exception_ptr kept for a rethrow after it cost every fork a store and a test.
template <class Left, class Job>
value_result_t<Left&, seat&> run_left_side(Left& left, seat& own, Job& job) {
    try {
        return invoke_to_value(left, own);
    } catch (...) {
        // Left's exception wins; a thief's result or exception is dropped.
        if (!settle_fork(job)) job.discard_outcome();
        throw;
    }
}

/// The general fork: runs `left(own)` here and offers `right` to thieves. Then either
///   - nobody took `right`: returns continue_inline(left result, own) — the caller may
///     run the right-hand work differently when it stays on this thread (the fold
///     threads its accumulator through instead of combining two results), or
///   - a thief ran `right(thief's seat)`: waits for it, helping meanwhile, and returns
///     merge(left result, right result).
/// If `left` throws and `right` has not started, `right` is skipped; if it has, it is
/// awaited (it lives in this frame) and then left's exception is rethrown.
/// Precondition: `own` is the calling thread's seat in `sched`.
template <class Left, class Right, class ContinueInline, class Merge>
decltype(auto) fork_or_continue(scheduler& sched, seat& own, Left&& left, Right&& right,
                                ContinueInline&& continue_inline, Merge&& merge) {
    stack_job<std::remove_reference_t<Right>> job(right, own);
    sched.push_local(own, &job, job.index);
    auto left_value = run_left_side(left, own, job);
    // Almost always nothing has touched the job and it is still the newest item: `left`
    // waited for whatever it forked itself. A job that has started was taken by someone
    // (perhaps this thread, from a wait inside `left`), and its slot may hold other work.
    if ((!job.started() && own.deque.take_back(job.index)) || settle_fork(job)) [[likely]] {
        return continue_inline(std::move(left_value), own);
    }
    // A thief ran the job, and merge() or take_result() may throw: the job's outcome
    // must be consumed whatever happens next (take_result() does, first thing).
    return merge(std::move(left_value), job.take_result());
}

/// Runs `left(own)` here and `right(seat&)` here or on a thief; returns both results.
template <class Left, class Right>
auto fork_join(scheduler& sched, seat& own, Left&& left, Right&& right)
    -> std::pair<value_result_t<Left&, seat&>, value_result_t<Right&, seat&>> {
    using result = std::pair<value_result_t<Left&, seat&>, value_result_t<Right&, seat&>>;
    return fork_or_continue(
        sched, own, left, right,
        [&right](value_result_t<Left&, seat&>&& left_value, seat& here) {
            return result(std::move(left_value), invoke_to_value(right, here));
        },
        [](value_result_t<Left&, seat&>&& left_value, value_result_t<Right&, seat&>&& right_value) {
            return result(std::move(left_value), std::move(right_value));
        });
}

/// How mt::join hands a callable to its out-of-line path: a trivially copyable temporary
/// by value, anything else by reference. A reference lets the callable's address escape
/// the forking function, and the compiler then keeps a lambda's captures in memory on
/// the common path too, where a fork in fib(32) stored and reloaded them (~7% slower).
/// A copy of a temporary (const kept, so the same call operator is chosen) is
/// indistinguishable from it, unless the callable compares its own address.
template <class F>
using join_argument_t = std::conditional_t<!std::is_lvalue_reference_v<F> &&
                                               std::is_trivially_copy_constructible_v<std::remove_cvref_t<F>> &&
                                               std::is_trivially_destructible_v<std::remove_cvref_t<F>>,
                                           F, F&>;

/// mt::join called from outside the pool, or from inside another pool's task: takes a
/// seat here first (scheduler::run_in_seat). `A` and `B` are join_argument_t types.
template <class Result, class A, class B>
[[gnu::noinline]] Result join_from_outside(scheduler& sched, A a, B b) {
    return Result(sched.run_in_seat([&](seat& own) {
        return fork_join(
            sched, own, [&a](seat&) { return invoke_to_value(a); }, [&b](seat&) { return invoke_to_value(b); });
    }));
}

}  // namespace microtask::detail
