// microtask — scan.hpp
/// @file
/// Parallel prefix sums: mt::inclusive_scan and mt::exclusive_scan, as in `<numeric>`.
#pragma once

#include "concepts.hpp"
#include "detail/chained_scan.hpp"
#include "partition.hpp"
#include "thread_pool.hpp"

#include <concepts>
#include <cstddef>
#include <functional>
#include <iterator>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>

namespace microtask {

/// A binary operation a scan can run with running values of type `T` over elements of
/// reference type `Ref`: `op(t, x)` and `op(t, u)` for T values t, u are valid and
/// convertible to T, and a T can be made from an element (the first element of an
/// inclusive scan starts the running value).
/// Semantic requirement the compiler cannot check: op is associative (up to rounding,
/// for floating point); it is called concurrently from several threads on a shared object.
template <class Op, class T, class Ref>
concept scan_operation =
    std::copy_constructible<Op> && std::constructible_from<T, Ref> && std::invocable<Op&, T, Ref> &&
    std::invocable<Op&, const T&, const T&> && std::convertible_to<std::invoke_result_t<Op&, T, Ref>, T> &&
    std::convertible_to<std::invoke_result_t<Op&, const T&, Ref>, T> &&
    std::convertible_to<std::invoke_result_t<Op&, const T&, const T&>, T>;

/// Where a scan writes: a random-access iterator (the outputs are written in parallel)
/// that a `T` can be assigned through.
template <class Out, class T>
concept scan_output =
    std::random_access_iterator<Out> && std::indirectly_writable<Out, T> && std::indirectly_writable<Out, const T&>;

/// Writes out[i] = r[0] op r[1] op ... op r[i] for every i, in parallel on `pool`, and
/// returns out + size(r) (like std::inclusive_scan; `out` may be the range's own begin).
///
/// - Deterministic: the running value is folded left to right within each leaf of the
///   policy, and the leaves' offsets are chained left to right; so the result depends
///   only on the input, `op` and the policy's leaf boundaries, never on the pool size or
///   timing (bitwise, for floating point too). With integer + and the like it equals
///   std::inclusive_scan's. The default adaptive policy cuts n elements into min(n, 2048)
///   leaves.
/// - Complexity: about 2n calls of `op` when run in parallel (each leaf is reduced, then
///   scanned), n on one thread (always so below 32768 elements); O(leaves) memory. The
///   input is read twice, the second time mostly from cache. Outputs of at least 32 MiB
///   of contiguous 8-byte elements are written with streaming stores on x86-64.
/// - Thread-safety: `op` runs concurrently; neither the range nor the output may be
///   touched by others meanwhile. Callable from any thread, including from inside a task
///   of `pool`.
/// - Throws: the first exception `op`, a conversion or a write threw (the outputs are then
///   partly written); std::bad_alloc.
template <class Range, class Out, class Op = std::plus<>, partition_policy Policy = adaptive>
    requires splittable_range<Range> &&
             scan_operation<Op, std::ranges::range_value_t<Range>, std::ranges::range_reference_t<Range>> &&
             scan_output<Out, std::ranges::range_value_t<Range>>
Out inclusive_scan(thread_pool& pool, Range&& range, Out out, Op op = {}, Policy policy = {}) {
    using value_type = std::ranges::range_value_t<Range>;
    return detail::run_scan<value_type, false>(pool, std::ranges::begin(range),
                                               static_cast<std::size_t>(std::ranges::size(range)), out, op,
                                               std::optional<value_type>{}, policy);
}

/// Writes out[i] = init op r[0] op ... op r[i-1] for every i (out[0] = init), in
/// parallel on `pool`, and returns out + size(r) (like std::exclusive_scan: the running
/// value has the type of `init`; `out` may be the range's own begin). Same determinism,
/// complexity, thread-safety and exceptions as mt::inclusive_scan.
template <class Range, class Out, class T, class Op = std::plus<>, partition_policy Policy = adaptive>
    requires splittable_range<Range> && scan_operation<Op, T, std::ranges::range_reference_t<Range>> &&
             scan_output<Out, T>
Out exclusive_scan(thread_pool& pool, Range&& range, Out out, T init, Op op = {}, Policy policy = {}) {
    return detail::run_scan<T, true>(pool, std::ranges::begin(range),
                                     static_cast<std::size_t>(std::ranges::size(range)), out, op,
                                     std::optional<T>(std::move(init)), policy);
}

/// mt::inclusive_scan on mt::default_pool().
template <class Range, class Out, class Op = std::plus<>, partition_policy Policy = adaptive>
    requires splittable_range<Range> &&
             scan_operation<Op, std::ranges::range_value_t<Range>, std::ranges::range_reference_t<Range>> &&
             scan_output<Out, std::ranges::range_value_t<Range>>
Out inclusive_scan(Range&& range, Out out, Op op = {}, Policy policy = {}) {
    return inclusive_scan(default_pool(), std::forward<Range>(range), out, std::move(op), policy);
}

/// mt::exclusive_scan on mt::default_pool().
template <class Range, class Out, class T, class Op = std::plus<>, partition_policy Policy = adaptive>
    requires splittable_range<Range> && scan_operation<Op, T, std::ranges::range_reference_t<Range>> &&
             scan_output<Out, T>
Out exclusive_scan(Range&& range, Out out, T init, Op op = {}, Policy policy = {}) {
    return exclusive_scan(default_pool(), std::forward<Range>(range), out, std::move(init), std::move(op), policy);
}

}  // namespace microtask
