// microtask — detail/task.hpp
// The unit the scheduler moves around: an intrusive header with one function pointer.
#pragma once

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

/// `void` results become std::monostate so that every result can be stored and returned.
template <class F, class... Args>
using value_result_t = std::conditional_t<std::is_void_v<std::invoke_result_t<F, Args...>>,
                                          std::monostate, std::invoke_result_t<F, Args...>>;

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
