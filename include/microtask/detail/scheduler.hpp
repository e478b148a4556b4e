// microtask — detail/scheduler.hpp
// The work-stealing scheduler behind mt::thread_pool. docs/design.md explains it; the
// comments here say why each step is needed.
//
// Shape: one `slot` per worker thread, plus guest seats that outside threads borrow while
// they run a join/map_reduce/task_group wait on the pool, plus seats that outside threads
// lease for their submits. Each slot owns a Chase–Lev deque (the owner works LIFO at the
// bottom, thieves take FIFO from the top) and a sleep word. Submits from outside threads
// without a lease go to a mutex-protected injection queue. Idle threads spin briefly,
// then park on their own sleep word with std::atomic::wait (a futex on Linux).
#pragma once

#include "parking.hpp"
#include "private_seats.hpp"
#include "small_block_cache.hpp"
#include "slot.hpp"
#include "stack_guard.hpp"
#include "task.hpp"
#include "work_stealing_deque.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace microtask::detail {

/// Lets a thread outside a pool hold on to a seat in it across calls (see
/// scheduler::lease_seat). The anchor outlives the pool; the pool clears `sched` when it
/// dies, under the mutex, so a lease released later knows not to touch it.
struct lease_anchor {
    explicit lease_anchor(scheduler* owner) noexcept : sched(owner) {}
    std::mutex mutex;
    scheduler* sched;
};

/// The seat an outside thread leased, in at most one pool at a time. Released when the
/// thread leases in another pool or exits.
struct outside_lease {
    std::shared_ptr<lease_anchor> anchor;
    slot* seat = nullptr;
    outside_lease() = default;
    outside_lease(const outside_lease&) = delete;
    outside_lease& operator=(const outside_lease&) = delete;
    ~outside_lease() { release(); }
    inline void release() noexcept;
};

inline thread_local outside_lease t_outside_lease;

class scheduler {
public:
    explicit scheduler(std::size_t worker_count)
        : m_worker_count(worker_count),
          m_guest_count(std::clamp<std::size_t>(std::thread::hardware_concurrency(), 8, 32)),
          m_slots(std::make_unique<slot[]>(m_worker_count + m_guest_count + k_leased_seats)),
          m_unsettled(m_worker_count),
          m_anchor(std::make_shared<lease_anchor>(this)) {
        static_assert(k_leased_seats + 32 <= 64, "extra seats are tracked in one 64-bit mask");
        for (std::size_t i = 0; i < slot_count(); ++i) {
            m_slots[i].index = static_cast<std::uint32_t>(i);
            m_slots[i].is_guest = i >= m_worker_count;
            m_slots[i].rng_state = 0x9E3779B97F4A7C15ull * (i + 1);
        }
        m_threads.reserve(m_worker_count);
        try {
            for (std::size_t i = 0; i < m_worker_count; ++i) {
                m_threads.emplace_back([this, i] { worker_main(m_slots[i]); });
            }
        } catch (...) {
            // Workers never started never settle: do not let the started ones wait for them.
            // relaxed: no worker reads it before the seq_cst store of m_stopping below.
            m_unsettled.fetch_sub(m_worker_count - m_threads.size(), std::memory_order_relaxed);
            stop_and_join();
            throw;
        }
    }

    scheduler(const scheduler&) = delete;
    scheduler& operator=(const scheduler&) = delete;

    /// Runs everything still queued, and whatever the tasks still running queue, then
    /// joins the workers.
    ~scheduler() {
        for (const worker_context* context = t_innermost_context; context != nullptr; context = context->outer) {
            if (context->sched == this) {
                // Destroyed from inside the pool (a task, or a wait that helps): the
                // destructor would have to join or wait for the very thread it runs on.
                // A destructor cannot throw, so say what happened before ending, rather
                // than leave the user a bare "Resource deadlock avoided" or a hang.
                std::fputs("microtask::thread_pool: destroyed from inside the pool (one of its own tasks); "
                           "a pool must be destroyed from a thread that is not running its work\n",
                           stderr);
                std::abort();
            }
        }
        {
            // From here on, outside threads releasing a lease leave this pool alone.
            std::lock_guard lock(m_anchor->mutex);
            m_anchor->sched = nullptr;
        }
        stop_and_join();
    }

