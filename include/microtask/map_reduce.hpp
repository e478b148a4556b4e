// microtask — map_reduce.hpp
/// @file
/// The fused primitive: decompose a range, map every element, reduce the results.
#pragma once

#include "concepts.hpp"
#include "detail/fold.hpp"
#include "partition.hpp"
#include "progress.hpp"
#include "thread_pool.hpp"

#include <functional>
#include <ranges>
#include <type_traits>
#include <utility>

namespace microtask {

/// Returns combine(...combine(identity, map(r[0])), ..., map(r[n-1])) computed in
/// parallel on `pool`, with the results combined in input order (up to the grouping,
/// which never reorders operands).
///
/// - The value is deterministic: it depends only on the input, `map`, the reducer and
///   the policy's leaf boundaries, never on thread count or timing (bitwise, for
///   floating point too, given that `map` and combine are deterministic and the
///   floating-point environment is unchanged). Different policies may round differently
///   for reducers that are not exactly associative.
/// - `policy`: adaptive (default: splits on demand, runs inline when tiny), grain(n), or
///   chunks(k). An empty range gives red.identity().
/// - Complexity: n calls of `map`, n + O(leaves) calls of combine or accumulate;
///   O(log leaves) stack per thread; the library allocates nothing per element.
/// - Thread-safety: `map` (one copy, shared by all threads) and `red.combine` are called
///   concurrently from several threads; `range` must not be modified meanwhile. Callable
///   from any thread, including from inside a task of `pool` (the caller helps instead of
///   blocking).
/// - Throws: the first exception thrown by `map` or `combine` (remaining work is
///   skipped, the call returns only when no work on the range remains, the pool stays
///   usable); std::bad_alloc.
template <splittable_range Range, class Map, class Red, partition_policy Policy = adaptive>
    requires map_function<Map, std::ranges::range_reference_t<Range>> &&
             reducer_for<Red, std::invoke_result_t<Map&, std::ranges::range_reference_t<Range>>>
[[nodiscard]] typename Red::value_type map_reduce(thread_pool& pool, Range&& range, Map map, Red red,
                                                  Policy policy = {}, call_site site = {}) {
    return detail::run_fold(detail::pool_access::of(pool), std::ranges::begin(range),
                            static_cast<std::size_t>(std::ranges::size(range)), map, red, policy, site);
}

/// map_reduce with `controls`: a stop token, an mt::progress, or `{token, progress}`.
/// - A stopped token: leaves not yet started are skipped, running ones finish, and the
///   call throws mt::operation_cancelled instead of returning a partial result (see
///   cancellation.hpp). The token is checked once per leaf (not per element), so a token
///   that is never stopped costs nothing measurable; a stop takes effect within about
///   one leaf.
/// - A progress: reports (elements done, size) as leaves finish, at most once per its
///   interval, one thread at a time, and (size, size) before returning (see progress.hpp).
/// Otherwise the same as the overload without controls.
template <splittable_range Range, class Map, class Red, partition_policy Policy = adaptive>
    requires map_function<Map, std::ranges::range_reference_t<Range>> &&
             reducer_for<Red, std::invoke_result_t<Map&, std::ranges::range_reference_t<Range>>>
[[nodiscard]] typename Red::value_type map_reduce(thread_pool& pool, Range&& range, Map map, Red red,
                                                  operation_controls controls, Policy policy = {},
                                                  call_site site = {}) {
    return detail::run_fold(detail::pool_access::of(pool), std::ranges::begin(range),
                            static_cast<std::size_t>(std::ranges::size(range)), map, red, policy, site, controls);
}

/// map_reduce on mt::default_pool().
template <splittable_range Range, class Map, class Red, partition_policy Policy = adaptive>
    requires map_function<Map, std::ranges::range_reference_t<Range>> &&
             reducer_for<Red, std::invoke_result_t<Map&, std::ranges::range_reference_t<Range>>>
[[nodiscard]] typename Red::value_type map_reduce(Range&& range, Map map, Red red, Policy policy = {},
                                                  call_site site = {}) {
    return map_reduce(default_pool(), std::forward<Range>(range), std::move(map), std::move(red), policy, site);
}

/// map_reduce with controls (a stop token, a progress, or both), on mt::default_pool().
template <splittable_range Range, class Map, class Red, partition_policy Policy = adaptive>
    requires map_function<Map, std::ranges::range_reference_t<Range>> &&
             reducer_for<Red, std::invoke_result_t<Map&, std::ranges::range_reference_t<Range>>>
[[nodiscard]] typename Red::value_type map_reduce(Range&& range, Map map, Red red, operation_controls controls,
                                                  Policy policy = {}, call_site site = {}) {
    return map_reduce(default_pool(), std::forward<Range>(range), std::move(map), std::move(red), std::move(controls),
                      policy, site);
}

}  // namespace microtask
