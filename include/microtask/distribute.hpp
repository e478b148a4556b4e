// microtask — distribute.hpp
/// @file
/// Step two of decompose / distribute / reduce: run one subtask per part on the pool.
#pragma once

#include "concepts.hpp"
#include "detail/fold.hpp"
#include "partition.hpp"
#include "progress.hpp"
#include "range.hpp"
#include "thread_pool.hpp"

#include <cstddef>
#include <functional>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace microtask {

namespace detail {
template <class Parts, class Fn>
auto run_distribute(thread_pool& pool, Parts& parts, Fn& fn, const operation_controls& controls) {
    using reference = std::ranges::range_reference_t<Parts>;
    using result = std::invoke_result_t<Fn&, reference>;
    const auto count = static_cast<std::size_t>(std::ranges::size(parts));
    auto first = std::ranges::begin(parts);
    auto& sched = pool_access::of(pool);
    const chunks one_leaf_per_part(count == 0 ? 1 : count);
    if constexpr (std::is_void_v<result>) {
        auto run_part = [&fn](reference part) {
            std::invoke(fn, std::forward<reference>(part));
            return std::monostate{};
        };
        run_fold(sched, first, count, run_part, unit_reducer{}, one_leaf_per_part, {}, controls);
    } else {
        // Each subtask writes its own slot; slots are pre-sized, so no synchronisation.
        std::vector<std::optional<result>> slots(count);
        auto run_part = [&](std::size_t index) {
            slots[index].emplace(std::invoke(fn, first[static_cast<std::ranges::range_difference_t<Parts>>(index)]));
            return std::monostate{};
        };
        const index_range<std::size_t> indices(0, count);
        // Throws (operation_cancelled included) before any empty slot could be read.
        run_fold(sched, indices.begin(), count, run_part, unit_reducer{}, one_leaf_per_part, {}, controls);
        std::vector<result> results;
        results.reserve(count);
        for (auto& value : slots) results.push_back(std::move(*value));
        return results;
    }
}
}  // namespace detail

/// Runs `fn(part)` for every element of `parts` as its own subtask on `pool` and returns
/// the results as a std::vector in the order of `parts` (or nothing, if fn returns void).
/// One subtask per part; O(parts) memory for the results.
/// Throws the first exception a subtask threw (subtasks not yet started are skipped; the
/// pool stays usable); std::bad_alloc. `fn` is called concurrently from several threads;
/// `parts` must not be modified meanwhile. Callable from any thread, including from
/// inside a task of `pool`; the caller helps run the subtasks.
template <splittable_range Parts, class Fn>
    requires value_task<Fn, std::ranges::range_reference_t<Parts>>
auto distribute(thread_pool& pool, Parts&& parts, Fn fn) {
    return detail::run_distribute(pool, parts, fn, operation_controls{});
}

/// distribute with `controls`: a stop token, an mt::progress, or `{token, progress}`. A
/// stopped token: parts not yet started are skipped, running ones finish, and the call
/// throws mt::operation_cancelled instead of returning results for some parts only;
/// checked before each part. A progress: reports (parts done, part count) as for
/// map_reduce.
template <splittable_range Parts, class Fn>
    requires value_task<Fn, std::ranges::range_reference_t<Parts>>
auto distribute(thread_pool& pool, Parts&& parts, Fn fn, operation_controls controls) {
    return detail::run_distribute(pool, parts, fn, controls);
}

/// distribute for a function that also wants the part's index: runs `fn(i, parts[i])`
/// for every i, with the same results, exceptions and thread-safety as above.
template <splittable_range Parts, class Fn>
    requires(!value_task<Fn, std::ranges::range_reference_t<Parts>>) &&
            value_task<Fn, std::size_t, std::ranges::range_reference_t<Parts>>
auto distribute(thread_pool& pool, Parts&& parts, Fn fn) {
    const auto first = std::ranges::begin(parts);
    return distribute(pool, index_range<std::size_t>(0, static_cast<std::size_t>(std::ranges::size(parts))),
                      [&](std::size_t i) {
                          return std::invoke(fn, i, first[static_cast<std::ranges::range_difference_t<Parts>>(i)]);
                      });
}

/// distribute on mt::default_pool().
template <splittable_range Parts, class Fn>
    requires value_task<Fn, std::ranges::range_reference_t<Parts>> ||
             value_task<Fn, std::size_t, std::ranges::range_reference_t<Parts>>
auto distribute(Parts&& parts, Fn fn) {
    return distribute(default_pool(), std::forward<Parts>(parts), std::move(fn));
}

/// distribute with controls (a stop token, a progress, or both), on mt::default_pool().
template <splittable_range Parts, class Fn>
    requires value_task<Fn, std::ranges::range_reference_t<Parts>>
auto distribute(Parts&& parts, Fn fn, operation_controls controls) {
    return distribute(default_pool(), std::forward<Parts>(parts), std::move(fn), std::move(controls));
}

}  // namespace microtask
