// microtask — decompose.hpp
/// @file
/// Step one of decompose / distribute / reduce: cut a job into subtasks.
#pragma once

#include "concepts.hpp"
#include "partition.hpp"

#include <cstddef>
#include <functional>
#include <iterator>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

namespace microtask {

/// One part of a decomposed range: the iterator pair [begin, end) over the caller's
/// range, as a sized view (a std::ranges::subrange would do, but clang 14 cannot compile
/// libstdc++ 12's view_interface, so this small type stands in). O(1) to copy.
template <std::random_access_iterator It>
class part : public std::ranges::view_base {
public:
    /// An empty part of value-initialised iterators.
    constexpr part() = default;
    /// The elements [first, last). Precondition: `last` is reachable from `first`.
    /// Throws only what copying `It` throws.
    constexpr part(It first, It last) : m_first(first), m_last(last) {}
    /// First element. O(1).
    constexpr It begin() const { return m_first; }
    /// Past the last element. O(1).
    constexpr It end() const { return m_last; }
    /// Number of elements. O(1).
    constexpr std::size_t size() const { return static_cast<std::size_t>(m_last - m_first); }
    /// True if the part has no elements. O(1).
    [[nodiscard]] constexpr bool empty() const { return m_first == m_last; }
    /// Element `i` of the part (a reference into the decomposed range).
    /// Precondition: i < size() (unchecked). O(1).
    constexpr decltype(auto) operator[](std::size_t i) const {
        return m_first[static_cast<std::iter_difference_t<It>>(i)];
    }

private:
    It m_first{};
    It m_last{};
};

/// Cuts `range` into the policy's leaves, in order, as mt::part views into `range` (so
/// the range must outlive them: it must be an lvalue or a borrowed view such as
/// mt::iota). grain(n): parts of at most n; chunks(k): min(k, size) nearly equal parts;
/// adaptive: the canonical leaves map_reduce uses (at most adaptive::max_leaves).
/// An empty range gives no parts. O(parts) time and memory; throws std::bad_alloc.
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
/// `split(job)` produces, as a std::vector. Throws what `split` throws.
/// Example: 2^10 as ten subtasks of 2^1:
///   decompose(power{2, 10}, [](const power& p) { return std::vector<power>(p.exp, {p.base, 1}); })
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

/// @cond MICROTASK_STD_SPECIALIZATIONS
// A part only refers to the caller's range, so iterators into it outlive the part.
template <class It>
inline constexpr bool std::ranges::enable_borrowed_range<microtask::part<It>> = true;
/// @endcond