    [[nodiscard]] std::size_t worker_count() const noexcept { return m_worker_count; }
    [[nodiscard]] std::size_t slot_count() const noexcept {
        return m_worker_count + m_guest_count + k_leased_seats;
    }
    [[nodiscard]] slot& slot_at(std::size_t i) noexcept { return m_slots[i]; }

    /// The calling thread's slot in this pool, or nullptr when it is not inside it.
    /// O(depth of pool nesting), almost always one step.
    [[nodiscard]] slot* current_slot() const noexcept {
        for (worker_context* context = t_innermost_context; context != nullptr; context = context->outer) {
            if (context->sched == this) return context->home;
        }
        // An outside thread that leased a seat here: comparing anchors (kept alive by the
        // lease) cannot mistake a new pool at a dead pool's address for the old one.
        const outside_lease& lease = t_outside_lease;
        return lease.anchor.get() == m_anchor.get() ? lease.seat : nullptr;
    }

    /// Could another thread steal from `home`? False for a private seat (nobody sees
    /// it), and for the single worker of a one-worker pool with no outside thread seated:
    /// then splitting work is useless. (A one-worker pool called from outside has two
    /// participants: the worker must split what it stole, or the caller cannot take any
    /// of it back.)
    [[nodiscard]] bool may_have_thieves(const slot& home) const noexcept {
        if (home.is_private) return false;
        return m_worker_count > 1 || home.is_guest || m_occupied_extras.load(std::memory_order_relaxed) != 0;
    }

    /// Queues a task: on the caller's own deque when it has a seat here (lock-free; an
    /// outside thread leases one on its first submit while any is free), otherwise on
    /// the injection queue. A private seat's deque is seen by nobody else, so a task
    /// submitted from one goes to the injection queue, where workers find it.
    void submit(task_base* task) {
        if (slot* home = current_slot()) {
            if (home->is_private) {
                inject(task);
            } else {
                // An outside thread's seat is never trimmed by a park of its owner (it
                // does not idle in the pool): give back a burst's ring here, when empty
                // and the pool is quiet (a worker asleep). Not during a burst: a worker
                // that keeps up empties the deque between submits, and trimming then
                // made the ring shrink and regrow over and over (10^5 submits ran
                // about 1.5x slower).
                if (home->is_guest && m_parking.anyone_asleep_hint()) trim_ring(*home);
                push_local(*home, task);
            }
        } else if (slot* seat = lease_seat()) {
            push_local(*seat, task);
        } else {
            inject(task);
        }
    }

    /// Owner of `home` only. The fork path: a deque push plus one shared read.
    void push_local(slot& home, task_base* task) {
        // The push stores bottom with seq_cst (one locked instruction on x86, no fence);
        // anyone_asleep()'s seq_cst load comes after it in the total order, so either we
        // see a sleeper that registered before the push, or that sleeper's last look at
        // the deques (work_visible, seq_cst) sees the task. A cheaper relaxed pair would
        // let a sleeper miss the task; harmless while the pusher returns to the scheduler,
        // but a hang if the task's author then blocks on something only that task will do.
        // A private seat's deque is invisible to others: nobody to wake for it.
        home.deque.push(task, home.region);
        if (!home.is_private && m_parking.anyone_asleep()) wake_one();
    }

    void inject(task_base* task) {
        {
            std::lock_guard lock(m_injected_mutex);
            m_injected.push_back(task);
            // seq_cst: pairs with park(): either this increment precedes the sleeper's
            // registration in the total order, and the sleeper's re-check sees the task,
            // or our load of the sleeper count below sees the sleeper. Nobody else will
            // run an injected task, so no wake-up may be lost here.
            m_injected_count.fetch_add(1, std::memory_order_seq_cst);
        }
        if (m_parking.anyone_asleep()) wake_one();
    }

