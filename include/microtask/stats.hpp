// microtask — stats.hpp
/// @file
/// What each worker of a pool did: thread_pool::stats().
#pragma once

#include <chrono>
#include <cstdint>

namespace microtask {

/// One worker's counters since the pool started or since the last reset_stats(). Each is
/// kept by its worker alone (no shared atomic on any path), so reading them costs the
/// worker nothing; a snapshot taken while the pool runs may be a few events behind.
struct worker_stats {
    /// Tasks the worker took from a deque or the injection queue and ran (a fork that
    /// its own thread ran inline, because nobody stole it, is not a task here).
    std::uint64_t tasks_run = 0;
    /// Of those, tasks taken from another thread's deque.
    std::uint64_t tasks_stolen = 0;
    /// Steal attempts on a deque that looked non-empty and gave nothing (another thief
    /// won the race, or the task was not of the worker's isolation region).
    std::uint64_t failed_steals = 0;
    /// Times the worker went to sleep after finding nothing for its spin time.
    std::uint64_t times_parked = 0;
    /// Time spent looking for work: spinning and asleep.
    std::chrono::nanoseconds idle{0};
    /// The rest of the time since the start (or reset): running tasks and scheduling.
    std::chrono::nanoseconds busy{0};
};

}  // namespace microtask
