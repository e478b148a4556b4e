// microtask — sort.hpp
/// @file
/// Parallel sorting in place: mt::sort and mt::stable_sort.
#pragma once

#include "concepts.hpp"
#include "detail/merge_sort.hpp"
#include "thread_pool.hpp"

#include <concepts>
#include <cstddef>
#include <functional>
#include <iterator>
#include <ranges>

namespace microtask {

/// A range mt::sort can sort with `Comp`: random access with a known size
/// (splittable_range), and what std::sortable asks of its iterator, i.e. `comp(a, b)` is
/// a strict weak order on the elements and the elements can be moved out and back.
/// (Spelled out rather than std::sortable, which libc++ 14 does not have.)
/// Semantic requirement the compiler cannot check: `comp` is a strict weak order, and
/// calling it concurrently from several threads is safe (it is called on one shared
/// object).
template <class R, class Comp>
concept sortable_range =
    splittable_range<R> && std::indirectly_movable_storable<std::ranges::iterator_t<R>, std::ranges::iterator_t<R>> &&
    std::indirectly_swappable<std::ranges::iterator_t<R>> &&
    std::indirect_strict_weak_order<Comp, std::ranges::iterator_t<R>>;

/// Sorts `range` in place into non-descending order by `comp`, in parallel on `pool`.
/// The order of equivalent elements is unspecified (use stable_sort to keep it).
///
/// - Algorithm: a merge sort; the leaves (at least four per thread, at most
///   n / 8192 of them) are sorted by std::sort, then merged level by level, each merge
///   split in parallel by binary search. Ranges shorter than 16384 elements are sorted by
///   std::sort on the calling thread.
/// - Complexity: O(n log n) comparisons; O(n) moves per merge level (about
///   log2(4 * threads) levels); a buffer of n elements for the duration of the call
///   (uninitialised storage: elements need not be default-constructible or copyable).
/// - Thread-safety: `comp` is called concurrently from several threads; `range` must not
///   be accessed by others meanwhile. Callable from any thread, including from inside a
///   task of `pool`.
/// - Throws: std::bad_alloc (the buffer); the first exception `comp` or a move threw.
///   Then the range holds valid but unspecified values (some may be moved-from).
template <class Range, class Comp = std::less<>>
    requires sortable_range<Range, Comp>
void sort(thread_pool& pool, Range&& range, Comp comp = {}) {
    detail::parallel_sort<false>(pool, std::ranges::begin(range), static_cast<std::size_t>(std::ranges::size(range)),
                                 comp);
}

/// Sorts `range` in place like mt::sort, keeping equivalent elements in their original
/// order (like std::stable_sort): the leaves are sorted by std::stable_sort and every
/// merge puts an element of the left run before an equivalent one of the right. The
/// result is therefore fully determined by the input, whatever the pool size. Same
/// complexity, thread-safety and exceptions as mt::sort.
template <class Range, class Comp = std::less<>>
    requires sortable_range<Range, Comp>
void stable_sort(thread_pool& pool, Range&& range, Comp comp = {}) {
    detail::parallel_sort<true>(pool, std::ranges::begin(range), static_cast<std::size_t>(std::ranges::size(range)),
                                comp);
}

/// mt::sort on mt::default_pool().
template <class Range, class Comp = std::less<>>
    requires sortable_range<Range, Comp>
void sort(Range&& range, Comp comp = {}) {
    sort(default_pool(), std::forward<Range>(range), std::move(comp));
}

/// mt::stable_sort on mt::default_pool().
template <class Range, class Comp = std::less<>>
    requires sortable_range<Range, Comp>
void stable_sort(Range&& range, Comp comp = {}) {
    stable_sort(default_pool(), std::forward<Range>(range), std::move(comp));
}

}  // namespace microtask
