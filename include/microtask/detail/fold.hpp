// microtask — detail/fold.hpp
// How a fold call starts: a call known to be short runs as a plain loop on the calling
// thread (or, over 4 us, is shared with a searching worker); any other call runs
// fold_operation, the canonical-tree engine (detail/fold_operation.hpp), on the caller's
// seat. The entry points behind map_reduce, reduce, fold, for_each and distribute.
#pragma once

#include "../cancellation.hpp"
#include "../progress.hpp"
#include "call_cost.hpp"
#include "fold_operation.hpp"
#include "fork_join.hpp"
#include "scheduler.hpp"

#include <cstddef>
#include <utility>

namespace microtask::detail {

/// A call predicted short (see k_split_for_searcher) that a searching thread can share:
/// halves [lo, hi) while a thread searches and the piece is still worth a split, and folds
/// each piece with the plain loop. Only for exactly associative reducers (any order gives
/// the same result), so no canonical tree has to be walked. O(log of the pieces) forks.
template <class LeafFold, class Red>
typename Red::value_type fold_shared_short(scheduler& sched, seat& own, std::size_t lo, std::size_t hi,
                                           double expected_picoseconds, const LeafFold& leaf_fold, const Red& red) {
    if (hi - lo < 2 || expected_picoseconds < 2 * k_split_for_searcher_picoseconds || !sched.someone_searching()) {
        map_scope in_map;
        typename Red::value_type acc = red.identity();
        leaf_fold(acc, lo, hi);
        return acc;
    }
    const std::size_t mid = lo + (hi - lo) / 2;
    const double half = expected_picoseconds / 2;
    auto [left, right] = fork_join(
        sched, own, [&](seat& here) { return fold_shared_short(sched, here, lo, mid, half, leaf_fold, red); },
        [&](seat& here) { return fold_shared_short(sched, here, mid, hi, half, leaf_fold, red); });
    combine_into(red, left, std::move(right));
    return std::move(left);
}

/// run_leaf_fold's work, apart from the reporter's start and last report.
template <class LeafFold, class Red, class Policy>
typename Red::value_type fold_without_reports(scheduler& sched, std::size_t size, const LeafFold& leaf_fold,
                                              const Red& red, const Policy& policy, const call_site& site,
                                              const operation_controls& controls) {
    if (size == 0) return red.identity();
    call_judgement judgement;
    if constexpr (Policy::splits_on_demand) judgement = judge_call<LeafFold, Red>(size, site);
    const call_length length = judgement.length;
    if constexpr (Policy::splits_on_demand && exactly_associative<Red>()) {
        if (length == call_length::known_short) {
            // Short, but long enough to share with a thread that is awake anyway; if none
            // is, a loop of such calls wakes one for the calls that follow (design.md
            // section 9, "Short calls").
            // Only a call fold_shared_short would halve: a shorter one took a guest seat
            // and woke workers for nothing, and ran the plain loop anyway.
            if (judgement.expected_picoseconds >= 2 * k_split_for_searcher_picoseconds) {
                if (sched.someone_searching()) {
                    return sched.run_in_seat([&](seat& own) {
                        return fold_shared_short(sched, own, 0, size, judgement.expected_picoseconds, leaf_fold, red);
                    });
                }
                if (follows_recent_short_call()) sched.wake_for_next_call();
            }
            // Known short, any order will do: the plain loop, nothing else.
            map_scope in_map;
            typename Red::value_type acc = red.identity();
            leaf_fold(acc, 0, size);
            return acc;
        }
    }
    fold_operation<LeafFold, Red, Policy::splits_on_demand> operation(sched, size, leaf_fold, red, policy, controls);
    if constexpr (Policy::splits_on_demand && !exactly_associative<Red>()) {
        if (length == call_length::known_short) return operation.run_inline();
    }
    return sched.run_in_seat([&](seat& own) { return operation.run(own, judgement); });
}

/// Runs a fold of `size` elements on `sched`, each leaf folded by `leaf_fold(acc, begin,
/// end)`. A call known to be short runs inline without touching the pool; otherwise on
/// the caller's seat, borrowing a guest seat if the caller is outside the pool.
/// Throws operation_cancelled if the controls' token is stopped before the call or
/// before all leaves have started (a known-short call checks only before it starts).
/// With a progress reporter: reports as leaves finish, and (total, total) on success.
template <class LeafFold, class Red, class Policy>
typename Red::value_type run_leaf_fold(scheduler& sched, std::size_t size, const LeafFold& leaf_fold, const Red& red,
                                       const Policy& policy, const call_site& site = {},
                                       const operation_controls& controls = {}) {
    if (controls.stop.stop_requested()) throw operation_cancelled();
    if (controls.report == nullptr) return fold_without_reports(sched, size, leaf_fold, red, policy, site, controls);
    controls.report->begin(size);
    typename Red::value_type result = fold_without_reports(sched, size, leaf_fold, red, policy, site, controls);
    controls.report->finish();
    return result;
}

/// The fold behind map_reduce, for_each and distribute: every element of [first, first +
/// size) is mapped and accumulated.
template <class It, class Map, class Red, class Policy>
typename Red::value_type run_fold(scheduler& sched, It first, std::size_t size, Map& map, const Red& red,
                                  const Policy& policy, const call_site& site = {},
                                  const operation_controls& controls = {}) {
    return run_leaf_fold(sched, size, element_fold<It, Map, Red>{first, map, red}, red, policy, site, controls);
}

}  // namespace microtask::detail
