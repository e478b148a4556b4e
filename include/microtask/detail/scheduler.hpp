// microtask — detail/scheduler.hpp
// The work-stealing scheduler behind mt::thread_pool: the workers' lifecycle, and how a
// thread submits, looks for work, helps while it waits and sleeps. docs/design.md
// explains it; the comments here say why each step is needed.
//
// The other ideas live in headers of their own: the seats threads sit in (seats.hpp,
// seat.hpp), the deque each seat owns (work_stealing_deque.hpp), the queue for threads
// without a seat (injection_queue.hpp), how a thief picks a victim (steal.hpp), what a
// wait may take (regions.hpp), how an idle thread sleeps and is woken (parking.hpp), and
// how new work is announced to idle threads (new_work.hpp).
#pragma once

#include "../trace.hpp"
#include "../worker_hooks.hpp"
#include "new_work.hpp"
#include "regions.hpp"
#include "seats.hpp"
#include "small_block_cache.hpp"
#include "steal.hpp"
#include "task.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <latch>
#include <mutex>
#include <thread>
#include <vector>

namespace microtask::detail {

/// The pool: its seats (seat_table), its workers' lifecycle, and how threads submit,
/// look for work, help while they wait, and sleep.
class scheduler : public new_work_signals {
public:
    explicit scheduler(std::size_t worker_count, worker_hooks hooks = {})
        : new_work_signals(this, worker_count,
                           [](scheduler& self, seat& leased) noexcept { self.return_leased_seat(leased); }),
          m_hooks(std::move(hooks)),
          m_unsettled(worker_count) {
        prepare_asymmetric_fences();  // before any thread can push or park
        trace_from_environment();
        m_threads.reserve(worker_count);
        // Each worker counts down once its on_start returned: the constructor returns only
        // then, so that what the hooks set up (names, pinning) holds for every task.
        std::latch started(static_cast<std::ptrdiff_t>(worker_count));
        m_started = &started;
        try {
            for (std::size_t i = 0; i < worker_count; ++i) {
                m_threads.emplace_back([this, i] { worker_main(i); });
            }
        } catch (...) {
            // Workers never started never settle: do not let the started ones wait for them.
            // relaxed: no worker reads it before the seq_cst store of m_stopping below.
            m_unsettled.fetch_sub(worker_count - m_threads.size(), std::memory_order_relaxed);
            stop_and_join();
            throw;
        }
        started.wait();
        m_started = nullptr;  // the latch dies with this frame; no worker uses it again
        if (m_start_error) {
            stop_and_join();
            std::rethrow_exception(m_start_error);
        }
    }

    scheduler(const scheduler&) = delete;
    scheduler& operator=(const scheduler&) = delete;

    /// Runs everything still queued, and whatever the tasks still running queue, then
    /// joins the workers.
    ~scheduler() {
        for (const held_seat* held = t_innermost_held_seat; held != nullptr; held = held->outer) {
            if (held->sched == this) {
                // Destroyed from inside the pool (a task, or a wait that helps): the
                // destructor would have to join or wait for the very thread it runs on.
                // A destructor cannot throw, so say what happened before ending, rather
                // than leave the user a bare "Resource deadlock avoided" or a hang.
                std::fputs(
                    "microtask::thread_pool: destroyed from inside the pool (one of its own tasks); "
                    "a pool must be destroyed from a thread that is not running its work\n",
                    stderr);
                std::abort();
            }
        }
        detach_leases();
        stop_and_join();
    }

