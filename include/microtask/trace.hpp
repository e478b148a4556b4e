// microtask — trace.hpp
/// @file
/// A timeline of what every thread ran, as a Chrome trace-event file (Perfetto,
/// chrome://tracing), switched on by MICROTASK_TRACE=path or at run time.
#pragma once

#include "detail/trace_buffer.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <stdexcept>
#include <string>

namespace microtask {

/// Starts recording a span for every task a pool's thread takes and runs (stolen forks,
/// submitted tasks, parts of a reduction) and for every trace_scope. Any thread; O(1).
/// Spans go to per-thread buffers, without locks; recording costs a clock read before and
/// after each task. While tracing is off, a task pays one predictable branch.
inline void start_tracing() noexcept { detail::g_tracing.store(true, std::memory_order_relaxed); }

/// Stops recording; what was recorded stays until the process ends. Any thread; O(1).
inline void stop_tracing() noexcept { detail::g_tracing.store(false, std::memory_order_relaxed); }

/// Marks a region of your own code as a span named `name` (a string literal, or any
/// string that outlives the trace) on the calling thread, e.g. one subtask:
///     mt::trace_scope span("decode tile");
/// Costs one branch while tracing is off. Not copyable.
class trace_scope {
public:
    /// Starts the span (reads the clock only while tracing is on).
    explicit trace_scope(const char* name) noexcept
        : m_name(name), m_start(detail::g_tracing.load(std::memory_order_relaxed) ? detail::trace_now_ns() : -1) {}
    trace_scope(const trace_scope&) = delete;
    trace_scope& operator=(const trace_scope&) = delete;
    ~trace_scope() {
        if (m_start >= 0) detail::record_span(m_name, m_start);
    }

private:
    const char* m_name;
    std::int64_t m_start;
};

/// Writes every span recorded so far, by every thread, to `path` as Chrome trace-event
/// JSON: `{"traceEvents": [...]}` with one complete event ("ph": "X", "ts" and "dur" in
/// microseconds, "pid", "tid") per span and a "thread_name" event per thread ("pool P
/// worker I", or "thread T" for a thread outside every pool). Safe while threads still
/// record (their newest spans may be missing). Returns the number of spans written.
/// Throws std::runtime_error naming the path if it cannot be written.
inline std::size_t write_trace(const std::string& path) {
    std::ofstream out(path);
    if (!out) throw std::runtime_error("microtask::write_trace: cannot open '" + path + "' for writing");
    std::size_t spans = 0;
    out << "{\"traceEvents\": [\n";
    bool first = true;
    const auto separator = [&] {
        if (!first) out << ",\n";
        first = false;
    };
    for (const detail::trace_buffer* buffer = detail::trace_buffer::first(); buffer != nullptr;
         buffer = buffer->next()) {
        const auto tid = buffer->thread_number();
        separator();
        out << "{\"name\": \"thread_name\", \"ph\": \"M\", \"pid\": 1, \"tid\": " << tid << ", \"args\": {\"name\": \"";
        if (buffer->worker() >= 0) {
            out << "pool " << buffer->pool() << " worker " << buffer->worker();
        } else {
            out << "thread " << tid;
        }
        out << "\"}}";
        buffer->for_each([&](const detail::trace_span& span) {
            separator();
            // Names are the library's own or the user's literals: escape quotes and
            // backslashes so that any of them stays valid JSON.
            std::string name;
            for (const char* c = span.name; *c != '\0'; ++c) {
                if (*c == '"' || *c == '\\') name += '\\';
                name += *c;
            }
            char times[96];
            std::snprintf(times, sizeof times, "\"ts\": %.3f, \"dur\": %.3f", static_cast<double>(span.start_ns) / 1e3,
                          static_cast<double>(span.duration_ns) / 1e3);
            out << "{\"name\": \"" << name << "\", \"ph\": \"X\", " << times << ", \"pid\": 1, \"tid\": " << tid << "}";
            ++spans;
        });
    }
    out << "\n]}\n";
    out.flush();
    if (!out) throw std::runtime_error("microtask::write_trace: writing '" + path + "' failed");
    return spans;
}

namespace detail {
/// MICROTASK_TRACE=path: tracing from the first pool's construction, written to path at
/// exit. Read once per process.
inline void trace_from_environment() {
    static std::once_flag once;
    std::call_once(once, [] {
        const char* path = std::getenv("MICROTASK_TRACE");
        if (path == nullptr || *path == '\0') return;
        static const std::string where = path;
        start_tracing();
        std::atexit([] {
            try {
                write_trace(where);
            } catch (const std::exception& error) {
                std::fprintf(stderr, "%s\n", error.what());
            }
        });
    });
}
}  // namespace detail

}  // namespace microtask
