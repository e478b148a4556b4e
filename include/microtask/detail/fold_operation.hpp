// microtask — detail/fold_operation.hpp
// The engine behind map_reduce, reduce, for_each and distribute: a fold over the leaves
// of a canonical binary tree, forked with fork_join. (How a call starts — inline, shared
// when short, or through this engine — is detail/fold.hpp's.)
//
// Determinism: leaf boundaries depend only on (n, policy), and leaf results are combined
// in the tree's fixed shape — node [lo, hi) = combine(node [lo, mid), node [mid, hi)),
// mid = lo + (hi - lo) / 2 — whether a node was forked or folded in place. Scheduling
// only decides *which thread* computes a node, never *how* it is combined. Reducers that
// are exactly associative skip the tree and fold leaves left to right when not split.
//
// Accumulators are mutated in place, never passed by value: a leaf run folds into one
// value_type& (detail::accumulate_into), and a node combines its right child into its left
// one (detail::combine_into). So an accumulator is created, moved or combined O(leaves)
// times, never once per element. What a leaf does with its elements is the LeafFold's
// business: map_reduce's folds each mapped element; mt::fold hands the user's body the
// whole subrange.
//
// Early exit: every leaf, and every inner node before it forks, asks skips() first.
// That is where a stop token or the failure of another subtask cuts the remaining work
// short: one check per leaf or node, never per element.
#pragma once

#include "../cancellation.hpp"
#include "../concepts.hpp"
#include "../partition.hpp"
#include "../progress.hpp"
#include "../range.hpp"
#include "call_cost.hpp"
#include "fork_join.hpp"
#include "leaf_folds.hpp"
#include "scheduler.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <limits>
#include <new>
#include <ranges>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace microtask::detail {

/// One fold over [0, size): `LeafFold(acc, begin, end)` folds the elements [begin, end)
/// into `acc`; the operation cuts the range into the policy's leaves and combines.
/// `SplitsOnDemand`: the policy's (adaptive forks a node only when a thief took the last
/// offer, and only once the call has outlived the inline budget; fixed policies fork
/// every node).
///
/// Three walks over the leaf tree, one per shape of accumulation: visit (the canonical
/// tree, one accumulator per node), visit_into (exactly associative: one accumulator
/// carried left to right, a new one only where a thief took a fork) and fold_flat_into
/// (visit_into while probing: leaves run together as one loop up to each clock reading).
template <class LeafFold, reducer Red, bool SplitsOnDemand>
class fold_operation {
public:
    using value_type = typename Red::value_type;

    template <class Policy>  // a partition_policy, or detail::leaf_per_element
    fold_operation(scheduler& sched, std::size_t size, const LeafFold& leaf_fold, const Red& red, const Policy& policy,
                   const operation_controls& controls)
        : m_sched(sched),
          m_size(size),
          m_leaves(size == 0 ? 0 : policy.leaf_count(size)),
          m_leaf_fold(leaf_fold),
          m_red(red),
          m_stop(controls.stop),
          m_progress(controls.report),
          m_split_allowed(!SplitsOnDemand) {
        static_assert(Policy::splits_on_demand == SplitsOnDemand);
    }

    /// The whole fold on the calling thread, in the canonical shape, without forking
    /// (for a call known to be short).
    value_type run_inline() {
        m_probing = false;  // split never becomes allowed
        compute_leaf_shape();
        return unless_cancelled(guarded([&] { return visit(nullptr, 0, m_leaves); }));
    }

