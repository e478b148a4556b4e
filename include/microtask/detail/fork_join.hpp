// microtask — detail/fork_join.hpp
// Binary fork-join with the forked job on the forking thread's stack: no allocation and
// no shared counter per fork. Used by mt::join and by the splitting inside map_reduce.
#pragma once

#include "scheduler.hpp"
#include "task.hpp"

#include <atomic>
#include <exception>
#include <optional>
#include <utility>

namespace microtask::detail {

/// The right-hand side of a fork, living in the forking frame. `Body` is invoked with the
/// seat of whichever thread runs it.
template <class Body>
class stack_job final : public task_base {
public:
    using result_type = value_result_t<Body&, seat&>;

    stack_job(Body& body, scheduler& sched, seat& owner) noexcept
        : task_base{&run_stolen}, m_body(body), m_sched(sched), m_owner(owner) {}

    /// seq_cst: the owner reads this in scheduler::wait_until's `done` (Dekker pairing).
    [[nodiscard]] bool done() const noexcept { return m_done.load(std::memory_order_seq_cst); }

    result_type take_result() {
        if (m_error) std::rethrow_exception(m_error);
        return std::move(*m_result);
    }

    /// Owner only: has anyone taken the job? (Relaxed: the case that matters is the
    /// owner itself having run it from a nested wait, which it sees in program order.)
    [[nodiscard]] bool started() const noexcept { return m_started.load(std::memory_order_relaxed); }

private:
    static void run_stolen(task_base* base) noexcept {
        auto* self = static_cast<stack_job*>(base);
        self->m_started.store(true, std::memory_order_relaxed);
        try {
            // The thief's own seat in this pool (it may hold seats in other pools too).
            self->m_result.emplace(invoke_to_value(self->m_body, *self->m_sched.current_seat()));
        } catch (...) {
            self->m_error = std::current_exception();
        }
        scheduler& sched = self->m_sched;
        seat& owner = self->m_owner;
        // seq_cst: pairs with the owner's park() (store sleeping, then read done()).
        self->m_done.store(true, std::memory_order_seq_cst);
        // `self` may already be gone: the owner can return as soon as it sees m_done.
        sched.wake_seat(owner);
    }

    Body& m_body;
    scheduler& m_sched;
    seat& m_owner;
    std::optional<result_type> m_result;
    std::exception_ptr m_error;
    std::atomic<bool> m_started{false};
    std::atomic<bool> m_done{false};
};

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
    stack_job<std::remove_reference_t<Right>> job(right, sched, own);
    sched.push_local(own, &job);

    std::optional<value_result_t<Left&, seat&>> left_result;
    std::exception_ptr left_error;
    try {
        left_result.emplace(invoke_to_value(left, own));
    } catch (...) {
        left_error = std::current_exception();
    }

    // LIFO: anything `left` pushed and left behind sits above our job; run it first. If
    // the pop comes back empty, our job was taken: by a thief (steals take the oldest
    // first), or by a wait inside `left` that popped and ran it already. Either way
    // wait_until below returns once it is done.
    // Stop as soon as the job has been taken: below it lie outer frames' offers, which
    // must not run deep on this stack (a nested wait inside `left` may have run our job).
    while (!job.started()) {
        task_base* task = own.deque.pop(nullptr);
        if (task == nullptr) break;
        if (task == &job) {
            if (left_error) std::rethrow_exception(left_error);
            return continue_inline(std::move(*left_result), own);
        }
        task->execute();
    }
    sched.wait_until(own, [&job] { return job.done(); });
    if (left_error) std::rethrow_exception(left_error);
    return merge(std::move(*left_result), job.take_result());
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

}  // namespace microtask::detail
