// microtask — cancellation.hpp
/// @file
/// How to ask an operation to stop, and what a cancelled operation throws. The
/// vocabulary is C++20's own: pass an mt::stop_token — which is std::stop_token itself
/// wherever the standard library has it — from a stop_source you keep, a std::jthread's,
/// or an mt::deadline's, to map_reduce, reduce, fold, for_each, distribute, the searches
/// of find.hpp, a task_group or thread_pool::submit.
///
/// An operation checks its token before it starts (a stopped token: nothing runs) and
/// before every leaf and inner node of its tree (distribute: every part), so a stop
/// prunes whole subtrees and takes effect within about one leaf; never per element, so a
/// token that is never stopped costs nothing measurable. The first exception of a leaf
/// skips the remaining leaves on its own, with or without a token; it never stops the
/// caller's token.
#pragma once

#include <exception>
#include <version>

#if defined(__cpp_lib_jthread)
#include <stop_token>
#else
#include <atomic>
#include <memory>
#endif

namespace microtask {

#if defined(__cpp_lib_jthread)
/// The token an operation polls to learn that its caller wants it to stop: exactly
/// std::stop_token (and stop_source std::stop_source) on every standard library that has
/// them — libstdc++ 10 and later, MSVC, the libc++ releases that ship it — so a std::stop_token, a
/// std::jthread's or a std::stop_source's, passes straight in.
using stop_token = std::stop_token;
/// See stop_token: std::stop_source where the standard library has it.
using stop_source = std::stop_source;
#else
class stop_source;

/// Stand-in for std::stop_token on a standard library without it (such as libc++ 14):
/// the same members an operation needs — stop_requested(), stop_possible() — and the
/// same sharing: copies of a token and of its stop_source see one stop state. Stop
/// callbacks are not offered. Thread-safe as std::stop_token; never throws.
class stop_token {
public:
    /// A token that can never be stopped.
    stop_token() noexcept = default;
    /// True once request_stop() was called on the source it came from.
    [[nodiscard]] bool stop_requested() const noexcept {
        // acquire: pairs with request_stop()'s release, so the caller's writes before it
        // are visible to whoever sees the stop.
        return m_state && m_state->load(std::memory_order_acquire);
    }
    /// False for a default-constructed token: nothing can ever stop it.
    [[nodiscard]] bool stop_possible() const noexcept { return m_state != nullptr; }
    friend bool operator==(const stop_token&, const stop_token&) noexcept = default;

private:
    friend class stop_source;
    explicit stop_token(std::shared_ptr<std::atomic<bool> > state) noexcept : m_state(std::move(state)) {}
    std::shared_ptr<std::atomic<bool> > m_state;
};

/// Stand-in for std::stop_source (see stop_token). Throws std::bad_alloc from its
/// constructor only; everything else never throws.
class stop_source {
public:
    /// A new stop state, not stopped.
    stop_source() : m_state(std::make_shared<std::atomic<bool> >(false)) {}
    /// A token sharing this source's stop state.
    [[nodiscard]] stop_token get_token() const noexcept { return stop_token(m_state); }
    /// Stops every token of this source. Returns false if it was stopped already.
    bool request_stop() noexcept {
        // release: see stop_token::stop_requested.
        return !m_state->exchange(true, std::memory_order_acq_rel);
    }
    /// True once request_stop() was called.
    [[nodiscard]] bool stop_requested() const noexcept { return m_state->load(std::memory_order_acquire); }
    /// Always true: a source can always be stopped.
    [[nodiscard]] bool stop_possible() const noexcept { return true; }

private:
    std::shared_ptr<std::atomic<bool> > m_state;
};
#endif

/// Thrown to the caller of an operation whose std::stop_token was stopped before all of
/// its work had started. By then every leaf or task the operation had started has run to
/// its end, the ones it had not started were skipped, and the pool is ready for more
/// work: the caller never sees a partial result, and nothing of the operation runs after
/// this exception reaches it.
///
/// An operation whose token is stopped only after all its work has started returns its
/// complete result as usual. If a leaf or task also threw, that exception is the one
/// rethrown (it is the real error; the stop may even be the caller's reaction to it).
class operation_cancelled : public std::exception {
public:
    /// "microtask: operation cancelled". Never throws.
    [[nodiscard]] const char* what() const noexcept override { return "microtask: operation cancelled"; }
};

}  // namespace microtask
