// microtask — find.hpp
/// @file
/// Searches that stop early: find_first, find_any, any_of, all_of, none_of. A hit prunes
/// the work to its right (find_first) or all remaining work (find_any), and the threads
/// search the range from the front together, so a hit near the front returns after
/// little more than the front was tested.
#pragma once

#include "cancellation.hpp"
#include "concepts.hpp"
#include "detail/call_cost.hpp"
#include "detail/fork_join.hpp"
#include "detail/scheduler.hpp"
#include "thread_pool.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <iterator>
#include <ranges>
#include <utility>
#include <variant>

namespace microtask {

namespace detail {

/// One parallel search over [0, size): the participants take chunks of the range in
/// index order from a shared counter, so every thread always works on the leftmost
/// chunk nobody has taken. A hit at position p is then found after about p / threads
/// element tests whatever p is (a binary split would hand a thief the right half, which
/// is wasted work whenever the hit lies in the left one).
///
/// `Leftmost` (find_first): a hit prunes only the chunks to its right, so the answer is
/// the first hit. Otherwise (find_any and the boolean searches) a hit stops everything.
template <bool Leftmost, class It, class Pred>
class search_operation {
public:
    search_operation(scheduler& sched, It first, std::size_t size, Pred& pred, const stop_token& stop,
                     std::size_t participants) noexcept
        : m_sched(sched),
          m_first(first),
          m_size(size),
          m_chunk(std::clamp(size / (participants * k_chunks_per_participant), k_min_chunk, k_max_chunk)),
          m_chunk_count((size + m_chunk - 1) / m_chunk),
          m_participants(participants),
          m_pred(pred),
          m_stop(stop),
          m_hit(size) {}

    /// The index of the hit (size if none). Throws what pred threw, or
    /// operation_cancelled if the token stopped the search before it had looked at every
    /// chunk it needed.
    std::size_t run(seat& own) {
        try {
            if (run_inline_while_short()) participate(own, m_participants);
        } catch (...) {
            if (m_error) std::rethrow_exception(m_error);  // the first, not whichever came up
            throw;
        }
        // relaxed: every participant has joined (fork_join's completion orders its writes).
        if (m_cancelled.load(std::memory_order_relaxed)) throw operation_cancelled();
        return m_hit.load(std::memory_order_relaxed);
    }

private:
    // Chunks: about 64 per participant for load balance at the end, but at least 64
    // elements (a shared counter increment per chunk must stay negligible) and at most
    // 16384 (a compute-bound predicate of ~15 ns then takes ~0.25 ms a chunk: the most
    // a thread can end after the others).
    static constexpr std::size_t k_chunks_per_participant = 64;
    static constexpr std::size_t k_min_chunk = 64;
    static constexpr std::size_t k_max_chunk = 16384;
    // Inside a chunk, the shared hit is re-read every this many elements, so a thread
    // notices a hit to its left within 1024 predicate calls, not a whole chunk.
    static constexpr std::size_t k_block = 1024;

    /// The calling thread searches alone for the inline budget, as adaptive does: a hit
    /// near the front is found without waking anybody. Returns true if work remains.
    bool run_inline_while_short() {
        const auto start = std::chrono::steady_clock::now();
        for (;;) {
            if (!scan_chunk(m_next_chunk.fetch_add(1, std::memory_order_relaxed))) return false;
            if (std::chrono::steady_clock::now() - start >= k_inline_budget) return true;
        }
    }

    /// `count` participants: this thread and, through forks that idle workers may take,
    /// count - 1 others. A fork nobody takes runs here after our loop, finds no chunk
    /// left and returns at once.
    void participate(seat& own, std::size_t count) {
        if (count <= 1) {
            while (scan_chunk(m_next_chunk.fetch_add(1, std::memory_order_relaxed))) {
            }
            return;
        }
        const std::size_t right = count / 2;
        fork_join(
            m_sched, own,
            [&](seat& here) {
                participate(here, count - right);
                return std::monostate{};
            },
            [&](seat& here) {
                participate(here, right);
                return std::monostate{};
            });
    }

    /// Tests chunk `chunk`; false when this participant has nothing more to do.
    // relaxed (the counter, the hit, the flags): the counter only has to hand each chunk
    // to one thread; the hit only decreases and only ever holds real hits, so a stale
    // read skips less, never wrongly; the flags are read by the root after the joins.
    bool scan_chunk(std::size_t chunk) {
        if (chunk >= m_chunk_count) return false;
        const std::size_t begin = chunk * m_chunk;
        // Chunks are taken in increasing order: if this one is pruned, so are the rest.
        if (pruned(begin) || m_failed.load(std::memory_order_relaxed)) return false;
        if (m_stop.stop_requested()) {
            m_cancelled.store(true, std::memory_order_relaxed);
            return false;
        }
        const std::size_t end = std::min(m_size, begin + m_chunk);
        using difference = std::iter_difference_t<It>;
        try {
            map_scope in_predicate;  // a nested parallel call must not trust learned costs
            for (std::size_t block = begin; block < end; block += k_block) {
                if (block != begin && pruned(block)) return false;
                const std::size_t block_end = std::min(end, block + k_block);
                for (std::size_t k = block; k < block_end; ++k) {
                    if (std::invoke(m_pred, m_first[static_cast<difference>(k)])) {
                        // Every chunk left of this one was taken before it, every one to
                        // its right (or, for find_any, every one) is pruned: done.
                        publish(k);
                        return false;
                    }
                }
            }
        } catch (...) {
            if (!m_failed.exchange(true, std::memory_order_acq_rel)) m_error = std::current_exception();
            throw;
        }
        return true;
    }

    [[nodiscard]] bool pruned(std::size_t begin) const noexcept {
        const std::size_t hit = m_hit.load(std::memory_order_relaxed);
        return Leftmost ? hit <= begin : hit != m_size;
    }

