// microtask — join.hpp
/// @file
/// Binary fork-join.
#pragma once

#include "concepts.hpp"
#include "detail/fork_join.hpp"
#include "detail/task.hpp"
#include "thread_pool.hpp"

#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>
#include <variant>

namespace microtask {

/// The result type of join for callables A and B: a pair of their results, with `void`
/// results represented as std::monostate.
template <class A, class B>
using join_result_t = std::pair<detail::value_result_t<A&>, detail::value_result_t<B&>>;

/// Runs `a()` and `b()` potentially in parallel on `pool` and returns both results.
///
/// `a` runs on the calling thread; `b` is offered to idle workers and, if nobody took it
/// by the time `a` is done, runs on the calling thread too. The fork costs O(1), no
/// allocation and no shared write (unless the worker's deque has to grow). While waiting
/// for a stolen `b`, the caller runs other tasks. Both callables may capture the caller's
/// locals by reference: join returns only after both have finished. A callable passed as
/// an lvalue is the one invoked (its state changes are seen afterwards); a trivially
/// copyable temporary may be invoked as a copy of itself.
/// Callable from any thread (an outside thread borrows a guest seat) and from inside
/// tasks, to any depth.
/// Throws: if `a` throws and `b` has not started, `b` is skipped; otherwise `b` is
/// awaited and then the exception of `a` (else of `b`) is rethrown. std::bad_alloc if a
/// deque must grow.
/// Both callables must satisfy value_task. The result is a join_result_t<A, B>; the
/// return type is spelled `auto` so that clang, which substitutes into a return type
/// before it checks constraints, also reports a violation as value_task.
template <class A, class B>
    requires value_task<A> && value_task<B>
auto join(thread_pool& pool, A&& a, B&& b) {
    detail::scheduler& sched = detail::pool_access::of(pool);
    // Every nested join: the calling thread's innermost seat is in this pool (as in
    // scheduler::run_in_seat, spelled out here so that nothing else takes `a`'s address).
    if (const detail::held_seat& innermost = *detail::t_innermost_held_seat; innermost.sched == &sched) [[likely]] {
        return join_result_t<A, B>(detail::fork_join(
            sched, *innermost.own, [&a](detail::seat&) { return detail::invoke_to_value(a); },
            [&b](detail::seat&) { return detail::invoke_to_value(b); }));
    }
    return detail::join_from_outside<join_result_t<A, B>, detail::join_argument_t<A>, detail::join_argument_t<B>>(sched,
                                                                                                                  a, b);
}

/// join on mt::default_pool().
template <class A, class B>
    requires value_task<A> && value_task<B>
auto join(A&& a, B&& b) {
    return join(default_pool(), std::forward<A>(a), std::forward<B>(b));
}

}  // namespace microtask
