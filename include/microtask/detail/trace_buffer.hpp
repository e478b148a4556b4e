// microtask — detail/trace_buffer.hpp
// The recorder behind mt::start_tracing: one append-only buffer of spans per thread, so
// recording takes no lock and shares no cache line; a writer reads every buffer at the end.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <new>

namespace microtask::detail {

/// One finished span: what ran, on which thread, from when, for how long.
struct trace_span {
    std::int64_t start_ns;  // since the trace epoch
    std::int64_t duration_ns;
    const char* name;  // a string with static storage duration
};

/// Set on a pool's worker thread (worker_main): how its lane is named in a trace.
inline thread_local std::int64_t t_trace_pool = -1;
inline thread_local std::int64_t t_trace_worker = -1;

/// Is tracing on? relaxed everywhere: a span recorded just before or after a switch is
/// harmless, and the check is the one predictable branch a task pays when tracing is off.
inline std::atomic<bool> g_tracing{false};

inline std::chrono::steady_clock::time_point trace_epoch() noexcept {
    static const std::chrono::steady_clock::time_point epoch = std::chrono::steady_clock::now();
    return epoch;
}

inline std::int64_t trace_now_ns() noexcept {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - trace_epoch())
        .count();
}

/// A thread's spans: a linked list of fixed chunks that only its thread appends to. A
/// reader may run at any time (at exit, workers may still be recording): it reads each
/// chunk's count with acquire, which the owner publishes with release after writing the
/// span, and never sees a chunk before its link is published (release/acquire too).
class trace_buffer {
public:
    static constexpr std::size_t k_chunk_spans = 4096;  // 96 KiB: few allocations per thread

    explicit trace_buffer(std::uint32_t thread_number) noexcept
        : m_thread_number(thread_number), m_pool(t_trace_pool), m_worker(t_trace_worker) {}
    trace_buffer(const trace_buffer&) = delete;
    trace_buffer& operator=(const trace_buffer&) = delete;

    /// Owner thread only. Drops the span if no memory is left (tracing must not throw).
    void record(const trace_span& span) noexcept {
        if (m_tail == nullptr || m_tail->count.load(std::memory_order_relaxed) == k_chunk_spans) {
            chunk* fresh = new (std::nothrow) chunk;
            if (fresh == nullptr) return;
            // release: a reader that finds the link sees the chunk constructed.
            if (m_tail == nullptr) {
                m_head.store(fresh, std::memory_order_release);
            } else {
                m_tail->next.store(fresh, std::memory_order_release);
            }
            m_tail = fresh;
        }
        const std::size_t n = m_tail->count.load(std::memory_order_relaxed);
        m_tail->spans[n] = span;
        // release: the span written above is visible to a reader that reads this count.
        m_tail->count.store(n + 1, std::memory_order_release);
    }

    /// Any thread: calls fn(span) for every span recorded so far.
    template <class Fn>
    void for_each(Fn&& fn) const {
        for (const chunk* c = m_head.load(std::memory_order_acquire); c != nullptr;
             c = c->next.load(std::memory_order_acquire)) {
            const std::size_t n = c->count.load(std::memory_order_acquire);
            for (std::size_t i = 0; i < n; ++i) fn(c->spans[i]);
        }
    }

    [[nodiscard]] std::uint32_t thread_number() const noexcept { return m_thread_number; }
    /// The pool and worker index of the thread, or -1 for a thread outside every pool.
    [[nodiscard]] std::int64_t pool() const noexcept { return m_pool; }
    [[nodiscard]] std::int64_t worker() const noexcept { return m_worker; }

    /// Every buffer ever created, oldest first (buffers live until the process ends:
    /// a thread that has exited may still have spans to write out).
    static trace_buffer* first() noexcept { return s_first.load(std::memory_order_acquire); }
    [[nodiscard]] trace_buffer* next() const noexcept { return m_next; }

    /// The calling thread's buffer, created on its first span.
    static trace_buffer* of_this_thread() noexcept {
        thread_local trace_buffer* mine = nullptr;
        if (mine == nullptr) mine = create();
        return mine;
    }

private:
    struct chunk {
        trace_span spans[k_chunk_spans];
        std::atomic<std::size_t> count{0};
        std::atomic<chunk*> next{nullptr};
    };

    static trace_buffer* create() noexcept {
        static std::atomic<std::uint32_t> threads{0};
        auto* buffer = new (std::nothrow) trace_buffer(threads.fetch_add(1, std::memory_order_relaxed));
        if (buffer == nullptr) return nullptr;
        // Push onto the global list (a lock-free stack; buffers are never removed).
        trace_buffer* head = s_first.load(std::memory_order_relaxed);
        do {
            buffer->m_next = head;
            // release: publishes the buffer's fields to readers of the list.
        } while (!s_first.compare_exchange_weak(head, buffer, std::memory_order_release, std::memory_order_relaxed));
        return buffer;
    }

    std::uint32_t m_thread_number;
    std::int64_t m_pool;
    std::int64_t m_worker;
    std::atomic<chunk*> m_head{nullptr};
    chunk* m_tail = nullptr;  // owner only
    trace_buffer* m_next = nullptr;
    static inline std::atomic<trace_buffer*> s_first{nullptr};
};

/// Records [start, now) as a span named `name` on the calling thread, if tracing is on.
inline void record_span(const char* name, std::int64_t start_ns) noexcept {
    if (trace_buffer* buffer = trace_buffer::of_this_thread()) {
        buffer->record({start_ns, trace_now_ns() - start_ns, name});
    }
}

}  // namespace microtask::detail