    /// Runs the whole fold on the calling thread's seat (forking as decided).
    /// `known_long`: the learned cost says this call is long, so splitting is allowed
    /// from the start (a range of two heavy elements must not run its first one alone
    /// while the probe decides).
    value_type run(seat& own, call_judgement judgement = {}) {
        if (m_leaves == 0) return m_red.identity();
        compute_leaf_shape();
        if (judgement.length == call_length::known_long) m_split_allowed = true;
        m_probing = !m_split_allowed;
        m_learned_cost = m_probing ? judgement.cost : nullptr;  // null when nested (see t_map_depth)
        if (m_probing) m_start = std::chrono::steady_clock::now();
        value_type result = guarded([&] {
            if constexpr (k_exact) {
                value_type acc = m_red.identity();
                start_run(own, acc, 0, m_leaves);
                return acc;
            } else {
                return visit(&own, 0, m_leaves);
            }
        });
        // Never split: all of it was timed (unless it was cut short).
        if (m_learned_cost != nullptr && !m_split_allowed && !m_cancelled.load(std::memory_order_relaxed)) {
            learn(m_size);
        }
        return unless_cancelled(std::move(result));
    }

private:
    static constexpr bool k_exact = exactly_associative<Red>();
    static constexpr std::size_t k_exposed_forks = 2;

    template <class Body>
    value_type guarded(Body&& body) {
        try {
            return body();
        } catch (...) {
            // Rethrow the first exception any subtask threw, not whichever reached us.
            if (m_error) std::rethrow_exception(m_error);
            throw;
        }
    }

    /// The result, unless a stop request made the fold skip some of its work: then the
    /// result is partial, and the caller gets operation_cancelled instead. Read after
    /// every fork has joined, which orders the leaves' writes of m_cancelled before it.
    value_type unless_cancelled(value_type result) const {
        if (m_cancelled.load(std::memory_order_relaxed)) throw operation_cancelled();
        return result;
    }

    /// Whether the work that starts here is to be skipped: another subtask failed (the
    /// operation will throw its exception), or the caller asked to stop (it will throw
    /// operation_cancelled).
    bool skips() noexcept {
        // relaxed: a hint that saves work; the exception itself is published by
        // record_failure() and the joins.
        if (m_failed.load(std::memory_order_relaxed)) return true;
        if (m_stop.stop_requested()) {
            // relaxed: read only by the root after every fork has joined.
            m_cancelled.store(true, std::memory_order_relaxed);
            return true;
        }
        return false;
    }

    // Two divisions: done once per call, and not at all on the inline exact path, where
    // they would be a noticeable part of a 64-element call.
    void compute_leaf_shape() noexcept {
        m_leaf_quotient = m_size / m_leaves;
        m_leaf_remainder = m_size % m_leaves;
    }

    /// A fresh accumulator with leaf `leaf` folded into it.
    value_type fold_leaf(std::size_t leaf) {
        value_type acc = m_red.identity();
        fold_elements(acc, leaf_begin(leaf), leaf_begin(leaf + 1));
        return acc;
    }

    /// Canonical-tree fold of leaves [lo, hi) (reducers that are not exactly associative).
    /// `own` is null for a call run inline without a seat: it never forks.
    value_type visit(seat* own, std::size_t lo, std::size_t hi) {
        if (hi - lo == 1) {
            value_type leaf = fold_leaf(lo);
            if (!m_split_allowed) probe(1);
            return leaf;
        }
        // A skipped subtree's value is never used: the fold throws. (Inline, the leaves'
        // own checks suffice: a node check would cost as much as a short call's leaves.)
        if (own != nullptr && skips()) return m_red.identity();
        const std::size_t mid = lo + (hi - lo) / 2;
        if (own != nullptr && should_split(*own)) {
            auto [left, right] = fork_join(
                m_sched, *own, [&](seat& here) { return visit(&here, lo, mid); },
                [&](seat& here) { return visit(&here, mid, hi); });
            combine(left, std::move(right));
            return std::move(left);
        }
        value_type left = visit(own, lo, mid);
        combine(left, visit(own, mid, hi));
        return left;
    }

