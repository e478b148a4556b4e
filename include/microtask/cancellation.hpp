// microtask — cancellation.hpp
/// @file
/// What a cancelled operation throws. The vocabulary for asking an operation to stop is
/// C++20's own: pass a std::stop_token (from a std::stop_source you keep, a
/// std::jthread's, or an mt::deadline's) to map_reduce, reduce, fold, for_each,
/// distribute, the searches of find.hpp, a task_group or thread_pool::submit.
#pragma once

#include <exception>

namespace microtask {

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
