// microtask — deadline.hpp
/// @file
/// A time limit for any operation that takes a stop_token.
#pragma once

#include "cancellation.hpp"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace microtask {

/// A stop_source that a timer stops at a point in time: pass token() to map_reduce,
/// find_first, a task_group, ... and the operation throws mt::operation_cancelled if it
/// is still running then.
///
///     mt::deadline limit(std::chrono::milliseconds(50));
///     auto hit = mt::find_first(pool, data, is_match, limit.token());
///
/// - The timer is one thread that sleeps until the deadline (or until the deadline
///   object is destroyed, whichever comes first): the constructor costs a thread start
///   (tens of microseconds), so give deadlines to operations, not to tiny tasks.
/// - request_stop() stops the token early, as the timer would (for a "cancel" button
///   next to the time limit).
/// - Thread-safety: token(), request_stop() and expired() from any thread. The
///   destructor stops the timer (not the token) and joins it; tokens taken from it stay
///   valid (they share the stop state) but the timer no longer stops them.
/// - Throws std::system_error if the timer thread cannot be started.
class deadline {
public:
    /// Stops token() at `when` on the steady clock.
    explicit deadline(std::chrono::steady_clock::time_point when) : m_timer([this, when] { sleep_until(when); }) {}

    /// Stops token() `timeout` from now.
    template <class Rep, class Period>
    explicit deadline(std::chrono::duration<Rep, Period> timeout)
        : deadline(std::chrono::steady_clock::now() + std::chrono::ceil<std::chrono::steady_clock::duration>(timeout)) {
    }

    deadline(const deadline&) = delete;
    deadline& operator=(const deadline&) = delete;
    /// Stops the timer early (without stopping the token) and joins it. Never throws.
    ~deadline() {
        {
            std::lock_guard lock(m_mutex);
            m_destroying = true;
        }
        m_wake.notify_one();
        m_timer.join();
    }

    /// The token the timer stops. Copies share the state and may outlive the deadline.
    [[nodiscard]] stop_token token() const noexcept { return m_source.get_token(); }

    /// Stops the token now. Returns false if it was already stopped. Never throws.
    bool request_stop() noexcept { return m_source.request_stop(); }

    /// True once the token is stopped (by the timer or request_stop()).
    [[nodiscard]] bool expired() const noexcept { return m_source.stop_requested(); }

private:
    void sleep_until(std::chrono::steady_clock::time_point when) {
        std::unique_lock lock(m_mutex);
        // Returns early only when the deadline object is being destroyed.
        if (!m_wake.wait_until(lock, when, [this] { return m_destroying; })) m_source.request_stop();
    }

    // Declared before the timer: the timer thread uses them, so they must be built before
    // the thread starts and destroyed after it is joined. (No std::jthread: libc++ 14 has
    // none.)
    stop_source m_source;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_destroying = false;  // guarded by m_mutex
    std::thread m_timer;
};

}  // namespace microtask
