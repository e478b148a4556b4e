// microtask — detail/task.hpp
// The unit the scheduler moves around: an intrusive header with one function pointer.
#pragma once

#include "stack_guard.hpp"

#include <cstdint>
#include <exception>
#include <functional>
#include <type_traits>
#include <utility>
#include <variant>

namespace microtask::detail {

/// What deques and the injection queue hold. `run` executes the task and then releases
/// whatever owns it (a heap task deletes itself; a stack job signals its owner). It must
/// not throw: tasks capture their exceptions into their own result state.
struct task_base {
    using run_fn = void (*)(task_base*) noexcept;
    run_fn run;
    void execute() noexcept { run(this); }
};

/// Marks, for as long as it lives, that a task of `owner` (a task_group, a future's
/// state) is running on this thread. Frames nest innermost first: a task that waits helps
/// run other tasks, whose frames stack on top of its own. A wait consults them to refuse
/// waiting for its own task, which could never end. Lives on the stack of the task's run
/// function; one thread-local load and two stores per task.
class running_task_frame {
public:
    explicit running_task_frame(const void* owner) noexcept : m_owner(owner), m_outer(t_innermost) {
        t_innermost = this;
    }
    ~running_task_frame() { t_innermost = m_outer; }
    running_task_frame(const running_task_frame&) = delete;
    running_task_frame& operator=(const running_task_frame&) = delete;

    /// True if a task of `owner` is running on this thread, innermost or further out.
    /// O(frames newer than `owner`) when `owner` lives on this thread's stack (a task
    /// group declared in a task: the common case), else O(depth of task nesting).
    /// Why the walk may stop early: frames further out are older, and a frame that lies
    /// deeper in this stack than `owner` was built before `owner`'s stack frame was
    /// entered, so before `owner` existed: its task cannot be one of `owner`'s. Helping
    /// waits nest hundreds of frames deep in wide trees (UTS, nqueens), and the full walk
    /// at every task_group::wait took most of such a run. Frames off the stack (a
    /// sanitizer's fake stack) prove nothing and are walked past.
    [[nodiscard]] static bool runs_task_of(const void* owner) noexcept {
        const bool owner_on_stack = on_this_thread_stack(owner);
        for (const running_task_frame* frame = t_innermost; frame != nullptr; frame = frame->m_outer) {
            if (frame->m_owner == owner) return true;
            // The stack grows down: a higher address is an older frame.
            if (owner_on_stack && on_this_thread_stack(frame) &&
                reinterpret_cast<std::uintptr_t>(frame) > reinterpret_cast<std::uintptr_t>(owner)) {
                return false;
            }
        }
        return false;
    }

private:
    const void* m_owner;
    running_task_frame* m_outer;
    static inline thread_local running_task_frame* t_innermost = nullptr;
};

/// `void` results become std::monostate so that every result can be stored and returned.
template <class F, class... Args>
using value_result_t = std::conditional_t<std::is_void_v<std::invoke_result_t<F, Args...>>, std::monostate,
                                          std::invoke_result_t<F, Args...>>;

template <class F, class... Args>
value_result_t<F, Args...> invoke_to_value(F&& fn, Args&&... args) {
    if constexpr (std::is_void_v<std::invoke_result_t<F, Args...>>) {
        std::invoke(std::forward<F>(fn), std::forward<Args>(args)...);
        return std::monostate{};
    } else {
        return std::invoke(std::forward<F>(fn), std::forward<Args>(args)...);
    }
}

}  // namespace microtask::detail
