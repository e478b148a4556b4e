// microtask — progress.hpp
/// @file
/// Progress reports from long operations, and the controls a caller attaches to one: a
/// stop token, a progress reporter, or both.
#pragma once

#include "cancellation.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <thread>
#include <utility>

namespace microtask {

/// Calls a function with (done, total) while an operation runs — for a progress bar or
/// a log line. Pass it to map_reduce, reduce, fold, for_each or distribute (alone, or as
/// `{token, progress}` with a stop token):
///
///     mt::progress bar([](std::size_t done, std::size_t total) { draw(done, total); },
///                      std::chrono::milliseconds(100));
///     auto sum = mt::map_reduce(pool, data, f, mt::sum<double>{}, bar);
///
/// - `done` counts the elements (for distribute: the parts) whose work has finished;
///   `total` is the operation's size. Reports come from whichever thread just finished
///   a leaf, one thread at a time, at most one per `interval`, with `done` never
///   decreasing; when the operation succeeds, a last report (total, total) comes from
///   the calling thread before it returns, however recent the one before. A cancelled or
///   failed operation makes no last report.
/// - Cost: nothing when no progress is passed; with one, an atomic add and a clock read
///   per leaf (not per element).
/// - An exception thrown by the function fails the operation like a map function's
///   would: the rest is skipped and it reaches the caller.
/// - Preconditions: one operation at a time uses a progress object (a nested operation
///   inside a map function must not be given the same one); it outlives the operation.
///   Thread-safety: the function is never called concurrently with itself.
class progress {
public:
    /// Reports to `report(done, total)` at most once per `interval` (plus the last
    /// report). Throws std::bad_alloc.
    template <class Report>
        requires std::invocable<Report&, std::size_t, std::size_t>
    explicit progress(Report report, std::chrono::steady_clock::duration interval = std::chrono::milliseconds(100))
        : m_report(std::move(report)), m_interval(interval) {}

    progress(const progress&) = delete;
    progress& operator=(const progress&) = delete;

    /// Elements finished so far in the current (or last) operation.
    [[nodiscard]] std::size_t done() const noexcept { return m_done.load(std::memory_order_relaxed); }

    /// Called by an operation as it starts (not by users): a call of `total` elements.
    void begin(std::size_t total) noexcept {
        m_total = total;
        m_done.store(0, std::memory_order_relaxed);
        m_reported = 0;
        m_due.store(ticks_now() + m_interval.count(), std::memory_order_relaxed);
    }
    /// Called by an operation (not by users) when `finished` more elements are done;
    /// reports if the interval has passed and no other thread is reporting.
    void advance(std::size_t finished) {
        // relaxed: a counter; a report reads some recent sum, and monotonicity is kept
        // under the reporting flag below.
        const std::size_t done_now = m_done.fetch_add(finished, std::memory_order_relaxed) + finished;
        const std::int64_t now = ticks_now();
        if (now < m_due.load(std::memory_order_relaxed)) return;
        // acquire: pairs with the release at the end of the previous report, so this
        // report sees m_reported as the last reporter left it.
        if (m_reporting.exchange(true, std::memory_order_acquire)) return;  // another thread reports
        const reporting_guard release_flag{m_reporting};
        m_due.store(now + m_interval.count(), std::memory_order_relaxed);
        m_reported = std::max(m_reported, std::min(done_now, m_total));
        m_report(m_reported, m_total);
    }
    /// Called by an operation (not by users) when it succeeded: the last report.
    void finish() {
        // The operation has joined every leaf, so only a report still in flight on
        // another thread can hold the flag; wait for it rather than call concurrently.
        while (m_reporting.exchange(true, std::memory_order_acquire)) std::this_thread::yield();
        const reporting_guard release_flag{m_reporting};
        m_reported = m_total;
        m_report(m_total, m_total);
    }

private:
    struct reporting_guard {
        std::atomic<bool>& flag;
        // release: publishes m_reported and the report's effects to the next reporter.
        ~reporting_guard() { flag.store(false, std::memory_order_release); }
    };
    static std::int64_t ticks_now() noexcept { return std::chrono::steady_clock::now().time_since_epoch().count(); }

    std::function<void(std::size_t, std::size_t)> m_report;
    std::chrono::steady_clock::duration m_interval;
    std::size_t m_total = 0;
    std::size_t m_reported = 0;  // guarded by m_reporting
    std::atomic<std::size_t> m_done{0};
    std::atomic<std::int64_t> m_due{0};
    std::atomic<bool> m_reporting{false};
};

/// What a caller attaches to a long operation: a stop token (see cancellation.hpp), a
/// progress reporter, or both. Built implicitly, so an operation's last arguments may be
/// `token`, `bar` or `{token, bar}`. Holds a pointer to the progress object: it must
/// outlive the call. Never throws.
struct operation_controls {
    /// Neither: the operation runs to its end, silently.
    operation_controls() noexcept = default;
    /// A stop token only (implicit, so that `token` may be passed as it is).
    operation_controls(stop_token stop_when) noexcept : stop(std::move(stop_when)) {}  // NOLINT: implicit by design
    /// A progress reporter only (implicit, so that `bar` may be passed as it is).
    operation_controls(progress& reporter) noexcept : report(&reporter) {}  // NOLINT: implicit by design
    /// Both: `{token, bar}`.
    operation_controls(stop_token stop_when, progress& reporter) noexcept
        : stop(std::move(stop_when)), report(&reporter) {}

    /// Checked before the call and before each leaf; never stopped by default.
    stop_token stop;
    /// Where progress goes, or null for none.
    progress* report = nullptr;
};

}  // namespace microtask