    void publish(std::size_t index) noexcept {
        std::size_t hit = m_hit.load(std::memory_order_relaxed);
        while (index < hit && !m_hit.compare_exchange_weak(hit, index, std::memory_order_relaxed)) {
        }
    }

    scheduler& m_sched;
    It m_first;
    std::size_t m_size;
    std::size_t m_chunk;  // elements per chunk (the last may be shorter)
    std::size_t m_chunk_count;
    std::size_t m_participants;
    Pred& m_pred;
    const stop_token& m_stop;
    std::atomic<std::size_t> m_next_chunk{0};
    std::atomic<std::size_t> m_hit;  // the smallest hit published so far; m_size for none
    std::atomic<bool> m_failed{false};
    std::atomic<bool> m_cancelled{false};  // a chunk that mattered was skipped for the token
    std::exception_ptr m_error;            // written once, by whoever set m_failed
};

/// The index of the leftmost hit (Leftmost) or of some hit, `size` if none.
template <bool Leftmost, class It, class Pred>
std::size_t run_search(thread_pool& pool, It first, std::size_t size, Pred& pred, const stop_token& stop) {
    if (stop.stop_requested()) throw operation_cancelled();
    if (size == 0) return 0;
    scheduler& sched = pool_access::of(pool);
    // No learned cost per call site: a search that stops at the front has no cost per
    // element to learn, and learning one would make the next search from the same line,
    // with no hit, run inline. Every call starts inline for the budget instead.
    search_operation<Leftmost, It, Pred> operation(sched, first, size, pred, stop, pool.size() + 1);
    return sched.run_in_seat([&](seat& own) { return operation.run(own); });
}

/// The iterator to that hit; the callers turn it into std::ranges::dangling for an
/// rvalue range that does not borrow, as std::ranges::find_if does.
template <bool Leftmost, class Range, class Pred>
std::ranges::iterator_t<Range> search(thread_pool& pool, Range& range, Pred& pred, const stop_token& stop) {
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
/// - Early exit: the threads test the range from the front together (chunks in index
///   order); a match prunes everything to its right, while threads left of it go on (a
///   match there would come first). A match at position p returns after about p /
///   threads tests per thread; with no match, all n elements are tested.
/// - Complexity: at most n calls of `pred`; elements right of the first match may or may
///   not be tested (up to about 1024 past it per thread). No allocation. The caller
///   searches alone for its first ~25 us (a match near the front wakes nobody), then
///   every worker joins in; no cost per call site is learned.
/// - Thread-safety: `pred` is called concurrently; `range` must not be modified meanwhile.
///   Callable from any thread, including from inside a task of `pool`.
/// - Throws: the first exception `pred` threw (the remaining chunks are skipped);
///   mt::operation_cancelled if `stop` is stopped before the search has finished
///   (never a partial answer: a match found so far may not be the first).
/// - An rvalue range that is not borrowed gives std::ranges::dangling, as
///   std::ranges::find_if does.
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] std::ranges::borrowed_iterator_t<Range> find_first(thread_pool& pool, Range&& range, Pred pred,
                                                                 stop_token stop = {}) {
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
                                                               stop_token stop = {}) {
    return detail::search<false>(pool, range, pred, stop);
}

/// True if `pred` holds for some element of `range` (false for an empty range): find_any
/// != end. Stops at the first match any thread finds. Same thread-safety and exceptions.
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool any_of(thread_pool& pool, Range&& range, Pred pred, stop_token stop = {}) {
    const auto size = static_cast<std::size_t>(std::ranges::size(range));
    return detail::run_search<false>(pool, std::ranges::begin(range), size, pred, stop) != size;
}

/// True if `pred` holds for no element of `range` (true for an empty range). Stops at
/// the first match any thread finds. Same thread-safety and exceptions as find_any.
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool none_of(thread_pool& pool, Range&& range, Pred pred, stop_token stop = {}) {
    return !any_of(pool, std::forward<Range>(range), std::move(pred), std::move(stop));
}

/// True if `pred` holds for every element of `range` (true for an empty range). Stops at
/// the first element any thread finds false. Same thread-safety and exceptions as find_any.
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool all_of(thread_pool& pool, Range&& range, Pred pred, stop_token stop = {}) {
    auto fails = [&pred](auto&& element) { return !static_cast<bool>(std::invoke(pred, element)); };
    const auto size = static_cast<std::size_t>(std::ranges::size(range));
    return detail::run_search<false>(pool, std::ranges::begin(range), size, fails, stop) == size;
}

/// find_first on mt::default_pool().
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] std::ranges::borrowed_iterator_t<Range> find_first(Range&& range, Pred pred, stop_token stop = {}) {
    return find_first(default_pool(), std::forward<Range>(range), std::move(pred), std::move(stop));
}

/// find_any on mt::default_pool().
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] std::ranges::borrowed_iterator_t<Range> find_any(Range&& range, Pred pred, stop_token stop = {}) {
    return find_any(default_pool(), std::forward<Range>(range), std::move(pred), std::move(stop));
}

/// any_of on mt::default_pool().
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool any_of(Range&& range, Pred pred, stop_token stop = {}) {
    return any_of(default_pool(), std::forward<Range>(range), std::move(pred), std::move(stop));
}

/// all_of on mt::default_pool().
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool all_of(Range&& range, Pred pred, stop_token stop = {}) {
    return all_of(default_pool(), std::forward<Range>(range), std::move(pred), std::move(stop));
}

/// none_of on mt::default_pool().
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool none_of(Range&& range, Pred pred, stop_token stop = {}) {
    return none_of(default_pool(), std::forward<Range>(range), std::move(pred), std::move(stop));
}

}  // namespace microtask
