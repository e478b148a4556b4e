// microtask — detail/fold.hpp
// The engine behind map_reduce, reduce, for_each and distribute: a fold over the leaves
// of a canonical binary tree, forked with fork_join.
//
// Determinism: leaf boundaries depend only on (n, policy), and leaf results are combined
// in the tree's fixed shape — node [lo, hi) = combine(node [lo, mid), node [mid, hi)),
// mid = lo + (hi - lo) / 2 — whether a node was forked or folded in place. Scheduling
// only decides *which thread* computes a node, never *how* it is combined. Reducers that
// are exactly associative skip the tree and fold leaves left to right when not split.
#pragma once

#include "../concepts.hpp"
#include "../partition.hpp"
#include "fork_join.hpp"
#include "scheduler.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <iterator>
#include <utility>

namespace microtask::detail {

template <std::random_access_iterator It, class Map, reducer Red>
class fold_operation {
public:
    using value_type = typename Red::value_type;

    template <partition_policy Policy>
    fold_operation(scheduler& sched, It first, std::size_t size, Map& map, const Red& red, const Policy& policy)
        : m_sched(sched),
          m_first(first),
          m_size(size),
          m_leaves(size == 0 ? 0 : policy.leaf_count(size)),
          m_map(map),
          m_red(red),
          m_split_allowed(!Policy::splits_on_demand),
          m_split_on_demand(Policy::splits_on_demand) {}

    /// Runs the whole fold on the calling thread's slot (forking as decided).
    value_type run(slot& home) {
        if (m_leaves == 0) return m_red.identity();
        m_start = std::chrono::steady_clock::now();
        try {
            return visit(home, 0, m_leaves);
        } catch (...) {
            // Rethrow the first exception any subtask threw, not whichever reached us.
            if (m_error) std::rethrow_exception(m_error);
            throw;
        }
    }

private:
    // A job finishing sooner than this runs inline: waking a sleeping worker costs
    // microseconds, so splitting shorter work makes it slower, not faster.
    static constexpr std::chrono::nanoseconds k_inline_budget{25'000};
    static constexpr bool k_exact = exactly_associative<Red>();

    value_type visit(slot& home, std::size_t lo, std::size_t hi) {
        if (hi - lo == 1) {
            value_type leaf = fold_leaf(m_red.identity(), lo);
            probe();
            return leaf;
        }
        if (k_exact && !m_split_allowed) return fold_flat(home, lo, hi);
        const std::size_t mid = lo + (hi - lo) / 2;
        if (should_split(home)) {
            auto [left, right] = fork_join(
                m_sched, home, [&](slot& here) { return visit(here, lo, mid); },
                [&](slot& here) { return visit(here, mid, hi); });
            return combine(std::move(left), std::move(right));
        }
        value_type left = visit(home, lo, mid);
        return combine(std::move(left), visit(home, mid, hi));
    }

    /// Exactly associative reducers, while nothing has been split yet: fold leaves left
    /// to right (a plain loop), probing the clock; once splitting pays, hand the rest of
    /// the leaves to visit(), which may split them.
    value_type fold_flat(slot& home, std::size_t lo, std::size_t hi) {
        value_type acc = m_red.identity();
        for (std::size_t i = lo; i < hi; ++i) {
            acc = fold_leaf(std::move(acc), i);
            probe();
            if (m_split_allowed && i + 1 < hi) {
                return combine(std::move(acc), visit(home, i + 1, hi));
            }
        }
        return acc;
    }

    bool should_split(slot& home) const noexcept {
        if (!m_split_allowed) return false;
        if (!m_split_on_demand) return true;
        // Lazy binary splitting: offer work only when our deque is empty, i.e. thieves
        // took what we offered before (or we have offered nothing yet).
        return home.deque.empty() && m_sched.worker_count() + (home.is_guest ? 1 : 0) > 1;
    }

    /// While probing (only the root thread runs then), read the clock after 1, 2, 4, ...
    /// leaves, and allow splitting once the job has run longer than the inline budget.
    void probe() noexcept {
        if (m_split_allowed) return;
        if (++m_leaves_done != m_next_probe) return;
        m_next_probe *= 2;
        if (std::chrono::steady_clock::now() - m_start >= k_inline_budget) m_split_allowed = true;
    }

    value_type fold_leaf(value_type acc, std::size_t leaf) {
        // Another subtask failed: the operation will throw, so skip the work.
        if (m_failed.load(std::memory_order_relaxed)) return acc;
        using difference = std::iter_difference_t<It>;
        const std::size_t begin = leaf_begin(leaf, m_size, m_leaves);
        const std::size_t end = leaf_begin(leaf + 1, m_size, m_leaves);
        try {
            for (std::size_t k = begin; k < end; ++k) {
                acc = m_red.combine(std::move(acc), std::invoke(m_map, m_first[static_cast<difference>(k)]));
            }
        } catch (...) {
            record_failure();
            throw;
        }
        return acc;
    }

    value_type combine(value_type left, value_type right) {
        try {
            return m_red.combine(std::move(left), std::move(right));
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
    It m_first;
    std::size_t m_size;
    std::size_t m_leaves;
    Map& m_map;
    const Red& m_red;
    // Written only by the root thread before anything is forked; read by thieves after
    // they stole a fork (the deque's release/acquire publishes it).
    bool m_split_allowed;
    const bool m_split_on_demand;
    std::size_t m_leaves_done = 0;
    std::size_t m_next_probe = 1;
    std::chrono::steady_clock::time_point m_start{};
    std::atomic<bool> m_failed{false};
    std::exception_ptr m_error;
};

/// Runs a fold over [first, first + size) on `sched`, borrowing a guest seat if the
/// caller is not inside the pool.
template <class It, class Map, class Red, class Policy>
typename Red::value_type run_fold(scheduler& sched, It first, std::size_t size, Map& map, const Red& red,
                                  const Policy& policy) {
    fold_operation<It, Map, Red> operation(sched, first, size, map, red, policy);
    if (size == 0) return red.identity();
    return sched.run_in_slot([&](slot& home) { return operation.run(home); });
}

/// The reducer of nothing: for for_each and distribute, which only need the traversal.
struct unit_reducer {
    using value_type = std::monostate;
    static constexpr bool is_exactly_associative = true;
    [[nodiscard]] constexpr std::monostate identity() const noexcept { return {}; }
    [[nodiscard]] constexpr std::monostate combine(std::monostate, std::monostate) const noexcept { return {}; }
};

}  // namespace microtask::detail
