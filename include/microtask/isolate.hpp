// microtask — isolate.hpp
/// @file
/// Isolation: waits inside a function help only with that function's own work.
#pragma once

#include "detail/regions.hpp"
#include "detail/scheduler.hpp"
#include "thread_pool.hpp"

#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

namespace microtask {

/// Runs `fn()` on the calling thread so that every wait on `pool` inside it — a join, a
/// map_reduce, a task_group::wait, a future::get — helps only with work spawned inside
/// `fn` (directly or by its tasks), never with other tasks of the pool. The same holds on
/// the threads that run `fn`'s stolen tasks, for as long as they run them. Returns what
/// `fn` returns; rethrows what it throws.
///
/// Why: a waiting thread normally runs other queued tasks. If a task holds a lock across a
/// nested parallel call, the wait may pick up another task that takes the same lock on the
/// same thread, and deadlock. Inside isolate that unrelated task is left to other threads:
///
///     std::lock_guard lock(cache_mutex);
///     auto total = mt::isolate(pool, [&] { return mt::map_reduce(pool, items, f, mt::sum<double>{}); });
///
/// Precondition: waits inside `fn` must not depend on work queued outside it (e.g. a
/// future of a task submitted before the call) unless another thread can run that work:
/// an isolated thread will not. Isolation applies to `pool` only; nested calls nest.
/// Cost: O(1) to enter and leave; the waits inside steal only their region's tasks (a
/// label compared per steal). Thread-safety: any thread, inside or outside the pool.
/// Throws whatever `fn` throws.
template <class F>
    requires std::invocable<F&>
std::invoke_result_t<F&> isolate(thread_pool& pool, F&& fn) {
    detail::scheduler& sched = detail::pool_access::of(pool);
    return sched.run_in_seat([&](detail::seat& own) -> std::invoke_result_t<F&> {
        const detail::region_scope region(own, detail::new_region_id());
        return std::invoke(fn);
    });
}

/// isolate on mt::default_pool().
template <class F>
    requires std::invocable<F&>
std::invoke_result_t<F&> isolate(F&& fn) {
    return isolate(default_pool(), std::forward<F>(fn));
}

}  // namespace microtask
