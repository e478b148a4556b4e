// microtask — detail/stack_guard.hpp
// Knows when the calling thread's stack is more than half used, so that a helping wait can
// stop taking unrelated work. Each task a wait takes runs on top of the waiting frame; a
// chain of waits that each take a task which waits again would otherwise grow the stack
// without bound (oneTBB stops stealing in the same situation).
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__linux__) && defined(__GLIBC__)
#include <pthread.h>
#endif

namespace microtask::detail {

/// The calling thread's stack as [lowest, highest) addresses, or {0, 0} where the platform
/// cannot say. Computed once per thread.
struct stack_bounds {
    std::uintptr_t lowest = 0;
    std::uintptr_t highest = 0;

    static stack_bounds of_this_thread() noexcept {
        stack_bounds bounds;
#if defined(__linux__) && defined(__GLIBC__)
        pthread_attr_t attributes;
        if (pthread_getattr_np(pthread_self(), &attributes) == 0) {
            void* address = nullptr;
            std::size_t size = 0;
            if (pthread_attr_getstack(&attributes, &address, &size) == 0 && address != nullptr) {
                bounds.lowest = reinterpret_cast<std::uintptr_t>(address);
                bounds.highest = bounds.lowest + size;
            }
            pthread_attr_destroy(&attributes);
        }
#endif
        return bounds;
    }
};

/// Is more than half of the calling thread's stack in use? False where the stack cannot
/// be found, or when the caller runs on another stack (a fiber, a signal stack). A
/// thread-local read and two compares after the first call on each thread.
[[nodiscard]] inline const stack_bounds& this_thread_stack() noexcept {
    thread_local const stack_bounds bounds = stack_bounds::of_this_thread();
    return bounds;
}

/// Is `address` inside the calling thread's stack (as far as the platform can say)?
[[nodiscard]] inline bool on_this_thread_stack(const void* address) noexcept {
    const stack_bounds& bounds = this_thread_stack();
    const auto a = reinterpret_cast<std::uintptr_t>(address);
    return bounds.lowest <= a && a < bounds.highest;
}

[[nodiscard]] inline bool stack_more_than_half_used() noexcept {
    const stack_bounds& bounds = this_thread_stack();
    // The frame address, not a local's: AddressSanitizer may move locals to a heap "fake
    // stack".
    const auto here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    if (here < bounds.lowest || here >= bounds.highest) return false;
    // The stack grows down on every platform this supports: used = highest - here.
    return bounds.highest - here > (bounds.highest - bounds.lowest) / 2;
}

}  // namespace microtask::detail