    /// Runs `body(slot&)` on a slot of this pool: the caller's own when it already is
    /// inside, otherwise a free guest seat, otherwise a private seat. Never blocks for
    /// a seat: the number of guest seats limits how many outside callers can be helped
    /// by thieves, never how many make progress.
    template <class Body>
    decltype(auto) run_in_slot(Body&& body) {
        if (slot* home = current_slot()) {
            if (!on_context_chain(*home)) {
                // The caller's leased seat: put it on the chain while the body runs, so
                // that lease_seat() knows not to give it back from under this frame.
                context_scope scope(*this, *home);
                return body(*home);
            }
            return body(*home);
        }
        guest_seat seat(*this);
        return body(seat.home());
    }

    /// Runs other work until `done()` holds; parks when there is nothing to do.
    /// `done` must read with seq_cst whatever its signaller writes before calling
    /// wake_slot() (the Dekker pairing described in parking::park()).
    template <class Done>
    void wait_until(slot& home, Done&& done) {
        wait_until(home, std::forward<Done>(done), injection::one_at_a_time);
    }

    /// How a thread takes from the injection queue. Only an idle worker at the top of its
    /// loop takes a batch: a thread waiting for a result must not queue unrelated tasks
    /// on its own deque, which it would have to run before its wait could return.
    enum class injection : bool { one_at_a_time, batch };

    template <class Done>
    void wait_until(slot& home, Done&& done, injection mode) {
        // What this wait may take. Inside an isolation region, only the region's work.
        // With more than half of the stack used, only the thread's own forks (never
        // steals, which could each stack another waiting frame on top of this one); the
        // own deque must stay open, as nobody else may be there to take those forks.
        const reach scope = stack_more_than_half_used() ? reach::own_deque
                            : home.region != 0         ? reach::own_region
                                                       : reach::everything;
        unsigned idle_rounds = 0;
        bool parked = false;  // since we last ran a task
        std::chrono::steady_clock::time_point idle_since{};
        while (!done()) {
            if (const found_work work = scope == reach::everything ? find_work(home, mode) : find_limited_work(home, scope)) {
                run_found(home, work);
                idle_rounds = 0;
                parked = false;
                continue;
            }
            // Spin (pause, then yield) for about k_spin_time before parking: work often
            // comes back within microseconds (the next call of a loop of parallel calls,
            // the next steal), and a futex wake-up costs ~10-50 us of latency. Bounded in
            // time so an idle pool costs ~k_spin_time of CPU per worker, then nothing.
            ++idle_rounds;
            if (idle_rounds < 16) {
                idle_pause(idle_rounds);
                continue;
            }
            if (idle_rounds == 16) idle_since = std::chrono::steady_clock::now();
            if (idle_rounds % 8 != 0 || std::chrono::steady_clock::now() - idle_since < k_spin_time) {
                idle_pause(idle_rounds);
                continue;
            }
            // Idle for a while: a quiet moment to give back what a burst made the deque grow
            // to, and the task blocks the burst left in the shared depot.
            trim_ring(home);
            small_block_cache::trim_depot();
            idle_rounds = 0;
            if (scope != reach::everything) {
                // New work in general may be work this wait must not take: sleep until
                // our own wait ends (its signaller wakes this seat by name).
                m_parking.park_for_own_wait(home, done);
                continue;
            }
            m_parking.park(home, [&] { return done() || work_visible(); });
            parked = true;
        }
        // We may have been woken (or claimed while cancelling a park) for new work by
        // wake_one() and now leave for our own reason instead: pass the wake-up on, or
        // the work could wait for a thread that stays asleep.
        if (parked && m_parking.anyone_asleep() && work_visible()) wake_one();
    }

    /// Wakes `target` if it is parked; harmless if it is awake. Any thread.
    void wake_slot(slot& target) noexcept { m_parking.wake_slot(target); }

    /// Wakes every seat (worker, guest, leased or private) whose wait_key is `key`: the
    /// threads whose innermost registered wait is for `key`. Any thread; `key` is only
    /// compared, so it may already be gone. O(number of seats).
    /// The caller made the waiters' condition true with a seq_cst RMW that read their
    /// registration (e.g. task_group's state word); the waiters stored wait_key with
    /// seq_cst before registering, so the seq_cst loads here see the key.
    void wake_waiters_of(const void* key) noexcept {
        for (std::size_t i = 0; i < slot_count(); ++i) {
            if (m_slots[i].wait_key.load(std::memory_order_seq_cst) == key) m_parking.wake_slot(m_slots[i]);
        }
        m_private_seats.for_each([&](slot& seat) {
            if (seat.wait_key.load(std::memory_order_seq_cst) == key) m_parking.wake_slot(seat);
        });
    }

