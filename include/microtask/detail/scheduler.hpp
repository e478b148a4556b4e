// microtask — detail/scheduler.hpp
// The work-stealing scheduler behind mt::thread_pool. docs/design.md explains it; the
// comments here say why each step is needed.
//
// Shape: one `slot` per worker thread plus a few guest slots that threads from outside
// the pool borrow while they wait on the pool. Each slot owns a Chase–Lev deque (the
// owner works LIFO at the bottom, thieves take FIFO from the top) and a sleep word. Tasks
// submitted from outside go to a mutex-protected injection queue. Idle threads spin
// briefly, then park on their own sleep word with std::atomic::wait (a futex on Linux).
#pragma once

#include "task.hpp"
#include "work_stealing_deque.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <semaphore>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace microtask::detail {

class scheduler;

/// A seat at the pool: a worker thread's, or a guest slot lent to an outside thread.
struct alignas(k_cache_line) slot {
    enum : std::uint32_t { k_awake = 0, k_sleeping = 1, k_notified = 2 };

    work_stealing_deque<task_base*> deque;
    // Written by the owner when it parks and by whoever wakes it; on its own line so that
    // wake-ups do not disturb the deque's lines.
    alignas(k_cache_line) std::atomic<std::uint32_t> sleep_state{k_awake};
    std::atomic<bool> occupied{false};  // guest slots only: is a thread using it?
    std::uint64_t rng_state = 0;        // owner only: victim selection
    std::uint32_t index = 0;
    bool is_guest = false;
};

/// The calling thread's seat, if it is running inside a pool (as worker or guest).
struct worker_context {
    scheduler* sched = nullptr;
    slot* home = nullptr;
};

inline thread_local worker_context t_context{};

class scheduler {
public:
    explicit scheduler(std::size_t worker_count)
        : m_worker_count(worker_count),
          m_guest_count(std::max<std::size_t>(8, std::thread::hardware_concurrency())),
          m_slots(std::make_unique<slot[]>(m_worker_count + m_guest_count)),
          m_guest_tokens(static_cast<std::ptrdiff_t>(m_guest_count)) {
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
            stop_and_join();
            throw;
        }
    }

    scheduler(const scheduler&) = delete;
    scheduler& operator=(const scheduler&) = delete;

    /// Runs everything still queued, then joins the workers.
    ~scheduler() { stop_and_join(); }

    [[nodiscard]] std::size_t worker_count() const noexcept { return m_worker_count; }
    [[nodiscard]] std::size_t slot_count() const noexcept { return m_worker_count + m_guest_count; }
    [[nodiscard]] slot& slot_at(std::size_t i) noexcept { return m_slots[i]; }

    /// The calling thread's slot in this pool, or nullptr when it is not inside it.
    [[nodiscard]] slot* current_slot() const noexcept {
        return t_context.sched == this ? t_context.home : nullptr;
    }

    /// Queues a task: on the caller's own deque when it is inside the pool (no lock, no
    /// shared write), otherwise on the injection queue.
    void submit(task_base* task) {
        if (slot* home = current_slot()) {
            push_local(*home, task);
        } else {
            inject(task);
        }
    }

    /// Owner of `home` only. The fork path: a deque push plus one shared read.
    void push_local(slot& home, task_base* task) {
        home.deque.push(task);
        // relaxed: a stale zero here can make a sleeper miss this task, but the pusher is
        // awake and will run the task itself, so the miss costs parallelism, never
        // progress. Paying a full fence on every fork to close that window is not worth it.
        if (m_sleepers.load(std::memory_order_relaxed) != 0) {
            wake_one();
        }
    }

    void inject(task_base* task) {
        {
            std::lock_guard lock(m_injected_mutex);
            m_injected.push_back(task);
            // seq_cst: pairs with park(): either this increment precedes the sleeper's
            // registration in the total order, and the sleeper's re-check sees the task,
            // or our load of m_sleepers below sees the sleeper. Nobody else will run an
            // injected task, so no wake-up may be lost here.
            m_injected_count.fetch_add(1, std::memory_order_seq_cst);
        }
        if (m_sleepers.load(std::memory_order_seq_cst) != 0) {
            wake_one();
        }
    }

    /// Runs `body(slot&)` on a slot of this pool: the caller's own when it already is
    /// inside, otherwise a borrowed guest slot (blocking while all guest slots are taken).
    template <class Body>
    decltype(auto) run_in_slot(Body&& body) {
        if (slot* home = current_slot()) {
            return body(*home);
        }
        guest_seat seat(*this);
        return body(seat.home());
    }

    /// Runs other work until `done()` holds; parks when there is nothing to do.
    /// `done` must read with seq_cst whatever its signaller writes before calling
    /// wake_slot() (the Dekker pairing described in park()).
    template <class Done>
    void wait_until(slot& home, Done&& done) {
        unsigned idle_rounds = 0;
        while (!done()) {
            if (task_base* task = find_work(home)) {
                task->execute();
                idle_rounds = 0;
                continue;
            }
            if (++idle_rounds <= k_spin_rounds) {
                idle_pause(idle_rounds);
                continue;
            }
            park(home, [&] { return done() || work_visible(); });
            idle_rounds = 0;
        }
    }

    /// Wakes `target` if it is parked; harmless if it is awake (it re-checks its
    /// condition before parking again). Any thread.
    void wake_slot(slot& target) noexcept {
        std::uint32_t expected = slot::k_sleeping;
        // seq_cst: the signaller's write of its condition, then this CAS, pair with the
        // parker's store of k_sleeping, then its read of the condition.
        if (target.sleep_state.compare_exchange_strong(expected, slot::k_notified,
                                                       std::memory_order_seq_cst)) {
            m_sleepers.fetch_sub(1, std::memory_order_relaxed);
            target.sleep_state.notify_one();
        }
    }

    /// Pops, takes from the injection queue, or steals one task. Owner of `home` only.
    task_base* find_work(slot& home) {
        if (task_base* task = home.deque.pop(nullptr)) {
            return task;
        }
        if (m_injected_count.load(std::memory_order_relaxed) != 0) {
            if (task_base* task = take_injected(home)) {
                return task;
            }
        }
        return steal(home);
    }