    /// Queues a task: on the caller's own deque when it has a seat here (lock-free; an
    /// outside thread leases one on its first submit while any is free), otherwise on
    /// the injection queue. A private seat's deque is seen by nobody else, so a task
    /// submitted from one goes to the injection queue, where workers find it.
    void submit(task_base* task) {
        if (seat* own = current_seat()) {
            if (own->is_private) {
                inject(task);
            } else {
                // An outside thread's seat is never trimmed by a park of its owner (it
                // does not idle in the pool): give back a burst's ring here, when empty
                // and the pool is quiet (a worker asleep). Not during a burst: a worker
                // that keeps up empties the deque between submits, and trimming then
                // made the ring shrink and regrow over and over (10^5 submits ran
                // about 1.5x slower).
                if (own->is_guest && m_parking.anyone_asleep_hint()) trim_ring(*own);
                push_local(*own, task);
            }
        } else if (seat* leased = lease_seat()) {
            push_local(*leased, task);
        } else {
            inject(task);
        }
    }

    /// Owner of `own` only. The fork path: a deque push plus one shared read. Stores the
    /// task's index in the deque (for work_stealing_deque::take_back) into `index`, which
    /// a fork keeps in its job: stored before the announcement rather than returned
    /// after it, so that no register has to keep it across the announcement's rare call.
    void push_local(seat& own, task_base* task, std::int64_t& index) {
        index = own.deque.push(task, own.region);
        announce_new_work(own);
    }
    void push_local(seat& own, task_base* task) {
        std::int64_t unused_index;
        push_local(own, task, unused_index);
    }

    /// Runs other work until `done()` holds; parks when there is nothing to do.
    /// `done` must read with seq_cst whatever its signaller writes before calling
    /// wake_seat() (the Dekker pairing described in parking::park()).
    template <class Done>
    void wait_until(seat& own, Done&& done) {
        wait_until(own, std::forward<Done>(done), injection::one_at_a_time);
    }

    /// How a thread takes from the injection queue. Only an idle worker at the top of its
    /// loop takes a batch: a thread waiting for a result must not queue unrelated tasks
    /// on its own deque, which it would have to run before its wait could return.
    enum class injection : bool { one_at_a_time, batch };

    template <class Done>
    void wait_until(seat& own, Done&& done, injection mode) {
        // What this wait may take. Inside an isolation region, only the region's work.
        // With more than half of the stack used, only the thread's own forks (never
        // steals, which could each stack another waiting frame on top of this one); the
        // own deque must stay open, as nobody else may be there to take those forks.
        const reach scope = reach_of(own);
        unsigned idle_rounds = 0;
        bool searching = false;  // counted among the searchers (parking)
        std::chrono::steady_clock::time_point idle_since{};
        std::chrono::steady_clock::time_point idle_start{};  // for stats: set at the first empty look
        while (!done()) {
            if (const found_work work =
                    scope == reach::everything ? find_work(own, mode) : find_in_region(*this, own, scope)) {
                if (idle_rounds != 0) count_idle(own, idle_start);
                if (searching) {
                    searching = false;
                    stop_searching();
                }
                run_found(own, work);
                idle_rounds = 0;
                continue;
            }
            if (idle_rounds == 0) {
                // Two clock reads per idle spell (not per look), only when a look finds nothing.
                idle_start = std::chrono::steady_clock::now();
                // Only a wait that may take any work searches for new work in general.
                if (scope == reach::everything && !searching) {
                    m_parking.start_searching();
                    searching = true;
                }
            }
            // Spin (pause, then yield) for about k_spin_time before parking: work often
            // comes back within microseconds (the next call of a loop of parallel calls,
            // the next steal), and a futex wake-up costs ~10-50 us of latency. Bounded in
            // time so an idle pool costs ~k_spin_time of CPU per worker, then nothing.
            ++idle_rounds;
            if (idle_rounds < k_pause_rounds) {
                idle_pause(idle_rounds);
                continue;
            }
            if (idle_rounds == k_pause_rounds) idle_since = std::chrono::steady_clock::now();
            if (idle_rounds % k_rounds_per_clock_read != 0 ||
                std::chrono::steady_clock::now() - idle_since < k_spin_time) {
                idle_pause(idle_rounds);
                continue;
            }
            // Idle for a while: a quiet moment to give back what a burst made the deque grow
            // to, and the task blocks the burst left in the shared depot.
            trim_ring(own);
            small_block_cache::trim_depot();
            seat::counters::add(own.stats.times_parked);
            if (scope != reach::everything) {
                // New work in general may be work this wait must not take: sleep until
                // our own wait ends (its signaller wakes this seat by name).
                m_parking.park_for_own_wait(own, done);
                idle_rounds = 1;  // spin again after a wake-up; still the same idle spell
                continue;
            }
            searching = m_parking.park(
                own, [&] { return done() || work_visible(); }, searching);
            if (!searching) {
                m_parking.start_searching();  // woken for our own wait, maybe not ended yet
                searching = true;
            }
            idle_rounds = 1;
        }
        if (idle_rounds != 0) count_idle(own, idle_start);
        // We leave for our own reason: if we were the searcher others counted on to take
        // new work, hand the search on (stop_searching).
        if (searching) stop_searching();
    }

