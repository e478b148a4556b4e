// microtask — pipeline.hpp
/// @file
/// An ordered three-stage pipeline on a pool (the shape of most uses of oneTBB's
/// parallel_pipeline): a serial source, a parallel transform, a serial in-order sink,
/// with a bounded number of items in flight.
#pragma once

#include "distribute.hpp"
#include "range.hpp"
#include "thread_pool.hpp"

#include <concepts>
#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace microtask {

namespace detail {
template <class T>
struct is_optional : std::false_type {};
template <class T>
struct is_optional<std::optional<T>> : std::true_type {};
}  // namespace detail

/// A pipeline's first stage: `source()` returns a std::optional of the next item, or
/// std::nullopt when there are no more.
template <class Source>
concept pipeline_source = std::invocable<Source&> && detail::is_optional<std::invoke_result_t<Source&>>::value;

/// The item type a pipeline_source produces.
template <pipeline_source Source>
using pipeline_item_t = typename std::invoke_result_t<Source&>::value_type;

/// A pipeline's parallel stage for items of type `Item`: `transform(std::move(item))`
/// returns a movable object (not void).
template <class Transform, class Item>
concept pipeline_stage = std::invocable<Transform&, Item&&> && std::movable<std::invoke_result_t<Transform&, Item&&>>;

/// A pipeline's last stage for results of type `Result`: `sink(std::move(result))`.
template <class Sink, class Result>
concept pipeline_sink = std::invocable<Sink&, Result&&>;

/// Runs source -> transform -> sink on `pool` with at most `max_in_flight` items between
/// the source and the sink at any time:
///
///     mt::pipeline(pool, 16, read_next_block, compress, write_block);
///
/// - `source()` is called by one thread at a time, until it returns std::nullopt;
///   `transform(item)` concurrently on different items; `sink(result)` by one thread at a
///   time, in the order the source produced the items. So the output is the same as the
///   serial loop's, whatever the pool size.
/// - Memory: at most max_in_flight items and results exist at once (the bound that keeps
///   a fast source from running ahead of a slow sink).
/// - The threads that run it (up to pool.size() + 1, the caller included) block on a
///   condition variable while no stage can take them; a transform that itself waits on
///   the pool (a nested map_reduce) still works, but those blocked threads do not help it.
/// - Throws std::invalid_argument if max_in_flight < 1; otherwise the first exception a
///   stage threw, after every stage call in progress has finished (no further item is
///   read; items already read are dropped); std::bad_alloc.
template <class Source, class Transform, class Sink>
    requires pipeline_source<Source> && pipeline_stage<Transform, pipeline_item_t<Source>> &&
             pipeline_sink<Sink, std::invoke_result_t<Transform&, pipeline_item_t<Source>&&>>
void pipeline(thread_pool& pool, std::size_t max_in_flight, Source source, Transform transform, Sink sink) {
    using item = pipeline_item_t<Source>;
    using result = std::invoke_result_t<Transform&, item&&>;
    if (max_in_flight < 1) throw std::invalid_argument("microtask::pipeline: max_in_flight must be at least 1");

    // Everything below is guarded by `mutex`: the stages' own work runs unlocked.
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::optional<result>> ready(max_in_flight);  // result of item s at s % max_in_flight
    std::size_t next_read = 0;                                // sequence number of the next item the source makes
    std::size_t next_write = 0;                               // sequence number of the next result the sink takes
    bool source_busy = false;
    bool source_done = false;
    bool sink_busy = false;
    std::exception_ptr error;

    auto participate = [&](std::size_t) {
        std::unique_lock lock(mutex);
        for (;;) {
            if (error || (source_done && next_write == next_read)) break;
            std::optional<result>& head = ready[next_write % max_in_flight];
            if (!sink_busy && head) {
                result out = std::move(*head);
                head.reset();
                sink_busy = true;
                lock.unlock();
                try {
                    std::invoke(sink, std::move(out));
                } catch (...) {
                    lock.lock();
                    if (!error) error = std::current_exception();
                    sink_busy = false;
                    break;
                }
                lock.lock();
                sink_busy = false;
                ++next_write;
                changed.notify_all();
                continue;
            }
            if (!source_busy && !source_done && next_read - next_write < max_in_flight) {
                source_busy = true;
                const std::size_t sequence = next_read;
                lock.unlock();
                std::optional<item> in;
                std::optional<result> out;
                try {
                    in = std::invoke(source);
                    lock.lock();
                    source_busy = false;
                    if (!in) {
                        source_done = true;
                        changed.notify_all();
                        continue;
                    }
                    ++next_read;
                    changed.notify_all();  // another thread may read the next item meanwhile
                    lock.unlock();
                    out.emplace(std::invoke(transform, std::move(*in)));
                } catch (...) {
                    if (!lock.owns_lock()) lock.lock();
                    source_busy = false;
                    if (!error) error = std::current_exception();
                    break;
                }
                lock.lock();
                ready[sequence % max_in_flight] = std::move(out);
                changed.notify_all();
                continue;
            }
            changed.wait(lock);
        }
        changed.notify_all();  // the end or an error: nobody waits for this thread's work
    };
    distribute(pool, index_range<std::size_t>(0, pool.size() + 1), participate);
    if (error) std::rethrow_exception(error);
}

/// mt::pipeline on mt::default_pool().
template <class Source, class Transform, class Sink>
    requires pipeline_source<Source> && pipeline_stage<Transform, pipeline_item_t<Source>> &&
             pipeline_sink<Sink, std::invoke_result_t<Transform&, pipeline_item_t<Source>&&>>
void pipeline(std::size_t max_in_flight, Source source, Transform transform, Sink sink) {
    pipeline(default_pool(), max_in_flight, std::move(source), std::move(transform), std::move(sink));
}

}  // namespace microtask