    /// A task a thread took, and the isolation region it belongs to.
    struct found_work {
        task_base* task = nullptr;
        std::uint64_t region = 0;
        explicit operator bool() const noexcept { return task != nullptr; }
    };

    /// Runs a task found by find_work() inside its own isolation region.
    static void run_found(slot& home, found_work work) noexcept {
        if (work.region == home.region) {
            work.task->execute();
        } else {
            const region_scope scope(home, work.region);
            work.task->execute();
        }
    }

    /// Pops, takes from the injection queue, or steals one task. Owner of `home` only.
    found_work find_work(slot& home, injection mode = injection::one_at_a_time) {
        // Fairness: every k_fairness_period-th look goes to the shared sources first (the
        // injection queue, then the extra seats, where outside threads' submits wait)
        // before the thread's own deque and the workers'. Otherwise a thread with a deep
        // deque, or thieves fed by busy workers, could leave an outside submit waiting for
        // as long as that work lasts.
        if (++home.fairness_tick % k_fairness_period == 0) {
            if (m_injected_count.load(std::memory_order_relaxed) != 0) {
                if (task_base* task = take_injected(home, mode)) return {task, 0};
            }
            bool contended = false;
            if (found_work work = steal_from_extras(home, contended, any_region)) return work;
        }
        // What the thread pushed itself was pushed in its current region (or in regions
        // nested in it and left behind, which counts as the same work).
        if (task_base* task = home.deque.pop(nullptr)) {
            return {task, home.region};
        }
        if (m_injected_count.load(std::memory_order_relaxed) != 0) {
            if (task_base* task = take_injected(home, mode)) {
                return {task, 0};
            }
        }
        return steal(home, any_region);
    }

private:
    /// What a wait may take (see wait_until): everything; only the work of the seat's
    /// isolation region; only the seat's own deque (above the region's floor, if any).
    enum class reach : std::uint8_t { everything, own_region, own_deque };
    static constexpr std::uint64_t any_region = work_stealing_deque<task_base*>::any_label;

    found_work find_limited_work(slot& home, reach scope) {
        const std::int64_t floor = home.region != 0 ? home.region_floor : std::numeric_limits<std::int64_t>::min();
        if (task_base* task = home.deque.pop_above(floor, nullptr)) return {task, home.region};
        // The injection queue holds unlabelled work: never taken here.
        if (scope == reach::own_region) return steal(home, home.region);
        return {};
    }

    /// Gives back `home`'s grown ring if its deque is empty (owner only). Retired rings
    /// are freed only when no thief is reading one: every public seat's flag is clear.
    void trim_ring(slot& home) noexcept {
        home.deque.trim(k_idle_ring_capacity, [this] {
            for (std::size_t i = 0; i < slot_count(); ++i) {
                // seq_cst: the trimmer's side of steal()'s announce (see there).
                if (m_slots[i].reading_ring.load(std::memory_order_seq_cst)) return false;
            }
            return true;
        });
    }

    static constexpr std::chrono::microseconds k_spin_time{100};
    static constexpr std::size_t k_injection_batch = 32;
    // How often find_work() looks at the shared sources first: rarely enough that a
    // thread keeps its own cache-warm work most of the time, often enough that a queued
    // outside submit waits for at most a few dozen tasks of any one thread.
    static constexpr std::uint32_t k_fairness_period = 32;
    // A deque ring bigger than this (32 KiB of pointers) is given back when the deque is
    // found empty at a quiet moment; smaller rings are kept, so that ordinary bursts do
    // not reallocate.
    static constexpr std::size_t k_idle_ring_capacity = 4096;

