// microtask — reduce.hpp
/// @file
/// Combining partial results with a reducer.
#pragma once

#include "concepts.hpp"
#include "map_reduce.hpp"
#include "partition.hpp"
#include "thread_pool.hpp"

#include <ranges>
#include <type_traits>
#include <utility>

namespace microtask {

/// Sequential left fold of `partials` in order: combine(...combine(identity, p0)..., pn).
/// Meant for the few partial results distribute() returns. Pass the partials as an
/// rvalue (`reduce(std::move(partials), r)` or reduce(distribute(...), r)) and they are
/// moved into combine, not copied: an rvalue range that is neither a view nor a
/// borrowed range is taken to own its elements. O(n) combines; throws what combine throws.
template <std::ranges::input_range Range, class Red>
    requires reducer_for<Red, std::ranges::range_reference_t<Range>>
[[nodiscard]] typename Red::value_type reduce(Range&& partials, Red red) {
    // An rvalue container owns its elements and dies after this call: take them. A view
    // (even an rvalue one, such as a filter) refers to someone else's elements: copy.
    constexpr bool may_move = !std::is_lvalue_reference_v<Range> && !std::ranges::borrowed_range<Range> &&
                              !std::ranges::view<std::remove_cvref_t<Range>>;
    typename Red::value_type acc = red.identity();
    for (auto&& partial : partials) {
        if constexpr (may_move) {
            detail::accumulate_into(red, acc, std::move(partial));
        } else {
            detail::accumulate_into(red, acc, std::forward<decltype(partial)>(partial));
        }
    }
    return acc;
}

/// Parallel reduction of a large range on `pool`: map_reduce with the identity map.
/// Same determinism, policies and exceptions as map_reduce.
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

}  // namespace microtask
