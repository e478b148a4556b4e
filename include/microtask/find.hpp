// microtask — find.hpp
/// @file
/// Searches that stop early: find_first, find_any, any_of, all_of, none_of. A match
/// prunes the work to its right (find_first) or all remaining work (find_any), so a
/// match near the front returns after scanning little more than the front.
#pragma once

#include "concepts.hpp"
#include "detail/fold.hpp"
#include "partition.hpp"
#include "thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <iterator>
#include <ranges>
#include <stop_token>
#include <utility>

namespace microtask {

namespace detail {

/// Elements scanned between two looks at the shared "found" index inside a leaf. A leaf
/// of the adaptive policy can hold 10^4 elements and more, and a thread in such a leaf
/// must notice a match to its left without finishing it: every 1024 elements one relaxed
/// load, invisible next to 1024 predicate calls, and a latency of 1024 calls at most.
inline constexpr std::size_t k_search_block = 1024;

/// What a search keeps: the index of its leftmost match so far, `none` (the size) if none.
struct leftmost_match {
    using value_type = std::size_t;
    static constexpr bool is_exactly_associative = true;  // min is
    std::size_t none;
    [[nodiscard]] std::size_t identity() const noexcept { return none; }
    void combine(std::size_t& left, std::size_t&& right) const noexcept { left = std::min(left, right); }
};

/// The leaf of a search. `Leftmost`: find_first (skip only what lies right of a match
/// found so far) rather than find_any (skip everything once anything is found).
template <class It, class Pred, bool Leftmost>
struct search_leaf {
    It first;
    Pred& pred;
    // The smallest match index any thread has published (none = size): the pruning hint.
    // relaxed everywhere: it only decides what to skip. A stale read skips less, never
    // wrongly more, since it only ever decreases and every value in it is a real match;
    // the result itself travels through the accumulators and the fold's joins.
    std::atomic<std::size_t>& published;
    std::size_t none;

    void operator()(std::size_t& match, std::size_t begin, std::size_t end) const {
        // This thread's run of leaves already has a match, and these leaves lie to its right.
        if (match != none) return;
        using difference = std::iter_difference_t<It>;
        for (std::size_t block = begin; block < end;) {
            if (skips(block)) return;
            const std::size_t block_end = end - block > k_search_block ? block + k_search_block : end;
            for (std::size_t k = block; k < block_end; ++k) {
                if (std::invoke(pred, first[static_cast<difference>(k)])) {
                    match = k;
                    publish(k);
                    return;
                }
            }
            block = block_end;
        }
    }

    [[nodiscard]] bool skips(std::size_t begin) const noexcept {
        const std::size_t best = published.load(std::memory_order_relaxed);
        if constexpr (Leftmost) {
            return best <= begin;
        } else {
            return best != none;
        }
    }

    void publish(std::size_t index) const noexcept {
        std::size_t best = published.load(std::memory_order_relaxed);
        while (index < best && !published.compare_exchange_weak(best, index, std::memory_order_relaxed)) {
        }
    }
};

/// The index of the leftmost match (Leftmost) or of some match, `size` if none.
template <bool Leftmost, class It, class Pred>
std::size_t run_search(thread_pool& pool, It first, std::size_t size, Pred& pred, const std::stop_token& stop) {
    if (stop.stop_requested()) throw operation_cancelled();
    if (size == 0) return 0;
    std::atomic<std::size_t> published{size};
    const search_leaf<It, Pred, Leftmost> leaf{first, pred, published, size};
    const leftmost_match red{size};
    scheduler& sched = pool_access::of(pool);
    // No learned cost (call_site): a search that stops early has no cost per element to
    // learn, and one that found its match at the front must not make the next search from
    // the same line, with no match, run inline. Each call probes: inline for the inline
    // budget, then split on demand.
    fold_operation<search_leaf<It, Pred, Leftmost>, leftmost_match> operation(sched, size, leaf, red, adaptive{},
                                                                              stop);
    return sched.run_in_slot([&](slot& home) { return operation.run(home); });
}

/// The iterator to that match; the callers turn it into std::ranges::dangling for an
/// rvalue range that does not borrow, as std::ranges::find_if does.
template <bool Leftmost, class Range, class Pred>
std::ranges::iterator_t<Range> search(thread_pool& pool, Range& range, Pred& pred, const std::stop_token& stop) {
    auto first = std::ranges::begin(range);
    const auto size = static_cast<std::size_t>(std::ranges::size(range));
    const std::size_t index = run_search<Leftmost>(pool, first, size, pred, stop);
    return first + static_cast<std::ranges::range_difference_t<Range>>(index);
}

}  // namespace detail

/// A predicate a search may call: `bool(pred(element))` for the range's reference type,
/// called concurrently from several threads.
template <class Pred, class Range>
concept search_predicate = std::indirect_unary_predicate<Pred, std::ranges::iterator_t<Range>>;

/// The first element of `range` for which `pred` is true, found in parallel on `pool`:
/// the same iterator std::ranges::find_if returns (end if none), whatever the timing.
///
/// - Early exit: a match prunes every leaf to its right; the threads still scanning to
///   its left go on (a match there would come first). A match near the front returns
///   after about the front has been scanned; with no match, all n elements are tested.
/// - Complexity: at most n calls of `pred`; elements right of the first match may or may
///   not be tested (up to 1024 past it per thread).
/// - Thread-safety: `pred` is called concurrently; `range` must not be modified meanwhile.
///   Callable from any thread, including from inside a task of `pool`.
/// - Throws: the first exception `pred` threw (remaining leaves are skipped);
///   mt::operation_cancelled if `stop` is stopped before the search has finished
///   (never a partial answer: a match found so far may not be the first).
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] std::ranges::borrowed_iterator_t<Range> find_first(thread_pool& pool, Range&& range, Pred pred,
                                                                  std::stop_token stop = {}) {
    return detail::search<true>(pool, range, pred, stop);
}

