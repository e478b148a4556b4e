// microtask — detail/seats.hpp
// Who sits where in a pool: the table of seats (one per worker, guest seats that outside
// threads borrow for one call, seats outside threads lease for their submits, private
// seats when every guest seat is taken), and how a thread finds its own. docs/design.md
// section 2 explains it.
#pragma once

#include "private_seats.hpp"
#include "seat.hpp"
#include "task.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

namespace microtask::detail {

class scheduler;

/// Lets a thread outside a pool hold on to a seat in it across calls (see
/// seat_table::lease_seat). The anchor outlives the pool; the pool clears `sched` when it
/// dies, under the mutex, so a lease released later knows not to touch it.
struct lease_anchor {
    /// Gives a leased seat back to its pool, handing its queued tasks to the injection
    /// queue. A function pointer the pool supplies, so that this header need not see the
    /// scheduler's definition (and compiles on its own).
    using return_seat_fn = void (*)(scheduler&, seat&) noexcept;
    lease_anchor(scheduler* owner, return_seat_fn give_back) noexcept : sched(owner), return_seat(give_back) {}
    std::mutex mutex;
    scheduler* sched;
    return_seat_fn return_seat;
};

/// The seat an outside thread leased, in at most one pool at a time. Released when the
/// thread leases in another pool or exits.
struct outside_lease {
    std::shared_ptr<lease_anchor> anchor;
    seat* leased = nullptr;
    outside_lease() = default;
    outside_lease(const outside_lease&) = delete;
    outside_lease& operator=(const outside_lease&) = delete;
    ~outside_lease() { release(); }
    void release() noexcept {
        if (leased == nullptr) return;
        {
            std::lock_guard lock(anchor->mutex);
            if (anchor->sched != nullptr) anchor->return_seat(*anchor->sched, *leased);
        }
        leased = nullptr;
        anchor.reset();
    }
};

inline thread_local outside_lease t_outside_lease;

/// The seats of one pool, in one array: workers [0, workers), guest seats, then leased
/// seats; guest and leased seats are the "extra" seats, tracked in one 64-bit mask.
class seat_table {
public:
    // Guest seats: hardware_concurrency clamped to this range. At least a few, so that
    // some outside callers are helped by thieves even on a small machine; at most 32, so
    // that guest and leased seats fit the 64-bit mask of occupied extra seats.
    static constexpr std::size_t k_min_guest_seats = 8;
    static constexpr std::size_t k_max_guest_seats = 32;
    // Outside threads that submit through a seat of their own (lock-free) rather than the
    // injection queue; more submitters than this share the queue.
    static constexpr std::size_t k_leased_seats = 16;
    static_assert(k_max_guest_seats + k_leased_seats <= 64, "extra seats are tracked in one 64-bit mask");

    seat_table(scheduler* owner, std::size_t worker_count, lease_anchor::return_seat_fn return_leased_seat)
        : m_owner(owner),
          m_worker_count(worker_count),
          m_guest_count(
              std::clamp<std::size_t>(std::thread::hardware_concurrency(), k_min_guest_seats, k_max_guest_seats)),
          m_seats(std::make_unique<seat[]>(m_worker_count + m_guest_count + k_leased_seats)),
          m_anchor(std::make_shared<lease_anchor>(owner, return_leased_seat)) {
        for (std::size_t i = 0; i < seat_count(); ++i) {
            m_seats[i].index = static_cast<std::uint32_t>(i);
            m_seats[i].pool = owner;
            m_seats[i].is_guest = i >= m_worker_count;
            // Distinct non-zero seeds for the thieves' xorshift (the golden-ratio increment).
            m_seats[i].rng_state = 0x9E3779B97F4A7C15ull * (i + 1);
        }
    }
    seat_table(const seat_table&) = delete;
    seat_table& operator=(const seat_table&) = delete;

    [[nodiscard]] std::size_t worker_count() const noexcept { return m_worker_count; }
    [[nodiscard]] std::size_t seat_count() const noexcept { return m_worker_count + m_guest_count + k_leased_seats; }
    [[nodiscard]] seat& seat_at(std::size_t i) noexcept { return m_seats[i]; }
    [[nodiscard]] const seat& seat_at(std::size_t i) const noexcept { return m_seats[i]; }

