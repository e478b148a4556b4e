// microtask — detail/new_work.hpp
// How new work reaches idle threads: the pool's injection queue, its sleeper and searcher
// counts (parking.hpp), the announcement after a push or an injection, the hand-over when
// a searcher stops, and the targeted wake-ups of waiters. docs/design.md section 7 gives
// the argument that no thread sleeps through new work.
#pragma once

#include "asymmetric_fence.hpp"
#include "injection_queue.hpp"
#include "parking.hpp"
#include "seats.hpp"
#include "task.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace microtask::detail {

/// The seats of a pool plus what signals new work to them. The scheduler derives from it;
/// every member is safe to call from any thread unless it says otherwise.
class new_work_signals : public seat_table {
public:
    using seat_table::seat_table;

    /// After work became visible (a push onto a visible deque, an injection): wake a
    /// sleeper if one sleeps and nobody searches. Two pairings make sure no thread sleeps
    /// through the work (docs/design.md section 7):
    ///  - with a thread going to sleep: the work's store must be ordered before our load
    ///    of the counts, or the sleeper could miss it (harmless while the pusher comes
    ///    back to it, a hang if it then blocks on something only that task will do). The
    ///    light half of an asymmetric fence does it: the parker runs the heavy half
    ///    between counting itself and its last look (parking::park). On Linux the fork
    ///    thus costs no locked instruction here.
    ///  - with a searcher we rely on, which might stop searching just now without seeing
    ///    the work: a real fence, then a second look at the counts. Either that look sees
    ///    the searcher gone (and we wake a sleeper), or the searcher's stop comes later
    ///    and its look after the stop sees the work (stop_searching). Paid only while
    ///    somebody both sleeps and searches.
    void announce_new_work() noexcept {
        light_fence();
        const std::uint64_t counts = m_parking.counts();
        if (parking::sleepers_in(counts) != 0) wake_for_new_work(counts);
    }

    /// announce_new_work() after a push onto `own`'s deque. A private seat's deque is
    /// invisible to others, so there is nobody to wake for it; that test comes after the
    /// common exit (nobody asleep), so that a fork's push runs one test, not two.
    void announce_new_work(const seat& own) noexcept {
        light_fence();
        const std::uint64_t counts = m_parking.counts();
        if (parking::sleepers_in(counts) == 0) [[likely]]
            return;
        if (!own.is_private) wake_for_new_work(counts);
    }

    /// The rest of an announcement when `counts` showed a sleeper. Out of line: a fork's
    /// push inlines only the common exit above.
    [[gnu::noinline]] void wake_for_new_work(std::uint64_t counts) noexcept {
        if (parking::searchers_in(counts) != 0) {
            full_fence();
            counts = m_parking.counts();
            if (parking::sleepers_in(counts) == 0 || parking::searchers_in(counts) != 0) return;
        }
        wake_one();
    }

    /// Is a thread of this pool awake and looking for work? A hint (relaxed): a wrong
    /// answer only makes a short call split or run inline.
    [[nodiscard]] bool someone_searching() const noexcept {
        return parking::searchers_in(m_parking.counts_hint()) != 0;
    }

    /// A short call is running inline because nobody was awake to share it: wake a
    /// sleeper (if nobody searches) so that the next call of a loop of short calls finds
    /// a searcher and splits. An isolated call pays one futex wake and ~100 us of the
    /// woken thread's spinning (docs/design.md section 9, "Short calls").
    void wake_for_next_call() noexcept {
        const std::uint64_t counts = m_parking.counts_hint();
        if (parking::sleepers_in(counts) != 0 && parking::searchers_in(counts) == 0) wake_one();
    }

    /// Queues `task` on the injection queue (for a thread without a visible seat) and
    /// announces it. Throws std::bad_alloc, and then nothing was queued.
    void inject(task_base* task) {
        m_injected.push(task);
        announce_new_work();
    }

    /// The caller stops searching. If it was the last searcher while somebody sleeps, work
    /// it leaves behind must not wait for a thread that stays asleep: a pusher that saw it
    /// searching did not wake anyone. So look, and if there is work, wake a sleeper to
    /// search in its place. (A pusher that saw us and then, after a fence, still saw us,
    /// pushed before our RMW in stop_searching, so work_visible() below sees its work.)
    void stop_searching() noexcept {
        if (m_parking.stop_searching() && work_visible()) wake_one();
    }

    /// Wakes `target` if it is parked; harmless if it is awake. Any thread.
    void wake_seat(seat& target) noexcept { m_parking.wake_seat(target); }

    /// Wakes every seat (worker, guest, leased or private) whose wait_key is `key`: the
    /// threads whose innermost registered wait is for `key`. Any thread; `key` is only
    /// compared, so it may already be gone. O(number of seats).
    /// The caller made the waiters' condition true with a seq_cst RMW that read their
    /// registration (e.g. task_group's state word); the waiters stored wait_key with
    /// seq_cst before registering, so the seq_cst loads here see the key.
    void wake_waiters_of(const void* key) noexcept {
        for (std::size_t i = 0; i < seat_count(); ++i) {
            if (seat_at(i).wait_key.load(std::memory_order_seq_cst) == key) m_parking.wake_seat(seat_at(i));
        }
        for_each_private_seat([&](seat& waiter) {
            if (waiter.wait_key.load(std::memory_order_seq_cst) == key) m_parking.wake_seat(waiter);
        });
    }

protected:
    bool wake_one() noexcept { return m_parking.wake_one(&seat_at(0), seat_count()); }

    /// Any thread: is there work anywhere a thief can see? Used as the last check before
    /// parking. (Private seats are not scanned: only their owners take from them.)
    bool work_visible() const noexcept {
        if (m_injected.visible()) return true;
        for (std::size_t i = 0; i < seat_count(); ++i) {
            if (!seat_at(i).deque.empty()) return true;
        }
        return false;
    }

    // Each on cache lines of its own: the sleeper and searcher counts (read on every fork;
    // inside m_parking) and the injection queue (its count and its mutex are on lines of
    // their own), away from the seats' occupied-extras mask (in seat_table) and the
    // scheduler's shutdown state. Sharing a line made an outside submit's lock and count
    // updates slow every thief's look.
    parking m_parking;
    injection_queue m_injected;
};

}  // namespace microtask::detail
