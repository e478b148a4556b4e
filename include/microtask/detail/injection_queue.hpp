// microtask — detail/injection_queue.hpp
// Where submits from threads without a seat of their own wait: a mutex-protected FIFO
// with a lock-free count in front of it. docs/design.md section 4 explains it.
#pragma once

#include "seat.hpp"
#include "task.hpp"
#include "work_stealing_deque.hpp"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <deque>
#include <mutex>

namespace microtask::detail {

class injection_queue {
public:
    // The most tasks one take() moves onto the taker's deque: enough that an outside
    // thread's burst costs one lock per few dozen tasks, few enough that one worker does
    // not hoard a burst that others could start on at once.
    static constexpr std::size_t k_batch = 32;

    /// Appends a task (any thread). Throws std::bad_alloc, and then nothing was queued.
    /// The caller must then read the sleeper count (seq_cst) and wake one if needed.
    void push(task_base* task) {
        std::lock_guard lock(m_mutex);
        m_tasks.push_back(task);
        // seq_cst: pairs with park(): either this increment precedes the sleeper's
        // registration in the total order, and the sleeper's re-check (visible()) sees
        // the task, or the caller's load of the sleeper count after it sees the sleeper.
        // Nobody else will run an injected task, so no wake-up may be lost here.
        m_count.fetch_add(1, std::memory_order_seq_cst);
    }

    /// A hint, for the lock-free look before taking. relaxed: the mutex orders access to
    /// the queue itself.
    [[nodiscard]] bool maybe_nonempty() const noexcept { return m_count.load(std::memory_order_relaxed) != 0; }

    /// The parker's last look. seq_cst: pairs with push()'s increment.
    [[nodiscard]] bool visible() const noexcept { return m_count.load(std::memory_order_seq_cst) != 0; }

    /// Takes the oldest task, or nullptr. With `batch`, also moves up to half of the rest
    /// (at most k_batch) onto `own`'s deque, where other threads can steal them, and
    /// returns their number in `moved`: the caller must wake that many sleepers, since
    /// the moved tasks are injected work no sleeper may miss. Never throws: if the deque
    /// cannot grow, the rest simply stays queued. Owner of `own` only.
    task_base* take(seat& own, bool batch, std::size_t& moved) {
        moved = 0;
        std::lock_guard lock(m_mutex);
        if (m_tasks.empty()) return nullptr;
        task_base* first = m_tasks.front();
        m_tasks.pop_front();
        const std::size_t wanted = batch ? std::min(m_tasks.size() / 2, k_batch) : 0;
        for (; moved < wanted; ++moved) {
            try {
                own.deque.push(m_tasks.front());
            } catch (...) {
                break;
            }
            m_tasks.pop_front();
        }
        // relaxed: the count is a hint for maybe_nonempty(); the moved tasks are now
        // visible to sleepers through the deque (pushed with a release store of bottom;
        // the caller announces the new work, see scheduler::take_injected).
        m_count.fetch_sub(moved + 1, std::memory_order_relaxed);
        return first;
    }

private:
    // The count is read by every idle look; the mutex and queue are written by every
    // submit through here: separate lines, so that a submit does not slow every look.
    alignas(k_cache_line) std::atomic<std::size_t> m_count{0};
    alignas(k_cache_line) std::mutex m_mutex;
    std::deque<task_base*> m_tasks;
};

}  // namespace microtask::detail