    /// Exactly associative reducers: folds leaves [lo, hi) into `acc`, left to right.
    /// Only a fork that a thief really takes costs an accumulator and a combine; a fork
    /// that comes back unstolen just carries `acc` on (no identity, no append of partial
    /// containers level by level as a tree would).
    void visit_into(seat& own, value_type& acc, std::size_t lo, std::size_t hi) {
        if (!m_split_allowed) return fold_flat_into(own, acc, lo, hi);
        if (hi - lo == 1) return fold_elements(acc, leaf_begin(lo), leaf_begin(lo + 1));
        if (skips()) return;
        const std::size_t mid = lo + (hi - lo) / 2;
        if (should_split(own)) {
            // Left stays here and folds into `acc`; a thief that takes the right half
            // starts its own accumulator, which is combined into `acc` after the join.
            fork_or_continue(
                m_sched, own, [&](seat& here) { visit_into(here, acc, lo, mid); },
                [&](seat& here) {
                    value_type right = m_red.identity();
                    start_run(here, right, mid, hi);
                    return right;
                },
                [&](std::monostate, seat& here) {
                    visit_into(here, acc, mid, hi);
                    return std::monostate{};
                },
                [&](std::monostate, value_type right) {
                    combine(acc, std::move(right));
                    return std::monostate{};
                });
            return;
        }
        visit_into(own, acc, lo, mid);
        visit_into(own, acc, mid, hi);
    }

    /// visit_into() for a fresh accumulator (identity) that will take leaves [lo, hi),
    /// unless thieves take some. An accumulator that can reserve (a vector, a string)
    /// would grow by doubling through the whole run, reallocating and copying ~20 times
    /// for a 10^7-element filter (docs/performance.md, "The filters after the
    /// reservation"). So the run's first leaf is folded alone, and the
    /// accumulator reserves what the remaining leaves would add at the rate that leaf added
    /// elements, plus 1/16. A run a thief shares ends with room to spare, which the combine after the join
    /// then fills without a reallocation. A first leaf that adds nothing reserves nothing.
    /// The reservation is only a hint: if it cannot be had (bad_alloc, length_error), the
    /// accumulator grows as before.
    void start_run(seat& own, value_type& acc, std::size_t lo, std::size_t hi) {
        if constexpr (requires(std::size_t n) {
                          acc.reserve(n);
                          { acc.size() } -> std::convertible_to<std::size_t>;
                          { acc.capacity() } -> std::convertible_to<std::size_t>;
                      }) {
            // Eight leaves at least: below that the estimate is not worth a reservation.
            // (A short call under the adaptive policy has up to 2048 leaves and reserves
            // too: the growth it saves is the same.)
            if (hi - lo >= k_leaves_worth_reserving) {
                // What the leaf adds, not the accumulator's size: an identity that already
                // has its size (a vector of bins for elementwise_sum) must reserve nothing.
                const std::size_t before = static_cast<std::size_t>(acc.size());
                fold_elements(acc, leaf_begin(lo), leaf_begin(lo + 1));
                probe(1);
                ++lo;
                const std::size_t size = static_cast<std::size_t>(acc.size());
                const std::size_t per_leaf = size > before ? size - before : 0;
                const std::size_t rest = hi - lo;  // leaves left (at least 7)
                // The bound keeps `expected` from overflowing; a reserve past max_size()
                // throws length_error, caught below.
                if (per_leaf != 0 && per_leaf <= (std::numeric_limits<std::size_t>::max() - size) / (2 * rest) &&
                    !skips()) {
                    const std::size_t expected = size + per_leaf * rest + per_leaf * rest / 16;
                    try {
                        if (acc.capacity() < expected) acc.reserve(expected);
                    } catch (const std::bad_alloc&) {
                    } catch (const std::length_error&) {
                    }
                }
            }
        }
        visit_into(own, acc, lo, hi);
    }
    static constexpr std::size_t k_leaves_worth_reserving = 8;

    /// While nothing has been split yet: fold the leaves as one contiguous run of
    /// elements up to each probe point (a plain loop, no per-leaf cost); once splitting
    /// pays, hand the remaining leaves to visit_into(), which may split them.
    void fold_flat_into(seat& own, value_type& acc, std::size_t lo, std::size_t hi) {
        std::size_t leaf = lo;
        while (leaf < hi) {
            if (skips()) return;
            const std::size_t until_probe = m_next_probe - m_leaves_done;
            const std::size_t stop = hi - leaf <= until_probe ? hi : leaf + until_probe;
            fold_elements(acc, leaf_begin(leaf), leaf_begin(stop));
            probe(stop - leaf);
            leaf = stop;
            if (m_split_allowed && leaf < hi) return visit_into(own, acc, leaf, hi);
        }
    }