    /// The calling thread's seat in this pool, or nullptr when it is not inside it.
    /// O(depth of pool nesting), almost always one step.
    [[nodiscard]] seat* current_seat() const noexcept {
        for (held_seat* held = t_innermost_held_seat; held != nullptr; held = held->outer) {
            if (held->sched == m_owner) return held->own;
        }
        // An outside thread that leased a seat here: comparing anchors (kept alive by the
        // lease) cannot mistake a new pool at a dead pool's address for the old one.
        const outside_lease& lease = t_outside_lease;
        return lease.anchor.get() == m_anchor.get() ? lease.leased : nullptr;
    }

    /// Could another thread steal from `own`? False for a private seat (nobody sees
    /// it), and for the single worker of a one-worker pool with no outside thread seated:
    /// then splitting work is useless. (A one-worker pool called from outside has two
    /// participants: the worker must split what it stole, or the caller cannot take any
    /// of it back.)
    [[nodiscard]] bool may_have_thieves(const seat& own) const noexcept {
        if (own.is_private) return false;
        return m_worker_count > 1 || own.is_guest || m_occupied_extras.load(std::memory_order_relaxed) != 0;
    }

    /// The extra seats a thread sits in, one bit each (bit b: seat worker_count() + b).
    /// relaxed: a stale mask only delays a steal; a parker's last look scans every seat.
    [[nodiscard]] std::uint64_t occupied_extras() const noexcept {
        return m_occupied_extras.load(std::memory_order_relaxed);
    }

    /// Runs `body(seat&)` on a seat of this pool: the caller's own when it already is
    /// inside, otherwise a free guest seat, otherwise a private seat. Never blocks for
    /// a seat: the number of guest seats limits how many outside callers can be helped
    /// by thieves, never how many make progress.
    template <class Body>
    decltype(auto) run_in_seat(Body&& body) {
        // Every nested call lands here. The rest is out of line, so that a fork inside a
        // task compiles to one short function (inlined, the rest made every fork's
        // prologue save every register).
        if (const held_seat& innermost = *t_innermost_held_seat; innermost.sched == m_owner) [[likely]] {
            return body(*innermost.own);
        }
        return run_in_outer_seat(body);
    }

private:
    template <class Body>
    [[gnu::noinline]] decltype(auto) run_in_outer_seat(Body& body) {
        if (seat* own = current_seat()) {
            if (!holds_seat(*own)) {
                // The caller's leased seat: put it on the chain while the body runs, so
                // that lease_seat() knows not to give it back from under this frame, and
                // mark it attended meanwhile.
                held_seat_scope scope(*m_owner, *own);
                attendance attended(*own);
                return body(*own);
            }
            return body(*own);
        }
        guest_seat guest(*this);
        return body(guest.own());
    }

protected:
    /// A seat for an outside thread for the duration of a call: a free guest seat if
    /// there is one, else a private seat. Never blocks.
    class guest_seat {
    public:
        explicit guest_seat(seat_table& seats) : m_seats(seats) {
            const std::size_t first = seats.m_worker_count;
            for (std::size_t i = first; i < first + seats.m_guest_count; ++i) {
                bool expected = false;
                seat& candidate = seats.m_seats[i];
                // acquire: the previous guest's release below handed over the seat.
                if (!candidate.occupied.load(std::memory_order_relaxed) &&
                    candidate.occupied.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
                    m_own = &candidate;
                    break;
                }
            }
            if (m_own != nullptr) {
                seats.show_extra_seat(*m_own);
                m_own->attended.store(true, std::memory_order_relaxed);  // for as long as it is taken
            } else {
                // Every guest seat is taken. Blocking here until one frees up would make
                // the seat count a hidden resource: the seated threads may be waiting for
                // work that needs this very thread (issue 11). A private seat lets it run
                // the call itself and help the pool, unseen by thieves.
                m_own = &seats.m_private_seats.claim(static_cast<std::uint32_t>(seats.seat_count()), seats.m_owner);
            }
            m_held = {seats.m_owner, m_own, t_innermost_held_seat};
            t_innermost_held_seat = &m_held;
        }
        guest_seat(const guest_seat&) = delete;
        guest_seat& operator=(const guest_seat&) = delete;
        ~guest_seat() {
            // Tasks this guest pushed and nobody stole yet (e.g. submit() from inside a
            // join body) must not be stranded in a seat that nobody owns.
            while (task_base* task = m_own->deque.pop(nullptr)) {
                task->execute();
            }
            t_innermost_held_seat = m_held.outer;
            if (m_own->is_private) {
                private_seats::release(*m_own);
                return;
            }
            m_own->attended.store(false, std::memory_order_relaxed);
            m_seats.hide_extra_seat(*m_own);
            m_own->occupied.store(false, std::memory_order_release);
        }
        seat& own() noexcept { return *m_own; }

