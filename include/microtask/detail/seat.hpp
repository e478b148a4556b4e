// microtask — detail/seat.hpp
// A seat at a pool, and the chain of seats the calling thread holds.
#pragma once

#include "task.hpp"
#include "work_stealing_deque.hpp"

#include <atomic>
#include <cstdint>

namespace microtask::detail {

/// False only in a build with MICROTASK_NO_STATS_OR_TRACE defined, which compiles out the
/// statistics counters and the tracing check on the scheduler's paths. It exists to
/// measure what they cost (bench/observability); every translation unit of a program
/// must agree on it, and stats() then reads zeros.
#if defined(MICROTASK_NO_STATS_OR_TRACE)
inline constexpr bool k_instrumented = false;
#else
inline constexpr bool k_instrumented = true;
#endif

class scheduler;

/// A seat at the pool: a worker thread's; a guest seat lent to an outside thread while it
/// waits; a seat an outside thread leased for its submits; or a private seat, which an
/// outside thread uses when no guest seat is free and which thieves never see.
///
/// Layout: the fields other threads write (the sleep word, the wait key, `occupied`) and
/// the fields only the owner writes on every steal round (`rng_state`, the fairness
/// counters) are on separate cache lines, and both away from the deque's lines.
struct alignas(k_cache_line) seat {
    // k_sleeping: parked, and any new work may wake it (counted in parking's sleepers).
    // k_sleeping_for_own_wait: parked until its own wait ends; only wake_seat() wakes it.
    // k_notified: woken by wake_seat (for the owner's own wait); k_woken_to_search: woken
    // by wake_one for new work, and already counted as searching by the waker.
    enum : std::uint32_t {
        k_awake = 0,
        k_sleeping = 1,
        k_notified = 2,
        k_sleeping_for_own_wait = 3,
        k_woken_to_search = 4
    };

    work_stealing_deque<task_base*> deque;

    // Written by the owner when it parks and by whoever wakes it.
    alignas(k_cache_line) std::atomic<std::uint32_t> sleep_state{k_awake};
    // What the owner's innermost registered wait is for (a task_group), or nullptr. The
    // owner writes it; whoever completes that thing reads it to find whom to wake
    // (scheduler::wake_waiters_of). Only ever compared, never dereferenced.
    std::atomic<const void*> wait_key{nullptr};
    std::atomic<bool> occupied{false};  // extra seats: is a thread using it?
    // Extra seats: is the thread inside a call on the pool (then it runs this seat's
    // tasks itself, and scheduler::find_work's fairness look skips the seat)? Written
    // by the owner, with plain relaxed stores; read by thieves once in k_fairness_period
    // looks. relaxed: it only steers that look, nothing is published through it.
    std::atomic<bool> attended{false};

    // Owner only, written on every look for work.
    alignas(k_cache_line) std::uint64_t rng_state = 0;  // victim selection
    std::uint32_t fairness_tick = 0;                    // see scheduler::find_work
    std::uint32_t extras_cursor = 0;                    // see steal_from_extras (steal.hpp)
    std::uint32_t index = 0;
    // True while the owner, as a thief, may be reading another deque's ring (see
    // work_stealing_deque::steal). Written twice per steal by the owner, on its own line;
    // read only by a deque owner that is about to free retired rings.
    std::atomic<bool> reading_ring{false};
    // The isolation region (mt::isolate) of the task the owner is running, 0 for none.
    // While it is not 0, the owner's waits take only that region's work: their own
    // deque's items above `region_floor` (pushed inside the region), and other deques'
    // items labelled with the region. Every item the owner pushes is labelled with it.
    std::uint64_t region = 0;
    std::int64_t region_floor = 0;
    // The pool this seat belongs to, set once when the seat is made. A fork's job keeps
    // only its owner's seat, and a thief finds the pool (to find its own seat there and
    // to wake the owner) through it: one pointer less to store per fork.
    scheduler* pool = nullptr;
    bool is_guest = false;    // any seat that is not a worker's
    bool is_private = false;  // invisible to thieves (a guest that found no free seat)

    // What the owner did, for thread_pool::stats(). Written only by the owner, with a
    // relaxed load and store (no RMW: one writer), read by stats() from any thread.
    // Cumulative since the pool started; reset_stats() keeps a baseline instead of
    // writing here, so that the owner stays the only writer.
    struct counters {
        std::atomic<std::uint64_t> tasks_run{0};      // taken by find_work and run
        std::atomic<std::uint64_t> tasks_stolen{0};   // of those, from another seat's deque
        std::atomic<std::uint64_t> failed_steals{0};  // a deque that looked non-empty gave nothing
        std::atomic<std::uint64_t> times_parked{0};   // futex sleeps
        std::atomic<std::uint64_t> idle_ns{0};        // between finding nothing and finding work
        static void add(std::atomic<std::uint64_t>& counter, std::uint64_t amount = 1) noexcept {
            if constexpr (k_instrumented) {
                counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
            }
        }
    };
    counters stats;
};

/// One seat the calling thread holds. A thread can hold seats in several pools at once
/// (a worker of pool A waiting on pool B as a guest, which then calls back into A), so the
/// seats form a chain from the innermost outwards; each lives in the frame that took it.
struct held_seat {
    scheduler* sched = nullptr;
    seat* own = nullptr;
    held_seat* outer = nullptr;
};

/// The end of every thread's chain: holds no seat (sched and own are null) and is never
/// written. Starting the chain here rather than at nullptr spares every fork's look at
/// the innermost seat a null test (the look compares `sched` first, which no pool equals).
inline held_seat g_no_held_seat{};

inline thread_local held_seat* t_innermost_held_seat = &g_no_held_seat;

/// Is `candidate` held by a frame of the calling thread?
inline bool holds_seat(const seat& candidate) noexcept {
    for (const held_seat* held = t_innermost_held_seat; held != nullptr; held = held->outer) {
        if (held->own == &candidate) return true;
    }
    return false;
}

/// Puts a seat on the calling thread's chain of held seats for a scope.
class held_seat_scope {
public:
    held_seat_scope(scheduler& sched, seat& own) noexcept : m_held{&sched, &own, t_innermost_held_seat} {
        t_innermost_held_seat = &m_held;
    }
    held_seat_scope(const held_seat_scope&) = delete;
    held_seat_scope& operator=(const held_seat_scope&) = delete;
    ~held_seat_scope() { t_innermost_held_seat = m_held.outer; }

private:
    held_seat m_held;
};

}  // namespace microtask::detail