    /// A seat for an outside thread for the duration of a call: a free guest seat if
    /// there is one, else a private seat. Never blocks.
    class guest_seat {
    public:
        explicit guest_seat(scheduler& sched) : m_sched(sched) {
            const std::size_t first = sched.m_worker_count;
            for (std::size_t i = first; i < first + sched.m_guest_count; ++i) {
                bool expected = false;
                slot& candidate = sched.m_slots[i];
                // acquire: the previous guest's release below handed over the slot.
                if (!candidate.occupied.load(std::memory_order_relaxed) &&
                    candidate.occupied.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
                    m_home = &candidate;
                    break;
                }
            }
            if (m_home != nullptr) {
                sched.show_extra_seat(*m_home);
            } else {
                // Every guest seat is taken. Blocking here until one frees up would make
                // the seat count a hidden resource: the seated threads may be waiting for
                // work that needs this very thread (issue 11). A private seat lets it run
                // the call itself and help the pool, unseen by thieves.
                m_home = &sched.m_private_seats.claim(static_cast<std::uint32_t>(sched.slot_count()));
            }
            m_context = {&sched, m_home, t_innermost_context};
            t_innermost_context = &m_context;
        }
        guest_seat(const guest_seat&) = delete;
        guest_seat& operator=(const guest_seat&) = delete;
        ~guest_seat() {
            // Tasks this guest pushed and nobody stole yet (e.g. submit() from inside a
            // join body) must not be stranded in a seat that nobody owns.
            while (task_base* task = m_home->deque.pop(nullptr)) {
                task->execute();
            }
            t_innermost_context = m_context.outer;
            if (m_home->is_private) {
                private_seats::release(*m_home);
                return;
            }
            m_sched.hide_extra_seat(*m_home);
            m_home->occupied.store(false, std::memory_order_release);
        }
        slot& home() noexcept { return *m_home; }

    private:
        scheduler& m_sched;
        slot* m_home = nullptr;
        worker_context m_context;
    };

    void worker_main(slot& home) {
        worker_context context{this, &home, nullptr};
        t_innermost_context = &context;
        // seq_cst load: park()'s re-check must see a stop that raced with it.
        wait_until(home, [this] { return m_stopping.load(std::memory_order_seq_cst); }, injection::batch);
        drain(home);
        t_innermost_context = nullptr;
    }

    /// Stopping: run what is queued until no task is queued *or running* anywhere. A
    /// worker that finds nothing must not leave while another worker still runs a task:
    /// that task may queue more work and wait for someone else to take it.
    /// m_unsettled counts the workers that are running or looking for a task (all of them
    /// until they first run dry here). Invariant: a worker holds or runs a task only
    /// while counted, so "m_unsettled == 0 and no work visible" means no task exists and
    /// none can appear; that is when every worker leaves.
    void drain(slot& home) {
        const auto settled_and_empty = [this] {
            // seq_cst: the parker's side of the pairing with the last settler's fetch_sub
            // (followed by its wake_slot calls), as in park().
            return m_unsettled.load(std::memory_order_seq_cst) == 0 && !work_visible();
        };
        for (;;) {
            while (const found_work work = find_work(home, injection::batch)) {
                run_found(home, work);
            }
            // seq_cst: the signaller's side for the waiters below: the count, then the
            // wake-ups (their CAS on the sleep words).
            if (m_unsettled.fetch_sub(1, std::memory_order_seq_cst) == 1) {
                for (std::size_t i = 0; i < m_worker_count; ++i) m_parking.wake_slot(m_slots[i]);
            }
            while (!work_visible()) {
                if (settled_and_empty()) return;
                m_parking.park(home, [&] { return m_unsettled.load(std::memory_order_seq_cst) == 0 || work_visible(); });
            }
            // Work showed up: count ourselves again before we may take it (the invariant).
            // seq_cst like every access to the count, so that all of them, the parkers'
            // re-checks and the wake-ups sit in the one total order the argument needs.
            m_unsettled.fetch_add(1, std::memory_order_seq_cst);
        }
    }

    void stop_and_join() noexcept {
        m_stopping.store(true, std::memory_order_seq_cst);
        for (std::size_t i = 0; i < slot_count(); ++i) {
            m_parking.wake_slot(m_slots[i]);
        }
        for (std::thread& thread : m_threads) {
            if (thread.joinable()) thread.join();
        }
        m_threads.clear();
    }

    bool wake_one() noexcept { return m_parking.wake_one(m_slots.get(), slot_count()); }