    private:
        seat_table& m_seats;
        seat* m_own = nullptr;
        held_seat m_held;
    };

    /// Marks an extra seat as attended (seat::attended) for a scope: two plain stores to
    /// the owner's own seat, not RMWs on a mask every thief reads, since every call of an
    /// outside thread with a leased seat pays them.
    class attendance {
    public:
        explicit attendance(seat& extra) noexcept : m_extra(extra) {
            m_extra.attended.store(true, std::memory_order_relaxed);
        }
        attendance(const attendance&) = delete;
        attendance& operator=(const attendance&) = delete;
        ~attendance() { m_extra.attended.store(false, std::memory_order_relaxed); }

    private:
        seat& m_extra;
    };

    // Extra seats (guest and leased) are skipped by thieves unless marked here.
    void show_extra_seat(seat& extra) noexcept {
        m_occupied_extras.fetch_or(std::uint64_t{1} << (extra.index - m_worker_count), std::memory_order_relaxed);
    }
    void hide_extra_seat(seat& extra) noexcept {
        m_occupied_extras.fetch_and(~(std::uint64_t{1} << (extra.index - m_worker_count)), std::memory_order_relaxed);
    }

    /// Leases a free seat to the calling outside thread for as long as it keeps using
    /// this pool, so that its submits are lock-free pushes that workers steal, instead of
    /// trips through the injection mutex. Returns nullptr when all are taken. Leased
    /// seats are separate from guest seats: a thread that leases one and then idles for
    /// ever cannot starve the threads that need a guest seat to wait.
    seat* lease_seat() {
        // The thread's current lease (in another pool) is in use by a frame below us, e.g.
        // a join on that pool whose body submits here: keep it, and use the queue.
        if (t_outside_lease.leased != nullptr && holds_seat(*t_outside_lease.leased)) return nullptr;
        const std::size_t first = m_worker_count + m_guest_count;
        for (std::size_t i = first; i < first + k_leased_seats; ++i) {
            seat& candidate = m_seats[i];
            bool expected = false;
            if (!candidate.occupied.load(std::memory_order_relaxed) &&
                candidate.occupied.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
                outside_lease& lease = t_outside_lease;
                lease.release();  // at most one lease per thread
                lease.anchor = m_anchor;
                lease.leased = &candidate;
                show_extra_seat(candidate);
                return &candidate;
            }
        }
        return nullptr;
    }

    // A deque ring bigger than this (32 KiB of pointers) is given back when the deque is
    // found empty at a quiet moment; smaller rings are kept, so that ordinary bursts do
    // not reallocate.
    static constexpr std::size_t k_idle_ring_capacity = 4096;

    /// Gives back `own`'s grown ring if its deque is empty (owner only). Retired rings
    /// are freed only when no thief is reading one: every public seat's flag is clear.
    void trim_ring(seat& own) noexcept {
        own.deque.trim(k_idle_ring_capacity, [this] {
            for (std::size_t i = 0; i < seat_count(); ++i) {
                // seq_cst: the trimmer's side of steal()'s announce (see there).
                if (m_seats[i].reading_ring.load(std::memory_order_seq_cst)) return false;
            }
            return true;
        });
    }

    /// From now on, outside threads releasing a lease leave this pool alone (the pool is
    /// being destroyed).
    void detach_leases() noexcept {
        std::lock_guard lock(m_anchor->mutex);
        m_anchor->sched = nullptr;
    }

    template <class Fn>
    void for_each_private_seat(Fn&& fn) {
        m_private_seats.for_each(std::forward<Fn>(fn));
    }

private:
    scheduler* const m_owner;  // the pool these seats belong to (the key of the chain of held seats)
    // Read-only after construction.
    const std::size_t m_worker_count;
    const std::size_t m_guest_count;
    std::unique_ptr<seat[]> m_seats;
    // Written when an outside thread takes or leaves a seat, read by every thief's look:
    // a line of its own.
    alignas(k_cache_line) std::atomic<std::uint64_t> m_occupied_extras{0};
    alignas(k_cache_line) std::shared_ptr<lease_anchor> m_anchor;
    private_seats m_private_seats;
};

}  // namespace microtask::detail
