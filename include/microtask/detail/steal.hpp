// microtask — detail/steal.hpp
// How a thread with nothing of its own picks a victim and takes its oldest task.
// docs/design.md section 6 explains the order of the looks.
#pragma once

#include "seat.hpp"
#include "seats.hpp"
#include "task.hpp"
#include "work_stealing_deque.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>

namespace microtask::detail {

/// A task a thread took, and the isolation region it belongs to (see seat::region).
struct found_work {
    task_base* task = nullptr;
    std::uint64_t region = 0;
    explicit operator bool() const noexcept { return task != nullptr; }
};

/// Asks for tasks of any region.
inline constexpr std::uint64_t any_region = work_stealing_deque<task_base*>::any_label;

/// Takes the oldest task of `victim` if it is of `region` (or region is any_region).
/// `contended`: set when another thread won the race for it, so that the deque may still
/// hold work worth another look.
inline found_work try_steal(seat& own, seat& victim, bool& contended, std::uint64_t region) {
    if (&victim == &own || victim.deque.empty()) return {};
    // A private seat is not scanned by trim's readers_idle (they come and go): it is
    // counted in the victim's deque instead.
    const auto [status, task, label] = victim.deque.steal(region, own.is_private ? nullptr : &own.reading_ring);
    if (status == work_stealing_deque<task_base*>::steal_status::success) {
        seat::counters::add(own.stats.tasks_stolen);
        return {task, label};
    }
    if (status == work_stealing_deque<task_base*>::steal_status::lost_race) contended = true;
    seat::counters::add(own.stats.failed_steals);
    return {};
}

/// Tries every occupied extra seat (guest or leased) once. The scan starts one seat
/// further on each time (a per-thief cursor): scanning lowest first let one outside
/// thread that kept its seat non-empty starve another's tasks for as long as it
/// submitted. Now each occupied seat comes first at least once in 64 scans.
/// `skip_attended`: leave out the seats whose thread is inside a call (seat::attended).
inline found_work steal_from_extras(seat_table& seats, seat& own, bool& contended, std::uint64_t region,
                                    bool skip_attended = false) {
    const std::uint64_t mask = seats.occupied_extras();
    if (mask == 0) return {};
    const unsigned shift = own.extras_cursor++ % 64;
    // Bit b of the rotated mask is extra seat (b + shift) % 64.
    // Rotated by hand: std::rotr's count is int in libstdc++ and unsigned in libc++ 14,
    // so either cast warns under -Wsign-conversion with one of them.
    std::uint64_t extras = shift == 0 ? mask : (mask >> shift) | (mask << (64 - shift));
    while (extras != 0) {
        const auto bit = (static_cast<std::size_t>(std::countr_zero(extras)) + shift) % 64;
        extras &= extras - 1;
        seat& victim = seats.seat_at(seats.worker_count() + bit);
        if (skip_attended && victim.attended.load(std::memory_order_relaxed)) continue;
        if (found_work work = try_steal(own, victim, contended, region)) return work;
    }
    return {};
}

/// Tries every worker once from a random start, then every occupied extra seat; takes
/// only tasks of `region` unless it is any_region. Repeats once if a race was lost.
inline found_work steal(seat_table& seats, seat& own, std::uint64_t region) {
    // xorshift64: a random start spreads thieves over victims (no convoy on worker 0).
    std::uint64_t x = own.rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    own.rng_state = x;
    const std::size_t workers = seats.worker_count();
    for (int pass = 0; pass < 2; ++pass) {
        bool contended = false;
        const std::size_t start = static_cast<std::size_t>(x % workers);
        for (std::size_t k = 0; k < workers; ++k) {
            std::size_t v = start + k;
            if (v >= workers) v -= workers;
            if (found_work work = try_steal(own, seats.seat_at(v), contended, region)) return work;
        }
        if (found_work work = steal_from_extras(seats, own, contended, region)) return work;
        if (!contended) break;
    }
    return {};
}

}  // namespace microtask::detail
