// microtask — for_each.hpp
/// @file
/// Parallel loop with no reduction.
#pragma once

#include "concepts.hpp"
#include "detail/fold.hpp"
#include "partition.hpp"
#include "progress.hpp"
#include "thread_pool.hpp"

#include <functional>
#include <ranges>
#include <utility>
#include <variant>

namespace microtask {

namespace detail {
template <class Range, class Fn, class Policy>
void run_for_each(thread_pool& pool, Range& range, Fn& fn, const Policy& policy, const call_site& site,
                  const operation_controls& controls) {
    auto visit = [&fn](std::ranges::range_reference_t<Range> element) {
        std::invoke(fn, std::forward<std::ranges::range_reference_t<Range>>(element));
        return std::monostate{};
    };
    run_fold(pool_access::of(pool), std::ranges::begin(range), static_cast<std::size_t>(std::ranges::size(range)),
             visit, unit_reducer{}, policy, site, controls);
}
}  // namespace detail

/// Calls `fn(element)` exactly once for every element of `range`, in parallel on `pool`.
/// The element is passed as the range's reference type, so `fn(int& x)` may modify it;
/// fn's result, if any, is discarded. Order of calls is unspecified. n calls of `fn`;
/// O(log leaves) stack. Throws the first exception `fn` threw (the remaining calls may be
/// skipped); std::bad_alloc. Same policies, thread-safety and helping as map_reduce.
template <splittable_range Range, class Fn, partition_policy Policy = adaptive>
    requires std::invocable<Fn&, std::ranges::range_reference_t<Range>>
void for_each(thread_pool& pool, Range&& range, Fn fn, Policy policy = {}, call_site site = {}) {
    detail::run_for_each(pool, range, fn, policy, site, operation_controls{});
}

/// for_each with `controls`: a stop token, an mt::progress, or `{token, progress}`. A
/// stopped token: the leaves not yet started are skipped (so some elements were visited
/// and others not), running ones finish, and the call throws mt::operation_cancelled;
/// checked once per leaf, not per element. A progress: reports (elements done, size) as
/// for map_reduce.
template <splittable_range Range, class Fn, partition_policy Policy = adaptive>
    requires std::invocable<Fn&, std::ranges::range_reference_t<Range>>
void for_each(thread_pool& pool, Range&& range, Fn fn, operation_controls controls, Policy policy = {},
              call_site site = {}) {
    detail::run_for_each(pool, range, fn, policy, site, controls);
}

/// for_each on mt::default_pool().
template <splittable_range Range, class Fn, partition_policy Policy = adaptive>
    requires std::invocable<Fn&, std::ranges::range_reference_t<Range>>
void for_each(Range&& range, Fn fn, Policy policy = {}, call_site site = {}) {
    for_each(default_pool(), std::forward<Range>(range), std::move(fn), policy, site);
}

/// for_each with controls (a stop token, a progress, or both), on mt::default_pool().
template <splittable_range Range, class Fn, partition_policy Policy = adaptive>
    requires std::invocable<Fn&, std::ranges::range_reference_t<Range>>
void for_each(Range&& range, Fn fn, operation_controls controls, Policy policy = {}, call_site site = {}) {
    for_each(default_pool(), std::forward<Range>(range), std::move(fn), std::move(controls), policy, site);
}

}  // namespace microtask
