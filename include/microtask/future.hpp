// microtask — future.hpp
/// @file
/// The handle thread_pool::submit returns.
#pragma once

#include "detail/scheduler.hpp"
#include "detail/small_block_cache.hpp"
#include "detail/task.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

namespace microtask {

namespace detail {

/// The shared state of a submitted task: the queue's entry and the future's result in
/// one block, reference-counted by the two.
///
/// Whoever *claims* the task runs it: normally the worker that dequeues it; but a thread
/// that waits on a task nobody has started claims it and runs it inline (its own task
/// only — never unrelated work), and the queue entry, when reached, finds it claimed and
/// just drops its reference. So a waiting thread is never idle while its task sits in a
/// queue, and the task still runs exactly once.
template <class T>
class future_state : public task_base {
public:
    [[nodiscard]] bool ready() const noexcept { return m_done.load(std::memory_order_seq_cst) != 0; }

    void wait() {
        if (ready()) return;
        if (running_task_frame::runs_task_of(this)) {
            // Checked only when not ready: from inside its own task it never is.
            throw std::logic_error(
                "microtask::future: get() or wait() called from inside the future's own task, "
                "which would wait for itself forever");
        }
        if (claim()) {
            m_execute(this);  // our own task, not started by anyone: run it here
            publish();
            return;
        }
        // It is running elsewhere. Inside the pool, help with other work meanwhile (a
        // worker that blocked here could deadlock the pool); outside, block.
        if (seat* own = m_sched.current_seat(); own != nullptr && !own->is_guest) {
            // seq_cst: pairs with publish(): either it sees us registered and wakes us,
            // or wait_until's read of m_done sees its write.
            m_waiter.store(own, std::memory_order_seq_cst);
            m_sched.wait_until(*own, [this] { return ready(); });
            m_waiter.store(nullptr, std::memory_order_relaxed);
        } else {
            // The state outlives the completer's notify (it holds a reference), so a
            // plain futex wait on m_done is safe.
            while (!ready()) m_done.wait(0, std::memory_order_seq_cst);
        }
    }

    /// Waits until the task has finished or `deadline` has passed; true if finished.
    /// Polls instead of parking: the park and futex waits of wait() have no time limit.
    /// Sleeps grow from 1 us to k_timed_wait_poll, so a long wait costs little CPU and
    /// returns at most k_timed_wait_poll after the task finished.
    template <class Clock, class Duration>
    bool wait_until(const std::chrono::time_point<Clock, Duration>& deadline) const {
        constexpr std::chrono::microseconds k_timed_wait_poll{200};
        std::chrono::microseconds nap{1};
        while (!ready()) {
            const auto now = Clock::now();
            if (now >= deadline) return false;
            if (deadline - now < nap) {
                std::this_thread::sleep_until(deadline);
            } else {
                std::this_thread::sleep_for(nap);
            }
            nap = std::min(nap * 2, k_timed_wait_poll);
        }
        return true;
    }

    T take() {
        wait();
        // Move the exception out rather than share it: otherwise the last reference to it
        // can be dropped by the completer's release() on another thread, after this
        // thread caught and read it. That is correctly ordered, but only through the
        // exception's own refcount inside libstdc++, which ThreadSanitizer cannot see, so
        // it reported a data race whenever the completer released last. Now the thread
        // that handles the exception also destroys it. No ordering changes: m_error was
        // written before publish() and is read and cleared only here, after ready()
        // (seq_cst) saw m_done; get() consumes the state, so nothing reads m_error again.
        if (m_error) std::rethrow_exception(std::exchange(m_error, nullptr));
        if constexpr (std::is_void_v<T>) {
            return;
        } else {
            return std::move(*m_value);
        }
    }

    void release() noexcept {
        // acq_rel: the last owner must see every write the others made before deleting.
        if (m_refs.fetch_sub(1, std::memory_order_acq_rel) == 1) m_destroy(this);
    }

protected:
    using destroy_fn = void (*)(future_state*) noexcept;
    using execute_fn = void (*)(future_state*) noexcept;
    future_state(destroy_fn destroy, execute_fn execute_body, scheduler& sched) noexcept
        : task_base{&run_queued}, m_destroy(destroy), m_execute(execute_body), m_sched(sched) {}
    ~future_state() = default;

    template <class F>
    void store_result(F& fn) noexcept {
        try {
            if constexpr (std::is_void_v<T>) {
                fn();
            } else {
                m_value.emplace(fn());
            }
        } catch (...) {
            m_error = std::current_exception();
        }
    }

private:
    /// True for exactly one caller. acq_rel: the winner sees the submitter's writes (the
    /// callable), and the loser's later reads of the result are ordered by m_done.
    bool claim() noexcept {
        return !m_claimed.load(std::memory_order_relaxed) && !m_claimed.exchange(true, std::memory_order_acq_rel);
    }

    /// The queue's entry point.
    static void run_queued(task_base* base) noexcept {
        auto* self = static_cast<future_state*>(base);
        if (self->claim()) {
            self->m_execute(self);
            self->publish();
        }
        self->release();  // the queue's reference; `self` may be gone after this
    }

