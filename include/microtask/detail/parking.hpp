// microtask — detail/parking.hpp
// How a thread with nothing to do sleeps, and how it is woken: an eventcount with one
// futex word per seat (seat::sleep_state) and one shared count of sleepers.
// docs/design.md section 7 explains the protocol.
#pragma once

#include "asymmetric_fence.hpp"
#include "seat.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace microtask::detail {

/// Idle rounds spent on a CPU pause before yielding: about a microsecond, the time a
/// fork just offered or a task just finished takes to show up.
inline constexpr unsigned k_pause_rounds = 16;

/// Spins one round of an idle loop: a CPU pause at first, later a yield, which gives the
/// core away on an oversubscribed machine where the thread we wait for may need it.
inline void idle_pause(unsigned round) noexcept {
    if (round < k_pause_rounds) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    } else {
        std::this_thread::yield();
    }
}

/// The counts of sleeping and of searching threads, and the park/wake operations on
/// seats. Any thread may wake; only a seat's owner parks on it.
///
/// A thread is *searching* while it looks for work it has not found yet (an idle spell
/// of scheduler::wait_until that may take any work). New work wakes a sleeper only when
/// nobody searches: a searcher will find the work, or, before it sleeps, stop searching
/// and look once more. This keeps a stream of forks from waking every sleeper in turn
/// (each wake-up a futex call for the pusher and ~100 us of spinning for the woken).
/// Both counts share one word, so a signaller reads them with one load and every
/// transition (start or stop searching, sleep, wake) is one RMW in one modification
/// order. docs/design.md section 7 gives the whole argument.
class parking {
public:
    /// Parks `own` until `ready()` or a wake-up. `searching`: the caller is counted as
    /// a searcher (it stops searching as it starts to sleep, in the same RMW).
    /// Returns whether the caller is counted as a searcher on return: true after a wake-up
    /// by wake_one() (whose claim counts the woken thread as searching, so that the
    /// pushes that follow do not wake a second thread for the same work) and after a
    /// cancelled park; false after a wake_seat(), which wakes a thread for its own reason.
    /// The protocol:
    ///   parker:    counts: searching -= 1, sleepers += 1; state = sleeping;
    ///              heavy fence; if ready() cancel; else futex-wait
    ///   signaller: make ready() true; if sleepers > 0, wake (CAS sleeping -> notified)
    /// A pusher's half of the fence is the light one (scheduler::announce_new_work); a
    /// targeted signaller (wake_seat) uses seq_cst operations throughout.
    /// Invariant: sleepers >= the number of seats whose word is k_sleeping — we count
    /// ourselves before we show as sleeping, and whoever moves a word out of k_sleeping
    /// decrements after. So a waker that reads no sleepers can never be hiding a sleeper
    /// that some other waker claimed.
    template <class Ready>
    bool park(seat& own, Ready&& ready, bool searching) {
        m_counts.fetch_add(searching ? k_one_sleeper - k_one_searcher : k_one_sleeper, std::memory_order_seq_cst);
        own.sleep_state.store(seat::k_sleeping, std::memory_order_seq_cst);
        // The heavy half of the fence whose light half a pusher runs between its store of
        // bottom and its load of m_counts (scheduler::announce_new_work): our count and
        // state above are then seen by that load, or the push by our look below.
        heavy_fence();
        if (ready()) {
            // Cancel, and search again. A waker that claimed us first also counted us.
            const std::uint32_t claimed_as = own.sleep_state.exchange(seat::k_awake, std::memory_order_acq_rel);
            if (claimed_as == seat::k_sleeping) {
                m_counts.fetch_add(k_one_searcher - k_one_sleeper, std::memory_order_seq_cst);
                return true;
            }
            return claimed_as == seat::k_woken_to_search;
        }
        // acquire: whatever the waker wrote before its CAS is visible after we wake.
        std::uint32_t state = own.sleep_state.load(std::memory_order_acquire);
        while (state == seat::k_sleeping) {
            own.sleep_state.wait(seat::k_sleeping, std::memory_order_acquire);
            state = own.sleep_state.load(std::memory_order_acquire);
        }
        own.sleep_state.store(seat::k_awake, std::memory_order_relaxed);
        return state == seat::k_woken_to_search;
    }

    /// Parks `own` until `ready()`, woken only by wake_seat(own): for a thread that may
    /// take only some of the pool's work (inside mt::isolate, or with its stack running
    /// low), so that new work in general must not wake it (wake_one() would spend the
    /// wake-up on a thread that cannot take the work). Neither a sleeper nor a searcher.
    /// The same Dekker pairing as park(): the seq_cst store of the state, then ready()'s
    /// seq_cst read, against the signaller's seq_cst write, then wake_seat()'s seq_cst load.
    template <class Ready>
    void park_for_own_wait(seat& own, Ready&& ready) {
        own.sleep_state.store(seat::k_sleeping_for_own_wait, std::memory_order_seq_cst);
        if (ready()) {
            // relaxed: nothing to publish; a concurrent wake_seat may have set k_notified.
            own.sleep_state.store(seat::k_awake, std::memory_order_relaxed);
            return;
        }
        // acquire: whatever the waker wrote before its CAS is visible after we wake.
        while (own.sleep_state.load(std::memory_order_acquire) == seat::k_sleeping_for_own_wait) {
            own.sleep_state.wait(seat::k_sleeping_for_own_wait, std::memory_order_acquire);
        }
        own.sleep_state.store(seat::k_awake, std::memory_order_relaxed);
    }