    bool should_split(seat& own) const noexcept {
        if (!m_split_allowed) return false;
        if constexpr (!SplitsOnDemand) return true;
        // Lazy binary splitting: offer more work only when fewer than k_exposed_forks
        // offers are waiting in our deque, i.e. thieves took what we offered before.
        // Two rather than one: a thief that takes our only offer would otherwise find
        // nothing more until we reach the next tree node, which may be a whole leaf away.
        return own.deque.size_hint() < k_exposed_forks && m_sched.may_have_thieves(own);
    }

    /// While probing (only the root thread runs then), read the clock after 1, 2, 4, ...
    /// leaves, and allow splitting once the job has run longer than the inline budget.
    void probe(std::size_t leaves_done) noexcept {
        if (!m_probing || m_split_allowed) return;
        m_leaves_done += leaves_done;
        if (m_leaves_done < m_next_probe) return;
        m_next_probe *= 2;
        if (std::chrono::steady_clock::now() - m_start >= k_inline_budget) {
            learn(leaf_begin(m_leaves_done));
            m_split_allowed = true;
        }
    }

    /// Records this call site's cost per element from the elements timed so far.
    void learn(std::size_t elements) noexcept {
        if (m_learned_cost == nullptr || elements == 0) return;
        const auto elapsed = std::chrono::steady_clock::now() - m_start;
        learn_cost<LeafFold, Red>(*m_learned_cost,
                                  std::chrono::duration<double, std::pico>(elapsed).count() / double(elements));
    }

    std::size_t leaf_begin(std::size_t leaf) const noexcept {
        // Same as detail::leaf_begin(leaf, m_size, m_leaves), without the divisions.
        return leaf * m_leaf_quotient + std::min(leaf, m_leaf_remainder);
    }

    void fold_elements(value_type& acc, std::size_t begin, std::size_t end) {
        if (skips()) return;
        try {
            map_scope in_map;
            m_leaf_fold(acc, begin, end);
        } catch (...) {
            record_failure();
            throw;
        }
        // Counted once the elements are done, and before this leaf joins: the operation
        // cannot end while a report is in flight.
        if (m_progress != nullptr) [[unlikely]]
            report_progress(end - begin);
    }

    // Out of line, and outside the try block above: inside it, the mere call made a
    // 64-element map_reduce without any progress 70% slower (measured).
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::noinline]]
#endif
    void
    report_progress(std::size_t finished) {
        try {
            m_progress->advance(finished);
        } catch (...) {
            record_failure();
            throw;
        }
    }

    void combine(value_type& left, value_type&& right) {
        try {
            combine_into(m_red, left, std::move(right));
        } catch (...) {
            record_failure();
            throw;
        }
    }

    void record_failure() noexcept {
        // acq_rel: the winner's write of m_error is published to whoever reads it after
        // joining (the root), through the fork-join completion chain as well.
        if (!m_failed.exchange(true, std::memory_order_acq_rel)) m_error = std::current_exception();
    }

    scheduler& m_sched;
    std::size_t m_size;
    std::size_t m_leaves;
    std::size_t m_leaf_quotient = 0;
    std::size_t m_leaf_remainder = 0;
    const LeafFold& m_leaf_fold;
    const Red& m_red;
    const stop_token& m_stop;  // the caller's; outlives the operation
    progress* m_progress;      // the caller's, or null: no reports
    // Written only by the root thread before anything is forked; read by thieves after
    // they stole a fork (the deque's release/acquire publishes them).
    bool m_split_allowed;
    bool m_probing = false;
    std::atomic<std::uint32_t>* m_learned_cost = nullptr;  // where learn() writes; null: do not learn
    std::size_t m_leaves_done = 0;
    std::size_t m_next_probe = 1;
    std::chrono::steady_clock::time_point m_start{};
    std::atomic<bool> m_failed{false};
    std::atomic<bool> m_cancelled{false};  // some work was skipped because of m_stop
    std::exception_ptr m_error;
};

}  // namespace microtask::detail
