// microtask — per_worker.hpp
/// @file
/// Per-thread state for a pool's tasks: scratch buffers, random-number streams, counters
/// combined at the end (like oneTBB's combinable).
#pragma once

#include "concepts.hpp"
#include "detail/scheduler.hpp"
#include "thread_pool.hpp"

#include <concepts>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace microtask {

/// A factory for per_worker<T>: `make()` returns something a T can be made from.
template <class Make, class T>
concept state_factory = std::copy_constructible<Make> && std::invocable<const Make&> &&
                        std::constructible_from<T, std::invoke_result_t<const Make&>>;

/// One `T` per thread that works for `pool`: each worker, each outside thread that
/// calls local() (the thread that started a parallel call included, which works on it
/// too), made on that thread's first local() by the factory. Meant for state that is
/// expensive to make per task or per element: scratch buffers, RNG streams, partial
/// counts folded together at the end.
///
/// Determinism: which thread runs which elements depends on scheduling, so what each T
/// holds does too. A combined result is reproducible only if the combination is exactly
/// associative and commutative (integer sums, min, max, a histogram's bins); for a
/// floating-point sum or an ordered result use mt::fold or mt::map_reduce, whose
/// combination is fixed.
///
/// Thread-safety: local() from any thread, concurrently; the T it returns is the calling
/// thread's alone while the thread works on one task (an outside thread's T belongs to
/// the seat it holds in the pool during a parallel call, which another outside thread may
/// hold later: do not keep the reference beyond the task). combine, for_each, size and
/// clear must not run concurrently with local() or with each other.
template <class T>
class per_worker {
public:
    /// Values made by `T{}`. The pool must outlive this object. Throws std::bad_alloc.
    explicit per_worker(thread_pool& pool)
        requires std::default_initializable<T>
        : per_worker(pool, [] { return T{}; }) {}

    /// Values made by `make()`, called on the thread that first needs one (concurrently,
    /// on a shared copy of `make`). The pool must outlive this object. Throws
    /// std::bad_alloc.
    template <state_factory<T> Make>
    per_worker(thread_pool& pool, Make make)
        : m_sched(detail::pool_access::of(pool)),
          m_make([make = std::move(make)] { return T(make()); }),
          m_seats(m_sched.seat_count()) {}

    per_worker(const per_worker&) = delete;
    per_worker& operator=(const per_worker&) = delete;

    /// The calling thread's T, made on its first call. O(1) and lock-free on a thread
    /// with a seat in the pool (its workers, and outside threads inside a parallel call
    /// or after a submit); otherwise a lock and a search of the other threads' values.
    /// Throws what the factory throws (then no value is stored), std::bad_alloc.
    T& local() {
        if (const detail::seat* own = m_sched.current_seat(); own != nullptr && !own->is_private) {
            std::optional<T>& value = m_seats[own->index].value;
            // Only the seat's holder touches its value, so no synchronisation here.
            if (!value) value.emplace(m_make());
            return *value;
        }
        const std::thread::id me = std::this_thread::get_id();
        std::lock_guard lock(m_others_mutex);
        for (auto& other : m_others) {
            if (other->owner == me) return other->value;
        }
        m_others.push_back(std::make_unique<other_thread>(other_thread{me, m_make()}));
        return m_others.back()->value;
    }

    /// Calls `fn(value)` for every T made so far: the seats' in seat order, then other
    /// threads' in the order they were made. Throws what fn throws.
    template <class Fn>
        requires std::invocable<Fn&, T&>
    void for_each(Fn fn) {
        for (auto& seat : m_seats) {
            if (seat.value) std::invoke(fn, *seat.value);
        }
        for (auto& other : m_others) std::invoke(fn, other->value);
    }

    /// Folds every T made so far into `red.identity()`, in for_each's order (the values
    /// are copied, not consumed). Scheduling-dependent unless `red` is exactly associative
    /// and commutative (see the class comment). Throws what the reducer throws.
    template <reducer Red>
        requires reducer_for<Red, const T&>
    [[nodiscard]] typename Red::value_type combine(Red red) {
        typename Red::value_type acc = red.identity();
        for_each([&](T& value) { detail::accumulate_into(red, acc, std::as_const(value)); });
        return acc;
    }

    /// The number of T made so far. O(seats + other threads).
    [[nodiscard]] std::size_t size() const noexcept {
        std::size_t count = m_others.size();
        for (const auto& seat : m_seats) count += seat.value.has_value();
        return count;
    }

    /// Destroys every T; the next local() of each thread makes a new one.
    void clear() noexcept {
        for (auto& seat : m_seats) seat.value.reset();
        m_others.clear();
    }

private:
    // A cache line each: neighbouring workers update their values all the time.
    struct alignas(detail::k_cache_line) seat_value {
        std::optional<T> value;
    };
    struct other_thread {
        std::thread::id owner;
        T value;
    };

    detail::scheduler& m_sched;
    std::function<T()> m_make;
    std::vector<seat_value> m_seats;
    std::mutex m_others_mutex;
    std::vector<std::unique_ptr<other_thread>> m_others;
};

}  // namespace microtask