    /// Pops, takes from the injection queue, or steals one task. Owner of `own` only.
    found_work find_work(seat& own, injection mode = injection::one_at_a_time) {
        // Fairness: every k_fairness_period-th look goes to the shared sources first (the
        // injection queue, then the unattended extra seats, where outside threads'
        // submits wait) before the thread's own deque and the workers'. Otherwise a thread
        // with a deep deque, or thieves fed by busy workers, could leave an outside submit
        // waiting for as long as that work lasts. Not the seats of outside threads inside
        // a call: they run their own tasks, and taking their oldest (biggest) task while
        // ours waits made skynet's task tree bounce between the threads (1.5-2x slower).
        if (++own.fairness_tick % k_fairness_period == 0) {
            if (m_injected.maybe_nonempty()) {
                if (task_base* task = take_injected(own, mode)) return {task, 0};
            }
            bool contended = false;
            if (found_work work = steal_from_extras(*this, own, contended, any_region, /*skip_attended=*/true)) {
                return work;
            }
        }
        // What the thread pushed itself was pushed in its current region (or in regions
        // nested in it and left behind, which counts as the same work).
        if (task_base* task = own.deque.pop(nullptr)) {
            return {task, own.region};
        }
        if (m_injected.maybe_nonempty()) {
            if (task_base* task = take_injected(own, mode)) {
                return {task, 0};
            }
        }
        return steal(*this, own, any_region);
    }

private:
    // How long an idle thread spins before it parks: work often comes back within
    // microseconds, a futex wake-up costs 10-50 us, and an idle pool should cost little.
    static constexpr std::chrono::microseconds k_spin_time{100};
    // While yielding, the clock is read every few rounds only: a yield costs less than a
    // microsecond when nobody else wants the core, so a read per round would dominate.
    static constexpr unsigned k_rounds_per_clock_read = 8;
    // How often find_work() looks at the shared sources first: rarely enough that a
    // thread keeps its own cache-warm work most of the time, often enough that a queued
    // outside submit waits for at most a few dozen tasks of any one thread.
    static constexpr std::uint32_t k_fairness_period = 32;

    void worker_main(std::size_t index) {
        seat& own = seat_at(index);
        t_trace_pool = m_number;  // names this thread's lane in a trace
        t_trace_worker = static_cast<std::int64_t>(index);
        if (m_hooks.on_start) {
            try {
                m_hooks.on_start(index);
            } catch (...) {
                const std::lock_guard lock(m_start_error_mutex);
                if (!m_start_error) m_start_error = std::current_exception();
            }
        }
        m_started->count_down();  // after this, the constructor may return: no more m_started
        held_seat held{this, &own, t_innermost_held_seat};
        t_innermost_held_seat = &held;
        // seq_cst load: park()'s re-check must see a stop that raced with it.
        wait_until(
            own, [this] { return m_stopping.load(std::memory_order_seq_cst); }, injection::batch);
        drain(own);
        t_innermost_held_seat = held.outer;
        if (m_hooks.on_stop) m_hooks.on_stop(index);  // a throw ends the program: documented
    }