    /// Any thread: is there work anywhere a thief can see? Used as the last check before
    /// parking. (Private seats are not scanned: only their owners take from them.)
    bool work_visible() const noexcept {
        // seq_cst: pairs with inject()'s increment (see there).
        if (m_injected_count.load(std::memory_order_seq_cst) != 0) return true;
        for (std::size_t i = 0; i < slot_count(); ++i) {
            if (!m_slots[i].deque.empty()) return true;
        }
        return false;
    }

    /// Takes the oldest injected task. In batch mode also moves up to half of the rest
    /// (at most k_injection_batch) onto `home`'s deque, where other workers can steal
    /// them: one lock per batch instead of one per task when an outside thread submits
    /// many. Never throws: if the deque cannot grow, the rest simply stays queued.
    task_base* take_injected(slot& home, injection mode) {
        task_base* first = nullptr;
        std::size_t moved = 0;
        {
            std::lock_guard lock(m_injected_mutex);
            if (m_injected.empty()) return nullptr;
            first = m_injected.front();
            m_injected.pop_front();
            const std::size_t wanted =
                mode == injection::batch ? std::min(m_injected.size() / 2, k_injection_batch) : 0;
            for (; moved < wanted; ++moved) {
                try {
                    home.deque.push(m_injected.front());
                } catch (...) {
                    break;
                }
                m_injected.pop_front();
            }
            // relaxed: the count is a hint for find_work()'s lock-free check; the moved
            // tasks are now visible to sleepers through the deque (pushed seq_cst).
            m_injected_count.fetch_sub(moved + 1, std::memory_order_relaxed);
        }
        // Moved tasks were injected work, which no sleeper may miss: wake as many
        // sleepers as tasks moved (the pushes and this read are seq_cst, as in push_local).
        for (std::size_t woken = 0; woken < moved; ++woken) {
            if (!m_parking.anyone_asleep() || !wake_one()) break;
        }
        return first;
    }

    /// Tries every worker once from a random start, then every occupied extra seat; takes
    /// only tasks of `region` unless it is any_region.
    found_work steal(slot& home, std::uint64_t region) {
        // xorshift64: a random start spreads thieves over victims (no convoy on worker 0).
        std::uint64_t x = home.rng_state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        home.rng_state = x;
        for (int pass = 0; pass < 2; ++pass) {
            bool contended = false;
            const std::size_t start = static_cast<std::size_t>(x % m_worker_count);
            for (std::size_t k = 0; k < m_worker_count; ++k) {
                std::size_t v = start + k;
                if (v >= m_worker_count) v -= m_worker_count;
                if (found_work work = try_steal(home, m_slots[v], contended, region)) return work;
            }
            if (found_work work = steal_from_extras(home, contended, region)) return work;
            if (!contended) break;
        }
        return {};
    }

    /// Tries every occupied extra seat (guest or leased) once. The scan starts one seat
    /// further on each time (a per-thief cursor): scanning lowest first let one outside
    /// thread that kept its seat non-empty starve another's tasks for as long as it
    /// submitted. Now each occupied seat comes first at least once in 64 scans.
    found_work steal_from_extras(slot& home, bool& contended, std::uint64_t region) {
        // relaxed: a stale mask only delays a steal; park()'s last look scans all slots.
        const std::uint64_t mask = m_occupied_extras.load(std::memory_order_relaxed);
        if (mask == 0) return {};
        const unsigned shift = home.extras_cursor++ % 64;
        // Bit b of the rotated mask is extra seat (b + shift) % 64.
        // Rotated by hand: std::rotr's count is int in libstdc++ and unsigned in libc++ 14,
        // so either cast warns under -Wsign-conversion with one of them.
        std::uint64_t extras = shift == 0 ? mask : (mask >> shift) | (mask << (64 - shift));
        while (extras != 0) {
            const auto bit = (static_cast<std::size_t>(std::countr_zero(extras)) + shift) % 64;
            extras &= extras - 1;
            if (found_work work = try_steal(home, m_slots[m_worker_count + bit], contended, region)) return work;
        }
        return {};
    }

