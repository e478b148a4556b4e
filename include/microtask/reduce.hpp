// microtask — reduce.hpp
/// @file
/// Combining partial results with a reducer.
#pragma once

#include "concepts.hpp"
#include "map_reduce.hpp"
#include "partition.hpp"
#include "progress.hpp"
#include "thread_pool.hpp"

#include <cstddef>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

namespace microtask {

namespace detail {
/// The leaves of the step-by-step reduce: one per element, split on demand like adaptive.
struct leaf_per_element {
    [[nodiscard]] std::size_t leaf_count(std::size_t n) const noexcept { return n; }
    static constexpr bool splits_on_demand = true;
};
}  // namespace detail

/// Step three of decompose / distribute / reduce: combines `partials` over the canonical
/// tree with one leaf per partial — node [lo, hi) = combine(node [lo, mid), node [mid, hi)),
/// mid = lo + (hi - lo) / 2 — so that decompose(range, policy) → distribute → reduce gives
/// bit for bit what map_reduce(range, map, red, policy) gives when each partial is its
/// part's fold. Runs on mt::default_pool() like every other call without a pool (a short
/// one inline on the calling thread). Pass the partials as an rvalue
/// (`reduce(std::move(partials), r)` or reduce(distribute(...), r)) and they are moved
/// into combine, not copied: an rvalue range that is neither a view nor a borrowed range
/// is taken to own its elements. A range that is not random access and sized is first
/// collected into a std::vector. n accumulates into an identity and n - 1 combines (for a
/// long range of raw elements, reduce(pool, range, r) folds runs of elements instead);
/// throws what identity, combine or accumulate throw, and std::bad_alloc.
template <std::ranges::input_range Range, class Red>
    requires reducer_for<Red, std::ranges::range_reference_t<Range>>
[[nodiscard]] typename Red::value_type reduce(Range&& partials, Red red, call_site site = {}) {
    // An rvalue container owns its elements and dies after this call: take them. A view
    // (even an rvalue one, such as a filter) refers to someone else's elements: copy.
    constexpr bool may_move = !std::is_lvalue_reference_v<Range> && !std::ranges::borrowed_range<Range> &&
                              !std::ranges::view<std::remove_cvref_t<Range>>;
    using reference = std::ranges::range_reference_t<Range>;
    if constexpr (!splittable_range<Range>) {
        std::vector<std::ranges::range_value_t<Range>> collected;
        if constexpr (std::ranges::sized_range<Range>) collected.reserve(std::ranges::size(partials));
        for (auto&& partial : partials) {
            if constexpr (may_move) {
                collected.push_back(std::move(partial));
            } else {
                collected.push_back(std::forward<decltype(partial)>(partial));
            }
        }
        return reduce(std::move(collected), std::move(red), site);
    } else {
        // Hands each element to the fold: moved out of a container we own, else as the
        // range's own reference type (a value for views like iota: no dangling reference).
        using taken = std::conditional_t<may_move && std::is_lvalue_reference_v<reference>,
                                         std::remove_reference_t<reference>&&, reference>;
        auto take = [](reference x) -> taken { return static_cast<taken>(std::forward<reference>(x)); };
        const auto size = static_cast<std::size_t>(std::ranges::size(partials));
        return detail::run_fold(detail::pool_access::of(default_pool()), std::ranges::begin(partials), size, take, red,
                                detail::leaf_per_element{}, site);
    }
}

/// Parallel reduction of a large range on `pool`: map_reduce with the identity map.
/// Same determinism, policies, complexity, thread-safety and exceptions as map_reduce.
/// Its adaptive leaves fold runs of elements, so over more than adaptive::max_leaves
/// elements it groups differently from the step-by-step reduce(partials, red), which
/// keeps one leaf per element (for a reducer that is not exactly associative, the bits
/// may differ).
template <splittable_range Range, class Red, partition_policy Policy = adaptive>
    requires reducer_for<Red, std::ranges::range_reference_t<Range>>
[[nodiscard]] typename Red::value_type reduce(thread_pool& pool, Range&& range, Red red, Policy policy = {},
                                              call_site site = {}) {
    return map_reduce(
        pool, std::forward<Range>(range),
        // Returns the range's own reference type: a value for views like iota, a
        // reference (no copy until combine) for containers.
        [](std::ranges::range_reference_t<Range> x) -> std::ranges::range_reference_t<Range> {
            return std::forward<std::ranges::range_reference_t<Range>>(x);
        },
        std::move(red), policy, site);
}

/// reduce(pool, range, red) with `controls`: a stop token, an mt::progress, or both
/// (see map_reduce with controls).
template <splittable_range Range, class Red, partition_policy Policy = adaptive>
    requires reducer_for<Red, std::ranges::range_reference_t<Range>>
[[nodiscard]] typename Red::value_type reduce(thread_pool& pool, Range&& range, Red red, operation_controls controls,
                                              Policy policy = {}, call_site site = {}) {
    return map_reduce(
        pool, std::forward<Range>(range),
        [](std::ranges::range_reference_t<Range> x) -> std::ranges::range_reference_t<Range> {
            return std::forward<std::ranges::range_reference_t<Range>>(x);
        },
        std::move(red), std::move(controls), policy, site);
}

}  // namespace microtask