/// An element of `range` for which `pred` is true (end if none), found in parallel on
/// `pool`: whichever thread finds one first stops the search everywhere, so which match
/// is returned depends on timing. Faster than find_first when any match will do (no
/// thread keeps scanning left of a match). Same complexity bound, thread-safety and
/// exceptions as find_first.
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] std::ranges::borrowed_iterator_t<Range> find_any(thread_pool& pool, Range&& range, Pred pred,
                                                                std::stop_token stop = {}) {
    return detail::search<false>(pool, range, pred, stop);
}

/// True if `pred` holds for some element of `range` (false for an empty range): find_any
/// != end. Stops at the first match any thread finds. Same thread-safety and exceptions.
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool any_of(thread_pool& pool, Range&& range, Pred pred, std::stop_token stop = {}) {
    const auto size = static_cast<std::size_t>(std::ranges::size(range));
    return detail::run_search<false>(pool, std::ranges::begin(range), size, pred, stop) != size;
}

/// True if `pred` holds for no element of `range` (true for an empty range). Stops at
/// the first match any thread finds. Same thread-safety and exceptions as find_any.
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool none_of(thread_pool& pool, Range&& range, Pred pred, std::stop_token stop = {}) {
    return !any_of(pool, std::forward<Range>(range), std::move(pred), std::move(stop));
}

/// True if `pred` holds for every element of `range` (true for an empty range). Stops at
/// the first element any thread finds false. Same thread-safety and exceptions as find_any.
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool all_of(thread_pool& pool, Range&& range, Pred pred, std::stop_token stop = {}) {
    auto fails = [&pred](auto&& element) { return !static_cast<bool>(std::invoke(pred, element)); };
    const auto size = static_cast<std::size_t>(std::ranges::size(range));
    return detail::run_search<false>(pool, std::ranges::begin(range), size, fails, stop) == size;
}

/// find_first on mt::default_pool().
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] std::ranges::borrowed_iterator_t<Range> find_first(Range&& range, Pred pred,
                                                                  std::stop_token stop = {}) {
    return find_first(default_pool(), std::forward<Range>(range), std::move(pred), std::move(stop));
}

/// find_any on mt::default_pool().
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] std::ranges::borrowed_iterator_t<Range> find_any(Range&& range, Pred pred, std::stop_token stop = {}) {
    return find_any(default_pool(), std::forward<Range>(range), std::move(pred), std::move(stop));
}

/// any_of on mt::default_pool().
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool any_of(Range&& range, Pred pred, std::stop_token stop = {}) {
    return any_of(default_pool(), std::forward<Range>(range), std::move(pred), std::move(stop));
}

/// all_of on mt::default_pool().
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool all_of(Range&& range, Pred pred, std::stop_token stop = {}) {
    return all_of(default_pool(), std::forward<Range>(range), std::move(pred), std::move(stop));
}

/// none_of on mt::default_pool().
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool none_of(Range&& range, Pred pred, std::stop_token stop = {}) {
    return none_of(default_pool(), std::forward<Range>(range), std::move(pred), std::move(stop));
}

}  // namespace microtask