    static found_work try_steal(slot& home, slot& victim, bool& contended, std::uint64_t region) {
        if (&victim == &home || victim.deque.empty()) return {};
        // A private seat is not scanned by trim()'s readers_idle (they come and go): it
        // is counted in the victim's deque instead.
        const auto [status, task, label] = victim.deque.steal(region, home.is_private ? nullptr : &home.reading_ring);
        if (status == work_stealing_deque<task_base*>::steal_status::success) return {task, label};
        if (status == work_stealing_deque<task_base*>::steal_status::lost_race) contended = true;
        return {};
    }

    // Extra seats (guest and leased) are skipped by thieves unless marked here.
    void show_extra_seat(slot& seat) noexcept {
        m_occupied_extras.fetch_or(std::uint64_t{1} << (seat.index - m_worker_count), std::memory_order_relaxed);
    }
    void hide_extra_seat(slot& seat) noexcept {
        m_occupied_extras.fetch_and(~(std::uint64_t{1} << (seat.index - m_worker_count)), std::memory_order_relaxed);
    }

    /// Leases a free seat to the calling outside thread for as long as it keeps using
    /// this pool, so that its submits are lock-free pushes that workers steal, instead of
    /// trips through the injection mutex. Returns nullptr when all are taken. Leased
    /// seats are separate from guest seats: a thread that leases one and then idles for
    /// ever cannot starve the threads that need a guest seat to wait.
    slot* lease_seat() {
        // The thread's current lease (in another pool) is in use by a frame below us, e.g.
        // a join on that pool whose body submits here: keep it, and use the queue.
        if (t_outside_lease.seat != nullptr && on_context_chain(*t_outside_lease.seat)) return nullptr;
        const std::size_t first = m_worker_count + m_guest_count;
        for (std::size_t i = first; i < first + k_leased_seats; ++i) {
            slot& candidate = m_slots[i];
            bool expected = false;
            if (!candidate.occupied.load(std::memory_order_relaxed) &&
                candidate.occupied.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
                outside_lease& lease = t_outside_lease;
                lease.release();  // at most one lease per thread
                lease.anchor = m_anchor;
                lease.seat = &candidate;
                show_extra_seat(candidate);
                return &candidate;
            }
        }
        return nullptr;
    }

    friend struct outside_lease;

    /// The leasing thread gives its seat back: tasks still on it go to the injection
    /// queue (they still run, exactly once), then the seat is free again.
    void return_leased_seat(slot& seat) noexcept {
        while (task_base* task = seat.deque.pop(nullptr)) {
            inject(task);  // may throw only std::bad_alloc, which is fatal here
        }
        hide_extra_seat(seat);
        seat.occupied.store(false, std::memory_order_release);
    }

    static constexpr std::size_t k_leased_seats = 16;

    // Read-only after construction.
    const std::size_t m_worker_count;
    const std::size_t m_guest_count;
    std::unique_ptr<slot[]> m_slots;
    std::vector<std::thread> m_threads;

    // Each group of shared, written fields on a cache line of its own: the sleeper count
    // (read on every fork; inside m_parking), the injected count (read by every idle
    // look), the injection queue itself, the occupied-extras mask (written when an
    // outside thread takes or leaves a seat) and the shutdown state. Sharing a line made
    // an outside submit's lock and count updates slow every thief's look.
    parking m_parking;
    alignas(k_cache_line) std::atomic<std::size_t> m_injected_count{0};
    alignas(k_cache_line) std::mutex m_injected_mutex;
    std::deque<task_base*> m_injected;
    alignas(k_cache_line) std::atomic<std::uint64_t> m_occupied_extras{0};
    alignas(k_cache_line) std::atomic<bool> m_stopping{false};
    std::atomic<std::size_t> m_unsettled;  // see drain()
    alignas(k_cache_line) std::shared_ptr<lease_anchor> m_anchor;
    private_seats m_private_seats;
};

inline void outside_lease::release() noexcept {
    if (seat == nullptr) return;
    {
        std::lock_guard lock(anchor->mutex);
        if (anchor->sched != nullptr) anchor->sched->return_leased_seat(*seat);
    }
    seat = nullptr;
    anchor.reset();
}

}  // namespace microtask::detail
