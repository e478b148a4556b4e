// microtask — detail/parking.hpp
// How a thread with nothing to do sleeps, and how it is woken: an eventcount with one
// futex word per seat (slot::sleep_state) and one shared count of sleepers.
// docs/design.md section 7 explains the protocol.
#pragma once

#include "slot.hpp"

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

/// The sleeper count and the park/wake operations on seats. Any thread may wake; only a
/// seat's owner parks on it.
class parking {
public:
    /// Parks `home` until `ready()` or a wake-up. The protocol:
    ///   parker:    sleepers += 1; state = sleeping; if ready() cancel; else futex-wait
    ///   signaller: make ready() true; if sleepers > 0, wake (CAS sleeping->notified)
    /// Every step is seq_cst, so in the single total order either the signaller's look
    /// at the sleep word comes after our store of `sleeping` (and it wakes us), or our
    /// ready() comes after the signaller's write (and we do not sleep).
    /// Invariant: m_sleepers >= the number of seats whose word is k_sleeping — we count
    /// ourselves before we show as sleeping, and whoever moves a word out of k_sleeping
    /// decrements after. So a waker that reads m_sleepers == 0 can never be hiding a
    /// sleeper that some other waker claimed.
    template <class Ready>
    void park(slot& home, Ready&& ready) {
        m_sleepers.fetch_add(1, std::memory_order_seq_cst);
        home.sleep_state.store(slot::k_sleeping, std::memory_order_seq_cst);
        if (ready()) {
            // Cancel. If a waker already claimed us it also decremented m_sleepers.
            if (home.sleep_state.exchange(slot::k_awake, std::memory_order_acq_rel) == slot::k_sleeping) {
                m_sleepers.fetch_sub(1, std::memory_order_relaxed);
            }
            return;
        }
        // acquire: whatever the waker wrote before its CAS is visible after we wake.
        while (home.sleep_state.load(std::memory_order_acquire) == slot::k_sleeping) {
            home.sleep_state.wait(slot::k_sleeping, std::memory_order_acquire);
        }
        home.sleep_state.store(slot::k_awake, std::memory_order_relaxed);
    }

    /// Parks `home` until `ready()`, woken only by wake_slot(home): for a thread that may
    /// take only some of the pool's work (inside mt::isolate, or with its stack running
    /// low), so that new work in general must not wake it (wake_one() would spend the
    /// wake-up on a thread that cannot take the work). Not counted as a sleeper.
    /// The same Dekker pairing as park(): the seq_cst store of the state, then ready()'s
    /// seq_cst read, against the signaller's seq_cst write, then wake_slot()'s seq_cst load.
    template <class Ready>
    void park_for_own_wait(slot& home, Ready&& ready) {
        home.sleep_state.store(slot::k_sleeping_for_own_wait, std::memory_order_seq_cst);
        if (ready()) {
            // relaxed: nothing to publish; a concurrent wake_slot may have set k_notified.
            home.sleep_state.store(slot::k_awake, std::memory_order_relaxed);
            return;
        }
        // acquire: whatever the waker wrote before its CAS is visible after we wake.
        while (home.sleep_state.load(std::memory_order_acquire) == slot::k_sleeping_for_own_wait) {
            home.sleep_state.wait(slot::k_sleeping_for_own_wait, std::memory_order_acquire);
        }
        home.sleep_state.store(slot::k_awake, std::memory_order_relaxed);
    }

    /// Wakes `target` if it is parked; harmless if it is awake (it re-checks its
    /// condition before parking again). Any thread.
    void wake_slot(slot& target) noexcept {
        // seq_cst: the signaller's write of its condition, then this load, pair with the
        // parker's store of its sleeping state, then its read of the condition. A load
        // first, not a CAS: the target is usually awake, and then no locked instruction
        // is needed at all.
        std::uint32_t state = target.sleep_state.load(std::memory_order_seq_cst);
        if (state != slot::k_sleeping && state != slot::k_sleeping_for_own_wait) return;
        // seq_cst: one total order with the other wakers' claims and the parker's exchange.
        if (target.sleep_state.compare_exchange_strong(state, slot::k_notified, std::memory_order_seq_cst)) {
            if (state == slot::k_sleeping) m_sleepers.fetch_sub(1, std::memory_order_relaxed);
            target.sleep_state.notify_one();
        }
    }

    /// Wakes one parked seat among `seats[0, count)`, if any; returns whether it woke one.
    /// The caller has made its work visible and then read anyone_asleep(), both seq_cst.
    bool wake_one(slot* seats, std::size_t count) noexcept {
        for (std::size_t i = 0; i < count; ++i) {
            slot& candidate = seats[i];
            // seq_cst: this read follows the caller's read of m_sleepers in the total
            // order, so it sees the k_sleeping of any parker that caller counted (see park()).
            if (candidate.sleep_state.load(std::memory_order_seq_cst) == slot::k_sleeping) {
                std::uint32_t expected = slot::k_sleeping;
                if (candidate.sleep_state.compare_exchange_strong(expected, slot::k_notified,
                                                                  std::memory_order_seq_cst)) {
                    m_sleepers.fetch_sub(1, std::memory_order_relaxed);
                    candidate.sleep_state.notify_one();
                    return true;
                }
            }
        }
        return false;
    }

    /// Is anyone parked (or about to)? seq_cst: the signaller's side of the new-work
    /// pairing, read after the work was made visible (docs/design.md section 7).
    [[nodiscard]] bool anyone_asleep() const noexcept { return m_sleepers.load(std::memory_order_seq_cst) != 0; }
    /// The same as a hint, for heuristics that decide no wake-up (relaxed: a stale answer
    /// only changes when memory is given back, never whether a task is seen).
    [[nodiscard]] bool anyone_asleep_hint() const noexcept {
        return m_sleepers.load(std::memory_order_relaxed) != 0;
    }

private:
    // Read on every fork: on a line of its own, away from lines that change often.
    alignas(k_cache_line) std::atomic<std::uint32_t> m_sleepers{0};
};

}  // namespace microtask::detail
