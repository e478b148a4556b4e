// microtask — fold.hpp
/// @file
/// The leaf-body form of map_reduce: a tight loop of yours over a whole subrange, folding
/// into an accumulator it owns (like oneTBB's parallel_reduce body over a blocked_range,
/// or rayon's fold followed by reduce).
#pragma once

#include "concepts.hpp"
#include "detail/fold.hpp"
#include "partition.hpp"
#include "progress.hpp"
#include "range.hpp"
#include "reducers.hpp"
#include "thread_pool.hpp"

#include <functional>
#include <ranges>
#include <type_traits>
#include <utility>

namespace microtask {

/// A leaf body for fold: `body(acc, part)` folds every element of `part` (an
/// mt::part of the range's iterator) into `acc` (an `Acc&`), in order.
/// Semantic requirement: folding two adjacent parts one after the other gives what
/// folding their union does (true of any loop over the part's elements).
template <class Body, class Acc, class Range>
concept leaf_body = std::invocable<Body&, Acc&, part<std::ranges::iterator_t<Range>>>;

/// Folds `range` with `body` into accumulators that start as `red.identity()`, one per
/// run of leaves a thread takes, and combines them with `red` in input order:
///
///     mt::fold(pool, bytes, mt::histogram<256>{},
///              [](auto& bins, auto part) { for (unsigned char b : part) ++bins[b]; });
///
/// - Deterministic like map_reduce: for a reducer that is not exactly associative, each
///   canonical leaf of the policy gets one body call on a fresh identity, and leaves are
///   combined over the canonical tree; for an exactly associative one, a body call may
///   cover several adjacent leaves (fewer calls, same result).
/// - Complexity: O(n) in the body; O(leaves) identities and combines at most, and on the
///   exact path one per part a thief took.
/// - Thread-safety: `body` and `red.combine` run concurrently on distinct accumulators;
///   `range` must not be modified meanwhile. Callable from any thread, including from
///   inside a task of `pool`.
/// - Throws: the first exception `body` or `combine` threw (remaining leaves are
///   skipped; the pool stays usable); std::bad_alloc.
template <splittable_range Range, reducer Red, class Body, partition_policy Policy = adaptive>
    requires leaf_body<Body, typename Red::value_type, Range>
[[nodiscard]] typename Red::value_type fold(thread_pool& pool, Range&& range, Red red, Body body, Policy policy = {},
                                            call_site site = {}) {
    using iterator = std::ranges::iterator_t<Range>;
    return detail::run_leaf_fold(detail::pool_access::of(pool), static_cast<std::size_t>(std::ranges::size(range)),
                                 detail::body_fold<iterator, Body>{std::ranges::begin(range), body}, red, policy, site);
}

/// fold with `controls`: a stop token, an mt::progress, or `{token, progress}`. A
/// stopped token: leaves not yet started are skipped, running ones finish, and the call
/// throws mt::operation_cancelled instead of returning a partial result; checked once
/// per leaf (the body's loop is never interrupted), so a token that is never stopped
/// costs nothing measurable. A progress: reports (elements done, size) as for
/// map_reduce. Otherwise the same as fold without controls.
template <splittable_range Range, reducer Red, class Body, partition_policy Policy = adaptive>
    requires leaf_body<Body, typename Red::value_type, Range>
[[nodiscard]] typename Red::value_type fold(thread_pool& pool, Range&& range, Red red, Body body,
                                            operation_controls controls, Policy policy = {}, call_site site = {}) {
    using iterator = std::ranges::iterator_t<Range>;
    return detail::run_leaf_fold(detail::pool_access::of(pool), static_cast<std::size_t>(std::ranges::size(range)),
                                 detail::body_fold<iterator, Body>{std::ranges::begin(range), body}, red, policy, site,
                                 controls);
}

/// fold with an identity and a combine operation instead of a reducer: the same as
/// `fold(pool, range, mt::make_reducer(identity, combine), body, policy)`. `combine` is
/// `void(T& left, T&& right)` (in place) or `T(T, T)`. Not declared exactly associative,
/// so leaves are combined over the canonical tree; for a combine that is associative bit
/// for bit (concatenation, integer counts), pass
/// `mt::make_reducer(identity, combine, mt::exactly_associative)` as the reducer instead.
template <splittable_range Range, class T, class Body, reducer_operation<T> Combine, partition_policy Policy = adaptive>
    requires leaf_body<Body, T, Range>
[[nodiscard]] T fold(thread_pool& pool, Range&& range, T identity, Body body, Combine combine, Policy policy = {},
                     call_site site = {}) {
    return fold(pool, std::forward<Range>(range), make_reducer(std::move(identity), std::move(combine)),
                std::move(body), policy, site);
}

/// fold on mt::default_pool().
template <splittable_range Range, reducer Red, class Body, partition_policy Policy = adaptive>
    requires leaf_body<Body, typename Red::value_type, Range>
[[nodiscard]] typename Red::value_type fold(Range&& range, Red red, Body body, Policy policy = {},
                                            call_site site = {}) {
    return fold(default_pool(), std::forward<Range>(range), std::move(red), std::move(body), policy, site);
}

/// fold with an identity and a combine operation, on mt::default_pool().
template <splittable_range Range, class T, class Body, reducer_operation<T> Combine, partition_policy Policy = adaptive>
    requires leaf_body<Body, T, Range>
[[nodiscard]] T fold(Range&& range, T identity, Body body, Combine combine, Policy policy = {}, call_site site = {}) {
    return fold(default_pool(), std::forward<Range>(range), std::move(identity), std::move(body), std::move(combine),
                policy, site);
}

/// fold with controls (a stop token, a progress, or both), on mt::default_pool().
template <splittable_range Range, reducer Red, class Body, partition_policy Policy = adaptive>
    requires leaf_body<Body, typename Red::value_type, Range>
[[nodiscard]] typename Red::value_type fold(Range&& range, Red red, Body body, operation_controls controls,
                                            Policy policy = {}, call_site site = {}) {
    return fold(default_pool(), std::forward<Range>(range), std::move(red), std::move(body), std::move(controls),
                policy, site);
}

}  // namespace microtask