private:
    static constexpr unsigned k_spin_rounds = 64;
    static constexpr std::size_t k_injection_batch = 32;

    class guest_seat {
    public:
        explicit guest_seat(scheduler& sched) : m_sched(sched), m_saved(t_context) {
            sched.m_guest_tokens.acquire();
            for (std::size_t i = sched.m_worker_count;; ++i) {
                if (i == sched.slot_count()) i = sched.m_worker_count;
                bool expected = false;
                slot& candidate = sched.m_slots[i];
                // acquire: the previous guest's release below handed over the slot.
                if (!candidate.occupied.load(std::memory_order_relaxed) &&
                    candidate.occupied.compare_exchange_strong(expected, true,
                                                               std::memory_order_acquire)) {
                    m_home = &candidate;
                    break;
                }
            }
            sched.m_active_guests.fetch_add(1, std::memory_order_relaxed);
            t_context = {&sched, m_home};
        }
        guest_seat(const guest_seat&) = delete;
        guest_seat& operator=(const guest_seat&) = delete;
        ~guest_seat() {
            // Tasks this guest pushed and nobody stole yet (e.g. submit() from inside a
            // join body) must not be stranded in a seat that nobody owns.
            while (task_base* task = m_home->deque.pop(nullptr)) {
                task->execute();
            }
            t_context = m_saved;
            m_sched.m_active_guests.fetch_sub(1, std::memory_order_relaxed);
            m_home->occupied.store(false, std::memory_order_release);
            m_sched.m_guest_tokens.release();
        }
        slot& home() noexcept { return *m_home; }

    private:
        scheduler& m_sched;
        worker_context m_saved;
        slot* m_home = nullptr;
    };

    void worker_main(slot& home) {
        t_context = {this, &home};
        // seq_cst load: park()'s re-check must see a stop that raced with it.
        wait_until(home, [this] { return m_stopping.load(std::memory_order_seq_cst); });
        // Stopping: drain. A task we run may queue more; the loop takes those too.
        while (task_base* task = find_work(home)) {
            task->execute();
        }
        t_context = {};
    }

    void stop_and_join() noexcept {
        m_stopping.store(true, std::memory_order_seq_cst);
        for (std::size_t i = 0; i < slot_count(); ++i) {
            wake_slot(m_slots[i]);
        }
        for (std::thread& thread : m_threads) {
            if (thread.joinable()) thread.join();
        }
        m_threads.clear();
    }

    static void idle_pause(unsigned round) noexcept {
        if (round < 16) {
#if defined(__x86_64__) || defined(__i386__)
            __builtin_ia32_pause();
#endif
        } else {
            // Give the core away: on an oversubscribed machine the thread we wait for
            // may need it.
            std::this_thread::yield();
        }
    }

    /// Parks `home` until `ready()` or a wake-up. The protocol (an eventcount with one
    /// word per thread):
    ///   parker:    state = sleeping; sleepers += 1; if ready() cancel; else futex-wait
    ///   signaller: make ready() true;                then wake (CAS sleeping->notified)
    /// Both sides are seq_cst, so in the single total order either the signaller's CAS
    /// comes after our store of `sleeping` (and wakes us), or our ready() comes after
    /// the signaller's write (and we do not sleep).
    template <class Ready>
    void park(slot& home, Ready&& ready) {
        home.sleep_state.store(slot::k_sleeping, std::memory_order_seq_cst);
        m_sleepers.fetch_add(1, std::memory_order_seq_cst);
        if (ready()) {
            // Cancel. If a waker already claimed us it also decremented m_sleepers.
            if (home.sleep_state.exchange(slot::k_awake, std::memory_order_acq_rel) ==
                slot::k_sleeping) {
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

    void wake_one() noexcept {
        for (std::size_t i = 0; i < slot_count(); ++i) {
            slot& candidate = m_slots[i];
            if (candidate.sleep_state.load(std::memory_order_relaxed) == slot::k_sleeping) {
                std::uint32_t expected = slot::k_sleeping;
                if (candidate.sleep_state.compare_exchange_strong(expected, slot::k_notified,
                                                                  std::memory_order_seq_cst)) {
                    m_sleepers.fetch_sub(1, std::memory_order_relaxed);
                    candidate.sleep_state.notify_one();
                    return;
                }
            }
        }
    }

    /// Any thread: is there work anywhere? Used as the last check before parking.
    bool work_visible() const noexcept {
        // seq_cst: pairs with inject()'s increment (see there).
        if (m_injected_count.load(std::memory_order_seq_cst) != 0) return true;
        for (std::size_t i = 0; i < slot_count(); ++i) {
            if (!m_slots[i].deque.empty()) return true;
        }
        return false;
    }

    /// Takes the oldest injected task, and moves up to half of the rest (at most
    /// k_injection_batch) onto `home`'s deque, where other workers can steal them: one
    /// lock per batch instead of one per task when an outside thread submits many.
    task_base* take_injected(slot& home) {
        task_base* first = nullptr;
        std::size_t moved = 0;
        {
            std::lock_guard lock(m_injected_mutex);
            if (m_injected.empty()) return nullptr;
            first = m_injected.front();
            m_injected.pop_front();
            moved = std::min(m_injected.size() / 2, k_injection_batch);
            for (std::size_t i = 0; i < moved; ++i) {
                home.deque.push(m_injected.front());
                m_injected.pop_front();
            }
            // relaxed: only a hint for the fast check in find_work(); the count that the
            // sleep protocol relies on is the increment in inject().
            m_injected_count.fetch_sub(moved + 1, std::memory_order_relaxed);
        }
        if (moved != 0 && m_sleepers.load(std::memory_order_relaxed) != 0) wake_one();
        return first;
    }

    task_base* steal(slot& home) {
        const std::size_t victims =
            m_active_guests.load(std::memory_order_relaxed) != 0 ? slot_count() : m_worker_count;
        if (victims <= 1 && home.index == 0) return nullptr;
        // xorshift64: a random start spreads thieves over victims (no convoy on worker 0).
        std::uint64_t x = home.rng_state;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        home.rng_state = x;
        const std::size_t start = static_cast<std::size_t>(x % victims);
        for (int pass = 0; pass < 2; ++pass) {
            bool contended = false;
            for (std::size_t k = 0; k < victims; ++k) {
                std::size_t v = start + k;
                if (v >= victims) v -= victims;
                if (v == home.index) continue;
                slot& victim = m_slots[v];
                if (victim.deque.empty()) continue;
                auto [status, task] = victim.deque.steal();
                if (status == work_stealing_deque<task_base*>::steal_status::success) return task;
                if (status == work_stealing_deque<task_base*>::steal_status::lost_race) contended = true;
            }
            if (!contended) break;
        }
        return nullptr;
    }

    const std::size_t m_worker_count;
    const std::size_t m_guest_count;
    std::unique_ptr<slot[]> m_slots;
    std::vector<std::thread> m_threads;

    // Read on every fork: keep it away from lines that change often.
    alignas(k_cache_line) std::atomic<std::uint32_t> m_sleepers{0};
    alignas(k_cache_line) std::atomic<std::size_t> m_injected_count{0};
    std::atomic<std::size_t> m_active_guests{0};
    std::atomic<bool> m_stopping{false};
    std::mutex m_injected_mutex;
    std::deque<task_base*> m_injected;
    std::counting_semaphore<> m_guest_tokens;
};

}  // namespace microtask::detail
