// microtask — detail/regions.hpp
// Isolation regions (mt::isolate) and what a wait may take: a thread inside a region takes
// only that region's work; a thread whose stack is more than half used takes only its own
// forks. Also the one place a taken task is run: in its own region, counted, and traced.
// docs/design.md section 6 explains it.
#pragma once

#include "seat.hpp"
#include "seats.hpp"
#include "stack_guard.hpp"
#include "steal.hpp"
#include "task.hpp"
#include "trace_buffer.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>

namespace microtask::detail {

/// A fresh isolation region id (never 0). Ids only need to differ: relaxed.
inline std::uint64_t new_region_id() noexcept {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
}

/// Puts `seat`'s owner inside `region` for a scope (0: outside any region): what it
/// pushes from now on is labelled with the region, and its waits take only that region's
/// work (see seat::region). Owner of `seat` only.
class region_scope {
public:
    region_scope(seat& own, std::uint64_t region) noexcept
        : m_seat(own), m_outer_region(own.region), m_outer_floor(own.region_floor) {
        own.region = region;
        own.region_floor = own.deque.bottom_index();
    }
    region_scope(const region_scope&) = delete;
    region_scope& operator=(const region_scope&) = delete;
    ~region_scope() {
        m_seat.region = m_outer_region;
        m_seat.region_floor = m_outer_floor;
    }

private:
    seat& m_seat;
    std::uint64_t m_outer_region;
    std::int64_t m_outer_floor;
};

/// What a wait may take: everything; only the work of the seat's isolation region; only the
/// seat's own deque (above the region's floor, if any).
enum class reach : std::uint8_t { everything, own_region, own_deque };

/// What a wait on `own` may take now. With more than half of the stack used, only the
/// thread's own forks (never steals, which could each stack another waiting frame on top
/// of this one); the own deque must stay open, as nobody else may be there to take those
/// forks. Inside an isolation region, only the region's work. Owner of `own` only.
inline reach reach_of(const seat& own) noexcept {
    if (stack_more_than_half_used()) return reach::own_deque;
    return own.region != 0 ? reach::own_region : reach::everything;
}

/// A look for work limited to `scope` (not reach::everything). Owner of `own` only.
inline found_work find_in_region(seat_table& seats, seat& own, reach scope) {
    const std::int64_t floor = own.region != 0 ? own.region_floor : std::numeric_limits<std::int64_t>::min();
    if (task_base* task = own.deque.pop_above(floor, nullptr)) return {task, own.region};
    // The injection queue holds unlabelled work: never taken here.
    if (scope == reach::own_region) return steal(seats, own, own.region);
    return {};
}

/// Runs a task that `own`'s owner took, inside the task's own isolation region; counts
/// it for thread_pool::stats() and records it in the trace when tracing is on.
inline void run_found(seat& own, found_work work) noexcept {
    seat::counters::add(own.stats.tasks_run);
    const auto run_in_region = [&] {
        if (work.region == own.region) {
            work.task->execute();
        } else {
            const region_scope scope(own, work.region);
            work.task->execute();
        }
    };
    if (k_instrumented && g_tracing.load(std::memory_order_relaxed)) [[unlikely]] {
        const std::int64_t start = trace_now_ns();
        run_in_region();
        record_span("task", start);
    } else {
        run_in_region();
    }
}

/// Adds the time since `since` to `own`'s idle time (thread_pool::stats()).
inline void count_idle(seat& own, std::chrono::steady_clock::time_point since) noexcept {
    const auto idle = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - since);
    seat::counters::add(own.stats.idle_ns, static_cast<std::uint64_t>(idle.count()));
}

}  // namespace microtask::detail