    /// Stopping: run what is queued until no task is queued *or running* anywhere. A
    /// worker that finds nothing must not leave while another worker still runs a task:
    /// that task may queue more work and wait for someone else to take it.
    /// m_unsettled counts the workers that are running or looking for a task (all of them
    /// until they first run dry here). Invariant: a worker holds or runs a task only
    /// while counted, so "m_unsettled == 0 and no work visible" means no task exists and
    /// none can appear; that is when every worker leaves.
    void drain(seat& own) {
        const auto settled_and_empty = [this] {
            // seq_cst: the parker's side of the pairing with the last settler's fetch_sub
            // (followed by its wake_seat calls), as in park().
            return m_unsettled.load(std::memory_order_seq_cst) == 0 && !work_visible();
        };
        for (;;) {
            while (const found_work work = find_work(own, injection::batch)) {
                run_found(own, work);
            }
            // seq_cst: the signaller's side for the waiters below: the count, then the
            // wake-ups (their CAS on the sleep words).
            if (m_unsettled.fetch_sub(1, std::memory_order_seq_cst) == 1) {
                for (std::size_t i = 0; i < worker_count(); ++i) m_parking.wake_seat(seat_at(i));
            }
            while (!work_visible()) {
                if (settled_and_empty()) return;
                const bool woken_to_search = m_parking.park(
                    own, [&] { return m_unsettled.load(std::memory_order_seq_cst) == 0 || work_visible(); }, false);
                if (woken_to_search) stop_searching();  // the loop above looks for the work
            }
            // Work showed up: count ourselves again before we may take it (the invariant).
            // seq_cst like every access to the count, so that all of them, the parkers'
            // re-checks and the wake-ups sit in the one total order the argument needs.
            m_unsettled.fetch_add(1, std::memory_order_seq_cst);
        }
    }

    void stop_and_join() noexcept {
        m_stopping.store(true, std::memory_order_seq_cst);
        for (std::size_t i = 0; i < seat_count(); ++i) {
            m_parking.wake_seat(seat_at(i));
        }
        for (std::thread& thread : m_threads) {
            if (thread.joinable()) thread.join();
        }
        m_threads.clear();
    }

    /// Takes the oldest injected task; an idle worker (batch mode) also moves a batch of
    /// the rest onto its deque, where other threads can steal them (injection_queue::take).
    task_base* take_injected(seat& own, injection mode) {
        std::size_t moved = 0;
        task_base* first = m_injected.take(own, mode == injection::batch, moved);
        // Moved tasks were injected work, which no sleeper may miss. One announcement: the
        // thread it wakes searches, and as it finds work it wakes the next sleeper while
        // work is left (stop_searching), so the batch spreads over the sleepers in turn.
        if (moved != 0) announce_new_work();
        return first;
    }

    friend struct outside_lease;

    /// The leasing thread gives its seat back: tasks still on it go to the injection
    /// queue (they still run, exactly once), then the seat is free again.
    void return_leased_seat(seat& leased) noexcept {
        while (task_base* task = leased.deque.pop(nullptr)) {
            inject(task);  // may throw only std::bad_alloc, which is fatal here
        }
        hide_extra_seat(leased);
        leased.occupied.store(false, std::memory_order_release);
    }

    std::vector<std::thread> m_threads;
    const worker_hooks m_hooks;
    // This pool's number in a trace's lane names: pools in order of construction.
    const std::int64_t m_number = [] {
        static std::atomic<std::int64_t> pools{0};
        return pools.fetch_add(1, std::memory_order_relaxed);
    }();
    std::latch* m_started = nullptr;  // during construction only
    std::mutex m_start_error_mutex;
    std::exception_ptr m_start_error;

    alignas(k_cache_line) std::atomic<bool> m_stopping{false};
    std::atomic<std::size_t> m_unsettled;  // see drain()
};

}  // namespace microtask::detail
