// Shared helpers for the microtask tests.
#pragma once

#include <microtask/thread_pool.hpp>

#include <cstddef>
#include <exception>
#include <future>
#include <type_traits>
#include <utility>

namespace microtask_test {

/// Sizes shrink under the sanitizers (which slow code 5-20x) so that the whole test
/// command stays well inside CI's time limit; the plain build runs the full sizes.
constexpr std::size_t scaled(std::size_t full) {
#ifdef MICROTASK_SANITIZED
    return full / 10 > 0 ? full / 10 : 1;
#else
    return full;
#endif
}

/// Runs `fn` on a worker of `pool` and waits with a std::future, so that the calling
/// thread does *not* help (an mt::future::get() from outside would borrow a guest seat
/// and could steal the very subtasks a test wants to see run in a known order).
template <class Fn>
auto run_on_worker(microtask::thread_pool& pool, Fn fn) {
    using result = std::invoke_result_t<Fn&>;
    std::packaged_task<result()> task(std::move(fn));
    auto outcome = task.get_future();
    (void)pool.submit([&task] { task(); });
    return outcome.get();
}

}  // namespace microtask_test