    /// Makes the result visible and wakes whoever waits.
    void publish() noexcept {
        // seq_cst: pairs with wait()'s registration of m_waiter and its reads of m_done.
        m_done.store(1, std::memory_order_seq_cst);
        m_done.notify_all();  // outside waiters; cheap when nobody waits
        if (seat* waiter = m_waiter.exchange(nullptr, std::memory_order_seq_cst)) {
            m_sched.wake_seat(*waiter);
        }
    }

    destroy_fn m_destroy;
    execute_fn m_execute;
    scheduler& m_sched;
    std::atomic<int> m_refs{2};  // the queue's and the future's
    std::atomic<bool> m_claimed{false};
    std::atomic<std::uint32_t> m_done{0};  // 32 bits: std::atomic::wait uses a futex directly
    std::atomic<seat*> m_waiter{nullptr};
    std::exception_ptr m_error;
    std::optional<std::conditional_t<std::is_void_v<T>, char, T>> m_value;
};

template <class T, class F>
class future_task final : public future_state<T>, public recycled_allocation {
public:
    future_task(F&& fn, scheduler& sched) : future_state<T>(&destroy, &execute, sched), m_fn(std::move(fn)) {}
    future_task(const F& fn, scheduler& sched) : future_state<T>(&destroy, &execute, sched), m_fn(fn) {}

private:
    static void execute(future_state<T>* base) noexcept {
        auto* self = static_cast<future_task*>(base);
        const running_task_frame frame(static_cast<const future_state<T>*>(self));
        self->store_result(*self->m_fn);
        // Release the callable's captures as soon as it has run, not when the future dies.
        self->m_fn.reset();
    }
    static void destroy(future_state<T>* base) noexcept { delete static_cast<future_task*>(base); }

    std::optional<F> m_fn;
};

}  // namespace detail

/// The result of a task submitted with thread_pool::submit. Move-only.
///
/// Destroying a future does not wait: the task still runs, exactly once.
/// Thread-safety: one thread at a time may call a future's members (move it to hand it
/// to another thread).
template <class T>
class future {
public:
    /// A future with no state: valid() is false.
    future() noexcept = default;
    /// Takes over `other`'s state; `other` is left without one. O(1), never throws.
    future(future&& other) noexcept : m_state(std::exchange(other.m_state, nullptr)) {}
    /// Drops this future's state (without waiting; the task still runs) and takes over
    /// `other`'s. O(1), never throws.
    future& operator=(future&& other) noexcept {
        if (this != &other) {
            reset();
            m_state = std::exchange(other.m_state, nullptr);
        }
        return *this;
    }
    future(const future&) = delete;
    future& operator=(const future&) = delete;
    /// Drops the state without waiting: the task still runs, exactly once, and its
    /// result or exception is discarded. Never throws.
    ~future() { reset(); }

    /// True until get() has been called (or for a default-constructed future, false).
    [[nodiscard]] bool valid() const noexcept { return m_state != nullptr; }

    /// True when the task has finished (normally or by throwing). Never blocks.
    /// Throws std::logic_error if !valid().
    [[nodiscard]] bool is_ready() const {
        require_valid("is_ready");
        return m_state->ready();
    }

    /// Blocks until the task has finished. If no thread has started the task yet, the
    /// caller runs it itself (only this task). If it is running elsewhere, a worker of
    /// the pool runs other tasks meanwhile, so waiting inside a task never deadlocks the
    /// pool; any other thread blocks. Throws std::logic_error if !valid(), or if called
    /// from inside this future's own task (it would wait for itself forever).
    void wait() const {
        require_valid("wait");
        m_state->wait();
    }

    /// Waits until the task has finished or `timeout` has passed: returns
    /// std::future_status::ready or std::future_status::timeout. Unlike wait(), never runs
    /// the task itself (that could overrun the timeout) and never helps the pool: it
    /// sleeps in short, growing naps (at most 200 us, so it may return up to that late).
    /// Throws std::logic_error if !valid().
    template <class Rep, class Period>
    std::future_status wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
        return wait_until(std::chrono::steady_clock::now() + timeout);
    }

    /// wait_for with an absolute deadline on any clock.
    template <class Clock, class Duration>
    std::future_status wait_until(const std::chrono::time_point<Clock, Duration>& deadline) const {
        require_valid("wait_until");
        return m_state->wait_until(deadline) ? std::future_status::ready : std::future_status::timeout;
    }

    /// Waits, then returns the task's result or rethrows its exception. Afterwards
    /// valid() is false. Throws std::logic_error if !valid(), or if called from inside
    /// this future's own task (it would wait for itself forever).
    T get() {
        require_valid("get");
        detail::future_state<T>* state = std::exchange(m_state, nullptr);
        struct releaser {
            detail::future_state<T>* s;
            ~releaser() { s->release(); }
        } guard{state};
        return state->take();
    }

private:
    friend class thread_pool;
    explicit future(detail::future_state<T>* state) noexcept : m_state(state) {}

    void require_valid(const char* what) const {
        if (m_state == nullptr) {
            throw std::logic_error(std::string("microtask::future::") + what +
                                   ": the future has no state (default-constructed, moved from, "
                                   "or get() was already called)");
        }
    }
    void reset() noexcept {
        if (m_state != nullptr) std::exchange(m_state, nullptr)->release();
    }

    detail::future_state<T>* m_state = nullptr;
};

}  // namespace microtask