    /// Wakes `target` if it is parked; harmless if it is awake (it re-checks its
    /// condition before parking again). Any thread.
    void wake_seat(seat& target) noexcept {
        // seq_cst: the signaller's write of its condition, then this load, pair with the
        // parker's store of its sleeping state, then its read of the condition. A load
        // first, not a CAS: the target is usually awake, and then no locked instruction
        // is needed at all.
        std::uint32_t state = target.sleep_state.load(std::memory_order_seq_cst);
        if (state != seat::k_sleeping && state != seat::k_sleeping_for_own_wait) return;
        // seq_cst: one total order with the other wakers' claims and the parker's exchange.
        if (target.sleep_state.compare_exchange_strong(state, seat::k_notified, std::memory_order_seq_cst)) {
            if (state == seat::k_sleeping) m_counts.fetch_sub(k_one_sleeper, std::memory_order_seq_cst);
            target.sleep_state.notify_one();
        }
    }

    /// Wakes one parked seat among `seats[0, count)`, if any, and counts it as searching;
    /// returns whether it woke one. The caller has made its work visible and then read
    /// m_counts (see announce_new_work).
    bool wake_one(seat* seats, std::size_t count) noexcept {
        for (std::size_t i = 0; i < count; ++i) {
            seat& candidate = seats[i];
            // seq_cst: this read follows the caller's read of m_counts, so it sees the
            // k_sleeping of any parker that caller counted (see park()).
            if (candidate.sleep_state.load(std::memory_order_seq_cst) == seat::k_sleeping) {
                std::uint32_t expected = seat::k_sleeping;
                if (candidate.sleep_state.compare_exchange_strong(expected, seat::k_woken_to_search,
                                                                  std::memory_order_seq_cst)) {
                    m_counts.fetch_add(k_one_searcher - k_one_sleeper, std::memory_order_seq_cst);
                    candidate.sleep_state.notify_one();
                    return true;
                }
            }
        }
        return false;
    }

    /// The caller starts an idle spell in which it may take any work. Rare (once per
    /// spell), so seq_cst.
    void start_searching() noexcept { m_counts.fetch_add(k_one_searcher, std::memory_order_seq_cst); }

    /// The caller stops searching (it found work, or its wait ended). Returns whether it
    /// was the last searcher while somebody sleeps: then the caller must look for work
    /// it leaves behind and, if any, wake a sleeper to search in its place (see
    /// scheduler::stop_searching). seq_cst: the RMW is the searcher's side of the pairing
    /// with a pusher that saw it searching (announce_new_work's fenced re-read).
    [[nodiscard]] bool stop_searching() noexcept {
        const std::uint64_t before = m_counts.fetch_sub(k_one_searcher, std::memory_order_seq_cst);
        return searchers_in(before) == 1 && sleepers_in(before) != 0;
    }

    /// The word as a signaller reads it. seq_cst: see announce_new_work.
    [[nodiscard]] std::uint64_t counts() const noexcept { return m_counts.load(std::memory_order_seq_cst); }
    [[nodiscard]] static std::uint32_t sleepers_in(std::uint64_t counts) noexcept {
        return static_cast<std::uint32_t>(counts & (k_one_searcher - 1));
    }
    [[nodiscard]] static std::uint32_t searchers_in(std::uint64_t counts) noexcept {
        return static_cast<std::uint32_t>(counts >> k_searcher_shift);
    }

    /// The word as a heuristic reads it (relaxed: a stale answer only changes a
    /// decision to split or to wake early, never whether work is seen).
    [[nodiscard]] std::uint64_t counts_hint() const noexcept { return m_counts.load(std::memory_order_relaxed); }

    /// Is anyone parked (or about to)? A hint, for heuristics that decide no wake-up
    /// (relaxed: a stale answer only changes when memory is given back).
    [[nodiscard]] bool anyone_asleep_hint() const noexcept {
        return sleepers_in(m_counts.load(std::memory_order_relaxed)) != 0;
    }

private:
    // Sleepers in the low 32 bits, searchers in the high 32: one RMW moves a thread
    // from one count to the other.
    static constexpr unsigned k_searcher_shift = 32;
    static constexpr std::uint64_t k_one_sleeper = 1;
    static constexpr std::uint64_t k_one_searcher = std::uint64_t{1} << k_searcher_shift;
    // Read on every fork: on a line of its own, away from lines that change often.
    // Low half: threads parked or about to park (park()'s invariant); high half: searchers.
    alignas(k_cache_line) std::atomic<std::uint64_t> m_counts{0};
};

}  // namespace microtask::detail
