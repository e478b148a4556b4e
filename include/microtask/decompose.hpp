// microtask — decompose.hpp
/// @file
/// Step one of decompose / distribute / reduce: cut a job into subtasks.
#pragma once

#include "concepts.hpp"
#include "partition.hpp"
#include "range.hpp"

#include <cstddef>
#include <functional>
#include <iterator>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

namespace microtask {

/// Cuts `range` into the policy's leaves, in order, as mt::part views into `range` (so
/// the range must outlive them: it must be an lvalue or a borrowed view such as
/// mt::iota). grain(n): parts of at most n; chunks(k): min(k, size) nearly equal parts;
/// adaptive: the canonical leaves map_reduce uses (at most adaptive::max_leaves).
/// An empty range gives no parts (a temporary container does not compile). O(parts)
/// time and memory, on the calling thread; throws std::bad_alloc.
template <splittable_range Range, partition_policy Policy = adaptive>
    requires std::ranges::borrowed_range<Range>
[[nodiscard]] auto decompose(Range&& range, Policy policy = {}) {
    using iterator = std::ranges::iterator_t<Range>;
    using difference = std::iter_difference_t<iterator>;
    std::vector<part<iterator>> parts;
    const auto size = static_cast<std::size_t>(std::ranges::size(range));
    if (size == 0) return parts;
    const std::size_t leaves = policy.leaf_count(size);
    parts.reserve(leaves);
    const iterator first = std::ranges::begin(range);
    for (std::size_t i = 0; i < leaves; ++i) {
        const auto begin = static_cast<difference>(detail::leaf_begin(i, size, leaves));
        const auto end = static_cast<difference>(detail::leaf_begin(i + 1, size, leaves));
        parts.emplace_back(first + begin, first + end);
    }
    return parts;
}

/// Cuts a job that is not a range with a user decomposer: returns the subtasks
/// `split(job)` produces, as a std::vector, in the same order. One call of `split` plus
/// O(subtasks) moves, on the calling thread. Throws what `split` throws; std::bad_alloc.
/// Example, 2^10 as ten subtasks of 2^1:
///
///     decompose(power{2, 10}, [](const power& p) { return std::vector<power>(p.exp, {p.base, 1}); })
template <class Job, class Split>
    requires(!splittable_range<Job> || !partition_policy<Split>) && decomposer<Split, Job>
[[nodiscard]] auto decompose(const Job& job, Split split) {
    auto&& subtasks = std::invoke(split, job);
    using subtask = std::ranges::range_value_t<decltype(subtasks)>;
    std::vector<subtask> parts;
    parts.reserve(static_cast<std::size_t>(std::ranges::size(subtasks)));
    for (auto&& part : subtasks) parts.push_back(std::forward<decltype(part)>(part));
    return parts;
}

}  // namespace microtask
