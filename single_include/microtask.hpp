// microtask 0.1.0 — single-header edition.
//
// GENERATED FILE: do not edit. It is include/microtask/microtask.hpp with every
// microtask header it includes inlined once, in dependency order, by
// scripts/amalgamate from microtask 0.1.0 (include/microtask/version.hpp).
// To regenerate: scripts/amalgamate   To check it is current: scripts/amalgamate --check
//
// Usage: copy this one file into your project, `#include "microtask.hpp"`, compile
// as C++20 and link with -pthread. Documentation: docs/ in the microtask repository.
// Not in this file: <microtask/mpi.hpp> (map_reduce across MPI ranks), which needs MPI;
// use include/microtask/ with mpicxx or the CMake target microtask::mpi (docs/distributed.md).
//
// MIT License
//
// Copyright (c) 2026 The microtask developers
//
// Permission is hereby granted, free of charge, to any person obtaining a copy
// of this software and associated documentation files (the "Software"), to deal
// in the Software without restriction, including without limitation the rights
// to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
// copies of the Software, and to permit persons to whom the Software is
// furnished to do so, subject to the following conditions:
//
// The above copyright notice and this permission notice shall be included in all
// copies or substantial portions of the Software.
//
// THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
// IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
// FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
// AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
// LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
// OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
// SOFTWARE.

#pragma once

// ---- include/microtask/microtask.hpp ----------------------------------------
// microtask — microtask.hpp
/// @file
/// The umbrella header: decompose a job, distribute it over a work-stealing pool, reduce
/// the partial results. Users write `namespace mt = microtask;`.
/// Each header also compiles on its own, so including only the ones used is fine. The
/// whole library is also one generated file, `single_include/microtask.hpp` (see
/// docs/getting-started.md).

// ---- include/microtask/cancellation.hpp -------------------------------------
// microtask — cancellation.hpp
/// @file
/// How to ask an operation to stop, and what a cancelled operation throws. The
/// vocabulary is C++20's own: pass an mt::stop_token — which is std::stop_token itself
/// wherever the standard library has it — from a stop_source you keep, a std::jthread's,
/// or an mt::deadline's, to map_reduce, reduce, fold, for_each, distribute, the searches
/// of find.hpp, a task_group or thread_pool::submit.
///
/// An operation checks its token before it starts (a stopped token: nothing runs) and
/// before every leaf and inner node of its tree (distribute: every part), so a stop
/// prunes whole subtrees and takes effect within about one leaf; never per element, so a
/// token that is never stopped costs nothing measurable. The first exception of a leaf
/// skips the remaining leaves on its own, with or without a token; it never stops the
/// caller's token.

#include <exception>
#include <version>

#if defined(__cpp_lib_jthread)
#include <stop_token>
#else
#include <atomic>
#include <memory>
#endif

namespace microtask {

#if defined(__cpp_lib_jthread)
/// The token an operation polls to learn that its caller wants it to stop: exactly
/// std::stop_token (and stop_source std::stop_source) on every standard library that has
/// them — libstdc++ 10 and later, MSVC, the libc++ releases that ship it — so a std::stop_token, a
/// std::jthread's or a std::stop_source's, passes straight in.
using stop_token = std::stop_token;
/// See stop_token: std::stop_source where the standard library has it.
using stop_source = std::stop_source;
#else
class stop_source;

/// Stand-in for std::stop_token on a standard library without it (such as libc++ 14):
/// the same members an operation needs — stop_requested(), stop_possible() — and the
/// same sharing: copies of a token and of its stop_source see one stop state. Stop
/// callbacks are not offered. Thread-safe as std::stop_token; never throws.
class stop_token {
public:
    /// A token that can never be stopped.
    stop_token() noexcept = default;
    /// True once request_stop() was called on the source it came from.
    [[nodiscard]] bool stop_requested() const noexcept {
        // acquire: pairs with request_stop()'s release, so the caller's writes before it
        // are visible to whoever sees the stop.
        return m_state && m_state->load(std::memory_order_acquire);
    }
    /// False for a default-constructed token: nothing can ever stop it.
    [[nodiscard]] bool stop_possible() const noexcept { return m_state != nullptr; }
    friend bool operator==(const stop_token&, const stop_token&) noexcept = default;

private:
    friend class stop_source;
    explicit stop_token(std::shared_ptr<std::atomic<bool> > state) noexcept : m_state(std::move(state)) {}
    std::shared_ptr<std::atomic<bool> > m_state;
};

/// Stand-in for std::stop_source (see stop_token). Throws std::bad_alloc from its
/// constructor only; everything else never throws.
class stop_source {
public:
    /// A new stop state, not stopped.
    stop_source() : m_state(std::make_shared<std::atomic<bool> >(false)) {}
    /// A token sharing this source's stop state.
    [[nodiscard]] stop_token get_token() const noexcept { return stop_token(m_state); }
    /// Stops every token of this source. Returns false if it was stopped already.
    bool request_stop() noexcept {
        // release: see stop_token::stop_requested.
        return !m_state->exchange(true, std::memory_order_acq_rel);
    }
    /// True once request_stop() was called.
    [[nodiscard]] bool stop_requested() const noexcept { return m_state->load(std::memory_order_acquire); }
    /// Always true: a source can always be stopped.
    [[nodiscard]] bool stop_possible() const noexcept { return true; }

private:
    std::shared_ptr<std::atomic<bool> > m_state;
};
#endif

/// Thrown to the caller of an operation whose std::stop_token was stopped before all of
/// its work had started. By then every leaf or task the operation had started has run to
/// its end, the ones it had not started were skipped, and the pool is ready for more
/// work: the caller never sees a partial result, and nothing of the operation runs after
/// this exception reaches it.
///
/// An operation whose token is stopped only after all its work has started returns its
/// complete result as usual. If a leaf or task also threw, that exception is the one
/// rethrown (it is the real error; the stop may even be the caller's reaction to it).
class operation_cancelled : public std::exception {
public:
    /// "microtask: operation cancelled". Never throws.
    [[nodiscard]] const char* what() const noexcept override { return "microtask: operation cancelled"; }
};

}  // namespace microtask

// ---- include/microtask/concepts.hpp -----------------------------------------
// microtask — concepts.hpp
/// @file
/// The requirements the public entry points check, named so that a compiler error says
/// which one a type failed.

#include <concepts>
#include <cstddef>
#include <functional>
#include <ranges>
#include <type_traits>
#include <utility>

namespace microtask {

/// A reducer names the type it reduces: `typename R::value_type`, a movable object type.
template <class R>
concept names_value_type = requires { typename R::value_type; } && std::movable<typename R::value_type>;

/// `r.identity()` on a `const R` gives the neutral element, convertible to value_type.
template <class R>
concept has_identity = names_value_type<R> && requires(const R& r) {
    { r.identity() } -> std::convertible_to<typename R::value_type>;
};

/// The in-place form of combine, preferred by the engine whenever a reducer offers it:
/// `void combine(value_type& left, value_type&& right) const` makes `left` the result and
/// may take `right`'s resources (concat appends to `left`, a histogram adds `right`'s bins
/// into `left`'s). It must return void: that is how it is told apart from the by-value form.
template <class R>
concept combines_in_place =
    names_value_type<R> && requires(const R& r, typename R::value_type& left, typename R::value_type&& right) {
        { r.combine(left, std::move(right)) } -> std::same_as<void>;
    };

/// The by-value form of combine, fine for small value types (arithmetic, small structs):
/// `value_type combine(value_type a, value_type b) const`, returning the result.
template <class R>
concept combines_by_value =
    names_value_type<R> && requires(const R& r, typename R::value_type a, typename R::value_type b) {
        { r.combine(std::move(a), std::move(b)) } -> std::convertible_to<typename R::value_type>;
    };

/// A reducer: a monoid over `R::value_type`.
///
/// Valid expressions, for `const R r`, `typename R::value_type a, b` and `value_type& acc`:
///   - `r.identity()` -> convertible to value_type (see has_identity);
///   - either `r.combine(acc, std::move(b))` -> void, which leaves combine(acc, b) in `acc`
///     (combines_in_place, preferred), or `r.combine(std::move(a), std::move(b))` ->
///     convertible to value_type (combines_by_value). Both must be const members: the
///     engine calls them on a shared const reducer.
/// Semantic requirements the compiler cannot check:
///   - associativity: combine(combine(a, b), c) == combine(a, combine(b, c));
///   - identity: combine(identity(), a) == a == combine(a, identity());
///   - combine and identity may be called concurrently (combine on distinct values).
/// Commutativity is never assumed: partial results are always combined in input order.
/// Optional: `static constexpr bool is_exactly_associative = true;` declares that
/// combine is associative bit for bit (integer sum, concat, min, max). Either way the
/// result never depends on timing or thread count: with the declaration, leaves are
/// folded left to right into one accumulator per run of leaves a thread takes; without
/// it (e.g. floating-point sum), over the canonical tree fixed by size and policy.
/// Declaring it for an operation that is not exactly associative breaks that guarantee.
template <class R>
concept reducer = std::copy_constructible<R> && names_value_type<R> && has_identity<R> &&
                  (combines_in_place<R> || combines_by_value<R>);

/// `void r.accumulate(value_type& acc, T&& t) const` folds a mapped value straight into
/// an accumulator, with no value_type built for it first (concat appends one element;
/// a histogram counts one bin; a map counts one key). Preferred by the engine over every
/// other way of folding a T.
template <class R, class T>
concept accumulates_in_place = names_value_type<R> && requires(const R& r, typename R::value_type& acc, T&& t) {
    { r.accumulate(acc, std::forward<T>(t)) } -> std::same_as<void>;
};

/// `r.accumulate(std::move(acc), t)` -> value_type: the by-value form of accumulate. It
/// moves the accumulator in and out once per element: prefer accumulates_in_place.
template <class R, class T>
concept accumulates_by_value = names_value_type<R> && requires(const R& r, typename R::value_type acc, T&& t) {
    { r.accumulate(std::move(acc), std::forward<T>(t)) } -> std::convertible_to<typename R::value_type>;
};

/// A reducer that can fold a `T` straight into an accumulator, in place or by value.
/// Semantic requirement: `accumulate(acc, t)` gives the same result as combining `acc`
/// with the value `t` stands for.
template <class R, class T>
concept accumulates = reducer<R> && (accumulates_in_place<R, T> || accumulates_by_value<R, T>);

/// A reducer for the values a map function returns (`T`): either a T converts to the
/// reducer's value_type, or the reducer accumulates a T directly.
template <class R, class T>
concept reducer_for = reducer<R> && (std::convertible_to<T, typename R::value_type> || accumulates<R, T>);

/// A map function for elements of type `Element`: invocable, and not returning void
/// (a function whose result is reduced must produce one; use for_each for side effects).
template <class F, class Element>
concept map_function = std::invocable<F&, Element> && (!std::is_void_v<std::invoke_result_t<F&, Element>>);

/// A callable whose result microtask stores and hands back (join, thread_pool::submit,
/// distribute): invocable with `Args...`, returning void or an object type. A reference
/// cannot be stored: return a pointer or std::reference_wrapper instead.
template <class F, class... Args>
concept value_task = std::invocable<F&, Args...> && (std::is_void_v<std::invoke_result_t<F&, Args...>> ||
                                                     std::is_object_v<std::invoke_result_t<F&, Args...>>);

/// A range map_reduce, for_each and decompose can split in O(1): random access with a
/// known size.
template <class R>
concept splittable_range = std::ranges::random_access_range<R> && std::ranges::sized_range<R>;

/// A user decomposer for a job that is not a range: `d(job)` returns the subtasks as a
/// sized range (e.g. std::vector<Subtask>).
template <class D, class Job>
concept decomposer = std::invocable<D&, const Job&> && std::ranges::sized_range<std::invoke_result_t<D&, const Job&>>;

namespace detail {
/// combine(left, right) into `left`, whichever form the reducer's combine has. Inline and
/// branch-free: it is on the fold's per-leaf path.
template <class R>
constexpr void combine_into(const R& r, typename R::value_type& left, typename R::value_type&& right) {
    if constexpr (combines_in_place<R>) {
        r.combine(left, std::move(right));
    } else {
        left = r.combine(std::move(left), std::move(right));
    }
}

/// Folds one mapped value into an accumulator, in the cheapest way the reducer offers:
/// its in-place accumulate; else combine with the value converted to value_type; else its
/// by-value accumulate. Called once per element: must inline.
template <class R, class T>
constexpr void accumulate_into(const R& r, typename R::value_type& acc, T&& mapped) {
    using value_type = typename R::value_type;
    if constexpr (accumulates_in_place<R, T>) {
        r.accumulate(acc, std::forward<T>(mapped));
    } else if constexpr (std::convertible_to<T, value_type>) {
        if constexpr (combines_in_place<R>) {
            r.combine(acc, value_type(std::forward<T>(mapped)));
        } else {
            acc = r.combine(std::move(acc), std::forward<T>(mapped));
        }
    } else {
        acc = r.accumulate(std::move(acc), std::forward<T>(mapped));
    }
}

template <class R>
constexpr bool exactly_associative() {
    if constexpr (requires { R::is_exactly_associative; }) {
        return static_cast<bool>(R::is_exactly_associative);
    } else {
        return false;
    }
}
}  // namespace detail

}  // namespace microtask

// ---- include/microtask/counting.hpp -----------------------------------------
// microtask — counting.hpp
/// @file
/// Reducers for the collector's everyday jobs, all in place: element-wise sums of arrays
/// (histograms, per-bin counts) and merges of maps (word counts, group-by sums).


#include <array>
#include <concepts>
#include <cstddef>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace microtask {

/// A container elementwise_sum can add up: default-constructible, sized, and indexable
/// with elements that support `+=` (std::array, std::vector, std::valarray, ...).
template <class C>
concept elementwise_addable =
    std::default_initializable<C> && std::movable<C> && requires(C& c, const C& d, std::size_t i) {
        { c.size() } -> std::convertible_to<std::size_t>;
        c[i] += d[i];
    };

namespace detail {
template <class C>
concept fixed_size_container = requires { std::tuple_size<C>::value; };

template <class C>
[[noreturn]] void throw_size_mismatch(const char* what, std::size_t left, std::size_t right) {
    throw std::invalid_argument(std::string("microtask::elementwise_sum: ") + what + " (" + std::to_string(left) +
                                " and " + std::to_string(right) + " elements)");
}
}  // namespace detail

/// Element-wise sum of equally sized arrays; identity is an array of `size` zeros (for
/// std::array, its static size). In place: combine adds the right array into the left
/// one, and accumulate either adds a whole array or counts one bin (`++acc[bin]`), so a
/// histogram needs no array per element:
/// `mt::reduce(pool, bytes, mt::histogram<256>{})` counts each byte in its bin.
///
/// An empty array of a resizable type counts as the identity (so
/// `elementwise_sum<std::vector<long>>{}` accepts vectors of any one length).
/// Exactly associative for integral elements (counts); floating-point elements are
/// combined over the canonical tree, and stay deterministic.
template <elementwise_addable C>
class elementwise_sum {
public:
    /// The array reduced and returned.
    using value_type = C;
    /// The type of one element (one bin).
    using element_type = std::remove_cvref_t<decltype(std::declval<C&>()[std::size_t{}])>;
    /// True for integral elements: integer addition is associative bit for bit.
    static constexpr bool is_exactly_associative = std::is_integral_v<element_type>;

    /// For std::array-like C: arrays of the static size. O(1).
    constexpr elementwise_sum() noexcept
        requires detail::fixed_size_container<C>
    = default;
    /// For resizable C: arrays of `size` elements (0: any one length, see above). O(1).
    constexpr explicit elementwise_sum(std::size_t size = 0) noexcept
        requires(!detail::fixed_size_container<C>) && std::constructible_from<C, std::size_t>
        : m_size(size) {}

    /// `size` value-initialised (zero) elements. O(size); throws std::bad_alloc.
    [[nodiscard]] C identity() const {
        if constexpr (detail::fixed_size_container<C>) {
            return C{};
        } else {
            return C(m_size);
        }
    }
    /// left[i] += right[i] for every i. O(size). Throws std::invalid_argument if both are
    /// non-empty and their sizes differ. Any thread.
    void combine(C& left, C&& right) const {
        if constexpr (!detail::fixed_size_container<C>) {
            if (right.size() == 0) return;
            if (left.size() == 0) {
                left = std::move(right);
                return;
            }
        }
        add(left, right);
    }
    /// Adds a whole array into `acc` without copying it first. O(size); throws as combine.
    void accumulate(C& acc, const C& x) const {
        if constexpr (!detail::fixed_size_container<C>) {
            if (x.size() == 0) return;
            if (acc.size() == 0) {
                acc = x;
                return;
            }
        }
        add(acc, x);
    }
    /// Counts one in bin `bin`: `++acc[bin]`. O(1). Throws std::out_of_range if `bin` is
    /// negative or not below the array's size.
    template <std::integral Bin>
        requires(!std::same_as<Bin, bool>)
    void accumulate(C& acc, Bin bin) const {
        if (!std::in_range<std::size_t>(bin) || static_cast<std::size_t>(bin) >= acc.size()) {
            throw std::out_of_range("microtask::elementwise_sum: bin " + std::to_string(bin) + " is outside [0, " +
                                    std::to_string(acc.size()) + ")");
        }
        ++acc[static_cast<std::size_t>(bin)];
    }

private:
    static void add(C& left, const C& right) {
        const std::size_t size = left.size();
        if (size != static_cast<std::size_t>(right.size())) {
            detail::throw_size_mismatch<C>("partial results differ in size", size, right.size());
        }
        for (std::size_t i = 0; i < size; ++i) left[i] += right[i];
    }

    std::size_t m_size = 0;
};

/// A histogram of `Bins` bins: map each element to its bin index (an integer) and reduce
/// with `mt::histogram<Bins>{}` to get a `std::array<Count, Bins>` of counts.
template <std::size_t Bins, class Count = std::size_t>
using histogram = elementwise_sum<std::array<Count, Bins>>;

/// A map merge_maps can merge: std::map, std::unordered_map or alike (try_emplace, find).
template <class M>
concept mergeable_map = std::default_initializable<M> && std::movable<M> &&
                        requires(M& m, const typename M::key_type& k, typename M::mapped_type v) {
                            m.try_emplace(k, std::move(v));
                            m.find(k);
                            { m.size() } -> std::convertible_to<std::size_t>;
                            { m.empty() } -> std::convertible_to<bool>;
                        };

/// Merges maps key by key; a key present in both gets `op(left value, right value)`
/// (default: +). Identity: the empty map. In place: the smaller map's entries move into
/// the larger one (node by node where the map supports extract, allocating nothing), and
/// the order of op's operands is kept, so op need not be commutative.
/// accumulate also takes one `{key, value}` pair (anything with .first and .second).
/// Exactly associative when the values are integers added with +; otherwise the
/// canonical tree is used (deterministic).
template <mergeable_map Map, class Op = std::plus<>>
    requires std::copy_constructible<Op> &&
             std::convertible_to<std::invoke_result_t<const Op&, typename Map::mapped_type, typename Map::mapped_type>,
                                 typename Map::mapped_type>
struct merge_maps {
    /// The map reduced and returned.
    using value_type = Map;
    /// True for integral values combined with std::plus.
    static constexpr bool is_exactly_associative =
        std::is_integral_v<typename Map::mapped_type> &&
        (std::same_as<Op, std::plus<>> || std::same_as<Op, std::plus<typename Map::mapped_type>>);

    /// How two values of one key combine.
    [[no_unique_address]] Op op{};

    /// An empty map. O(1).
    [[nodiscard]] Map identity() const { return Map{}; }
    /// Merges `right` into `left`. O(min(size) × lookup). Throws what the map's insertion
    /// and `op` throw. Any thread.
    void combine(Map& left, Map&& right) const {
        if (left.empty()) {
            left = std::move(right);
        } else if (left.size() >= right.size()) {
            merge_into(left, right, /*small_is_left=*/false);
        } else {
            merge_into(right, left, /*small_is_left=*/true);
            left = std::move(right);
        }
    }
    /// Adds one `{key, value}` pair. O(lookup); throws what insertion and `op` throw.
    template <class Pair>
        requires std::constructible_from<typename Map::key_type, decltype((std::declval<Pair>().first))> &&
                 std::constructible_from<typename Map::mapped_type, decltype((std::declval<Pair>().second))>
    void accumulate(Map& acc, Pair&& entry) const {
        auto [it, inserted] =
            acc.try_emplace(typename Map::key_type(std::forward<Pair>(entry).first), std::forward<Pair>(entry).second);
        if (!inserted) it->second = std::invoke(op, std::move(it->second), std::forward<Pair>(entry).second);
    }

private:
    // Moves the entries of `small` into `big`; a shared key's value is op(left, right)
    // in the caller's operand order.
    void merge_into(Map& big, Map& small, bool small_is_left) const {
        for (auto it = small.begin(); it != small.end();) {
            auto found = big.find(it->first);
            if (found == big.end()) {
                if constexpr (requires { big.insert(small.extract(it)); }) {
                    auto next = std::next(it);
                    big.insert(small.extract(it));
                    it = next;
                    continue;
                } else {
                    big.try_emplace(it->first, std::move(it->second));
                }
            } else if (small_is_left) {
                found->second = std::invoke(op, std::move(it->second), std::move(found->second));
            } else {
                found->second = std::invoke(op, std::move(found->second), std::move(it->second));
            }
            ++it;
        }
    }
};

/// Counts how often each key occurs: map each element to its key and reduce with
/// `mt::count_keys<std::unordered_map<std::string, std::size_t>>{}` (a word count). A key
/// of another type is used to look up first where the map allows (transparent hash or
/// comparison), and converted to key_type only for a new entry; so a std::string_view key
/// into a map of std::string allocates once per distinct word. Merges as merge_maps.
template <mergeable_map Map>
    requires std::integral<typename Map::mapped_type>
struct count_keys : merge_maps<Map> {
    using merge_maps<Map>::accumulate;
    /// ++acc[key]. O(lookup); throws what insertion throws.
    template <class Key>
        requires std::constructible_from<typename Map::key_type, Key&&> && (!requires(Key&& k) { k.first; })
    void accumulate(Map& acc, Key&& key) const {
        // Look up with the key as it is only where that is a real heterogeneous lookup
        // (transparent hash or comparison), not a conversion to key_type in disguise.
        if constexpr (!std::convertible_to<Key&&, typename Map::key_type> && requires { acc.find(key); }) {
            if (auto it = acc.find(key); it != acc.end()) {
                ++it->second;
                return;
            }
            acc.try_emplace(typename Map::key_type(std::forward<Key>(key)), 1);
        } else {
            ++acc[typename Map::key_type(std::forward<Key>(key))];
        }
    }
};

}  // namespace microtask

// ---- include/microtask/deadline.hpp -----------------------------------------
// microtask — deadline.hpp
/// @file
/// A time limit for any operation that takes a stop_token.


#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace microtask {

/// A stop_source that a timer stops at a point in time: pass token() to map_reduce,
/// find_first, a task_group, ... and the operation throws mt::operation_cancelled if it
/// is still running then.
///
///     mt::deadline limit(std::chrono::milliseconds(50));
///     auto hit = mt::find_first(pool, data, is_match, limit.token());
///
/// - The timer is one thread that sleeps until the deadline (or until the deadline
///   object is destroyed, whichever comes first): the constructor costs a thread start
///   (tens of microseconds), so give deadlines to operations, not to tiny tasks.
/// - request_stop() stops the token early, as the timer would (for a "cancel" button
///   next to the time limit).
/// - Thread-safety: token(), request_stop() and expired() from any thread. The
///   destructor stops the timer (not the token) and joins it; tokens taken from it stay
///   valid (they share the stop state) but the timer no longer stops them.
/// - Throws std::system_error if the timer thread cannot be started.
class deadline {
public:
    /// Stops token() at `when` on the steady clock.
    explicit deadline(std::chrono::steady_clock::time_point when) : m_timer([this, when] { sleep_until(when); }) {}

    /// Stops token() `timeout` from now.
    template <class Rep, class Period>
    explicit deadline(std::chrono::duration<Rep, Period> timeout)
        : deadline(std::chrono::steady_clock::now() + std::chrono::ceil<std::chrono::steady_clock::duration>(timeout)) {
    }

    deadline(const deadline&) = delete;
    deadline& operator=(const deadline&) = delete;
    /// Stops the timer early (without stopping the token) and joins it. Never throws.
    ~deadline() {
        {
            std::lock_guard lock(m_mutex);
            m_destroying = true;
        }
        m_wake.notify_one();
        m_timer.join();
    }

    /// The token the timer stops. Copies share the state and may outlive the deadline.
    [[nodiscard]] stop_token token() const noexcept { return m_source.get_token(); }

    /// Stops the token now. Returns false if it was already stopped. Never throws.
    bool request_stop() noexcept { return m_source.request_stop(); }

    /// True once the token is stopped (by the timer or request_stop()).
    [[nodiscard]] bool expired() const noexcept { return m_source.stop_requested(); }

private:
    void sleep_until(std::chrono::steady_clock::time_point when) {
        std::unique_lock lock(m_mutex);
        // Returns early only when the deadline object is being destroyed.
        if (!m_wake.wait_until(lock, when, [this] { return m_destroying; })) m_source.request_stop();
    }

    // Declared before the timer: the timer thread uses them, so they must be built before
    // the thread starts and destroyed after it is joined. (No std::jthread: libc++ 14 has
    // none.)
    stop_source m_source;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    bool m_destroying = false;  // guarded by m_mutex
    std::thread m_timer;
};

}  // namespace microtask

// ---- include/microtask/decompose.hpp ----------------------------------------
// microtask — decompose.hpp
/// @file
/// Step one of decompose / distribute / reduce: cut a job into subtasks.

// ---- include/microtask/partition.hpp ----------------------------------------
// microtask — partition.hpp
/// @file
/// Decomposition policies: how a range of n elements is cut into leaves (subtasks).
/// The leaf boundaries depend only on n and the policy, never on timing or thread count:
/// that is what makes every reduction deterministic. When the leaves cannot all be
/// equal, the first n % leaves get one element more.

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace microtask {

namespace detail {
template <std::integral Count>
std::size_t checked_positive(Count value, const char* what) {
    if (value < 1) {
        throw std::invalid_argument(std::string("microtask::") + what + " must be at least 1 (got " +
                                    std::to_string(value) + ")");
    }
    return static_cast<std::size_t>(value);
}
}  // namespace detail

/// Leaves of at most `size` elements, as nearly equal as possible; every leaf is a
/// subtask. Throws std::invalid_argument if size < 1.
struct grain {
    /// Leaves of at most `max_size` elements. Throws std::invalid_argument if
    /// max_size < 1 (negative values included). O(1).
    template <std::integral Size>
    explicit grain(Size max_size) : size(detail::checked_positive(max_size, "grain: grain size")) {}
    /// Number of leaves for a range of `n` elements: ceil(n / size). O(1), never throws.
    [[nodiscard]] std::size_t leaf_count(std::size_t n) const noexcept { return n / size + (n % size != 0); }
    /// False: every leaf is a subtask, whether or not a worker is idle.
    static constexpr bool splits_on_demand = false;
    /// The maximum number of elements per leaf (at least 1).
    std::size_t size;
};

/// `count` nearly equal leaves (fewer if the range is shorter); every leaf is a subtask.
/// Throws std::invalid_argument if count < 1.
struct chunks {
    /// `chunk_count` leaves. Throws std::invalid_argument if chunk_count < 1 (negative
    /// values included). O(1).
    template <std::integral Count>
    explicit chunks(Count chunk_count) : count(detail::checked_positive(chunk_count, "chunks: chunk count")) {}
    /// Number of leaves for a range of `n` elements: min(n, count). O(1), never throws.
    [[nodiscard]] std::size_t leaf_count(std::size_t n) const noexcept { return std::min(n, count); }
    /// False: every leaf is a subtask, whether or not a worker is idle.
    static constexpr bool splits_on_demand = false;
    /// The requested number of leaves (at least 1).
    std::size_t count;
};

/// The default: up to `max_leaves` canonical leaves, split into subtasks only on demand
/// (when a worker is idle to take one), and run inline without any split when the whole
/// job finishes sooner than a wake-up would take. Nothing to tune.
struct adaptive {
    /// The most leaves a range is cut into; a longer range gets longer leaves.
    static constexpr std::size_t max_leaves = 2048;
    /// Number of canonical leaves for a range of `n` elements: min(n, max_leaves). O(1),
    /// never throws.
    [[nodiscard]] std::size_t leaf_count(std::size_t n) const noexcept { return std::min(n, max_leaves); }
    /// True: leaves become subtasks only when an idle worker takes them.
    static constexpr bool splits_on_demand = true;
};

/// Where a parallel call was written: the last, defaulted parameter of map_reduce,
/// reduce, for_each and fold, filled in at the caller's line. adaptive remembers the cost
/// of one element per call site (and per instantiation), so that a cheap call elsewhere
/// through the same function type never makes this one run inline; a site's estimate is
/// re-measured one call in 64. Never pass it yourself.
struct call_site {
    /// The caller's file name (its address serves as part of the key).
    const char* file = __builtin_FILE();
    /// The caller's line.
    unsigned line = __builtin_LINE();
};

/// One of grain, chunks, adaptive; user-defined policies are not supported.
template <class P>
concept partition_policy = std::is_same_v<P, grain> || std::is_same_v<P, chunks> || std::is_same_v<P, adaptive>;

namespace detail {
/// Start of leaf `i` of `leaves` over n elements: the first n % leaves leaves get one
/// extra element. Overflow-free for any n.
constexpr std::size_t leaf_begin(std::size_t i, std::size_t n, std::size_t leaves) noexcept {
    const std::size_t q = n / leaves;
    const std::size_t r = n % leaves;
    return i * q + std::min(i, r);
}
}  // namespace detail

}  // namespace microtask

// ---- include/microtask/range.hpp --------------------------------------------
// microtask — range.hpp
/// @file
/// Index ranges to decompose.

#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace microtask {

namespace detail {
/// value + n and value - n computed modulo 2^64 and converted back to T (well defined
/// since C++20). An index range may span more than T's maximum (iota(INT_MIN, INT_MAX)
/// has 2^32 - 1 elements), so adding an offset in T itself could overflow, which is UB
/// for signed T; the result is always a valid index of the range, so the wrap is exact.
template <std::integral T, std::integral N>
constexpr T wrapping_add(T value, N n) noexcept {
    return static_cast<T>(static_cast<std::uintmax_t>(value) + static_cast<std::uintmax_t>(n));
}
template <std::integral T, std::integral N>
constexpr T wrapping_sub(T value, N n) noexcept {
    return static_cast<T>(static_cast<std::uintmax_t>(value) - static_cast<std::uintmax_t>(n));
}
}  // namespace detail

/// The half-open index range [first, last) of an integer type: a random-access, sized,
/// borrowed view whose elements are the indices themselves (like std::views::iota, which
/// clang 14 cannot compile with libstdc++ 12's `<ranges>`, hence this small type of ours;
/// for the same reason it derives from view_base, not view_interface).
/// O(1) to copy, split and index; no member throws. Any thread. A range may hold more
/// elements than T's maximum (iota(INT_MIN, INT_MAX) has 2^32 - 1): size() and indexing
/// stay exact. Being borrowed, `decompose(mt::iota(...))` may return parts that outlive
/// the temporary.
template <std::integral T>
class index_range : public std::ranges::view_base {
public:
    /// A random-access iterator whose value is the index itself (dereferencing yields a
    /// T by value, not a reference). Every operation is O(1) and noexcept; any thread.
    class iterator {
    public:
        /// The index type.
        using value_type = T;
        /// Signed distance between two iterators.
        using difference_type = std::ptrdiff_t;
        /// T by value: there is no stored element to refer to.
        using reference = T;
        /// Random access (C++20 iterator concepts).
        using iterator_concept = std::random_access_iterator_tag;
        /// Random access (legacy iterator requirements).
        using iterator_category = std::random_access_iterator_tag;

        /// An iterator at index T{}.
        constexpr iterator() noexcept = default;
        /// An iterator at index `value`.
        constexpr explicit iterator(T value) noexcept : m_value(value) {}

        /// The current index.
        constexpr T operator*() const noexcept { return m_value; }
        /// The index `n` steps ahead.
        constexpr T operator[](difference_type n) const noexcept { return detail::wrapping_add(m_value, n); }

        /// Next index.
        constexpr iterator& operator++() noexcept {
            ++m_value;
            return *this;
        }
        /// Next index; returns the previous position.
        constexpr iterator operator++(int) noexcept {
            iterator old = *this;
            ++m_value;
            return old;
        }
        /// Previous index.
        constexpr iterator& operator--() noexcept {
            --m_value;
            return *this;
        }
        /// Previous index; returns the previous position.
        constexpr iterator operator--(int) noexcept {
            iterator old = *this;
            --m_value;
            return old;
        }
        /// Advances by `n` (which may be negative).
        constexpr iterator& operator+=(difference_type n) noexcept {
            m_value = detail::wrapping_add(m_value, n);
            return *this;
        }
        /// Moves back by `n` (which may be negative).
        constexpr iterator& operator-=(difference_type n) noexcept {
            m_value = detail::wrapping_sub(m_value, n);
            return *this;
        }

        friend constexpr iterator operator+(iterator it, difference_type n) noexcept { return it += n; }
        friend constexpr iterator operator+(difference_type n, iterator it) noexcept { return it += n; }
        friend constexpr iterator operator-(iterator it, difference_type n) noexcept { return it -= n; }
        friend constexpr difference_type operator-(iterator a, iterator b) noexcept {
            return static_cast<difference_type>(a.m_value) - static_cast<difference_type>(b.m_value);
        }
        // Written out, not defaulted: with the defaulted operator g++ 12 predicted a
        // range-for over a part to run about twice and compiled it as a cold loop.
        friend constexpr bool operator==(iterator a, iterator b) noexcept { return a.m_value == b.m_value; }
        friend constexpr auto operator<=>(iterator a, iterator b) noexcept = default;

    private:
        T m_value{};
    };

    /// The empty range [T{}, T{}).
    constexpr index_range() noexcept = default;
    /// The range [first, last). Precondition: first <= last (unchecked here; mt::iota
    /// checks it and throws).
    constexpr index_range(T first, T last) noexcept : m_first(first), m_last(last) {}

    /// Iterator at `first`. O(1).
    constexpr iterator begin() const noexcept { return iterator(m_first); }
    /// Iterator at `last`. O(1).
    constexpr iterator end() const noexcept { return iterator(m_last); }
    /// last - first. O(1).
    constexpr std::size_t size() const noexcept {
        // In the unsigned type: last - first may exceed T's maximum (iota(INT_MIN, INT_MAX)
        // has 2^32 - 1 elements), where a signed subtraction would overflow (UB).
        if constexpr (std::is_signed_v<T>) {
            using wide = std::make_unsigned_t<T>;
            return static_cast<std::size_t>(static_cast<wide>(static_cast<wide>(m_last) - static_cast<wide>(m_first)));
        } else {
            return static_cast<std::size_t>(m_last - m_first);
        }
    }
    /// True if first == last. O(1).
    [[nodiscard]] constexpr bool empty() const noexcept { return m_first == m_last; }
    /// The index first + i. Precondition: i < size() (unchecked). O(1).
    constexpr T operator[](std::size_t i) const noexcept { return detail::wrapping_add(m_first, i); }

private:
    T m_first{};
    T m_last{};
};

/// One part of a range: the iterator pair [begin, end) over the caller's range, as
/// mt::decompose returns them and mt::fold hands them to a leaf body; a sized view (a std::ranges::subrange would do,
/// but clang 14 cannot compile libstdc++ 12's view_interface, so this small type stands in). O(1) to copy.
/// It refers to the caller's elements: writing through it modifies them.
template <std::random_access_iterator It>
class part : public std::ranges::view_base {
public:
    /// An empty part of value-initialised iterators.
    constexpr part() = default;
    /// The elements [first, last). Precondition: `last` is reachable from `first`.
    /// Throws only what copying `It` throws.
    constexpr part(It first, It last) : m_first(first), m_last(last) {}
    /// First element. O(1).
    constexpr It begin() const { return m_first; }
    /// Past the last element. O(1).
    constexpr It end() const { return m_last; }
    /// Number of elements. O(1).
    constexpr std::size_t size() const { return static_cast<std::size_t>(m_last - m_first); }
    /// True if the part has no elements. O(1).
    [[nodiscard]] constexpr bool empty() const { return m_first == m_last; }
    /// Element `i` of the part (a reference into the decomposed range).
    /// Precondition: i < size() (unchecked). O(1).
    constexpr decltype(auto) operator[](std::size_t i) const {
        return m_first[static_cast<std::iter_difference_t<It>>(i)];
    }

private:
    It m_first{};
    It m_last{};
};

/// The half-open index range [first, last) as an mt::index_range of the common integer
/// type. Throws std::invalid_argument if first > last (compared without sign
/// conversion), and if `first` would change value in the common type (iota(-1, 2u)). O(1).
template <std::integral First, std::integral Last>
[[nodiscard]] auto iota(First first, Last last) {
    using index = std::common_type_t<First, Last>;
    if (std::cmp_greater(first, last)) {
        throw std::invalid_argument("microtask::iota: first (" + std::to_string(first) +
                                    ") must not be greater than last (" + std::to_string(last) + ")");
    }
    // The bounds must keep their values in the common type: iota(-1, 2u) would otherwise
    // be [4294967295, 2) of unsigned, whose elements are not -1, 0, 1 (and whose end -
    // begin is negative). Only `first` can be out of range once first <= last holds: a
    // last that does not fit is negative (unsigned index type), so first is too.
    if (!std::in_range<index>(first)) {
        throw std::invalid_argument("microtask::iota: first (" + std::to_string(first) +
                                    ") is not representable in the common type of first and last");
    }
    return index_range<index>(static_cast<index>(first), static_cast<index>(last));
}

}  // namespace microtask

/// @cond MICROTASK_STD_SPECIALIZATIONS
// An index_range holds no elements, so iterators into it never dangle.
template <class T>
inline constexpr bool std::ranges::enable_borrowed_range<microtask::index_range<T>> = true;
// A part refers to elements it does not own.
template <class It>
inline constexpr bool std::ranges::enable_borrowed_range<microtask::part<It>> = true;
/// @endcond

// ---- include/microtask/decompose.hpp (continued) ----------------------------
#include <cstddef>
#include <functional>
#include <iterator>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

namespace microtask {

/// Cuts `range` into the policy's leaves, in order, as mt::part views into `range` (so
/// the range must outlive them: it must be an lvalue or a borrowed view such as
/// mt::iota). grain(n): parts of at most n; chunks(k): min(k, size) nearly equal parts;
/// adaptive: the canonical leaves map_reduce uses (at most adaptive::max_leaves).
/// An empty range gives no parts (a temporary container does not compile). O(parts)
/// time and memory, on the calling thread; throws std::bad_alloc.
template <splittable_range Range, partition_policy Policy = adaptive>
    requires std::ranges::borrowed_range<Range>
[[nodiscard]] auto decompose(Range&& range, Policy policy = {}) {
    using iterator = std::ranges::iterator_t<Range>;
    using difference = std::iter_difference_t<iterator>;
    std::vector<part<iterator>> parts;
    const auto size = static_cast<std::size_t>(std::ranges::size(range));
    if (size == 0) return parts;
    const std::size_t leaves = policy.leaf_count(size);
    parts.reserve(leaves);
    const iterator first = std::ranges::begin(range);
    for (std::size_t i = 0; i < leaves; ++i) {
        const auto begin = static_cast<difference>(detail::leaf_begin(i, size, leaves));
        const auto end = static_cast<difference>(detail::leaf_begin(i + 1, size, leaves));
        parts.emplace_back(first + begin, first + end);
    }
    return parts;
}

/// Cuts a job that is not a range with a user decomposer: returns the subtasks
/// `split(job)` produces, as a std::vector, in the same order. One call of `split` plus
/// O(subtasks) moves, on the calling thread. Throws what `split` throws; std::bad_alloc.
/// Example, 2^10 as ten subtasks of 2^1:
///
///     decompose(power{2, 10}, [](const power& p) { return std::vector<power>(p.exp, {p.base, 1}); })
template <class Job, class Split>
    requires(!splittable_range<Job> || !partition_policy<Split>) && decomposer<Split, Job>
[[nodiscard]] auto decompose(const Job& job, Split split) {
    auto&& subtasks = std::invoke(split, job);
    using subtask = std::ranges::range_value_t<decltype(subtasks)>;
    std::vector<subtask> parts;
    parts.reserve(static_cast<std::size_t>(std::ranges::size(subtasks)));
    for (auto&& part : subtasks) parts.push_back(std::forward<decltype(part)>(part));
    return parts;
}

}  // namespace microtask

// ---- include/microtask/distribute.hpp ---------------------------------------
// microtask — distribute.hpp
/// @file
/// Step two of decompose / distribute / reduce: run one subtask per part on the pool.

// ---- include/microtask/detail/fold.hpp --------------------------------------
// microtask — detail/fold.hpp
// How a fold call starts: a call known to be short runs as a plain loop on the calling
// thread (or, over 4 us, is shared with a searching worker); any other call runs
// fold_operation, the canonical-tree engine (detail/fold_operation.hpp), on the caller's
// seat. The entry points behind map_reduce, reduce, fold, for_each and distribute.

// ---- include/microtask/progress.hpp -----------------------------------------
// microtask — progress.hpp
/// @file
/// Progress reports from long operations, and the controls a caller attaches to one: a
/// stop token, a progress reporter, or both.


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

// ---- include/microtask/detail/call_cost.hpp ---------------------------------
// microtask — detail/call_cost.hpp
// What adaptive remembers between calls: the cost of one element at each call site, so
// that a later call known to be short runs as a plain loop on the calling thread with no
// clock read, and one known to be long may split from its first element.
//
// Every estimate is a heuristic that steers scheduling, never results: shared entries
// are written and read with relaxed atomics, and a lost or stale estimate only costs a
// measurement.


#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace microtask::detail {

// A job finishing sooner than this runs inline: waking a sleeping worker costs
// microseconds, so splitting shorter work makes it slower, not faster.
inline constexpr std::chrono::nanoseconds k_inline_budget{25'000};
// The same budget in the unit of the estimates (picoseconds per element).
inline constexpr double k_inline_budget_picoseconds = std::chrono::duration<double, std::pico>(k_inline_budget).count();
// A piece of a known-short call is handed to a thread searching for work (awake and
// spinning, typically after the previous call) if it is worth at least this: its steal
// and hand-back cost about a microsecond, not the 10-50 us of a futex wake-up. So such a
// call is shared from twice this on (fold_shared_short halves it). Measured on 2 cores,
// back-to-back calls halved by force: calls of 1.8 us gained nothing, calls of 3.7 us
// took 2.4 us (docs/performance.md, "Short calls").
inline constexpr std::chrono::nanoseconds k_split_for_searcher{1'500};
inline constexpr double k_split_for_searcher_picoseconds =
    std::chrono::duration<double, std::pico>(k_split_for_searcher).count();
// Re-measure one call in this many (per thread and instantiation), so that a call site
// whose per-element cost changes (other data, a warmer cache) is re-learned...
inline constexpr std::uint32_t k_remeasure_period = 64;
// ...but no more often than once per this much predicted work: a measured call costs a
// few clock reads and the canonical tree's setup (about 0.3 us here), so measuring one
// call of 64 elements (60 ns) in 64 cost every such call about 5% of its time. Longer would
// cost less, but a site whose cost rises steeply is re-learned only this late.
inline constexpr double k_remeasure_interval_picoseconds = 64e6;  // 64 us
// ...and at least once in this many calls, however short.
inline constexpr std::uint32_t k_remeasure_period_max = 1u << 16;

/// The learned costs of one instantiation of the fold, one entry per call site, in a
/// small open-addressed table. An instantiation is usually called from one site; a
/// function pointer or std::function type may serve many, and each must keep its own
/// estimate (a cheap site must not make an expensive one run inline).
class call_site_costs {
public:
    static constexpr std::uint32_t k_unknown = std::numeric_limits<std::uint32_t>::max();

    /// The cost cell of `site`, claiming a free entry the first time; nullptr when the
    /// table is full around the site's hash (that site then measures every call).
    std::atomic<std::uint32_t>* find(const call_site& site) noexcept {
        const std::uint64_t key = key_of(site);
        for (std::size_t probe = 0; probe < k_probes; ++probe) {
            entry& e = m_entries[(key + probe) % k_entries];
            std::uint64_t seen = e.key.load(std::memory_order_relaxed);
            // Relaxed CAS: the cell's value needs no ordering with the key; a thread that
            // finds the key before the first estimate is stored reads k_unknown.
            if (seen == 0 && e.key.compare_exchange_strong(seen, key, std::memory_order_relaxed)) return &e.cost;
            if (seen == key) return &e.cost;
        }
        return nullptr;
    }

private:
    // 64 sites per instantiation, 8 probes: plenty for the sites that share one
    // function-pointer type in a program; a site past that measures every call.
    static constexpr std::size_t k_entries = 64;
    static constexpr std::size_t k_probes = 8;

    struct entry {
        std::atomic<std::uint64_t> key{0};           // 0: free
        std::atomic<std::uint32_t> cost{k_unknown};  // picoseconds per element
    };

    static std::uint64_t key_of(const call_site& site) noexcept {
        // splitmix64's finaliser over the file name's address and the line; never 0.
        std::uint64_t x = reinterpret_cast<std::uintptr_t>(site.file) * 0x9E3779B97F4A7C15ull + site.line;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
        return (x ^ (x >> 31)) | 1;
    }

    std::array<entry, k_entries> m_entries{};
};

template <class LeafFold, class Red>
inline call_site_costs t_call_site_costs{};

template <class LeafFold, class Red>
inline thread_local std::uint32_t t_calls_since_measure = 0;

/// Stores a measured cost per element in `cell` (the learning rule of judge_call's
/// estimate). Noise (an interrupt, a preempted thread) only ever lengthens a measurement,
/// and one that came out several times too long used to send the next
/// k_remeasure_period calls down the splitting path, each at several times its inline
/// cost. So a lower cost is taken at once; a higher one at most doubles the estimate, and
/// this thread's next call measures again: a real rise is followed within a few calls
/// (each of which still splits once it outlasts the inline budget), an outlier is undone
/// by the next call.
template <class LeafFold, class Red>
void learn_cost(std::atomic<std::uint32_t>& cell, double picoseconds_per_element) noexcept {
    constexpr double k_most = double(call_site_costs::k_unknown - 1);
    double cost = std::clamp(picoseconds_per_element, 1.0, k_most);  // 0 would make every size short
    // relaxed: the cell is a hint; racing learners each store a plausible cost.
    const std::uint32_t known = cell.load(std::memory_order_relaxed);
    if (known != call_site_costs::k_unknown && cost > 2.0 * known) {
        cost = std::min(2.0 * known, k_most);
        t_calls_since_measure<LeafFold, Red> = k_remeasure_period_max - 1;
    }
    cell.store(static_cast<std::uint32_t>(cost), std::memory_order_relaxed);
}

/// The site this thread last looked up for an instantiation, and its cell: a loop that
/// calls from one site (the common case) skips the hash and probe.
struct last_site_lookup {
    const char* file = nullptr;
    unsigned line = 0;
    std::atomic<std::uint32_t>* cell = nullptr;
};

template <class LeafFold, class Red>
inline thread_local last_site_lookup t_last_site_lookup{};

/// How deep the calling thread is inside map functions of folds. A fold called from
/// inside another fold's map function (recursion, nesting) must not trust a learned
/// cost: one call site then serves every level, and the cheap bottom level's cost per
/// element says nothing about a level whose elements are whole subtrees.
inline thread_local std::uint32_t t_map_depth = 0;

/// Marks the evaluation of map functions (see t_map_depth).
struct map_scope {
    map_scope() noexcept { ++t_map_depth; }
    map_scope(const map_scope&) = delete;
    map_scope& operator=(const map_scope&) = delete;
    ~map_scope() { --t_map_depth; }
};

/// What the learned cost says about a call of `size` elements.
enum class call_length : std::uint8_t { measure, known_short, known_long };

/// A call's verdict, and the cell to store what its measurement learns (nullptr: do not
/// learn, as for a nested call).
struct call_judgement {
    call_length length = call_length::measure;
    std::atomic<std::uint32_t>* cost = nullptr;
    double expected_picoseconds = 0;  // the learned cost times the size (when known)
};

/// Does this short call follow another one made by this thread less than
/// k_back_to_back ago? Only then is waking a worker for the calls to come worth its cost
/// (a futex call here, ~100 us of spinning there): an isolated short call wakes nobody.
/// One clock read; for calls that could be shared only (twice k_split_for_searcher).
inline constexpr std::chrono::microseconds k_back_to_back{100};
inline thread_local std::chrono::steady_clock::time_point t_last_short_call{};

inline bool follows_recent_short_call() noexcept {
    const auto now = std::chrono::steady_clock::now();
    const bool recent = now - t_last_short_call < k_back_to_back;
    t_last_short_call = now;
    return recent;
}

template <class LeafFold, class Red>
call_judgement judge_call(std::size_t size, const call_site& site) noexcept {
    if (t_map_depth != 0) return {};  // nested: never trust (nor teach) the estimate
    last_site_lookup& last = t_last_site_lookup<LeafFold, Red>;
    if (last.file != site.file || last.line != site.line) {
        last = {site.file, site.line, t_call_site_costs<LeafFold, Red>.find(site)};
    }
    std::atomic<std::uint32_t>* cell = last.cell;
    if (cell == nullptr) return {};
    const std::uint32_t cost = cell->load(std::memory_order_relaxed);
    if (cost == call_site_costs::k_unknown) return {call_length::measure, cell};
    const double expected = static_cast<double>(cost) * static_cast<double>(size);
    // Every k_remeasure_period calls, and for short calls only once they add up to
    // k_remeasure_interval of predicted work (a multiply, not a division, per call).
    std::uint32_t& calls = t_calls_since_measure<LeafFold, Red>;
    if (++calls >= k_remeasure_period && (static_cast<double>(calls) * expected >= k_remeasure_interval_picoseconds ||
                                          calls >= k_remeasure_period_max)) {
        calls = 0;
        return {call_length::measure, cell};
    }
    return {expected < k_inline_budget_picoseconds ? call_length::known_short : call_length::known_long, cell,
            expected};
}

}  // namespace microtask::detail

// ---- include/microtask/detail/fold_operation.hpp ----------------------------
// microtask — detail/fold_operation.hpp
// The engine behind map_reduce, reduce, for_each and distribute: a fold over the leaves
// of a canonical binary tree, forked with fork_join. (How a call starts — inline, shared
// when short, or through this engine — is detail/fold.hpp's.)
//
// Determinism: leaf boundaries depend only on (n, policy), and leaf results are combined
// in the tree's fixed shape — node [lo, hi) = combine(node [lo, mid), node [mid, hi)),
// mid = lo + (hi - lo) / 2 — whether a node was forked or folded in place. Scheduling
// only decides *which thread* computes a node, never *how* it is combined. Reducers that
// are exactly associative skip the tree and fold leaves left to right when not split.
//
// Accumulators are mutated in place, never passed by value: a leaf run folds into one
// value_type& (detail::accumulate_into), and a node combines its right child into its left
// one (detail::combine_into). So an accumulator is created, moved or combined O(leaves)
// times, never once per element. What a leaf does with its elements is the LeafFold's
// business: map_reduce's folds each mapped element; mt::fold hands the user's body the
// whole subrange.
//
// Early exit: every leaf, and every inner node before it forks, asks skips() first.
// That is where a stop token or the failure of another subtask cuts the remaining work
// short: one check per leaf or node, never per element.

// ---- include/microtask/detail/fork_join.hpp ---------------------------------
// microtask — detail/fork_join.hpp
// Binary fork-join with the forked job on the forking thread's stack: no allocation and
// no shared counter per fork. Used by mt::join and by the splitting inside map_reduce.

// ---- include/microtask/detail/scheduler.hpp ---------------------------------
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

// ---- include/microtask/trace.hpp --------------------------------------------
// microtask — trace.hpp
/// @file
/// A timeline of what every thread ran, as a Chrome trace-event file (Perfetto,
/// chrome://tracing), switched on by MICROTASK_TRACE=path or at run time.

// ---- include/microtask/detail/trace_buffer.hpp ------------------------------
// microtask — detail/trace_buffer.hpp
// The recorder behind mt::start_tracing: one append-only buffer of spans per thread, so
// recording takes no lock and shares no cache line; a writer reads every buffer at the end.

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

// ---- include/microtask/trace.hpp (continued) --------------------------------
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

// ---- include/microtask/worker_hooks.hpp -------------------------------------
// microtask — worker_hooks.hpp
/// @file
/// Code a pool runs on each of its worker threads when it starts and when it stops.

#include <cstddef>
#include <functional>

namespace microtask {

/// Functions a thread_pool calls on each worker thread with the worker's index in
/// [0, size()): `on_start` before the worker takes any task (name the thread, pin it to a
/// core, set up thread-local state), `on_stop` after its last task, before it exits. Either
/// may be empty. The pool's constructor returns only after every `on_start` has returned;
/// if one throws, the constructor stops the pool and rethrows the first exception.
/// `on_stop` must not throw (the worker would end the program with std::terminate).
/// Both run concurrently on different workers.
struct worker_hooks {
    /// Called first on each worker thread, with its index.
    std::function<void(std::size_t worker_index)> on_start;
    /// Called last on each worker thread, with its index.
    std::function<void(std::size_t worker_index)> on_stop;
};

}  // namespace microtask

// ---- include/microtask/detail/new_work.hpp ----------------------------------
// microtask — detail/new_work.hpp
// How new work reaches idle threads: the pool's injection queue, its sleeper and searcher
// counts (parking.hpp), the announcement after a push or an injection, the hand-over when
// a searcher stops, and the targeted wake-ups of waiters. docs/design.md section 7 gives
// the argument that no thread sleeps through new work.

// ---- include/microtask/detail/asymmetric_fence.hpp --------------------------
// microtask — detail/asymmetric_fence.hpp
// A store-load fence split unevenly between two sides of a Dekker pairing: the frequent
// side (a fork's push) pays nothing but a compiler barrier, the rare side (a thread about
// to sleep) pays a system call that makes every running thread of the process execute a
// full memory barrier (Linux membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED).
//
// The guarantee, as for a pair of seq_cst fences: if thread A runs `store X; light();
// load Y` and thread B runs `store Y; heavy(); load X`, then A's load sees B's store or
// B's load sees A's store (or both). membarrier delivers it because the kernel runs a
// full barrier on every CPU that is running one of our threads (and a context switch is
// one for the rest) at some point during the call: A's program is cut at that point
// either before its store (then A's load, after the point, sees B's earlier store) or
// after it (then the store is visible when B's load runs). The compiler barrier keeps A's
// store and load in program order in the generated code; the CPU's own reordering of
// them is what the remote barrier rules out.
//
// Where membarrier is missing (not Linux, a kernel before 4.14, a seccomp filter that
// refuses it), both sides use a seq_cst thread fence: correct, as slow as before.

#include <atomic>

#if defined(__linux__) && __has_include(<linux/membarrier.h>)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#define MICROTASK_DETAIL_HAVE_MEMBARRIER 1
#else
#define MICROTASK_DETAIL_HAVE_MEMBARRIER 0
#endif

#if defined(__SANITIZE_THREAD__)
#define MICROTASK_DETAIL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MICROTASK_DETAIL_TSAN 1
#endif
#endif

namespace microtask::detail {

/// A full store-load fence (seq_cst). Under ThreadSanitizer, which does not support
/// fences (g++ warns with -Wtsan in every program that includes this header), a seq_cst
/// RMW on a thread-local object instead: a locked instruction, the same full barrier on
/// x86 and AArch64.
inline void full_fence() noexcept {
#if defined(MICROTASK_DETAIL_TSAN)
    thread_local std::atomic<int> fence_word{0};
    fence_word.fetch_add(0, std::memory_order_seq_cst);
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

/// Whether the process may use membarrier: unknown until the first pool is built, then
/// fixed for the life of the process (it only ever moves from k_unknown, once).
enum class membarrier_mode : int { k_unknown = 0, k_available = 1, k_unavailable = 2 };
inline std::atomic<membarrier_mode> g_membarrier_mode{membarrier_mode::k_unknown};

/// Registers the process for expedited membarrier if it can. Called by every scheduler's
/// constructor, before its workers start, so that every thread that later uses a pool
/// sees the final mode (thread creation, and handing the pool to another thread, order
/// the store below before their loads). Idempotent; any thread; never throws.
inline void prepare_asymmetric_fences() noexcept {
    // relaxed: the mode is published to the pool's users by whatever publishes the pool.
    if (g_membarrier_mode.load(std::memory_order_relaxed) != membarrier_mode::k_unknown) return;
    membarrier_mode mode = membarrier_mode::k_unavailable;
#if MICROTASK_DETAIL_HAVE_MEMBARRIER
    const long supported = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0);
    if (supported > 0 && (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 &&
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0) {
        mode = membarrier_mode::k_available;
    }
#endif
    // Two first pools racing here both store the same answer.
    g_membarrier_mode.store(mode, std::memory_order_relaxed);
}

/// The frequent side's half of a store-load fence: a compiler barrier when membarrier
/// is in use, else a seq_cst fence. O(1); any thread.
inline void light_fence() noexcept {
    if (g_membarrier_mode.load(std::memory_order_relaxed) == membarrier_mode::k_available) {
        std::atomic_signal_fence(std::memory_order_seq_cst);
    } else {
        full_fence();
    }
}

/// The rare side's half: a barrier on every running thread of the process (a few
/// microseconds, and an interrupt on each CPU running one of our threads), else a seq_cst
/// fence. Any thread; never throws.
inline void heavy_fence() noexcept {
#if MICROTASK_DETAIL_HAVE_MEMBARRIER
    if (g_membarrier_mode.load(std::memory_order_relaxed) == membarrier_mode::k_available) {
        if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0) return;
        // The kernel documents no failure for a registered process. Should one happen
        // anyway, every later light_fence() becomes a real fence.
        g_membarrier_mode.store(membarrier_mode::k_unavailable, std::memory_order_seq_cst);
    }
#endif
    full_fence();
}

}  // namespace microtask::detail

// ---- include/microtask/detail/injection_queue.hpp ---------------------------
// microtask — detail/injection_queue.hpp
// Where submits from threads without a seat of their own wait: a mutex-protected FIFO
// with a lock-free count in front of it. docs/design.md section 4 explains it.

// ---- include/microtask/detail/seat.hpp --------------------------------------
// microtask — detail/seat.hpp
// A seat at a pool, and the chain of seats the calling thread holds.

// ---- include/microtask/detail/task.hpp --------------------------------------
// microtask — detail/task.hpp
// The unit the scheduler moves around: an intrusive header with one function pointer.

// ---- include/microtask/detail/stack_guard.hpp -------------------------------
// microtask — detail/stack_guard.hpp
// Knows when the calling thread's stack is more than half used, so that a helping wait can
// stop taking unrelated work. Each task a wait takes runs on top of the waiting frame; a
// chain of waits that each take a task which waits again would otherwise grow the stack
// without bound (oneTBB stops stealing in the same situation).

#include <cstddef>
#include <cstdint>

#if defined(__linux__) && defined(__GLIBC__)
#include <pthread.h>
#endif

namespace microtask::detail {

/// The calling thread's stack as [lowest, highest) addresses, or {0, 0} where the platform
/// cannot say. Computed once per thread.
struct stack_bounds {
    std::uintptr_t lowest = 0;
    std::uintptr_t highest = 0;

    static stack_bounds of_this_thread() noexcept {
        stack_bounds bounds;
#if defined(__linux__) && defined(__GLIBC__)
        pthread_attr_t attributes;
        if (pthread_getattr_np(pthread_self(), &attributes) == 0) {
            void* address = nullptr;
            std::size_t size = 0;
            if (pthread_attr_getstack(&attributes, &address, &size) == 0 && address != nullptr) {
                bounds.lowest = reinterpret_cast<std::uintptr_t>(address);
                bounds.highest = bounds.lowest + size;
            }
            pthread_attr_destroy(&attributes);
        }
#endif
        return bounds;
    }
};

/// Is more than half of the calling thread's stack in use? False where the stack cannot
/// be found, or when the caller runs on another stack (a fiber, a signal stack). A
/// thread-local read and two compares after the first call on each thread.
[[nodiscard]] inline const stack_bounds& this_thread_stack() noexcept {
    thread_local const stack_bounds bounds = stack_bounds::of_this_thread();
    return bounds;
}

/// Is `address` inside the calling thread's stack (as far as the platform can say)?
[[nodiscard]] inline bool on_this_thread_stack(const void* address) noexcept {
    const stack_bounds& bounds = this_thread_stack();
    const auto a = reinterpret_cast<std::uintptr_t>(address);
    return bounds.lowest <= a && a < bounds.highest;
}

[[nodiscard]] inline bool stack_more_than_half_used() noexcept {
    const stack_bounds& bounds = this_thread_stack();
    // The frame address, not a local's: AddressSanitizer may move locals to a heap "fake
    // stack".
    const auto here = reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
    if (here < bounds.lowest || here >= bounds.highest) return false;
    // The stack grows down on every platform this supports: used = highest - here.
    return bounds.highest - here > (bounds.highest - bounds.lowest) / 2;
}

}  // namespace microtask::detail

// ---- include/microtask/detail/task.hpp (continued) --------------------------
#include <cstdint>
#include <exception>
#include <functional>
#include <type_traits>
#include <utility>
#include <variant>

namespace microtask::detail {

/// What deques and the injection queue hold. `run` executes the task and then releases
/// whatever owns it (a heap task deletes itself; a stack job signals its owner). It must
/// not throw: tasks capture their exceptions into their own result state.
struct task_base {
    using run_fn = void (*)(task_base*) noexcept;
    run_fn run;
    void execute() noexcept { run(this); }
};

/// Marks, for as long as it lives, that a task of `owner` (a task_group, a future's
/// state) is running on this thread. Frames nest innermost first: a task that waits helps
/// run other tasks, whose frames stack on top of its own. A wait consults them to refuse
/// waiting for its own task, which could never end. Lives on the stack of the task's run
/// function; one thread-local load and two stores per task.
class running_task_frame {
public:
    explicit running_task_frame(const void* owner) noexcept : m_owner(owner), m_outer(t_innermost) {
        t_innermost = this;
    }
    ~running_task_frame() { t_innermost = m_outer; }
    running_task_frame(const running_task_frame&) = delete;
    running_task_frame& operator=(const running_task_frame&) = delete;

    /// True if a task of `owner` is running on this thread, innermost or further out.
    /// O(frames newer than `owner`) when `owner` lives on this thread's stack (a task
    /// group declared in a task: the common case), else O(depth of task nesting).
    /// Why the walk may stop early: frames further out are older, and a frame that lies
    /// deeper in this stack than `owner` was built before `owner`'s stack frame was
    /// entered, so before `owner` existed: its task cannot be one of `owner`'s. Helping
    /// waits nest hundreds of frames deep in wide trees (UTS, nqueens), and the full walk
    /// at every task_group::wait took most of such a run. Frames off the stack (a
    /// sanitizer's fake stack) prove nothing and are walked past.
    [[nodiscard]] static bool runs_task_of(const void* owner) noexcept {
        const bool owner_on_stack = on_this_thread_stack(owner);
        for (const running_task_frame* frame = t_innermost; frame != nullptr; frame = frame->m_outer) {
            if (frame->m_owner == owner) return true;
            // The stack grows down: a higher address is an older frame.
            if (owner_on_stack && on_this_thread_stack(frame) &&
                reinterpret_cast<std::uintptr_t>(frame) > reinterpret_cast<std::uintptr_t>(owner)) {
                return false;
            }
        }
        return false;
    }

private:
    const void* m_owner;
    running_task_frame* m_outer;
    static inline thread_local running_task_frame* t_innermost = nullptr;
};

/// `void` results become std::monostate so that every result can be stored and returned.
template <class F, class... Args>
using value_result_t = std::conditional_t<std::is_void_v<std::invoke_result_t<F, Args...>>, std::monostate,
                                          std::invoke_result_t<F, Args...>>;

template <class F, class... Args>
value_result_t<F, Args...> invoke_to_value(F&& fn, Args&&... args) {
    if constexpr (std::is_void_v<std::invoke_result_t<F, Args...>>) {
        std::invoke(std::forward<F>(fn), std::forward<Args>(args)...);
        return std::monostate{};
    } else {
        return std::invoke(std::forward<F>(fn), std::forward<Args>(args)...);
    }
}

}  // namespace microtask::detail

// ---- include/microtask/detail/work_stealing_deque.hpp -----------------------
// microtask — detail/work_stealing_deque.hpp
// A growable Chase–Lev work-stealing deque (Chase & Lev 2005, with the C11 memory
// orderings of Lê, Pop, Cohen & Zappa Nardelli, PPoPP 2013).
//
// Thread-safety, per member: push(), pop(), pop_above(), bottom_index(), trim() and
// capacity() only from the owner thread; steal(), empty() and size_hint() from any thread.
//
// Each item carries a label (an integer the owner attaches when it pushes) that a thief
// can read before it claims the item, and refuse: the scheduler labels tasks with their
// isolation region (mt::isolate), so that an isolated thief takes only its region's work.

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

namespace microtask::detail {

// 64 bytes on every x86-64 and most AArch64 parts; std::hardware_destructive_interference_size
// is not used because g++ warns that its value may change between compiler versions (ABI).
inline constexpr std::size_t k_cache_line = 64;

template <class T>
    requires std::is_trivially_copyable_v<T> && std::atomic<T>::is_always_lock_free
class work_stealing_deque {
public:
    /// Outcome of steal(): `lost_race` means another thread took the same item first and
    /// the deque may still hold work, so a thief should try again rather than give up.
    /// `refused`: the oldest item's label was not the one asked for (nothing was taken).
    enum class steal_status : std::uint8_t { success, empty, lost_race, refused };
    using label_type = std::uint64_t;
    /// Passed to steal() to take the oldest item whatever its label.
    static constexpr label_type any_label = ~label_type{0};
    struct steal_result {
        steal_status status;
        T item;
        label_type label = 0;  // the item's label, on success
    };

    // 2 KiB of pointers: a fork tree pushes at most a few items per level, so a seat's
    // ring grows only under task_group-style bursts (and shrinks back when idle).
    static constexpr std::size_t k_default_capacity = 256;

    /// Precondition: initial_capacity is a power of two. Allocates once.
    explicit work_stealing_deque(std::size_t initial_capacity = k_default_capacity)
        : m_array(new ring(initial_capacity)), m_initial_capacity(initial_capacity) {
        cache_ring(m_array.load(std::memory_order_relaxed));
        assert(initial_capacity > 0 && (initial_capacity & (initial_capacity - 1)) == 0);
    }

    work_stealing_deque(const work_stealing_deque&) = delete;
    work_stealing_deque& operator=(const work_stealing_deque&) = delete;

    ~work_stealing_deque() { delete m_array.load(std::memory_order_relaxed); }

    /// Owner only. Amortised O(1); allocates when the ring is full (capacity doubles).
    /// `label` must not be any_label. Returns the item's index, for take_back().
    std::int64_t push(T item, label_type label = 0) {
        const std::int64_t bottom = m_bottom.load(std::memory_order_relaxed);
        // The ring has room below m_push_limit, a top the owner read plus the capacity:
        // top only grows, so the real limit is at least that. Only when that stale value
        // says "full" is top read again: a push touches no line that thieves write (~6%
        // of a fork in fib(32)).
        // The rare case is a call of its own rather than a call in the middle: nothing of
        // the caller then has to survive a call here, which in a fork kept two more
        // callee-saved registers (saved and restored by every call of the forking
        // function, its leaves included).
        if (bottom >= m_push_limit) [[unlikely]] {
            return push_after_making_room(item, label);
        }
        m_owner_cells[static_cast<std::size_t>(bottom) & m_owner_mask].set(item, label);
        // release: a thief that reads the new bottom also sees the item and label stored
        // above and, after a grow, the new ring's contents. (The scheduler's sleep
        // protocol also needs this store ordered before the pusher's next load of the
        // sleeper count: it adds that itself, see scheduler::push_local.)
        m_bottom.store(bottom + 1, std::memory_order_release);
        return bottom;
    }

    /// Owner only. Takes back the item that push() put at `index`, if it is still the
    /// newest item and no thief has claimed it; returns whether it did. The fork's pop:
    /// it knows what it pushed, so it reads no ring slot. O(1), wait-free; a CAS only
    /// when the item is the last one.
    /// Precondition: the owner itself has not popped that item since (the caller knows:
    /// whoever runs the item marks it started). Then the slot at `index` still holds it
    /// whenever bottom is index + 1, since only the owner moves bottom down.
    bool take_back(std::int64_t index) {
        // relaxed: only the owner writes bottom. Something pushed above and left there:
        // the general pop() sorts that out.
        if (m_bottom.load(std::memory_order_relaxed) != index + 1) return false;
        // seq_cst exchange: the same store-load ordering as in pop(), see there.
        m_bottom.exchange(index, std::memory_order_seq_cst);
        std::int64_t top = m_top.load(std::memory_order_seq_cst);
        if (top < index) return true;  // at least one item below ours: no thief can reach it
        bool taken = false;
        if (top == index) {
            // The last item: race a thief for it, as in pop().
            taken = m_top.compare_exchange_strong(top, top + 1, std::memory_order_seq_cst, std::memory_order_relaxed);
        }
        // Empty now either way (top > index: a thief claimed it first).
        m_bottom.store(index + 1, std::memory_order_relaxed);
        return taken;
    }

    /// Owner only: the index the next push will use. Items pushed from now on have
    /// indices >= this; see pop_above().
    [[nodiscard]] std::int64_t bottom_index() const noexcept { return m_bottom.load(std::memory_order_relaxed); }

    /// Owner only. Like pop(), but takes nothing pushed before bottom_index() was `floor`:
    /// a thread inside a region only takes back what it pushed inside that region.
    T pop_above(std::int64_t floor, T empty_value = T{}) {
        // relaxed: only the owner writes bottom.
        if (m_bottom.load(std::memory_order_relaxed) <= floor) return empty_value;
        return pop(empty_value);
    }

    /// Owner only. Takes the most recently pushed item (LIFO), or returns `empty_value`.
    /// O(1), wait-free; a CAS only when one item is left.
    T pop(T empty_value = T{}) {
        const std::int64_t old_bottom = m_bottom.load(std::memory_order_relaxed);
        // Cheap early exit for the idle loops: top only grows, so a stale top that is
        // already >= bottom proves the deque is empty without the locked exchange below.
        if (m_top.load(std::memory_order_relaxed) >= old_bottom) {
            return empty_value;
        }
        const std::int64_t bottom = old_bottom - 1;
        // seq_cst exchange instead of `store; fence(seq_cst)`: the write of bottom must be
        // ordered before the read of top below (store-load ordering: a thief reads top
        // then bottom, so one of the two sides sees the other's write). An RMW gives that
        // ordering as one locked instruction on x86; clang 14 would emit `mfence`
        // (~25 ns) for the fence.
        m_bottom.exchange(bottom, std::memory_order_seq_cst);
        std::int64_t top = m_top.load(std::memory_order_seq_cst);
        if (top > bottom) {  // was empty: restore bottom
            m_bottom.store(bottom + 1, std::memory_order_relaxed);
            return empty_value;
        }
        T item = m_owner_cells[static_cast<std::size_t>(bottom) & m_owner_mask].item.load(std::memory_order_relaxed);
        if (top == bottom) {
            // Last item: race a thief for it. seq_cst so that the CAS is part of the same
            // total order as the thieves' CAS on top.
            if (!m_top.compare_exchange_strong(top, top + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
                item = empty_value;  // a thief won it
            }
            m_bottom.store(bottom + 1, std::memory_order_relaxed);
        }
        return item;
    }

    /// Any thread. Takes the oldest item (FIFO end) if its label is `wanted` (or `wanted`
    /// is any_label); otherwise takes nothing and returns `refused`. Lock-free.
    /// `reading`: the calling thief's own flag, true while it may read a ring, which the
    /// owner's trim() must then be told about (its `readers_idle`). Without one, the thief
    /// is counted in the deque itself: two more atomic RMWs on a line every thief of this
    /// deque writes, which made a stream of small stolen tasks about 10% slower.
    steal_result steal(label_type wanted = any_label, std::atomic<bool>* reading = nullptr) {
        // Invariant: top only grows; an item at index i is valid while top <= i < bottom.
        // seq_cst on both loads: the read of top must be ordered before the read of
        // bottom, pairing with pop()'s exchange of bottom followed by its read of top.
        std::int64_t top = m_top.load(std::memory_order_seq_cst);
        const std::int64_t bottom = m_bottom.load(std::memory_order_seq_cst);
        if (top >= bottom) {
            return {steal_status::empty, T{}, 0};
        }
        // Announce that we may hold a ring pointer: trim() frees retired rings only while
        // no thief is between here and the matching "done" below. seq_cst, with the
        // seq_cst load of m_array after it and trim()'s seq_cst store of m_array and load
        // of the flag or count: if trim() reads "not reading" here, either our announce
        // comes after its load in the total order, so our m_array load comes after its
        // store and sees the new ring, or it read our release "done", so our read of the
        // old ring happened before it is freed.
        if (reading != nullptr) {
            reading->store(true, std::memory_order_seq_cst);
        } else {
            m_thieves.fetch_add(1, std::memory_order_seq_cst);
        }
        // seq_cst (includes acquire): pairs with the stores in grow() and trim(), so a
        // new ring's copied contents are visible; and see above. A ring we read may
        // already be retired; it is not freed while we are counted, and the CAS below
        // fails if the slot was reused.
        ring* array = m_array.load(std::memory_order_seq_cst);
        T item = array->load(top);
        // The label is read like the item (relaxed, before the CAS): if the slot was
        // reused meanwhile, a wrong "yes" is caught by the CAS below, and a wrong "no"
        // only leaves the item for another thief or the owner.
        const label_type label = array->label(top);
        // release: our read of the ring happens before a trim() that reads this.
        if (reading != nullptr) {
            reading->store(false, std::memory_order_release);
        } else {
            m_thieves.fetch_sub(1, std::memory_order_release);
        }
        if (wanted != any_label && label != wanted) return {steal_status::refused, T{}, 0};
        if (!m_top.compare_exchange_strong(top, top + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
            return {steal_status::lost_race, T{}, 0};
        }
        return {steal_status::success, item, label};
    }

    /// Any thread: a snapshot that may be stale by the time it returns.
    [[nodiscard]] bool empty() const noexcept {
        // seq_cst: a thread about to sleep uses this as its last look for work, which must
        // be ordered after its announcement that it sleeps (see scheduler::push_local).
        // On x86 and AArch64 a seq_cst load costs the same as an acquire load.
        return m_top.load(std::memory_order_seq_cst) >= m_bottom.load(std::memory_order_seq_cst);
    }

    /// Any thread: approximate number of items.
    [[nodiscard]] std::size_t size_hint() const noexcept {
        const std::int64_t n = m_bottom.load(std::memory_order_relaxed) - m_top.load(std::memory_order_relaxed);
        return n > 0 ? static_cast<std::size_t>(n) : 0;
    }

    /// Owner only. Gives memory back after a burst: if the deque is empty and its ring
    /// has more than `max_idle_capacity` slots, replaces the ring by one of the initial
    /// capacity; then frees the retired rings if no thief can still be reading them.
    /// Never throws (if the small ring cannot be allocated, the big one stays).
    /// O(1) plus the frees.
    /// `readers_idle()` must return true only if no thief that passed its own flag to
    /// steal() has it set, reading each flag with seq_cst (see steal()).
    template <class ReadersIdle>
    void trim(std::size_t max_idle_capacity, ReadersIdle&& readers_idle) noexcept {
        ring* array = m_array.load(std::memory_order_relaxed);
        // relaxed: top only grows, so a stale value can only make the deque look
        // non-empty (no trim); once top >= bottom it stays empty until we push.
        if (array->capacity > max_idle_capacity &&
            m_top.load(std::memory_order_relaxed) >= m_bottom.load(std::memory_order_relaxed)) {
            try {
                m_retired.reserve(m_retired.size() + 1);
                ring* small = new ring(m_initial_capacity);
                m_retired.emplace_back(array);  // cannot throw: reserved
                // seq_cst: see steal(). Also a release: the fresh ring is published to
                // thieves; it holds nothing they could claim (the deque is empty).
                m_array.store(small, std::memory_order_seq_cst);
                cache_ring(small);
            } catch (...) {
                // No memory for the small ring: keep the big one.
            }
        }
        // seq_cst: see steal(); also an acquire of the last thief's release decrement.
        if (!m_retired.empty() && m_thieves.load(std::memory_order_seq_cst) == 0 && readers_idle()) m_retired.clear();
    }

    /// trim() for a deque whose thieves never pass a flag to steal().
    void trim(std::size_t max_idle_capacity) noexcept {
        trim(max_idle_capacity, [] { return true; });
    }

    /// Current capacity of the ring (owner only; for tests).
    [[nodiscard]] std::size_t capacity() const noexcept { return m_array.load(std::memory_order_relaxed)->capacity; }

private:
    struct ring {
        explicit ring(std::size_t cap) : capacity(cap), mask(cap - 1), cells(new cell[cap]) {}
        // Cells are atomics accessed relaxed: a thief may read a cell the owner is
        // rewriting after wrap-around; the thief's CAS on top then fails and the torn
        // value is discarded, but the access itself must not be a data race.
        void store(std::int64_t i, T v, label_type l) noexcept { cells[static_cast<std::size_t>(i) & mask].set(v, l); }
        T load(std::int64_t i) const noexcept {
            return cells[static_cast<std::size_t>(i) & mask].item.load(std::memory_order_relaxed);
        }
        label_type label(std::int64_t i) const noexcept {
            return cells[static_cast<std::size_t>(i) & mask].label.load(std::memory_order_relaxed);
        }
        // Item and label side by side: a thief reads both from one cache line.
        struct cell {
            std::atomic<T> item;
            std::atomic<label_type> label;
            void set(T v, label_type l) noexcept {
                item.store(v, std::memory_order_relaxed);
                label.store(l, std::memory_order_relaxed);
            }
        };
        std::size_t capacity;
        std::size_t mask;
        std::unique_ptr<cell[]> cells;
    };

    // push() when the ring looked full: makes room, then pushes (the push's limit test now
    // passes). Out of line: push() is on every fork, and a grow inlined into it made the
    // push a call with a full prologue.
    [[gnu::noinline]] std::int64_t push_after_making_room(T item, label_type label) {
        make_room(m_bottom.load(std::memory_order_relaxed));
        return push(item, label);
    }

    void make_room(std::int64_t bottom) {
        // acquire: pairs with the thieves' CAS on m_top so that a slot we are about to
        // overwrite after wrap-around has really been read by the thief that took it.
        // Every write of m_top is an RMW, so reading a value v synchronizes with the
        // CASes of every index below v; a later push relying on the limit computed from
        // it is after this load in program order, hence after those reads too.
        const std::int64_t top = m_top.load(std::memory_order_acquire);
        if (bottom - top >= static_cast<std::int64_t>(m_owner_mask + 1)) {
            grow(m_array.load(std::memory_order_relaxed), top, bottom);
        }
        m_push_limit = top + static_cast<std::int64_t>(m_owner_mask + 1);
    }

    ring* grow(ring* old, std::int64_t top, std::int64_t bottom) {
        auto bigger = std::make_unique<ring>(old->capacity * 2);
        for (std::int64_t i = top; i < bottom; ++i) {
            bigger->store(i, old->load(i), old->label(i));
        }
        // Thieves may still be reading the old ring: retire it; trim() or the
        // destructor frees it.
        m_retired.emplace_back(old);
        ring* fresh = bigger.release();
        // seq_cst (includes release): publishes the copied slots to thieves that load
        // m_array, and orders this replacement against trim()'s look at m_thieves.
        m_array.store(fresh, std::memory_order_seq_cst);
        cache_ring(fresh);
        return fresh;
    }

    // The owner's own copy of the current ring's cells and mask, beside bottom: push and
    // pop index the ring without first loading m_array (a dependent load on every fork).
    void cache_ring(ring* r) noexcept {
        m_owner_cells = r->cells.get();
        m_owner_mask = r->mask;
        // The next push reads top again and sets the limit for this ring.
        m_push_limit = 0;
    }

    // top is written by thieves and bottom by the owner: separate cache lines so the
    // owner's pushes do not invalidate the line thieves spin on, and vice versa. The
    // count of thieves inside steal() shares top's line, which thieves write anyway.
    alignas(k_cache_line) std::atomic<std::int64_t> m_top{0};
    std::atomic<std::uint32_t> m_thieves{0};
    alignas(k_cache_line) std::atomic<std::int64_t> m_bottom{0};
    // Owner only: push() may use indices below this without reading top (see push).
    std::int64_t m_push_limit = 0;
    typename ring::cell* m_owner_cells = nullptr;  // owner only: see cache_ring
    std::size_t m_owner_mask = 0;                  // owner only
    alignas(k_cache_line) std::atomic<ring*> m_array;
    std::vector<std::unique_ptr<ring>> m_retired;  // owner only
    std::size_t m_initial_capacity;
};

}  // namespace microtask::detail

// ---- include/microtask/detail/seat.hpp (continued) --------------------------
#include <atomic>
#include <cstdint>

namespace microtask::detail {

/// False only in a build with MICROTASK_NO_STATS_OR_TRACE defined, which compiles out the
/// statistics counters and the tracing check on the scheduler's paths. It exists to
/// measure what they cost (bench/observability); every translation unit of a program
/// must agree on it, and stats() then reads zeros.
#if defined(MICROTASK_NO_STATS_OR_TRACE)
inline constexpr bool k_instrumented = false;
#else
inline constexpr bool k_instrumented = true;
#endif

class scheduler;

/// A seat at the pool: a worker thread's; a guest seat lent to an outside thread while it
/// waits; a seat an outside thread leased for its submits; or a private seat, which an
/// outside thread uses when no guest seat is free and which thieves never see.
///
/// Layout: the fields other threads write (the sleep word, the wait key, `occupied`) and
/// the fields only the owner writes on every steal round (`rng_state`, the fairness
/// counters) are on separate cache lines, and both away from the deque's lines.
struct alignas(k_cache_line) seat {
    // k_sleeping: parked, and any new work may wake it (counted in parking's sleepers).
    // k_sleeping_for_own_wait: parked until its own wait ends; only wake_seat() wakes it.
    // k_notified: woken by wake_seat (for the owner's own wait); k_woken_to_search: woken
    // by wake_one for new work, and already counted as searching by the waker.
    enum : std::uint32_t {
        k_awake = 0,
        k_sleeping = 1,
        k_notified = 2,
        k_sleeping_for_own_wait = 3,
        k_woken_to_search = 4
    };

    work_stealing_deque<task_base*> deque;

    // Written by the owner when it parks and by whoever wakes it.
    alignas(k_cache_line) std::atomic<std::uint32_t> sleep_state{k_awake};
    // What the owner's innermost registered wait is for (a task_group), or nullptr. The
    // owner writes it; whoever completes that thing reads it to find whom to wake
    // (scheduler::wake_waiters_of). Only ever compared, never dereferenced.
    std::atomic<const void*> wait_key{nullptr};
    std::atomic<bool> occupied{false};  // extra seats: is a thread using it?
    // Extra seats: is the thread inside a call on the pool (then it runs this seat's
    // tasks itself, and scheduler::find_work's fairness look skips the seat)? Written
    // by the owner, with plain relaxed stores; read by thieves once in k_fairness_period
    // looks. relaxed: it only steers that look, nothing is published through it.
    std::atomic<bool> attended{false};

    // Owner only, written on every look for work.
    alignas(k_cache_line) std::uint64_t rng_state = 0;  // victim selection
    std::uint32_t fairness_tick = 0;                    // see scheduler::find_work
    std::uint32_t extras_cursor = 0;                    // see steal_from_extras (steal.hpp)
    std::uint32_t index = 0;
    // True while the owner, as a thief, may be reading another deque's ring (see
    // work_stealing_deque::steal). Written twice per steal by the owner, on its own line;
    // read only by a deque owner that is about to free retired rings.
    std::atomic<bool> reading_ring{false};
    // The isolation region (mt::isolate) of the task the owner is running, 0 for none.
    // While it is not 0, the owner's waits take only that region's work: their own
    // deque's items above `region_floor` (pushed inside the region), and other deques'
    // items labelled with the region. Every item the owner pushes is labelled with it.
    std::uint64_t region = 0;
    std::int64_t region_floor = 0;
    // The pool this seat belongs to, set once when the seat is made. A fork's job keeps
    // only its owner's seat, and a thief finds the pool (to find its own seat there and
    // to wake the owner) through it: one pointer less to store per fork.
    scheduler* pool = nullptr;
    bool is_guest = false;    // any seat that is not a worker's
    bool is_private = false;  // invisible to thieves (a guest that found no free seat)

    // What the owner did, for thread_pool::stats(). Written only by the owner, with a
    // relaxed load and store (no RMW: one writer), read by stats() from any thread.
    // Cumulative since the pool started; reset_stats() keeps a baseline instead of
    // writing here, so that the owner stays the only writer.
    struct counters {
        std::atomic<std::uint64_t> tasks_run{0};      // taken by find_work and run
        std::atomic<std::uint64_t> tasks_stolen{0};   // of those, from another seat's deque
        std::atomic<std::uint64_t> failed_steals{0};  // a deque that looked non-empty gave nothing
        std::atomic<std::uint64_t> times_parked{0};   // futex sleeps
        std::atomic<std::uint64_t> idle_ns{0};        // between finding nothing and finding work
        static void add(std::atomic<std::uint64_t>& counter, std::uint64_t amount = 1) noexcept {
            if constexpr (k_instrumented) {
                counter.store(counter.load(std::memory_order_relaxed) + amount, std::memory_order_relaxed);
            }
        }
    };
    counters stats;
};

/// One seat the calling thread holds. A thread can hold seats in several pools at once
/// (a worker of pool A waiting on pool B as a guest, which then calls back into A), so the
/// seats form a chain from the innermost outwards; each lives in the frame that took it.
struct held_seat {
    scheduler* sched = nullptr;
    seat* own = nullptr;
    held_seat* outer = nullptr;
};

/// The end of every thread's chain: holds no seat (sched and own are null) and is never
/// written. Starting the chain here rather than at nullptr spares every fork's look at
/// the innermost seat a null test (the look compares `sched` first, which no pool equals).
inline held_seat g_no_held_seat{};

inline thread_local held_seat* t_innermost_held_seat = &g_no_held_seat;

/// Is `candidate` held by a frame of the calling thread?
inline bool holds_seat(const seat& candidate) noexcept {
    for (const held_seat* held = t_innermost_held_seat; held != nullptr; held = held->outer) {
        if (held->own == &candidate) return true;
    }
    return false;
}

/// Puts a seat on the calling thread's chain of held seats for a scope.
class held_seat_scope {
public:
    held_seat_scope(scheduler& sched, seat& own) noexcept : m_held{&sched, &own, t_innermost_held_seat} {
        t_innermost_held_seat = &m_held;
    }
    held_seat_scope(const held_seat_scope&) = delete;
    held_seat_scope& operator=(const held_seat_scope&) = delete;
    ~held_seat_scope() { t_innermost_held_seat = m_held.outer; }

private:
    held_seat m_held;
};

}  // namespace microtask::detail

// ---- include/microtask/detail/injection_queue.hpp (continued) ---------------
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

// ---- include/microtask/detail/parking.hpp -----------------------------------
// microtask — detail/parking.hpp
// How a thread with nothing to do sleeps, and how it is woken: an eventcount with one
// futex word per seat (seat::sleep_state) and one shared count of sleepers.
// docs/design.md section 7 explains the protocol.


#include <atomic>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace microtask::detail {

/// Idle rounds spent on a CPU pause before yielding: about a microsecond, the time a
/// fork just offered or a task just finished takes to show up.
inline constexpr unsigned k_pause_rounds = 16;

/// Spins one round of an idle loop: a CPU pause at first, later a yield, which gives the
/// core away on an oversubscribed machine where the thread we wait for may need it.
inline void idle_pause(unsigned round) noexcept {
    if (round < k_pause_rounds) {
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    } else {
        std::this_thread::yield();
    }
}

/// The counts of sleeping and of searching threads, and the park/wake operations on
/// seats. Any thread may wake; only a seat's owner parks on it.
///
/// A thread is *searching* while it looks for work it has not found yet (an idle spell
/// of scheduler::wait_until that may take any work). New work wakes a sleeper only when
/// nobody searches: a searcher will find the work, or, before it sleeps, stop searching
/// and look once more. This keeps a stream of forks from waking every sleeper in turn
/// (each wake-up a futex call for the pusher and ~100 us of spinning for the woken).
/// Both counts share one word, so a signaller reads them with one load and every
/// transition (start or stop searching, sleep, wake) is one RMW in one modification
/// order. docs/design.md section 7 gives the whole argument.
class parking {
public:
    /// Parks `own` until `ready()` or a wake-up. `searching`: the caller is counted as
    /// a searcher (it stops searching as it starts to sleep, in the same RMW).
    /// Returns whether the caller is counted as a searcher on return: true after a wake-up
    /// by wake_one() (whose claim counts the woken thread as searching, so that the
    /// pushes that follow do not wake a second thread for the same work) and after a
    /// cancelled park; false after a wake_seat(), which wakes a thread for its own reason.
    /// The protocol:
    ///   parker:    counts: searching -= 1, sleepers += 1; state = sleeping;
    ///              heavy fence; if ready() cancel; else futex-wait
    ///   signaller: make ready() true; if sleepers > 0, wake (CAS sleeping -> notified)
    /// A pusher's half of the fence is the light one (scheduler::announce_new_work); a
    /// targeted signaller (wake_seat) uses seq_cst operations throughout.
    /// Invariant: sleepers >= the number of seats whose word is k_sleeping — we count
    /// ourselves before we show as sleeping, and whoever moves a word out of k_sleeping
    /// decrements after. So a waker that reads no sleepers can never be hiding a sleeper
    /// that some other waker claimed.
    template <class Ready>
    bool park(seat& own, Ready&& ready, bool searching) {
        m_counts.fetch_add(searching ? k_one_sleeper - k_one_searcher : k_one_sleeper, std::memory_order_seq_cst);
        own.sleep_state.store(seat::k_sleeping, std::memory_order_seq_cst);
        // The heavy half of the fence whose light half a pusher runs between its store of
        // bottom and its load of m_counts (scheduler::announce_new_work): our count and
        // state above are then seen by that load, or the push by our look below.
        heavy_fence();
        if (ready()) {
            // Cancel, and search again. A waker that claimed us first also counted us.
            const std::uint32_t claimed_as = own.sleep_state.exchange(seat::k_awake, std::memory_order_acq_rel);
            if (claimed_as == seat::k_sleeping) {
                m_counts.fetch_add(k_one_searcher - k_one_sleeper, std::memory_order_seq_cst);
                return true;
            }
            return claimed_as == seat::k_woken_to_search;
        }
        // acquire: whatever the waker wrote before its CAS is visible after we wake.
        std::uint32_t state = own.sleep_state.load(std::memory_order_acquire);
        while (state == seat::k_sleeping) {
            own.sleep_state.wait(seat::k_sleeping, std::memory_order_acquire);
            state = own.sleep_state.load(std::memory_order_acquire);
        }
        own.sleep_state.store(seat::k_awake, std::memory_order_relaxed);
        return state == seat::k_woken_to_search;
    }

    /// Parks `own` until `ready()`, woken only by wake_seat(own): for a thread that may
    /// take only some of the pool's work (inside mt::isolate, or with its stack running
    /// low), so that new work in general must not wake it (wake_one() would spend the
    /// wake-up on a thread that cannot take the work). Neither a sleeper nor a searcher.
    /// The same Dekker pairing as park(): the seq_cst store of the state, then ready()'s
    /// seq_cst read, against the signaller's seq_cst write, then wake_seat()'s seq_cst load.
    template <class Ready>
    void park_for_own_wait(seat& own, Ready&& ready) {
        own.sleep_state.store(seat::k_sleeping_for_own_wait, std::memory_order_seq_cst);
        if (ready()) {
            // relaxed: nothing to publish; a concurrent wake_seat may have set k_notified.
            own.sleep_state.store(seat::k_awake, std::memory_order_relaxed);
            return;
        }
        // acquire: whatever the waker wrote before its CAS is visible after we wake.
        while (own.sleep_state.load(std::memory_order_acquire) == seat::k_sleeping_for_own_wait) {
            own.sleep_state.wait(seat::k_sleeping_for_own_wait, std::memory_order_acquire);
        }
        own.sleep_state.store(seat::k_awake, std::memory_order_relaxed);
    }

    /// Wakes `target` if it is parked; harmless if it is awake (it re-checks its
    /// condition before parking again). Any thread.
    void wake_seat(seat& target) noexcept {
        // seq_cst: the signaller's write of its condition, then this load, pair with the
        // parker's store of its sleeping state, then its read of the condition. A load
        // first, not a CAS: the target is usually awake, and then no locked instruction
        // is needed at all.
        std::uint32_t state = target.sleep_state.load(std::memory_order_seq_cst);
        if (state != seat::k_sleeping && state != seat::k_sleeping_for_own_wait) return;
        // seq_cst: one total order with the other wakers' claims and the parker's exchange.
        if (target.sleep_state.compare_exchange_strong(state, seat::k_notified, std::memory_order_seq_cst)) {
            if (state == seat::k_sleeping) m_counts.fetch_sub(k_one_sleeper, std::memory_order_seq_cst);
            target.sleep_state.notify_one();
        }
    }

    /// Wakes one parked seat among `seats[0, count)`, if any, and counts it as searching;
    /// returns whether it woke one. The caller has made its work visible and then read
    /// m_counts (see announce_new_work).
    bool wake_one(seat* seats, std::size_t count) noexcept {
        for (std::size_t i = 0; i < count; ++i) {
            seat& candidate = seats[i];
            // seq_cst: this read follows the caller's read of m_counts, so it sees the
            // k_sleeping of any parker that caller counted (see park()).
            if (candidate.sleep_state.load(std::memory_order_seq_cst) == seat::k_sleeping) {
                std::uint32_t expected = seat::k_sleeping;
                if (candidate.sleep_state.compare_exchange_strong(expected, seat::k_woken_to_search,
                                                                  std::memory_order_seq_cst)) {
                    m_counts.fetch_add(k_one_searcher - k_one_sleeper, std::memory_order_seq_cst);
                    candidate.sleep_state.notify_one();
                    return true;
                }
            }
        }
        return false;
    }

    /// The caller starts an idle spell in which it may take any work. Rare (once per
    /// spell), so seq_cst.
    void start_searching() noexcept { m_counts.fetch_add(k_one_searcher, std::memory_order_seq_cst); }

    /// The caller stops searching (it found work, or its wait ended). Returns whether it
    /// was the last searcher while somebody sleeps: then the caller must look for work
    /// it leaves behind and, if any, wake a sleeper to search in its place (see
    /// scheduler::stop_searching). seq_cst: the RMW is the searcher's side of the pairing
    /// with a pusher that saw it searching (announce_new_work's fenced re-read).
    [[nodiscard]] bool stop_searching() noexcept {
        const std::uint64_t before = m_counts.fetch_sub(k_one_searcher, std::memory_order_seq_cst);
        return searchers_in(before) == 1 && sleepers_in(before) != 0;
    }

    /// The word as a signaller reads it. seq_cst: see announce_new_work.
    [[nodiscard]] std::uint64_t counts() const noexcept { return m_counts.load(std::memory_order_seq_cst); }
    [[nodiscard]] static std::uint32_t sleepers_in(std::uint64_t counts) noexcept {
        return static_cast<std::uint32_t>(counts & (k_one_searcher - 1));
    }
    [[nodiscard]] static std::uint32_t searchers_in(std::uint64_t counts) noexcept {
        return static_cast<std::uint32_t>(counts >> k_searcher_shift);
    }

    /// The word as a heuristic reads it (relaxed: a stale answer only changes a
    /// decision to split or to wake early, never whether work is seen).
    [[nodiscard]] std::uint64_t counts_hint() const noexcept { return m_counts.load(std::memory_order_relaxed); }

    /// Is anyone parked (or about to)? A hint, for heuristics that decide no wake-up
    /// (relaxed: a stale answer only changes when memory is given back).
    [[nodiscard]] bool anyone_asleep_hint() const noexcept {
        return sleepers_in(m_counts.load(std::memory_order_relaxed)) != 0;
    }

private:
    // Sleepers in the low 32 bits, searchers in the high 32: one RMW moves a thread
    // from one count to the other.
    static constexpr unsigned k_searcher_shift = 32;
    static constexpr std::uint64_t k_one_sleeper = 1;
    static constexpr std::uint64_t k_one_searcher = std::uint64_t{1} << k_searcher_shift;
    // Read on every fork: on a line of its own, away from lines that change often.
    // Low half: threads parked or about to park (park()'s invariant); high half: searchers.
    alignas(k_cache_line) std::atomic<std::uint64_t> m_counts{0};
};

}  // namespace microtask::detail

// ---- include/microtask/detail/seats.hpp -------------------------------------
// microtask — detail/seats.hpp
// Who sits where in a pool: the table of seats (one per worker, guest seats that outside
// threads borrow for one call, seats outside threads lease for their submits, private
// seats when every guest seat is taken), and how a thread finds its own. docs/design.md
// section 2 explains it.

// ---- include/microtask/detail/private_seats.hpp -----------------------------
// microtask — detail/private_seats.hpp
// Seats for outside threads that find every guest seat taken: they must still make
// progress, so the number of guest seats is never a hidden limit on callers.


#include <atomic>
#include <cstdint>

namespace microtask::detail {

/// A grow-only list of private seats. A private seat is never shown to thieves: forks
/// pushed on it come back to its owner (so a join or a fold run there runs on the calling
/// thread alone), and the scheduler sends its submits to the injection queue. Its owner
/// still helps: it pops, takes injected tasks and steals like any seat, and parks on its
/// own sleep word, where targeted wake-ups (join, task_group) reach it.
///
/// Seats are reused once released and freed only with the list, so a pointer to one stays
/// valid for the pool's lifetime; the list grows to the largest number of outside threads
/// that were seatless at the same moment. claim() and release() from the thread taking or
/// giving back a seat; for_each() from any thread.
class private_seats {
public:
    private_seats() = default;
    private_seats(const private_seats&) = delete;
    private_seats& operator=(const private_seats&) = delete;
    ~private_seats() {
        node* current = m_head.load(std::memory_order_relaxed);
        while (current != nullptr) {
            node* next = current->next;
            delete current;
            current = next;
        }
    }

    /// A free private seat, marked occupied; allocates one when none is free. Lock-free,
    /// never blocks; O(number of private seats). `pool` is the scheduler these seats belong
    /// to, recorded in a new seat. Throws std::bad_alloc.
    seat& claim(std::uint32_t index, scheduler* pool) {
        // acquire: pairs with the release in push below, so `next` and the seat are seen
        // fully built.
        for (node* current = m_head.load(std::memory_order_acquire); current != nullptr; current = current->next) {
            bool expected = false;
            // acquire: takes the seat over from the previous owner's release in release(),
            // so that owner's writes to owner-only state happen before ours.
            if (!current->value.occupied.load(std::memory_order_relaxed) &&
                current->value.occupied.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
                return current->value;
            }
        }
        auto* fresh = new node;
        fresh->value.occupied.store(true, std::memory_order_relaxed);  // not yet shared
        fresh->value.index = index;
        fresh->value.is_guest = true;
        fresh->value.is_private = true;
        fresh->value.pool = pool;
        fresh->value.rng_state = 0x9E3779B97F4A7C15ull * (index + 1);
        node* head = m_head.load(std::memory_order_relaxed);
        do {
            fresh->next = head;
            // release: publishes the built node (and `next`) to for_each() and claim().
        } while (!m_head.compare_exchange_weak(head, fresh, std::memory_order_release, std::memory_order_relaxed));
        return fresh->value;
    }

    /// Gives a seat back. Its deque must be empty. Owner of the seat only.
    static void release(seat& freed) noexcept {
        // release: hands the seat's owner-only state over to the next claimer (acquire).
        freed.occupied.store(false, std::memory_order_release);
    }

    /// Calls fn(seat&) for every private seat, free or not. Any thread.
    template <class Fn>
    void for_each(Fn&& fn) {
        // acquire: see the nodes fully built (pairs with claim()'s release CAS).
        for (node* current = m_head.load(std::memory_order_acquire); current != nullptr; current = current->next) {
            fn(current->value);
        }
    }

private:
    struct node {
        seat value;
        node* next = nullptr;  // written once, before the node is published
    };
    std::atomic<node*> m_head{nullptr};
};

}  // namespace microtask::detail

// ---- include/microtask/detail/seats.hpp (continued) -------------------------
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>

namespace microtask::detail {

class scheduler;

/// Lets a thread outside a pool hold on to a seat in it across calls (see
/// seat_table::lease_seat). The anchor outlives the pool; the pool clears `sched` when it
/// dies, under the mutex, so a lease released later knows not to touch it.
struct lease_anchor {
    /// Gives a leased seat back to its pool, handing its queued tasks to the injection
    /// queue. A function pointer the pool supplies, so that this header need not see the
    /// scheduler's definition (and compiles on its own).
    using return_seat_fn = void (*)(scheduler&, seat&) noexcept;
    lease_anchor(scheduler* owner, return_seat_fn give_back) noexcept : sched(owner), return_seat(give_back) {}
    std::mutex mutex;
    scheduler* sched;
    return_seat_fn return_seat;
};

/// The seat an outside thread leased, in at most one pool at a time. Released when the
/// thread leases in another pool or exits.
struct outside_lease {
    std::shared_ptr<lease_anchor> anchor;
    seat* leased = nullptr;
    outside_lease() = default;
    outside_lease(const outside_lease&) = delete;
    outside_lease& operator=(const outside_lease&) = delete;
    ~outside_lease() { release(); }
    void release() noexcept {
        if (leased == nullptr) return;
        {
            std::lock_guard lock(anchor->mutex);
            if (anchor->sched != nullptr) anchor->return_seat(*anchor->sched, *leased);
        }
        leased = nullptr;
        anchor.reset();
    }
};

inline thread_local outside_lease t_outside_lease;

/// The seats of one pool, in one array: workers [0, workers), guest seats, then leased
/// seats; guest and leased seats are the "extra" seats, tracked in one 64-bit mask.
class seat_table {
public:
    // Guest seats: hardware_concurrency clamped to this range. At least a few, so that
    // some outside callers are helped by thieves even on a small machine; at most 32, so
    // that guest and leased seats fit the 64-bit mask of occupied extra seats.
    static constexpr std::size_t k_min_guest_seats = 8;
    static constexpr std::size_t k_max_guest_seats = 32;
    // Outside threads that submit through a seat of their own (lock-free) rather than the
    // injection queue; more submitters than this share the queue.
    static constexpr std::size_t k_leased_seats = 16;
    static_assert(k_max_guest_seats + k_leased_seats <= 64, "extra seats are tracked in one 64-bit mask");

    seat_table(scheduler* owner, std::size_t worker_count, lease_anchor::return_seat_fn return_leased_seat)
        : m_owner(owner),
          m_worker_count(worker_count),
          m_guest_count(
              std::clamp<std::size_t>(std::thread::hardware_concurrency(), k_min_guest_seats, k_max_guest_seats)),
          m_seats(std::make_unique<seat[]>(m_worker_count + m_guest_count + k_leased_seats)),
          m_anchor(std::make_shared<lease_anchor>(owner, return_leased_seat)) {
        for (std::size_t i = 0; i < seat_count(); ++i) {
            m_seats[i].index = static_cast<std::uint32_t>(i);
            m_seats[i].pool = owner;
            m_seats[i].is_guest = i >= m_worker_count;
            // Distinct non-zero seeds for the thieves' xorshift (the golden-ratio increment).
            m_seats[i].rng_state = 0x9E3779B97F4A7C15ull * (i + 1);
        }
    }
    seat_table(const seat_table&) = delete;
    seat_table& operator=(const seat_table&) = delete;

    [[nodiscard]] std::size_t worker_count() const noexcept { return m_worker_count; }
    [[nodiscard]] std::size_t seat_count() const noexcept { return m_worker_count + m_guest_count + k_leased_seats; }
    [[nodiscard]] seat& seat_at(std::size_t i) noexcept { return m_seats[i]; }
    [[nodiscard]] const seat& seat_at(std::size_t i) const noexcept { return m_seats[i]; }

    /// The calling thread's seat in this pool, or nullptr when it is not inside it.
    /// O(depth of pool nesting), almost always one step.
    [[nodiscard]] seat* current_seat() const noexcept {
        for (held_seat* held = t_innermost_held_seat; held != nullptr; held = held->outer) {
            if (held->sched == m_owner) return held->own;
        }
        // An outside thread that leased a seat here: comparing anchors (kept alive by the
        // lease) cannot mistake a new pool at a dead pool's address for the old one.
        const outside_lease& lease = t_outside_lease;
        return lease.anchor.get() == m_anchor.get() ? lease.leased : nullptr;
    }

    /// Could another thread steal from `own`? False for a private seat (nobody sees
    /// it), and for the single worker of a one-worker pool with no outside thread seated:
    /// then splitting work is useless. (A one-worker pool called from outside has two
    /// participants: the worker must split what it stole, or the caller cannot take any
    /// of it back.)
    [[nodiscard]] bool may_have_thieves(const seat& own) const noexcept {
        if (own.is_private) return false;
        return m_worker_count > 1 || own.is_guest || m_occupied_extras.load(std::memory_order_relaxed) != 0;
    }

    /// The extra seats a thread sits in, one bit each (bit b: seat worker_count() + b).
    /// relaxed: a stale mask only delays a steal; a parker's last look scans every seat.
    [[nodiscard]] std::uint64_t occupied_extras() const noexcept {
        return m_occupied_extras.load(std::memory_order_relaxed);
    }

    /// Runs `body(seat&)` on a seat of this pool: the caller's own when it already is
    /// inside, otherwise a free guest seat, otherwise a private seat. Never blocks for
    /// a seat: the number of guest seats limits how many outside callers can be helped
    /// by thieves, never how many make progress.
    template <class Body>
    decltype(auto) run_in_seat(Body&& body) {
        // Every nested call lands here. The rest is out of line, so that a fork inside a
        // task compiles to one short function (inlined, the rest made every fork's
        // prologue save every register).
        if (const held_seat& innermost = *t_innermost_held_seat; innermost.sched == m_owner) [[likely]] {
            return body(*innermost.own);
        }
        return run_in_outer_seat(body);
    }

private:
    template <class Body>
    [[gnu::noinline]] decltype(auto) run_in_outer_seat(Body& body) {
        if (seat* own = current_seat()) {
            if (!holds_seat(*own)) {
                // The caller's leased seat: put it on the chain while the body runs, so
                // that lease_seat() knows not to give it back from under this frame, and
                // mark it attended meanwhile.
                held_seat_scope scope(*m_owner, *own);
                attendance attended(*own);
                return body(*own);
            }
            return body(*own);
        }
        guest_seat guest(*this);
        return body(guest.own());
    }

protected:
    /// A seat for an outside thread for the duration of a call: a free guest seat if
    /// there is one, else a private seat. Never blocks.
    class guest_seat {
    public:
        explicit guest_seat(seat_table& seats) : m_seats(seats) {
            const std::size_t first = seats.m_worker_count;
            for (std::size_t i = first; i < first + seats.m_guest_count; ++i) {
                bool expected = false;
                seat& candidate = seats.m_seats[i];
                // acquire: the previous guest's release below handed over the seat.
                if (!candidate.occupied.load(std::memory_order_relaxed) &&
                    candidate.occupied.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
                    m_own = &candidate;
                    break;
                }
            }
            if (m_own != nullptr) {
                seats.show_extra_seat(*m_own);
                m_own->attended.store(true, std::memory_order_relaxed);  // for as long as it is taken
            } else {
                // Every guest seat is taken. Blocking here until one frees up would make
                // the seat count a hidden resource: the seated threads may be waiting for
                // work that needs this very thread (issue 11). A private seat lets it run
                // the call itself and help the pool, unseen by thieves.
                m_own = &seats.m_private_seats.claim(static_cast<std::uint32_t>(seats.seat_count()), seats.m_owner);
            }
            m_held = {seats.m_owner, m_own, t_innermost_held_seat};
            t_innermost_held_seat = &m_held;
        }
        guest_seat(const guest_seat&) = delete;
        guest_seat& operator=(const guest_seat&) = delete;
        ~guest_seat() {
            // Tasks this guest pushed and nobody stole yet (e.g. submit() from inside a
            // join body) must not be stranded in a seat that nobody owns.
            while (task_base* task = m_own->deque.pop(nullptr)) {
                task->execute();
            }
            t_innermost_held_seat = m_held.outer;
            if (m_own->is_private) {
                private_seats::release(*m_own);
                return;
            }
            m_own->attended.store(false, std::memory_order_relaxed);
            m_seats.hide_extra_seat(*m_own);
            m_own->occupied.store(false, std::memory_order_release);
        }
        seat& own() noexcept { return *m_own; }

    private:
        seat_table& m_seats;
        seat* m_own = nullptr;
        held_seat m_held;
    };

    /// Marks an extra seat as attended (seat::attended) for a scope: two plain stores to
    /// the owner's own seat, not RMWs on a mask every thief reads, since every call of an
    /// outside thread with a leased seat pays them.
    class attendance {
    public:
        explicit attendance(seat& extra) noexcept : m_extra(extra) {
            m_extra.attended.store(true, std::memory_order_relaxed);
        }
        attendance(const attendance&) = delete;
        attendance& operator=(const attendance&) = delete;
        ~attendance() { m_extra.attended.store(false, std::memory_order_relaxed); }

    private:
        seat& m_extra;
    };

    // Extra seats (guest and leased) are skipped by thieves unless marked here.
    void show_extra_seat(seat& extra) noexcept {
        m_occupied_extras.fetch_or(std::uint64_t{1} << (extra.index - m_worker_count), std::memory_order_relaxed);
    }
    void hide_extra_seat(seat& extra) noexcept {
        m_occupied_extras.fetch_and(~(std::uint64_t{1} << (extra.index - m_worker_count)), std::memory_order_relaxed);
    }

    /// Leases a free seat to the calling outside thread for as long as it keeps using
    /// this pool, so that its submits are lock-free pushes that workers steal, instead of
    /// trips through the injection mutex. Returns nullptr when all are taken. Leased
    /// seats are separate from guest seats: a thread that leases one and then idles for
    /// ever cannot starve the threads that need a guest seat to wait.
    seat* lease_seat() {
        // The thread's current lease (in another pool) is in use by a frame below us, e.g.
        // a join on that pool whose body submits here: keep it, and use the queue.
        if (t_outside_lease.leased != nullptr && holds_seat(*t_outside_lease.leased)) return nullptr;
        const std::size_t first = m_worker_count + m_guest_count;
        for (std::size_t i = first; i < first + k_leased_seats; ++i) {
            seat& candidate = m_seats[i];
            bool expected = false;
            if (!candidate.occupied.load(std::memory_order_relaxed) &&
                candidate.occupied.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
                outside_lease& lease = t_outside_lease;
                lease.release();  // at most one lease per thread
                lease.anchor = m_anchor;
                lease.leased = &candidate;
                show_extra_seat(candidate);
                return &candidate;
            }
        }
        return nullptr;
    }

    // A deque ring bigger than this (32 KiB of pointers) is given back when the deque is
    // found empty at a quiet moment; smaller rings are kept, so that ordinary bursts do
    // not reallocate.
    static constexpr std::size_t k_idle_ring_capacity = 4096;

    /// Gives back `own`'s grown ring if its deque is empty (owner only). Retired rings
    /// are freed only when no thief is reading one: every public seat's flag is clear.
    void trim_ring(seat& own) noexcept {
        own.deque.trim(k_idle_ring_capacity, [this] {
            for (std::size_t i = 0; i < seat_count(); ++i) {
                // seq_cst: the trimmer's side of steal()'s announce (see there).
                if (m_seats[i].reading_ring.load(std::memory_order_seq_cst)) return false;
            }
            return true;
        });
    }

    /// From now on, outside threads releasing a lease leave this pool alone (the pool is
    /// being destroyed).
    void detach_leases() noexcept {
        std::lock_guard lock(m_anchor->mutex);
        m_anchor->sched = nullptr;
    }

    template <class Fn>
    void for_each_private_seat(Fn&& fn) {
        m_private_seats.for_each(std::forward<Fn>(fn));
    }

private:
    scheduler* const m_owner;  // the pool these seats belong to (the key of the chain of held seats)
    // Read-only after construction.
    const std::size_t m_worker_count;
    const std::size_t m_guest_count;
    std::unique_ptr<seat[]> m_seats;
    // Written when an outside thread takes or leaves a seat, read by every thief's look:
    // a line of its own.
    alignas(k_cache_line) std::atomic<std::uint64_t> m_occupied_extras{0};
    alignas(k_cache_line) std::shared_ptr<lease_anchor> m_anchor;
    private_seats m_private_seats;
};

}  // namespace microtask::detail

// ---- include/microtask/detail/new_work.hpp (continued) ----------------------
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace microtask::detail {

/// The seats of a pool plus what signals new work to them. The scheduler derives from it;
/// every member is safe to call from any thread unless it says otherwise.
class new_work_signals : public seat_table {
public:
    using seat_table::seat_table;

    /// After work became visible (a push onto a visible deque, an injection): wake a
    /// sleeper if one sleeps and nobody searches. Two pairings make sure no thread sleeps
    /// through the work (docs/design.md section 7):
    ///  - with a thread going to sleep: the work's store must be ordered before our load
    ///    of the counts, or the sleeper could miss it (harmless while the pusher comes
    ///    back to it, a hang if it then blocks on something only that task will do). The
    ///    light half of an asymmetric fence does it: the parker runs the heavy half
    ///    between counting itself and its last look (parking::park). On Linux the fork
    ///    thus costs no locked instruction here.
    ///  - with a searcher we rely on, which might stop searching just now without seeing
    ///    the work: a real fence, then a second look at the counts. Either that look sees
    ///    the searcher gone (and we wake a sleeper), or the searcher's stop comes later
    ///    and its look after the stop sees the work (stop_searching). Paid only while
    ///    somebody both sleeps and searches.
    void announce_new_work() noexcept {
        light_fence();
        const std::uint64_t counts = m_parking.counts();
        if (parking::sleepers_in(counts) != 0) wake_for_new_work(counts);
    }

    /// announce_new_work() after a push onto `own`'s deque. A private seat's deque is
    /// invisible to others, so there is nobody to wake for it; that test comes after the
    /// common exit (nobody asleep), so that a fork's push runs one test, not two.
    void announce_new_work(const seat& own) noexcept {
        light_fence();
        const std::uint64_t counts = m_parking.counts();
        if (parking::sleepers_in(counts) == 0) [[likely]]
            return;
        if (!own.is_private) wake_for_new_work(counts);
    }

    /// The rest of an announcement when `counts` showed a sleeper. Out of line: a fork's
    /// push inlines only the common exit above.
    [[gnu::noinline]] void wake_for_new_work(std::uint64_t counts) noexcept {
        if (parking::searchers_in(counts) != 0) {
            full_fence();
            counts = m_parking.counts();
            if (parking::sleepers_in(counts) == 0 || parking::searchers_in(counts) != 0) return;
        }
        wake_one();
    }

    /// Is a thread of this pool awake and looking for work? A hint (relaxed): a wrong
    /// answer only makes a short call split or run inline.
    [[nodiscard]] bool someone_searching() const noexcept {
        return parking::searchers_in(m_parking.counts_hint()) != 0;
    }

    /// A short call is running inline because nobody was awake to share it: wake a
    /// sleeper (if nobody searches) so that the next call of a loop of short calls finds
    /// a searcher and splits. An isolated call pays one futex wake and ~100 us of the
    /// woken thread's spinning (docs/design.md section 9, "Short calls").
    void wake_for_next_call() noexcept {
        const std::uint64_t counts = m_parking.counts_hint();
        if (parking::sleepers_in(counts) != 0 && parking::searchers_in(counts) == 0) wake_one();
    }

    /// Queues `task` on the injection queue (for a thread without a visible seat) and
    /// announces it. Throws std::bad_alloc, and then nothing was queued.
    void inject(task_base* task) {
        m_injected.push(task);
        announce_new_work();
    }

    /// The caller stops searching. If it was the last searcher while somebody sleeps, work
    /// it leaves behind must not wait for a thread that stays asleep: a pusher that saw it
    /// searching did not wake anyone. So look, and if there is work, wake a sleeper to
    /// search in its place. (A pusher that saw us and then, after a fence, still saw us,
    /// pushed before our RMW in stop_searching, so work_visible() below sees its work.)
    void stop_searching() noexcept {
        if (m_parking.stop_searching() && work_visible()) wake_one();
    }

    /// Wakes `target` if it is parked; harmless if it is awake. Any thread.
    void wake_seat(seat& target) noexcept { m_parking.wake_seat(target); }

    /// Wakes every seat (worker, guest, leased or private) whose wait_key is `key`: the
    /// threads whose innermost registered wait is for `key`. Any thread; `key` is only
    /// compared, so it may already be gone. O(number of seats).
    /// The caller made the waiters' condition true with a seq_cst RMW that read their
    /// registration (e.g. task_group's state word); the waiters stored wait_key with
    /// seq_cst before registering, so the seq_cst loads here see the key.
    void wake_waiters_of(const void* key) noexcept {
        for (std::size_t i = 0; i < seat_count(); ++i) {
            if (seat_at(i).wait_key.load(std::memory_order_seq_cst) == key) m_parking.wake_seat(seat_at(i));
        }
        for_each_private_seat([&](seat& waiter) {
            if (waiter.wait_key.load(std::memory_order_seq_cst) == key) m_parking.wake_seat(waiter);
        });
    }

protected:
    bool wake_one() noexcept { return m_parking.wake_one(&seat_at(0), seat_count()); }

    /// Any thread: is there work anywhere a thief can see? Used as the last check before
    /// parking. (Private seats are not scanned: only their owners take from them.)
    bool work_visible() const noexcept {
        if (m_injected.visible()) return true;
        for (std::size_t i = 0; i < seat_count(); ++i) {
            if (!seat_at(i).deque.empty()) return true;
        }
        return false;
    }

    // Each on cache lines of its own: the sleeper and searcher counts (read on every fork;
    // inside m_parking) and the injection queue (its count and its mutex are on lines of
    // their own), away from the seats' occupied-extras mask (in seat_table) and the
    // scheduler's shutdown state. Sharing a line made an outside submit's lock and count
    // updates slow every thief's look.
    parking m_parking;
    injection_queue m_injected;
};

}  // namespace microtask::detail

// ---- include/microtask/detail/regions.hpp -----------------------------------
// microtask — detail/regions.hpp
// Isolation regions (mt::isolate) and what a wait may take: a thread inside a region takes
// only that region's work; a thread whose stack is more than half used takes only its own
// forks. Also the one place a taken task is run: in its own region, counted, and traced.
// docs/design.md section 6 explains it.

// ---- include/microtask/detail/steal.hpp -------------------------------------
// microtask — detail/steal.hpp
// How a thread with nothing of its own picks a victim and takes its oldest task.
// docs/design.md section 6 explains the order of the looks.


#include <bit>
#include <cstddef>
#include <cstdint>

namespace microtask::detail {

/// A task a thread took, and the isolation region it belongs to (see seat::region).
struct found_work {
    task_base* task = nullptr;
    std::uint64_t region = 0;
    explicit operator bool() const noexcept { return task != nullptr; }
};

/// Asks for tasks of any region.
inline constexpr std::uint64_t any_region = work_stealing_deque<task_base*>::any_label;

/// Takes the oldest task of `victim` if it is of `region` (or region is any_region).
/// `contended`: set when another thread won the race for it, so that the deque may still
/// hold work worth another look.
inline found_work try_steal(seat& own, seat& victim, bool& contended, std::uint64_t region) {
    if (&victim == &own || victim.deque.empty()) return {};
    // A private seat is not scanned by trim's readers_idle (they come and go): it is
    // counted in the victim's deque instead.
    const auto [status, task, label] = victim.deque.steal(region, own.is_private ? nullptr : &own.reading_ring);
    if (status == work_stealing_deque<task_base*>::steal_status::success) {
        seat::counters::add(own.stats.tasks_stolen);
        return {task, label};
    }
    if (status == work_stealing_deque<task_base*>::steal_status::lost_race) contended = true;
    seat::counters::add(own.stats.failed_steals);
    return {};
}

/// Tries every occupied extra seat (guest or leased) once. The scan starts one seat
/// further on each time (a per-thief cursor): scanning lowest first let one outside
/// thread that kept its seat non-empty starve another's tasks for as long as it
/// submitted. Now each occupied seat comes first at least once in 64 scans.
/// `skip_attended`: leave out the seats whose thread is inside a call (seat::attended).
inline found_work steal_from_extras(seat_table& seats, seat& own, bool& contended, std::uint64_t region,
                                    bool skip_attended = false) {
    const std::uint64_t mask = seats.occupied_extras();
    if (mask == 0) return {};
    const unsigned shift = own.extras_cursor++ % 64;
    // Bit b of the rotated mask is extra seat (b + shift) % 64.
    // Rotated by hand: std::rotr's count is int in libstdc++ and unsigned in libc++ 14,
    // so either cast warns under -Wsign-conversion with one of them.
    std::uint64_t extras = shift == 0 ? mask : (mask >> shift) | (mask << (64 - shift));
    while (extras != 0) {
        const auto bit = (static_cast<std::size_t>(std::countr_zero(extras)) + shift) % 64;
        extras &= extras - 1;
        seat& victim = seats.seat_at(seats.worker_count() + bit);
        if (skip_attended && victim.attended.load(std::memory_order_relaxed)) continue;
        if (found_work work = try_steal(own, victim, contended, region)) return work;
    }
    return {};
}

/// Tries every worker once from a random start, then every occupied extra seat; takes
/// only tasks of `region` unless it is any_region. Repeats once if a race was lost.
inline found_work steal(seat_table& seats, seat& own, std::uint64_t region) {
    // xorshift64: a random start spreads thieves over victims (no convoy on worker 0).
    std::uint64_t x = own.rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    own.rng_state = x;
    const std::size_t workers = seats.worker_count();
    for (int pass = 0; pass < 2; ++pass) {
        bool contended = false;
        const std::size_t start = static_cast<std::size_t>(x % workers);
        for (std::size_t k = 0; k < workers; ++k) {
            std::size_t v = start + k;
            if (v >= workers) v -= workers;
            if (found_work work = try_steal(own, seats.seat_at(v), contended, region)) return work;
        }
        if (found_work work = steal_from_extras(seats, own, contended, region)) return work;
        if (!contended) break;
    }
    return {};
}

}  // namespace microtask::detail

// ---- include/microtask/detail/regions.hpp (continued) -----------------------
#include <atomic>
#include <chrono>
#include <cstdint>
#include <limits>

namespace microtask::detail {

/// A fresh isolation region id (never 0). Ids only need to differ: relaxed.
inline std::uint64_t new_region_id() noexcept {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
}

/// Puts `seat`'s owner inside `region` for a scope (0: outside any region): what it
/// pushes from now on is labelled with the region, and its waits take only that region's
/// work (see seat::region). Owner of `seat` only.
class region_scope {
public:
    region_scope(seat& own, std::uint64_t region) noexcept
        : m_seat(own), m_outer_region(own.region), m_outer_floor(own.region_floor) {
        own.region = region;
        own.region_floor = own.deque.bottom_index();
    }
    region_scope(const region_scope&) = delete;
    region_scope& operator=(const region_scope&) = delete;
    ~region_scope() {
        m_seat.region = m_outer_region;
        m_seat.region_floor = m_outer_floor;
    }

private:
    seat& m_seat;
    std::uint64_t m_outer_region;
    std::int64_t m_outer_floor;
};

/// What a wait may take: everything; only the work of the seat's isolation region; only the
/// seat's own deque (above the region's floor, if any).
enum class reach : std::uint8_t { everything, own_region, own_deque };

/// What a wait on `own` may take now. With more than half of the stack used, only the
/// thread's own forks (never steals, which could each stack another waiting frame on top
/// of this one); the own deque must stay open, as nobody else may be there to take those
/// forks. Inside an isolation region, only the region's work. Owner of `own` only.
inline reach reach_of(const seat& own) noexcept {
    if (stack_more_than_half_used()) return reach::own_deque;
    return own.region != 0 ? reach::own_region : reach::everything;
}

/// A look for work limited to `scope` (not reach::everything). Owner of `own` only.
inline found_work find_in_region(seat_table& seats, seat& own, reach scope) {
    const std::int64_t floor = own.region != 0 ? own.region_floor : std::numeric_limits<std::int64_t>::min();
    if (task_base* task = own.deque.pop_above(floor, nullptr)) return {task, own.region};
    // The injection queue holds unlabelled work: never taken here.
    if (scope == reach::own_region) return steal(seats, own, own.region);
    return {};
}

/// Runs a task that `own`'s owner took, inside the task's own isolation region; counts
/// it for thread_pool::stats() and records it in the trace when tracing is on.
inline void run_found(seat& own, found_work work) noexcept {
    seat::counters::add(own.stats.tasks_run);
    const auto run_in_region = [&] {
        if (work.region == own.region) {
            work.task->execute();
        } else {
            const region_scope scope(own, work.region);
            work.task->execute();
        }
    };
    if (k_instrumented && g_tracing.load(std::memory_order_relaxed)) [[unlikely]] {
        const std::int64_t start = trace_now_ns();
        run_in_region();
        record_span("task", start);
    } else {
        run_in_region();
    }
}

/// Adds the time since `since` to `own`'s idle time (thread_pool::stats()).
inline void count_idle(seat& own, std::chrono::steady_clock::time_point since) noexcept {
    const auto idle = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - since);
    seat::counters::add(own.stats.idle_ns, static_cast<std::uint64_t>(idle.count()));
}

}  // namespace microtask::detail

// ---- include/microtask/detail/small_block_cache.hpp -------------------------
// microtask — detail/small_block_cache.hpp
// Recycles the fixed-size blocks that submitted tasks live in, so that submit() does not
// reach malloc in steady state.
//
// The pattern to serve is producer/consumer: one thread allocates tasks, other threads
// run and free them. Each thread keeps a private free list; a thread whose list grows
// long hands a batch of blocks to a shared depot, and a thread whose list is empty takes
// a whole batch from it: one lock per k_batch blocks, not one per block. The depot keeps
// at most k_depot_batches batches; beyond that, spilled blocks go back to the heap, so a
// burst of tasks does not pin its peak memory for the life of the process.

#include <cstddef>
#include <mutex>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define MICROTASK_DETAIL_RECYCLE_BLOCKS 0  // let AddressSanitizer see every free and reuse
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MICROTASK_DETAIL_RECYCLE_BLOCKS 0
#endif
#endif
#ifndef MICROTASK_DETAIL_RECYCLE_BLOCKS
#define MICROTASK_DETAIL_RECYCLE_BLOCKS 1
#endif

namespace microtask::detail {

class small_block_cache {
public:
    static constexpr std::size_t k_block_size = 128;  // a task header + a few captures

    static void* allocate(std::size_t size) {
        if (!MICROTASK_DETAIL_RECYCLE_BLOCKS || size > k_block_size || t_cache_destroyed) {
            return ::operator new(size > k_block_size ? size : k_block_size);
        }
        thread_cache& cache = local();
        if (cache.head == nullptr) cache.refill();
        if (cache.head == nullptr) return ::operator new(k_block_size);
        node* block = cache.head;
        cache.head = block->next;
        --cache.count;
        return block;
    }

    static void deallocate(void* pointer, std::size_t size) noexcept {
        // After this thread's cache died (a block freed during static destruction, say)
        // the block goes straight back to the heap.
        if (!MICROTASK_DETAIL_RECYCLE_BLOCKS || size > k_block_size || t_cache_destroyed) {
            ::operator delete(pointer);
            return;
        }
        thread_cache& cache = local();
        auto* block = static_cast<node*>(pointer);
        block->next = cache.head;
        cache.head = block;
        if (++cache.count >= 2 * k_batch) cache.spill();
    }

    /// Gives the depot's batches beyond k_depot_batches back to the heap. Called at a
    /// quiet moment (a worker about to park), not while blocks are spilled: freeing at
    /// every spill made each burst of tasks after the first allocate its blocks from the
    /// heap again (10^5 submits ran ~1.6x slower). Any thread; takes the depot's lock.
    static void trim_depot() noexcept {
        std::vector<node*> surplus;
        {
            depot& shared = depot::instance();
            std::lock_guard lock(shared.mutex);
            if (shared.batches.size() <= k_depot_batches) return;
            try {
                surplus.assign(shared.batches.begin() + static_cast<std::ptrdiff_t>(k_depot_batches),
                               shared.batches.end());
            } catch (...) {
                return;  // no memory for the list: keep the blocks for now
            }
            shared.batches.resize(k_depot_batches);
        }
        for (node* batch : surplus) {
            while (batch != nullptr) {
                node* next = batch->next;
                ::operator delete(batch);
                batch = next;
            }
        }
    }

private:
    static constexpr std::size_t k_batch = 256;
    // 64 batches of 256 blocks of 128 bytes: 2 MiB kept across a quiet moment, enough
    // to serve a steady producer/consumer pattern without touching malloc.
    static constexpr std::size_t k_depot_batches = 64;
    struct node {
        node* next;
    };

    // The depot outlives every thread cache: it is never destroyed (threads, including
    // the default pool's workers, may exit during static destruction). Blocks in it
    // stay reachable, so leak checkers do not report them.
    struct depot {
        std::mutex mutex;
        std::vector<node*> batches;  // each a list of k_batch blocks
        static depot& instance() {
            static depot* const the_depot = new depot;
            return *the_depot;
        }
    };

    struct thread_cache {
        node* head = nullptr;
        std::size_t count = 0;

        void refill() {
            depot& shared = depot::instance();
            std::lock_guard lock(shared.mutex);
            if (shared.batches.empty()) return;
            head = shared.batches.back();
            shared.batches.pop_back();
            count = k_batch;
        }

        void spill() noexcept {
            node* batch = head;
            node* last = head;
            for (std::size_t i = 1; i < k_batch; ++i) last = last->next;
            node* rest = last->next;
            last->next = nullptr;
            depot& shared = depot::instance();
            try {
                std::lock_guard lock(shared.mutex);
                shared.batches.push_back(batch);
            } catch (...) {
                last->next = rest;  // no room in the depot: keep the blocks here
                return;
            }
            head = rest;
            count -= k_batch;
        }

        ~thread_cache() {
            t_cache_destroyed = true;
            while (head != nullptr) {
                node* next = head->next;
                ::operator delete(head);
                head = next;
            }
        }
    };

    // Trivially destructible, so it can still be read after thread_cache is destroyed.
    static inline thread_local bool t_cache_destroyed = false;

    static thread_cache& local() noexcept {
        thread_local thread_cache cache;
        return cache;
    }
};

/// Base for heap tasks: allocation through small_block_cache. Over-aligned tasks (a
/// capture with alignas above 16) go straight to the aligned global operators.
struct recycled_allocation {
    static void* operator new(std::size_t size) { return small_block_cache::allocate(size); }
    static void operator delete(void* pointer, std::size_t size) noexcept {
        small_block_cache::deallocate(pointer, size);
    }
    static void* operator new(std::size_t size, std::align_val_t alignment) { return ::operator new(size, alignment); }
    static void operator delete(void* pointer, std::align_val_t alignment) noexcept {
        ::operator delete(pointer, alignment);
    }
};

}  // namespace microtask::detail

// ---- include/microtask/detail/scheduler.hpp (continued) ---------------------
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

// ---- include/microtask/detail/fork_join.hpp (continued) ---------------------
#include <atomic>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace microtask::detail {

/// What the owner's slow path needs from a fork's job, whatever the body type: whether
/// anyone took it, whether it has finished, and where it was pushed.
class fork_state : public task_base {
public:
    fork_state(run_fn run_job, seat& owner) noexcept : task_base{run_job}, m_owner(owner) {}

    /// seq_cst: the owner reads this in scheduler::wait_until's `done` (Dekker pairing).
    [[nodiscard]] bool done() const noexcept { return m_done.load(std::memory_order_seq_cst); }

    /// Owner only: has anyone taken the job? (Relaxed: the case that matters is the
    /// owner itself having run it from a nested wait, which it sees in program order.)
    [[nodiscard]] bool started() const noexcept { return m_started.load(std::memory_order_relaxed); }

    /// The seat of the thread that forked; its deque holds the job.
    [[nodiscard]] seat& owner() const noexcept { return m_owner; }

    // The job's index in the owner's deque, for take_back(). Written by the push
    // (scheduler::push_local) and read back after `left` returns: from this frame, not
    // from a register that every call of the forking function would have to save.
    // Uninitialised until then: a default value would be one more store per fork.
    std::int64_t index;

protected:
    seat& m_owner;
    std::atomic<bool> m_started{false};
    std::atomic<bool> m_done{false};
};

/// The right-hand side of a fork, living in the forking frame. `Body` is invoked with the
/// seat of whichever thread runs it.
template <class Body>
class stack_job final : public fork_state {
public:
    using result_type = value_result_t<Body&, seat&>;

    stack_job(Body& body, seat& owner) noexcept : fork_state{&run_stolen, owner}, m_body(body) {}
    stack_job(const stack_job&) = delete;
    stack_job& operator=(const stack_job&) = delete;
    // Destroys nothing: the outcome exists only after a thief ran the job, and the owner
    // then consumes it with take_result() or discard_outcome(). Most jobs come back to
    // their owner unrun, and a destructor that tested for an outcome cost each fork a
    // store and a test (the compiler cannot know that nobody wrote it).
    ~stack_job() {}

    /// Precondition: done(), after a thief ran the job. Consumes the outcome.
    result_type take_result() {
        if (m_failed) {
            std::exception_ptr error = std::move(m_outcome.error);
            m_outcome.error.~exception_ptr();
            std::rethrow_exception(std::move(error));
        }
        // Destroyed after the return value is built from it, even if that move throws.
        struct destroy_after {
            result_type& value;
            ~destroy_after() { value.~result_type(); }
        } const guard{m_outcome.value};
        return std::move(m_outcome.value);
    }

    /// Precondition: done(), after a thief ran the job. Drops the outcome unread.
    void discard_outcome() noexcept {
        if (m_failed) {
            m_outcome.error.~exception_ptr();
        } else {
            m_outcome.value.~result_type();
        }
    }

private:
    static void run_stolen(task_base* base) noexcept {
        auto* self = static_cast<stack_job*>(base);
        self->m_started.store(true, std::memory_order_relaxed);
        try {
            // The thief's own seat in this pool (it may hold seats in other pools too).
            ::new (static_cast<void*>(std::addressof(self->m_outcome.value)))
                result_type(invoke_to_value(self->m_body, *self->m_owner.pool->current_seat()));
            self->m_failed = false;
        } catch (...) {
            ::new (static_cast<void*>(std::addressof(self->m_outcome.error)))
                std::exception_ptr(std::current_exception());
            self->m_failed = true;
        }
        seat& owner = self->m_owner;
        scheduler& sched = *owner.pool;
        // seq_cst: pairs with the owner's park() (store sleeping, then read done()). Also
        // publishes the outcome written above to the owner, which reads it after done().
        self->m_done.store(true, std::memory_order_seq_cst);
        // `self` may already be gone: the owner can return as soon as it sees m_done.
        sched.wake_seat(owner);
    }

    // The thief's result or exception; neither exists unless the job ran stolen.
    union outcome {
        outcome() noexcept {}
        ~outcome() {}
        result_type value;
        std::exception_ptr error;
    };

    // A small trivially copyable body (mt::join's, which holds a reference to the user's
    // callable) is kept by value: a thief then reaches the user's callable in one load,
    // and the fork stores no extra pointer. Only one of this copy and the original runs.
    using body_storage =
        std::conditional_t<std::is_trivially_copyable_v<Body> && sizeof(Body) <= 2 * sizeof(void*), Body, Body&>;

    body_storage m_body;
    outcome m_outcome;
    bool m_failed;  // written by the thief before m_done, read by the owner after it
};

/// The rare end of a fork: the job was not simply the newest item of the owner's deque
/// when `left` returned. Runs what `left` pushed and left behind, which sits above the
/// job (LIFO); stops as soon as the job has been taken, since below it lie outer frames'
/// offers, which must not run deep on this stack (a nested wait inside `left` may have
/// run the job). Returns true if the job came back unstarted (the caller runs its work
/// here), false once a thief or that nested wait has run it to completion. Out of line
/// and not a template, so that the common end of every fork is a short function; it
/// takes only the job (which knows its owner's seat, which knows its pool), so that the
/// forking function keeps nothing else alive across `left` for it.
[[gnu::noinline]] inline bool settle_fork(fork_state& job) {
    seat& own = job.owner();
    scheduler& sched = *own.pool;
    while (!job.started()) {
        task_base* task = own.deque.pop(nullptr);
        // Empty: a thief took the job (steals take the oldest first); wait for it below.
        if (task == nullptr) break;
        if (task == &job) return true;
        task->execute();
    }
    sched.wait_until(own, [&job] { return job.done(); });
    return false;
}

/// Runs `left(own)`; if it throws, settles the fork before the exception leaves this
/// frame (the job lives there, so it must neither stay offered nor be still running on
/// a thief), skipping the job if it had not started. Settling runs inside the handler:
/// an exception_ptr kept for a rethrow after it cost every fork a store and a test.
template <class Left, class Job>
value_result_t<Left&, seat&> run_left_side(Left& left, seat& own, Job& job) {
    try {
        return invoke_to_value(left, own);
    } catch (...) {
        // Left's exception wins; a thief's result or exception is dropped.
        if (!settle_fork(job)) job.discard_outcome();
        throw;
    }
}

/// The general fork: runs `left(own)` here and offers `right` to thieves. Then either
///   - nobody took `right`: returns continue_inline(left result, own) — the caller may
///     run the right-hand work differently when it stays on this thread (the fold
///     threads its accumulator through instead of combining two results), or
///   - a thief ran `right(thief's seat)`: waits for it, helping meanwhile, and returns
///     merge(left result, right result).
/// If `left` throws and `right` has not started, `right` is skipped; if it has, it is
/// awaited (it lives in this frame) and then left's exception is rethrown.
/// Precondition: `own` is the calling thread's seat in `sched`.
template <class Left, class Right, class ContinueInline, class Merge>
decltype(auto) fork_or_continue(scheduler& sched, seat& own, Left&& left, Right&& right,
                                ContinueInline&& continue_inline, Merge&& merge) {
    stack_job<std::remove_reference_t<Right>> job(right, own);
    sched.push_local(own, &job, job.index);
    auto left_value = run_left_side(left, own, job);
    // Almost always nothing has touched the job and it is still the newest item: `left`
    // waited for whatever it forked itself. A job that has started was taken by someone
    // (perhaps this thread, from a wait inside `left`), and its slot may hold other work.
    if ((!job.started() && own.deque.take_back(job.index)) || settle_fork(job)) [[likely]] {
        return continue_inline(std::move(left_value), own);
    }
    // A thief ran the job, and merge() or take_result() may throw: the job's outcome
    // must be consumed whatever happens next (take_result() does, first thing).
    return merge(std::move(left_value), job.take_result());
}

/// Runs `left(own)` here and `right(seat&)` here or on a thief; returns both results.
template <class Left, class Right>
auto fork_join(scheduler& sched, seat& own, Left&& left, Right&& right)
    -> std::pair<value_result_t<Left&, seat&>, value_result_t<Right&, seat&>> {
    using result = std::pair<value_result_t<Left&, seat&>, value_result_t<Right&, seat&>>;
    return fork_or_continue(
        sched, own, left, right,
        [&right](value_result_t<Left&, seat&>&& left_value, seat& here) {
            return result(std::move(left_value), invoke_to_value(right, here));
        },
        [](value_result_t<Left&, seat&>&& left_value, value_result_t<Right&, seat&>&& right_value) {
            return result(std::move(left_value), std::move(right_value));
        });
}

/// How mt::join hands a callable to its out-of-line path: a trivially copyable temporary
/// by value, anything else by reference. A reference lets the callable's address escape
/// the forking function, and the compiler then keeps a lambda's captures in memory on
/// the common path too, where a fork in fib(32) stored and reloaded them (~7% slower).
/// A copy of a temporary (const kept, so the same call operator is chosen) is
/// indistinguishable from it, unless the callable compares its own address.
template <class F>
using join_argument_t = std::conditional_t<!std::is_lvalue_reference_v<F> &&
                                               std::is_trivially_copy_constructible_v<std::remove_cvref_t<F>> &&
                                               std::is_trivially_destructible_v<std::remove_cvref_t<F>>,
                                           F, F&>;

/// mt::join called from outside the pool, or from inside another pool's task: takes a
/// seat here first (scheduler::run_in_seat). `A` and `B` are join_argument_t types.
template <class Result, class A, class B>
[[gnu::noinline]] Result join_from_outside(scheduler& sched, A a, B b) {
    return Result(sched.run_in_seat([&](seat& own) {
        return fork_join(
            sched, own, [&a](seat&) { return invoke_to_value(a); }, [&b](seat&) { return invoke_to_value(b); });
    }));
}

}  // namespace microtask::detail

// ---- include/microtask/detail/leaf_folds.hpp --------------------------------
// microtask — detail/leaf_folds.hpp
// What one leaf of a fold does with its elements (the LeafFold of detail/fold.hpp):
// map_reduce's leaf maps and accumulates each element; mt::fold's hands the user's body the
// whole subrange. Also the reducer of nothing, for for_each and distribute.

// ---- include/microtask/detail/gather_engaged.hpp ----------------------------
// microtask — detail/gather_engaged.hpp
// The leaf loop of the filter idiom: a map that returns std::optional<E>, folded by a
// reducer that keeps the engaged values in order and drops the empty ones (mt::concat).

#include <cstddef>
#include <cstring>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <type_traits>

namespace microtask::detail {

/// Does reducer `Red` drop an empty `Mapped` and append an engaged one's value as one
/// element, and may a leaf therefore gather the values first (gather_engaged_values)?
/// False unless a reducer says so: mt::concat specializes it (reducers.hpp).
template <class Red, class Mapped>
inline constexpr bool gathers_engaged_values = false;

/// Can the values of std::optional<E> be gathered as bytes through a buffer on the stack:
/// trivially copyable (and so is the optional), free to default-construct, small. Not
/// bool, whose object may hold only 0 or 1.
template <class E>
inline constexpr bool gatherable_value =
    std::is_trivially_copyable_v<E> && std::is_trivially_default_constructible_v<E> &&
    std::is_trivially_copyable_v<std::optional<E>> && !std::is_same_v<std::remove_cv_t<E>, bool> && sizeof(E) <= 16;

/// Is an optional's value stored at the optional's own address? True in libstdc++,
/// libc++ and the MSVC STL; a compiler folds the test to a constant.
template <class E>
bool value_at_optional_start() noexcept {
    const std::optional<E> probe{E{}};
    return static_cast<const void*>(std::addressof(*probe)) == static_cast<const void*>(std::addressof(probe));
}

/// Appends to `acc` the values of the engaged results of `map` over [element, last), in
/// order, with no branch on whether a result is engaged. A filter keeps an unpredictable
/// share of its elements, and with a branch per element every wrong guess cost more than
/// the whole loop body: each result's value bytes are copied to the next free slot of a
/// stack buffer and the slot is kept only if the result was engaged (an empty result's
/// bytes are overwritten by the next one and never read). Full buffers are appended
/// with one insert. O(last - element); throws what `map` and the insertion throw (then
/// `acc` holds a prefix of the kept values, which the caller discards with the call).
/// Precondition: value_at_optional_start<E>() (the caller checks it).
template <class Acc, class It, class Map>
void gather_engaged_values(Acc& acc, It element, It last, Map& map) {
    using mapped_type = std::remove_cvref_t<std::invoke_result_t<Map&, std::iter_reference_t<It>>>;
    using value_type = typename mapped_type::value_type;
    constexpr std::size_t k_buffer = 256;
    value_type buffer[k_buffer];
    std::size_t count = 0;
    for (; element != last; ++element) {
        const mapped_type mapped = std::invoke(map, *element);
        std::size_t kept = mapped.has_value() ? 1 : 0;
#if defined(__GNUC__) || defined(__clang__)
        // Hides from the optimizer that `kept` and the copied bytes come from the same
        // test: told, g++ 12 turned the copy and the count back into a branch.
        asm("" : "+r"(kept));
#endif
        // The optional's bytes, not operator*: reading the value of an empty optional
        // is undefined, copying the representation of a trivially copyable object is not.
        std::memcpy(&buffer[count], std::addressof(mapped), sizeof(value_type));
        count += kept;
        if (count == k_buffer) [[unlikely]] {
            acc.insert(acc.end(), buffer, buffer + count);
            count = 0;
        }
    }
    acc.insert(acc.end(), buffer, buffer + count);
}

}  // namespace microtask::detail

// ---- include/microtask/detail/leaf_folds.hpp (continued) --------------------
#include <cstddef>
#include <functional>
#include <iterator>
#include <type_traits>
#include <variant>

namespace microtask::detail {

/// Folds elements [begin, end) into `acc`: the loop every map_reduce leaf runs. A small
/// trivially copyable accumulator (a number, a small struct) is kept in a local for the
/// loop, so the compiler holds it in a register instead of storing it through the
/// reference after every element (it cannot prove the input does not alias it).
template <class Red, class It, class Map>
inline void fold_mapped_elements(const Red& red, typename Red::value_type& acc, It first, Map& map, std::size_t begin,
                                 std::size_t end) {
    using value_type = typename Red::value_type;
    using difference = std::iter_difference_t<It>;
    // Up to four words: larger accumulators (a 256-bin histogram) are better updated in place.
    constexpr std::size_t k_register_bytes = 4 * sizeof(void*);
    // Iterators stepped with ++, not first[k]: an index_range's operator[] adds in the
    // unsigned type (it must not overflow), which keeps g++ from strength-reducing a map
    // like i * constant into an addition per element (an iota of int ran 10-20% slower
    // than the plain loop).
    const It from = first + static_cast<difference>(begin);
    const It to = first + static_cast<difference>(end);
    using mapped_type = std::remove_cvref_t<std::invoke_result_t<Map&, std::iter_reference_t<It>>>;
    if constexpr (gathers_engaged_values<Red, mapped_type>) {
        // The filter idiom (std::optional into concat): gathered with no branch per element.
        if (value_at_optional_start<typename mapped_type::value_type>()) [[likely]] {
            if constexpr (std::contiguous_iterator<It>) {
                gather_engaged_values(acc, std::to_address(from), std::to_address(to), map);
            } else {
                gather_engaged_values(acc, from, to, map);
            }
            return;
        }
    }
    if constexpr (std::is_trivially_copyable_v<value_type> && sizeof(value_type) <= k_register_bytes) {
        value_type local = acc;
        for (It element = from; element != to; ++element) accumulate_into(red, local, std::invoke(map, *element));
        acc = local;
    } else if constexpr (std::contiguous_iterator<It>) {
        // A pointer loop: with an index loop g++ 12 kept the loop's exit test on its own
        // after the body, a second taken branch for every element a filter skips.
        // (Not a pointer to const: a map may take the element by non-const reference.)
        auto* element = std::to_address(from);
        auto* const last = std::to_address(to);
        for (; element != last; ++element) accumulate_into(red, acc, std::invoke(map, *element));
    } else {
        for (It element = from; element != to; ++element) accumulate_into(red, acc, std::invoke(map, *element));
    }
}

/// map_reduce's leaf: maps each element and accumulates it.
template <class It, class Map, class Red>
struct element_fold {
    It first;
    Map& map;
    const Red& red;
    void operator()(typename Red::value_type& acc, std::size_t begin, std::size_t end) const {
        fold_mapped_elements(red, acc, first, map, begin, end);
    }
};

/// mt::fold's leaf: hands the user's body the whole subrange [begin, end) at once.
template <class It, class Body>
struct body_fold {
    It first;
    Body& body;
    template <class Acc>
    void operator()(Acc& acc, std::size_t begin, std::size_t end) const {
        using difference = std::iter_difference_t<It>;
        std::invoke(body, acc, part<It>(first + static_cast<difference>(begin), first + static_cast<difference>(end)));
    }
};

/// The reducer of nothing: for for_each and distribute, which only need the traversal.
struct unit_reducer {
    using value_type = std::monostate;
    static constexpr bool is_exactly_associative = true;
    [[nodiscard]] constexpr std::monostate identity() const noexcept { return {}; }
    constexpr void combine(std::monostate&, std::monostate&&) const noexcept {}
};

}  // namespace microtask::detail

// ---- include/microtask/detail/fold_operation.hpp (continued) ----------------
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <limits>
#include <new>
#include <ranges>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <variant>

namespace microtask::detail {

/// One fold over [0, size): `LeafFold(acc, begin, end)` folds the elements [begin, end)
/// into `acc`; the operation cuts the range into the policy's leaves and combines.
/// `SplitsOnDemand`: the policy's (adaptive forks a node only when a thief took the last
/// offer, and only once the call has outlived the inline budget; fixed policies fork
/// every node).
///
/// Three walks over the leaf tree, one per shape of accumulation: visit (the canonical
/// tree, one accumulator per node), visit_into (exactly associative: one accumulator
/// carried left to right, a new one only where a thief took a fork) and fold_flat_into
/// (visit_into while probing: leaves run together as one loop up to each clock reading).
template <class LeafFold, reducer Red, bool SplitsOnDemand>
class fold_operation {
public:
    using value_type = typename Red::value_type;

    template <class Policy>  // a partition_policy, or detail::leaf_per_element
    fold_operation(scheduler& sched, std::size_t size, const LeafFold& leaf_fold, const Red& red, const Policy& policy,
                   const operation_controls& controls)
        : m_sched(sched),
          m_size(size),
          m_leaves(size == 0 ? 0 : policy.leaf_count(size)),
          m_leaf_fold(leaf_fold),
          m_red(red),
          m_stop(controls.stop),
          m_progress(controls.report),
          m_split_allowed(!SplitsOnDemand) {
        static_assert(Policy::splits_on_demand == SplitsOnDemand);
    }

    /// The whole fold on the calling thread, in the canonical shape, without forking
    /// (for a call known to be short).
    value_type run_inline() {
        m_probing = false;  // split never becomes allowed
        compute_leaf_shape();
        return unless_cancelled(guarded([&] { return visit(nullptr, 0, m_leaves); }));
    }

    /// Runs the whole fold on the calling thread's seat (forking as decided).
    /// `known_long`: the learned cost says this call is long, so splitting is allowed
    /// from the start (a range of two heavy elements must not run its first one alone
    /// while the probe decides).
    value_type run(seat& own, call_judgement judgement = {}) {
        if (m_leaves == 0) return m_red.identity();
        compute_leaf_shape();
        if (judgement.length == call_length::known_long) m_split_allowed = true;
        m_probing = !m_split_allowed;
        m_learned_cost = m_probing ? judgement.cost : nullptr;  // null when nested (see t_map_depth)
        if (m_probing) m_start = std::chrono::steady_clock::now();
        value_type result = guarded([&] {
            if constexpr (k_exact) {
                value_type acc = m_red.identity();
                start_run(own, acc, 0, m_leaves);
                return acc;
            } else {
                return visit(&own, 0, m_leaves);
            }
        });
        // Never split: all of it was timed (unless it was cut short).
        if (m_learned_cost != nullptr && !m_split_allowed && !m_cancelled.load(std::memory_order_relaxed)) {
            learn(m_size);
        }
        return unless_cancelled(std::move(result));
    }

private:
    static constexpr bool k_exact = exactly_associative<Red>();
    static constexpr std::size_t k_exposed_forks = 2;

    template <class Body>
    value_type guarded(Body&& body) {
        try {
            return body();
        } catch (...) {
            // Rethrow the first exception any subtask threw, not whichever reached us.
            if (m_error) std::rethrow_exception(m_error);
            throw;
        }
    }

    /// The result, unless a stop request made the fold skip some of its work: then the
    /// result is partial, and the caller gets operation_cancelled instead. Read after
    /// every fork has joined, which orders the leaves' writes of m_cancelled before it.
    value_type unless_cancelled(value_type result) const {
        if (m_cancelled.load(std::memory_order_relaxed)) throw operation_cancelled();
        return result;
    }

    /// Whether the work that starts here is to be skipped: another subtask failed (the
    /// operation will throw its exception), or the caller asked to stop (it will throw
    /// operation_cancelled).
    bool skips() noexcept {
        // relaxed: a hint that saves work; the exception itself is published by
        // record_failure() and the joins.
        if (m_failed.load(std::memory_order_relaxed)) return true;
        if (m_stop.stop_requested()) {
            // relaxed: read only by the root after every fork has joined.
            m_cancelled.store(true, std::memory_order_relaxed);
            return true;
        }
        return false;
    }

    // Two divisions: done once per call, and not at all on the inline exact path, where
    // they would be a noticeable part of a 64-element call.
    void compute_leaf_shape() noexcept {
        m_leaf_quotient = m_size / m_leaves;
        m_leaf_remainder = m_size % m_leaves;
    }

    /// A fresh accumulator with leaf `leaf` folded into it.
    value_type fold_leaf(std::size_t leaf) {
        value_type acc = m_red.identity();
        fold_elements(acc, leaf_begin(leaf), leaf_begin(leaf + 1));
        return acc;
    }

    /// Canonical-tree fold of leaves [lo, hi) (reducers that are not exactly associative).
    /// `own` is null for a call run inline without a seat: it never forks.
    value_type visit(seat* own, std::size_t lo, std::size_t hi) {
        if (hi - lo == 1) {
            value_type leaf = fold_leaf(lo);
            if (!m_split_allowed) probe(1);
            return leaf;
        }
        // A skipped subtree's value is never used: the fold throws. (Inline, the leaves'
        // own checks suffice: a node check would cost as much as a short call's leaves.)
        if (own != nullptr && skips()) return m_red.identity();
        const std::size_t mid = lo + (hi - lo) / 2;
        if (own != nullptr && should_split(*own)) {
            auto [left, right] = fork_join(
                m_sched, *own, [&](seat& here) { return visit(&here, lo, mid); },
                [&](seat& here) { return visit(&here, mid, hi); });
            combine(left, std::move(right));
            return std::move(left);
        }
        value_type left = visit(own, lo, mid);
        combine(left, visit(own, mid, hi));
        return left;
    }

    /// Exactly associative reducers: folds leaves [lo, hi) into `acc`, left to right.
    /// Only a fork that a thief really takes costs an accumulator and a combine; a fork
    /// that comes back unstolen just carries `acc` on (no identity, no append of partial
    /// containers level by level as a tree would).
    void visit_into(seat& own, value_type& acc, std::size_t lo, std::size_t hi) {
        if (!m_split_allowed) return fold_flat_into(own, acc, lo, hi);
        if (hi - lo == 1) return fold_elements(acc, leaf_begin(lo), leaf_begin(lo + 1));
        if (skips()) return;
        const std::size_t mid = lo + (hi - lo) / 2;
        if (should_split(own)) {
            // Left stays here and folds into `acc`; a thief that takes the right half
            // starts its own accumulator, which is combined into `acc` after the join.
            fork_or_continue(
                m_sched, own, [&](seat& here) { visit_into(here, acc, lo, mid); },
                [&](seat& here) {
                    value_type right = m_red.identity();
                    start_run(here, right, mid, hi);
                    return right;
                },
                [&](std::monostate, seat& here) {
                    visit_into(here, acc, mid, hi);
                    return std::monostate{};
                },
                [&](std::monostate, value_type right) {
                    combine(acc, std::move(right));
                    return std::monostate{};
                });
            return;
        }
        visit_into(own, acc, lo, mid);
        visit_into(own, acc, mid, hi);
    }

    /// visit_into() for a fresh accumulator (identity) that will take leaves [lo, hi),
    /// unless thieves take some. An accumulator that can reserve (a vector, a string)
    /// would grow by doubling through the whole run, reallocating and copying ~20 times
    /// for a 10^7-element filter (docs/performance.md, "The filters after the
    /// reservation"). So the run's first leaf is folded alone, and the
    /// accumulator reserves what the remaining leaves would add at the rate that leaf added
    /// elements, plus 1/16. A run a thief shares ends with room to spare, which the combine after the join
    /// then fills without a reallocation. A first leaf that adds nothing reserves nothing.
    /// The reservation is only a hint: if it cannot be had (bad_alloc, length_error), the
    /// accumulator grows as before.
    void start_run(seat& own, value_type& acc, std::size_t lo, std::size_t hi) {
        if constexpr (requires(std::size_t n) {
                          acc.reserve(n);
                          { acc.size() } -> std::convertible_to<std::size_t>;
                          { acc.capacity() } -> std::convertible_to<std::size_t>;
                      }) {
            // Eight leaves at least: below that the estimate is not worth a reservation.
            // (A short call under the adaptive policy has up to 2048 leaves and reserves
            // too: the growth it saves is the same.)
            if (hi - lo >= k_leaves_worth_reserving) {
                // What the leaf adds, not the accumulator's size: an identity that already
                // has its size (a vector of bins for elementwise_sum) must reserve nothing.
                const std::size_t before = static_cast<std::size_t>(acc.size());
                fold_elements(acc, leaf_begin(lo), leaf_begin(lo + 1));
                probe(1);
                ++lo;
                const std::size_t size = static_cast<std::size_t>(acc.size());
                const std::size_t per_leaf = size > before ? size - before : 0;
                const std::size_t rest = hi - lo;  // leaves left (at least 7)
                // The bound keeps `expected` from overflowing; a reserve past max_size()
                // throws length_error, caught below.
                if (per_leaf != 0 && per_leaf <= (std::numeric_limits<std::size_t>::max() - size) / (2 * rest) &&
                    !skips()) {
                    const std::size_t expected = size + per_leaf * rest + per_leaf * rest / 16;
                    try {
                        if (acc.capacity() < expected) acc.reserve(expected);
                    } catch (const std::bad_alloc&) {
                    } catch (const std::length_error&) {
                    }
                }
            }
        }
        visit_into(own, acc, lo, hi);
    }
    static constexpr std::size_t k_leaves_worth_reserving = 8;

    /// While nothing has been split yet: fold the leaves as one contiguous run of
    /// elements up to each probe point (a plain loop, no per-leaf cost); once splitting
    /// pays, hand the remaining leaves to visit_into(), which may split them.
    void fold_flat_into(seat& own, value_type& acc, std::size_t lo, std::size_t hi) {
        std::size_t leaf = lo;
        while (leaf < hi) {
            if (skips()) return;
            const std::size_t until_probe = m_next_probe - m_leaves_done;
            const std::size_t stop = hi - leaf <= until_probe ? hi : leaf + until_probe;
            fold_elements(acc, leaf_begin(leaf), leaf_begin(stop));
            probe(stop - leaf);
            leaf = stop;
            if (m_split_allowed && leaf < hi) return visit_into(own, acc, leaf, hi);
        }
    }

    bool should_split(seat& own) const noexcept {
        if (!m_split_allowed) return false;
        if constexpr (!SplitsOnDemand) return true;
        // Lazy binary splitting: offer more work only when fewer than k_exposed_forks
        // offers are waiting in our deque, i.e. thieves took what we offered before.
        // Two rather than one: a thief that takes our only offer would otherwise find
        // nothing more until we reach the next tree node, which may be a whole leaf away.
        return own.deque.size_hint() < k_exposed_forks && m_sched.may_have_thieves(own);
    }

    /// While probing (only the root thread runs then), read the clock after 1, 2, 4, ...
    /// leaves, and allow splitting once the job has run longer than the inline budget.
    void probe(std::size_t leaves_done) noexcept {
        if (!m_probing || m_split_allowed) return;
        m_leaves_done += leaves_done;
        if (m_leaves_done < m_next_probe) return;
        m_next_probe *= 2;
        if (std::chrono::steady_clock::now() - m_start >= k_inline_budget) {
            learn(leaf_begin(m_leaves_done));
            m_split_allowed = true;
        }
    }

    /// Records this call site's cost per element from the elements timed so far.
    void learn(std::size_t elements) noexcept {
        if (m_learned_cost == nullptr || elements == 0) return;
        const auto elapsed = std::chrono::steady_clock::now() - m_start;
        learn_cost<LeafFold, Red>(*m_learned_cost,
                                  std::chrono::duration<double, std::pico>(elapsed).count() / double(elements));
    }

    std::size_t leaf_begin(std::size_t leaf) const noexcept {
        // Same as detail::leaf_begin(leaf, m_size, m_leaves), without the divisions.
        return leaf * m_leaf_quotient + std::min(leaf, m_leaf_remainder);
    }

    void fold_elements(value_type& acc, std::size_t begin, std::size_t end) {
        if (skips()) return;
        try {
            map_scope in_map;
            m_leaf_fold(acc, begin, end);
        } catch (...) {
            record_failure();
            throw;
        }
        // Counted once the elements are done, and before this leaf joins: the operation
        // cannot end while a report is in flight.
        if (m_progress != nullptr) [[unlikely]]
            report_progress(end - begin);
    }

    // Out of line, and outside the try block above: inside it, the mere call made a
    // 64-element map_reduce without any progress 70% slower (measured).
#if defined(__GNUC__) || defined(__clang__)
    [[gnu::noinline]]
#endif
    void
    report_progress(std::size_t finished) {
        try {
            m_progress->advance(finished);
        } catch (...) {
            record_failure();
            throw;
        }
    }

    void combine(value_type& left, value_type&& right) {
        try {
            combine_into(m_red, left, std::move(right));
        } catch (...) {
            record_failure();
            throw;
        }
    }

    void record_failure() noexcept {
        // acq_rel: the winner's write of m_error is published to whoever reads it after
        // joining (the root), through the fork-join completion chain as well.
        if (!m_failed.exchange(true, std::memory_order_acq_rel)) m_error = std::current_exception();
    }

    scheduler& m_sched;
    std::size_t m_size;
    std::size_t m_leaves;
    std::size_t m_leaf_quotient = 0;
    std::size_t m_leaf_remainder = 0;
    const LeafFold& m_leaf_fold;
    const Red& m_red;
    const stop_token& m_stop;  // the caller's; outlives the operation
    progress* m_progress;      // the caller's, or null: no reports
    // Written only by the root thread before anything is forked; read by thieves after
    // they stole a fork (the deque's release/acquire publishes them).
    bool m_split_allowed;
    bool m_probing = false;
    std::atomic<std::uint32_t>* m_learned_cost = nullptr;  // where learn() writes; null: do not learn
    std::size_t m_leaves_done = 0;
    std::size_t m_next_probe = 1;
    std::chrono::steady_clock::time_point m_start{};
    std::atomic<bool> m_failed{false};
    std::atomic<bool> m_cancelled{false};  // some work was skipped because of m_stop
    std::exception_ptr m_error;
};

}  // namespace microtask::detail

// ---- include/microtask/detail/fold.hpp (continued) --------------------------
#include <cstddef>
#include <utility>

namespace microtask::detail {

/// A call predicted short (see k_split_for_searcher) that a searching thread can share:
/// halves [lo, hi) while a thread searches and the piece is still worth a split, and folds
/// each piece with the plain loop. Only for exactly associative reducers (any order gives
/// the same result), so no canonical tree has to be walked. O(log of the pieces) forks.
template <class LeafFold, class Red>
typename Red::value_type fold_shared_short(scheduler& sched, seat& own, std::size_t lo, std::size_t hi,
                                           double expected_picoseconds, const LeafFold& leaf_fold, const Red& red) {
    if (hi - lo < 2 || expected_picoseconds < 2 * k_split_for_searcher_picoseconds || !sched.someone_searching()) {
        map_scope in_map;
        typename Red::value_type acc = red.identity();
        leaf_fold(acc, lo, hi);
        return acc;
    }
    const std::size_t mid = lo + (hi - lo) / 2;
    const double half = expected_picoseconds / 2;
    auto [left, right] = fork_join(
        sched, own, [&](seat& here) { return fold_shared_short(sched, here, lo, mid, half, leaf_fold, red); },
        [&](seat& here) { return fold_shared_short(sched, here, mid, hi, half, leaf_fold, red); });
    combine_into(red, left, std::move(right));
    return std::move(left);
}

/// run_leaf_fold's work, apart from the reporter's start and last report.
template <class LeafFold, class Red, class Policy>
typename Red::value_type fold_without_reports(scheduler& sched, std::size_t size, const LeafFold& leaf_fold,
                                              const Red& red, const Policy& policy, const call_site& site,
                                              const operation_controls& controls) {
    if (size == 0) return red.identity();
    call_judgement judgement;
    if constexpr (Policy::splits_on_demand) judgement = judge_call<LeafFold, Red>(size, site);
    const call_length length = judgement.length;
    if constexpr (Policy::splits_on_demand && exactly_associative<Red>()) {
        if (length == call_length::known_short) {
            // Short, but long enough to share with a thread that is awake anyway; if none
            // is, a loop of such calls wakes one for the calls that follow (design.md
            // section 9, "Short calls").
            // Only a call fold_shared_short would halve: a shorter one took a guest seat
            // and woke workers for nothing, and ran the plain loop anyway.
            if (judgement.expected_picoseconds >= 2 * k_split_for_searcher_picoseconds) {
                if (sched.someone_searching()) {
                    return sched.run_in_seat([&](seat& own) {
                        return fold_shared_short(sched, own, 0, size, judgement.expected_picoseconds, leaf_fold, red);
                    });
                }
                if (follows_recent_short_call()) sched.wake_for_next_call();
            }
            // Known short, any order will do: the plain loop, nothing else.
            map_scope in_map;
            typename Red::value_type acc = red.identity();
            leaf_fold(acc, 0, size);
            return acc;
        }
    }
    fold_operation<LeafFold, Red, Policy::splits_on_demand> operation(sched, size, leaf_fold, red, policy, controls);
    if constexpr (Policy::splits_on_demand && !exactly_associative<Red>()) {
        if (length == call_length::known_short) return operation.run_inline();
    }
    return sched.run_in_seat([&](seat& own) { return operation.run(own, judgement); });
}

/// Runs a fold of `size` elements on `sched`, each leaf folded by `leaf_fold(acc, begin,
/// end)`. A call known to be short runs inline without touching the pool; otherwise on
/// the caller's seat, borrowing a guest seat if the caller is outside the pool.
/// Throws operation_cancelled if the controls' token is stopped before the call or
/// before all leaves have started (a known-short call checks only before it starts).
/// With a progress reporter: reports as leaves finish, and (total, total) on success.
template <class LeafFold, class Red, class Policy>
typename Red::value_type run_leaf_fold(scheduler& sched, std::size_t size, const LeafFold& leaf_fold, const Red& red,
                                       const Policy& policy, const call_site& site = {},
                                       const operation_controls& controls = {}) {
    if (controls.stop.stop_requested()) throw operation_cancelled();
    if (controls.report == nullptr) return fold_without_reports(sched, size, leaf_fold, red, policy, site, controls);
    controls.report->begin(size);
    typename Red::value_type result = fold_without_reports(sched, size, leaf_fold, red, policy, site, controls);
    controls.report->finish();
    return result;
}

/// The fold behind map_reduce, for_each and distribute: every element of [first, first +
/// size) is mapped and accumulated.
template <class It, class Map, class Red, class Policy>
typename Red::value_type run_fold(scheduler& sched, It first, std::size_t size, Map& map, const Red& red,
                                  const Policy& policy, const call_site& site = {},
                                  const operation_controls& controls = {}) {
    return run_leaf_fold(sched, size, element_fold<It, Map, Red>{first, map, red}, red, policy, site, controls);
}

}  // namespace microtask::detail

// ---- include/microtask/thread_pool.hpp --------------------------------------
// microtask — thread_pool.hpp
/// @file
/// The work-stealing thread pool every primitive runs on.

// ---- include/microtask/detail/cpu_count.hpp ---------------------------------
// microtask — detail/cpu_count.hpp
// How many CPUs this process may really use: the scheduler affinity mask (taskset, a
// container's cpuset) and the cgroup CPU quota (docker --cpus), not only the machine's
// hardware threads. A pool with more workers than that only makes them take turns.

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif

namespace microtask::detail {

/// CPUs in the calling thread's affinity mask, or 0 where the platform cannot say.
inline std::size_t cpus_in_affinity_mask() noexcept {
#if defined(__linux__) && defined(CPU_COUNT)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) return static_cast<std::size_t>(CPU_COUNT(&set));
#endif
    return 0;
}

/// The cgroup CPU quota rounded up to whole CPUs (cgroup v2's cpu.max, else v1's
/// cfs_quota_us / cfs_period_us), or 0 when there is none or it cannot be read.
inline std::size_t cpus_in_cgroup_quota() noexcept {
    try {
        const auto whole_cpus = [](double quota, double period) -> std::size_t {
            if (quota <= 0 || period <= 0) return 0;
            const double cpus = quota / period;
            return static_cast<std::size_t>(cpus) + (cpus > static_cast<double>(static_cast<std::size_t>(cpus)));
        };
        std::ifstream v2("/sys/fs/cgroup/cpu.max");
        std::string quota;
        double period = 0;
        if (v2 >> quota >> period) return quota == "max" ? 0 : whole_cpus(std::stod(quota), period);
        std::ifstream v1_quota("/sys/fs/cgroup/cpu/cpu.cfs_quota_us");
        std::ifstream v1_period("/sys/fs/cgroup/cpu/cpu.cfs_period_us");
        double q = 0;
        if (v1_quota >> q && v1_period >> period) return whole_cpus(q, period);
    } catch (...) {
        // An unreadable or malformed file: no quota known.
    }
    return 0;
}

/// The number of workers a default-sized pool gets: the smallest of the hardware
/// threads, the affinity mask and the cgroup quota that are known, at least 1.
inline std::size_t usable_cpus() noexcept {
    std::size_t count = std::thread::hardware_concurrency();
    for (const std::size_t limit : {cpus_in_affinity_mask(), cpus_in_cgroup_quota()}) {
        if (limit != 0) count = count == 0 ? limit : std::min(count, limit);
    }
    return std::max<std::size_t>(count, 1);
}

}  // namespace microtask::detail

// ---- include/microtask/future.hpp -------------------------------------------
// microtask — future.hpp
/// @file
/// The handle thread_pool::submit returns.


#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <exception>
#include <future>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>

namespace microtask {

namespace detail {

/// The shared state of a submitted task: the queue's entry and the future's result in
/// one block, reference-counted by the two.
///
/// Whoever *claims* the task runs it: normally the worker that dequeues it; but a thread
/// that waits on a task nobody has started claims it and runs it inline (its own task
/// only — never unrelated work), and the queue entry, when reached, finds it claimed and
/// just drops its reference. So a waiting thread is never idle while its task sits in a
/// queue, and the task still runs exactly once.
template <class T>
class future_state : public task_base {
public:
    [[nodiscard]] bool ready() const noexcept { return m_done.load(std::memory_order_seq_cst) != 0; }

    void wait() {
        if (ready()) return;
        if (running_task_frame::runs_task_of(this)) {
            // Checked only when not ready: from inside its own task it never is.
            throw std::logic_error(
                "microtask::future: get() or wait() called from inside the future's own task, "
                "which would wait for itself forever");
        }
        if (claim()) {
            m_execute(this);  // our own task, not started by anyone: run it here
            publish();
            return;
        }
        // It is running elsewhere. Inside the pool, help with other work meanwhile (a
        // worker that blocked here could deadlock the pool); outside, block.
        if (seat* own = m_sched.current_seat(); own != nullptr && !own->is_guest) {
            // seq_cst: pairs with publish(): either it sees us registered and wakes us,
            // or wait_until's read of m_done sees its write.
            m_waiter.store(own, std::memory_order_seq_cst);
            m_sched.wait_until(*own, [this] { return ready(); });
            m_waiter.store(nullptr, std::memory_order_relaxed);
        } else {
            // The state outlives the completer's notify (it holds a reference), so a
            // plain futex wait on m_done is safe.
            while (!ready()) m_done.wait(0, std::memory_order_seq_cst);
        }
    }

    /// Waits until the task has finished or `deadline` has passed; true if finished.
    /// Polls instead of parking: the park and futex waits of wait() have no time limit.
    /// Sleeps grow from 1 us to k_timed_wait_poll, so a long wait costs little CPU and
    /// returns at most k_timed_wait_poll after the task finished.
    template <class Clock, class Duration>
    bool wait_until(const std::chrono::time_point<Clock, Duration>& deadline) const {
        constexpr std::chrono::microseconds k_timed_wait_poll{200};
        std::chrono::microseconds nap{1};
        while (!ready()) {
            const auto now = Clock::now();
            if (now >= deadline) return false;
            if (deadline - now < nap) {
                std::this_thread::sleep_until(deadline);
            } else {
                std::this_thread::sleep_for(nap);
            }
            nap = std::min(nap * 2, k_timed_wait_poll);
        }
        return true;
    }

    T take() {
        wait();
        // Move the exception out rather than share it: otherwise the last reference to it
        // can be dropped by the completer's release() on another thread, after this
        // thread caught and read it. That is correctly ordered, but only through the
        // exception's own refcount inside libstdc++, which ThreadSanitizer cannot see, so
        // it reported a data race whenever the completer released last. Now the thread
        // that handles the exception also destroys it. No ordering changes: m_error was
        // written before publish() and is read and cleared only here, after ready()
        // (seq_cst) saw m_done; get() consumes the state, so nothing reads m_error again.
        if (m_error) std::rethrow_exception(std::exchange(m_error, nullptr));
        if constexpr (std::is_void_v<T>) {
            return;
        } else {
            return std::move(*m_value);
        }
    }

    void release() noexcept {
        // acq_rel: the last owner must see every write the others made before deleting.
        if (m_refs.fetch_sub(1, std::memory_order_acq_rel) == 1) m_destroy(this);
    }

protected:
    using destroy_fn = void (*)(future_state*) noexcept;
    using execute_fn = void (*)(future_state*) noexcept;
    future_state(destroy_fn destroy, execute_fn execute_body, scheduler& sched) noexcept
        : task_base{&run_queued}, m_destroy(destroy), m_execute(execute_body), m_sched(sched) {}
    ~future_state() = default;

    template <class F>
    void store_result(F& fn) noexcept {
        try {
            if constexpr (std::is_void_v<T>) {
                fn();
            } else {
                m_value.emplace(fn());
            }
        } catch (...) {
            m_error = std::current_exception();
        }
    }

private:
    /// True for exactly one caller. acq_rel: the winner sees the submitter's writes (the
    /// callable), and the loser's later reads of the result are ordered by m_done.
    bool claim() noexcept {
        return !m_claimed.load(std::memory_order_relaxed) && !m_claimed.exchange(true, std::memory_order_acq_rel);
    }

    /// The queue's entry point.
    static void run_queued(task_base* base) noexcept {
        auto* self = static_cast<future_state*>(base);
        if (self->claim()) {
            self->m_execute(self);
            self->publish();
        }
        self->release();  // the queue's reference; `self` may be gone after this
    }

    /// Makes the result visible and wakes whoever waits.
    void publish() noexcept {
        // seq_cst: pairs with wait()'s registration of m_waiter and its reads of m_done.
        m_done.store(1, std::memory_order_seq_cst);
        m_done.notify_all();  // outside waiters; cheap when nobody waits
        if (seat* waiter = m_waiter.exchange(nullptr, std::memory_order_seq_cst)) {
            m_sched.wake_seat(*waiter);
        }
    }

    destroy_fn m_destroy;
    execute_fn m_execute;
    scheduler& m_sched;
    std::atomic<int> m_refs{2};  // the queue's and the future's
    std::atomic<bool> m_claimed{false};
    std::atomic<std::uint32_t> m_done{0};  // 32 bits: std::atomic::wait uses a futex directly
    std::atomic<seat*> m_waiter{nullptr};
    std::exception_ptr m_error;
    std::optional<std::conditional_t<std::is_void_v<T>, char, T>> m_value;
};

template <class T, class F>
class future_task final : public future_state<T>, public recycled_allocation {
public:
    future_task(F&& fn, scheduler& sched) : future_state<T>(&destroy, &execute, sched), m_fn(std::move(fn)) {}
    future_task(const F& fn, scheduler& sched) : future_state<T>(&destroy, &execute, sched), m_fn(fn) {}

private:
    static void execute(future_state<T>* base) noexcept {
        auto* self = static_cast<future_task*>(base);
        const running_task_frame frame(static_cast<const future_state<T>*>(self));
        self->store_result(*self->m_fn);
        // Release the callable's captures as soon as it has run, not when the future dies.
        self->m_fn.reset();
    }
    static void destroy(future_state<T>* base) noexcept { delete static_cast<future_task*>(base); }

    std::optional<F> m_fn;
};

}  // namespace detail

/// The result of a task submitted with thread_pool::submit. Move-only.
///
/// Destroying a future does not wait: the task still runs, exactly once.
/// Thread-safety: one thread at a time may call a future's members (move it to hand it
/// to another thread).
template <class T>
class future {
public:
    /// A future with no state: valid() is false.
    future() noexcept = default;
    /// Takes over `other`'s state; `other` is left without one. O(1), never throws.
    future(future&& other) noexcept : m_state(std::exchange(other.m_state, nullptr)) {}
    /// Drops this future's state (without waiting; the task still runs) and takes over
    /// `other`'s. O(1), never throws.
    future& operator=(future&& other) noexcept {
        if (this != &other) {
            reset();
            m_state = std::exchange(other.m_state, nullptr);
        }
        return *this;
    }
    future(const future&) = delete;
    future& operator=(const future&) = delete;
    /// Drops the state without waiting: the task still runs, exactly once, and its
    /// result or exception is discarded. Never throws.
    ~future() { reset(); }

    /// True until get() has been called (or for a default-constructed future, false).
    [[nodiscard]] bool valid() const noexcept { return m_state != nullptr; }

    /// True when the task has finished (normally or by throwing). Never blocks.
    /// Throws std::logic_error if !valid().
    [[nodiscard]] bool is_ready() const {
        require_valid("is_ready");
        return m_state->ready();
    }

    /// Blocks until the task has finished. If no thread has started the task yet, the
    /// caller runs it itself (only this task). If it is running elsewhere, a worker of
    /// the pool runs other tasks meanwhile, so waiting inside a task never deadlocks the
    /// pool; any other thread blocks. Throws std::logic_error if !valid(), or if called
    /// from inside this future's own task (it would wait for itself forever).
    void wait() const {
        require_valid("wait");
        m_state->wait();
    }

    /// Waits until the task has finished or `timeout` has passed: returns
    /// std::future_status::ready or std::future_status::timeout. Unlike wait(), never runs
    /// the task itself (that could overrun the timeout) and never helps the pool: it
    /// sleeps in short, growing naps (at most 200 us, so it may return up to that late).
    /// Throws std::logic_error if !valid().
    template <class Rep, class Period>
    std::future_status wait_for(const std::chrono::duration<Rep, Period>& timeout) const {
        return wait_until(std::chrono::steady_clock::now() + timeout);
    }

    /// wait_for with an absolute deadline on any clock.
    template <class Clock, class Duration>
    std::future_status wait_until(const std::chrono::time_point<Clock, Duration>& deadline) const {
        require_valid("wait_until");
        return m_state->wait_until(deadline) ? std::future_status::ready : std::future_status::timeout;
    }

    /// Waits, then returns the task's result or rethrows its exception. Afterwards
    /// valid() is false. Throws std::logic_error if !valid(), or if called from inside
    /// this future's own task (it would wait for itself forever).
    T get() {
        require_valid("get");
        detail::future_state<T>* state = std::exchange(m_state, nullptr);
        struct releaser {
            detail::future_state<T>* s;
            ~releaser() { s->release(); }
        } guard{state};
        return state->take();
    }

private:
    friend class thread_pool;
    explicit future(detail::future_state<T>* state) noexcept : m_state(state) {}

    void require_valid(const char* what) const {
        if (m_state == nullptr) {
            throw std::logic_error(std::string("microtask::future::") + what +
                                   ": the future has no state (default-constructed, moved from, "
                                   "or get() was already called)");
        }
    }
    void reset() noexcept {
        if (m_state != nullptr) std::exchange(m_state, nullptr)->release();
    }

    detail::future_state<T>* m_state = nullptr;
};

}  // namespace microtask

// ---- include/microtask/stats.hpp --------------------------------------------
// microtask — stats.hpp
/// @file
/// What each worker of a pool did: thread_pool::stats().

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

// ---- include/microtask/thread_pool.hpp (continued) --------------------------
#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

namespace microtask {

class thread_pool;

namespace detail {
struct pool_access {
    static scheduler& of(thread_pool& pool) noexcept;
};
}  // namespace detail

/// A fixed set of worker threads with one lock-free work-stealing deque each.
///
/// Idle workers spin briefly, then sleep (no CPU use while idle). A worker that waits on
/// the pool (future::get, task_group::wait, join, a nested map_reduce) runs other tasks
/// of the pool meanwhile, so nested parallelism neither deadlocks nor oversubscribes.
/// An outside thread that runs join, map_reduce or task_group::wait borrows a guest seat
/// and works on that operation too (when every guest seat is taken it never waits for
/// one: it runs the operation on a private seat, on its own thread); its future::get
/// runs its task if nobody started it, and otherwise just blocks.
///
/// Not copyable or movable. All members are thread-safe, except that the destructor must
/// not run concurrently with any other use of the pool.
class thread_pool {
public:
    /// One worker per CPU this process may use: the hardware threads, limited by the
    /// affinity mask (taskset, a cpuset) and the cgroup CPU quota (docker --cpus), at
    /// least one; or, if the environment variable MICROTASK_NUM_THREADS is set, that many.
    /// Throws std::invalid_argument if MICROTASK_NUM_THREADS is set but is not an integer
    /// in [1, 4096], and std::system_error if a thread cannot be started (the threads
    /// already started are stopped first).
    thread_pool() : thread_pool(default_thread_count()) {}

    /// `thread_count` workers. Throws std::invalid_argument if thread_count < 1 or
    /// thread_count > 4096, and std::system_error if a thread cannot be started.
    template <std::integral Count>
    explicit thread_pool(Count thread_count) : m_scheduler(checked_count(thread_count)) {}

    /// `thread_count` workers that run `hooks.on_start(index)` first and
    /// `hooks.on_stop(index)` last (see worker_hooks). Returns once every on_start has
    /// returned. Throws std::invalid_argument as above, the first exception an on_start
    /// threw (after stopping the pool), and std::system_error.
    template <std::integral Count>
    thread_pool(Count thread_count, worker_hooks hooks) : m_scheduler(checked_count(thread_count), std::move(hooks)) {}

    /// The default number of workers (as thread_pool()), with hooks.
    explicit thread_pool(worker_hooks hooks) : m_scheduler(default_thread_count(), std::move(hooks)) {}

    thread_pool(const thread_pool&) = delete;
    thread_pool& operator=(const thread_pool&) = delete;

    /// Runs every task already submitted (including tasks those tasks submit, also
    /// while the destructor is draining), then joins the workers: the workers leave only
    /// once no task is queued or running. No task is lost. Must not run concurrently with
    /// any other use of the pool, nor inside the pool (in one of its own tasks, or a wait
    /// that helps it): that prints a message to stderr and aborts, since it cannot join
    /// its own thread.
    ~thread_pool() = default;

    /// Number of worker threads. O(1), any thread.
    [[nodiscard]] std::size_t size() const noexcept { return m_scheduler.worker_count(); }

    /// Per-worker counters (index = worker index) since the pool started or the last
    /// reset_stats(): tasks run and stolen, failed steals, sleeps, idle and busy time.
    /// Any thread, any time; O(size()); a snapshot of a running pool may be a few events
    /// behind. Throws std::bad_alloc.
    [[nodiscard]] std::vector<worker_stats> stats() const {
        const std::lock_guard lock(m_stats_mutex);
        const auto now = std::chrono::steady_clock::now();
        const auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now - m_stats_since);
        std::vector<worker_stats> result(size());
        for (std::size_t i = 0; i < size(); ++i) {
            const auto current = read_counters(i);
            const auto& base = m_stats_baseline[i];
            worker_stats& out = result[i];
            out.tasks_run = current[0] - base[0];
            out.tasks_stolen = current[1] - base[1];
            out.failed_steals = current[2] - base[2];
            out.times_parked = current[3] - base[3];
            out.idle = std::min(elapsed, std::chrono::nanoseconds(static_cast<std::int64_t>(current[4] - base[4])));
            out.busy = elapsed - out.idle;
        }
        return result;
    }

    /// Starts the counters of stats() from zero again. Any thread; O(size()). (The
    /// workers' own counters are not written: a baseline is kept instead, so that each
    /// counter keeps a single writer.) Throws std::bad_alloc.
    void reset_stats() {
        const std::lock_guard lock(m_stats_mutex);
        m_stats_baseline.resize(size());
        for (std::size_t i = 0; i < size(); ++i) m_stats_baseline[i] = read_counters(i);
        m_stats_since = std::chrono::steady_clock::now();
    }

    /// Index in [0, size()) of the calling worker thread of this pool; std::nullopt on
    /// any other thread (including an outside thread helping while it waits). O(1).
    [[nodiscard]] std::optional<std::size_t> this_worker_index() const noexcept {
        const detail::seat* own = m_scheduler.current_seat();
        if (own == nullptr || own->is_guest) return std::nullopt;
        return own->index;
    }

    /// Queues a copy of `fn` (decayed) to run exactly once on the pool and returns a
    /// future for its result. The task may outlive the calling scope: capture by value.
    /// From a worker thread the task goes on that worker's own deque (LIFO, no lock); an
    /// outside thread leases a seat on its first submit and pushes there (lock-free),
    /// or uses the pool's injection queue when all 16 leasable seats are taken. Task
    /// blocks are recycled per thread, so steady-state submits do not call malloc.
    /// Throws std::bad_alloc; the task's own exceptions are rethrown by future::get().
    /// Returns future<result of fn()>; spelled `auto` so that clang, which substitutes
    /// into a return type before it checks constraints, reports a bad `fn` as value_task.
    template <class F>
        requires value_task<std::decay_t<F>>
    [[nodiscard]] auto submit(F&& fn) {
        using result = std::invoke_result_t<std::decay_t<F>&>;
        auto* task = new detail::future_task<result, std::decay_t<F>>(std::forward<F>(fn), m_scheduler);
        future<result> handle(task);  // holds the second reference from here on
        try {
            m_scheduler.submit(task);
        } catch (...) {
            task->release();  // the queue's reference: the task was never queued
            throw;
        }
        return handle;
    }

    /// submit that drops the task if `stop` is stopped before the task starts: `fn` is
    /// then never called (its captures are still destroyed), and future::get() throws
    /// mt::operation_cancelled. A task that has started runs to its end. The token is
    /// checked once, when the task starts (on a worker, or inline in future::wait/get).
    /// Otherwise the same as submit(fn).
    template <class F>
        requires value_task<std::decay_t<F>>
    [[nodiscard]] auto submit(F&& fn, stop_token stop) {
        return submit([fn = std::forward<F>(fn), stop = std::move(stop)]() mutable -> decltype(auto) {
            if (stop.stop_requested()) throw operation_cancelled();
            return fn();
        });
    }

private:
    friend struct detail::pool_access;

    static std::size_t default_thread_count() {
        const char* requested = std::getenv("MICROTASK_NUM_THREADS");
        if (requested == nullptr || *requested == '\0') return detail::usable_cpus();
        char* end = nullptr;
        errno = 0;
        const long long count = std::strtoll(requested, &end, 10);
        if (*end != '\0' || errno != 0 || count < 1 || std::cmp_greater(count, k_max_threads)) {
            throw std::invalid_argument("microtask::thread_pool: MICROTASK_NUM_THREADS must be an integer from 1 to " +
                                        std::to_string(k_max_threads) + " (got \"" + requested + "\")");
        }
        return static_cast<std::size_t>(count);
    }

    template <std::integral Count>
    static std::size_t checked_count(Count thread_count) {
        if (thread_count < 1) {
            throw std::invalid_argument("microtask::thread_pool: thread count must be at least 1 (got " +
                                        std::to_string(thread_count) + ")");
        }
        if (std::cmp_greater(thread_count, k_max_threads)) {
            throw std::invalid_argument("microtask::thread_pool: thread count must be at most " +
                                        std::to_string(k_max_threads) + " (got " + std::to_string(thread_count) + ")");
        }
        return static_cast<std::size_t>(thread_count);
    }

    static constexpr std::size_t k_max_threads = 4096;

    using counter_values = std::array<std::uint64_t, 5>;
    counter_values read_counters(std::size_t worker) const noexcept {
        // relaxed: each counter has one writer (its worker); a slightly stale value is
        // the documented snapshot semantics.
        const auto& c = m_scheduler.seat_at(worker).stats;
        return {c.tasks_run.load(std::memory_order_relaxed), c.tasks_stolen.load(std::memory_order_relaxed),
                c.failed_steals.load(std::memory_order_relaxed), c.times_parked.load(std::memory_order_relaxed),
                c.idle_ns.load(std::memory_order_relaxed)};
    }

    detail::scheduler m_scheduler;
    mutable std::mutex m_stats_mutex;
    std::vector<counter_values> m_stats_baseline = std::vector<counter_values>(m_scheduler.worker_count());
    std::chrono::steady_clock::time_point m_stats_since = std::chrono::steady_clock::now();
};

inline detail::scheduler& detail::pool_access::of(thread_pool& pool) noexcept { return pool.m_scheduler; }

/// The process-wide pool used by the overloads that take no pool: created on first use
/// with thread_pool's default size (one worker per CPU the process may use, or
/// MICROTASK_NUM_THREADS), safe to call from any thread. Throws what that constructor
/// throws (and the next call tries again). It is never
/// destroyed (like rayon's global pool): it stays usable until the process ends, also
/// from destructors of static objects and from threads still running at exit. Its idle
/// workers sleep; they are not joined at exit, so a task still queued or running when
/// the process exits may not run to the end: get() or wait() what you submit to it.
inline thread_pool& default_pool() {
    // Deliberately leaked. A function-local static object would be destroyed during
    // static destruction before every static object whose construction finished earlier
    // (reverse order), so such an object's destructor that uses the default pool would
    // use a dead pool; and its destructor would join the workers from whichever thread
    // calls exit(), a worker included. The pointer stays reachable, so leak checkers do
    // not report the pool.
    static thread_pool* const pool = new thread_pool;
    return *pool;
}

}  // namespace microtask

// ---- include/microtask/distribute.hpp (continued) ---------------------------
#include <cstddef>
#include <functional>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace microtask {

namespace detail {
template <class Parts, class Fn>
auto run_distribute(thread_pool& pool, Parts& parts, Fn& fn, const operation_controls& controls) {
    using reference = std::ranges::range_reference_t<Parts>;
    using result = std::invoke_result_t<Fn&, reference>;
    const auto count = static_cast<std::size_t>(std::ranges::size(parts));
    auto first = std::ranges::begin(parts);
    auto& sched = pool_access::of(pool);
    const chunks one_leaf_per_part(count == 0 ? 1 : count);
    if constexpr (std::is_void_v<result>) {
        auto run_part = [&fn](reference part) {
            std::invoke(fn, std::forward<reference>(part));
            return std::monostate{};
        };
        run_fold(sched, first, count, run_part, unit_reducer{}, one_leaf_per_part, {}, controls);
    } else {
        // Each subtask writes its own slot; slots are pre-sized, so no synchronisation.
        std::vector<std::optional<result>> slots(count);
        auto run_part = [&](std::size_t index) {
            slots[index].emplace(std::invoke(fn, first[static_cast<std::ranges::range_difference_t<Parts>>(index)]));
            return std::monostate{};
        };
        const index_range<std::size_t> indices(0, count);
        // Throws (operation_cancelled included) before any empty slot could be read.
        run_fold(sched, indices.begin(), count, run_part, unit_reducer{}, one_leaf_per_part, {}, controls);
        std::vector<result> results;
        results.reserve(count);
        for (auto& value : slots) results.push_back(std::move(*value));
        return results;
    }
}
}  // namespace detail

/// Runs `fn(part)` for every element of `parts` as its own subtask on `pool` and returns
/// the results as a std::vector in the order of `parts` (or nothing, if fn returns void).
/// One subtask per part; O(parts) memory for the results.
/// Throws the first exception a subtask threw (subtasks not yet started are skipped; the
/// pool stays usable); std::bad_alloc. `fn` is called concurrently from several threads;
/// `parts` must not be modified meanwhile. Callable from any thread, including from
/// inside a task of `pool`; the caller helps run the subtasks.
template <splittable_range Parts, class Fn>
    requires value_task<Fn, std::ranges::range_reference_t<Parts>>
auto distribute(thread_pool& pool, Parts&& parts, Fn fn) {
    return detail::run_distribute(pool, parts, fn, operation_controls{});
}

/// distribute with `controls`: a stop token, an mt::progress, or `{token, progress}`. A
/// stopped token: parts not yet started are skipped, running ones finish, and the call
/// throws mt::operation_cancelled instead of returning results for some parts only;
/// checked before each part. A progress: reports (parts done, part count) as for
/// map_reduce.
template <splittable_range Parts, class Fn>
    requires value_task<Fn, std::ranges::range_reference_t<Parts>>
auto distribute(thread_pool& pool, Parts&& parts, Fn fn, operation_controls controls) {
    return detail::run_distribute(pool, parts, fn, controls);
}

/// distribute for a function that also wants the part's index: runs `fn(i, parts[i])`
/// for every i, with the same results, exceptions and thread-safety as above.
template <splittable_range Parts, class Fn>
    requires(!value_task<Fn, std::ranges::range_reference_t<Parts>>) &&
            value_task<Fn, std::size_t, std::ranges::range_reference_t<Parts>>
auto distribute(thread_pool& pool, Parts&& parts, Fn fn) {
    const auto first = std::ranges::begin(parts);
    return distribute(pool, index_range<std::size_t>(0, static_cast<std::size_t>(std::ranges::size(parts))),
                      [&](std::size_t i) {
                          return std::invoke(fn, i, first[static_cast<std::ranges::range_difference_t<Parts>>(i)]);
                      });
}

/// distribute on mt::default_pool().
template <splittable_range Parts, class Fn>
    requires value_task<Fn, std::ranges::range_reference_t<Parts>> ||
             value_task<Fn, std::size_t, std::ranges::range_reference_t<Parts>>
auto distribute(Parts&& parts, Fn fn) {
    return distribute(default_pool(), std::forward<Parts>(parts), std::move(fn));
}

/// distribute with controls (a stop token, a progress, or both), on mt::default_pool().
template <splittable_range Parts, class Fn>
    requires value_task<Fn, std::ranges::range_reference_t<Parts>>
auto distribute(Parts&& parts, Fn fn, operation_controls controls) {
    return distribute(default_pool(), std::forward<Parts>(parts), std::move(fn), std::move(controls));
}

}  // namespace microtask

// ---- include/microtask/find.hpp ---------------------------------------------
// microtask — find.hpp
/// @file
/// Searches that stop early: find_first, find_any, any_of, all_of, none_of. A hit prunes
/// the work to its right (find_first) or all remaining work (find_any), and the threads
/// search the range from the front together, so a hit near the front returns after
/// little more than the front was tested.


#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <iterator>
#include <ranges>
#include <utility>
#include <variant>

namespace microtask {

namespace detail {

/// One parallel search over [0, size): the participants take chunks of the range in
/// index order from a shared counter, so every thread always works on the leftmost
/// chunk nobody has taken. A hit at position p is then found after about p / threads
/// element tests whatever p is (a binary split would hand a thief the right half, which
/// is wasted work whenever the hit lies in the left one).
///
/// `Leftmost` (find_first): a hit prunes only the chunks to its right, so the answer is
/// the first hit. Otherwise (find_any and the boolean searches) a hit stops everything.
template <bool Leftmost, class It, class Pred>
class search_operation {
public:
    search_operation(scheduler& sched, It first, std::size_t size, Pred& pred, const stop_token& stop,
                     std::size_t participants) noexcept
        : m_sched(sched),
          m_first(first),
          m_size(size),
          m_chunk(std::clamp(size / (participants * k_chunks_per_participant), k_min_chunk, k_max_chunk)),
          m_chunk_count((size + m_chunk - 1) / m_chunk),
          m_participants(participants),
          m_pred(pred),
          m_stop(stop),
          m_hit(size) {}

    /// The index of the hit (size if none). Throws what pred threw, or
    /// operation_cancelled if the token stopped the search before it had looked at every
    /// chunk it needed.
    std::size_t run(seat& own) {
        try {
            if (run_inline_while_short()) participate(own, m_participants);
        } catch (...) {
            if (m_error) std::rethrow_exception(m_error);  // the first, not whichever came up
            throw;
        }
        // relaxed: every participant has joined (fork_join's completion orders its writes).
        if (m_cancelled.load(std::memory_order_relaxed)) throw operation_cancelled();
        return m_hit.load(std::memory_order_relaxed);
    }

private:
    // Chunks: about 64 per participant for load balance at the end, but at least 64
    // elements (a shared counter increment per chunk must stay negligible) and at most
    // 16384 (a compute-bound predicate of ~15 ns then takes ~0.25 ms a chunk: the most
    // a thread can end after the others).
    static constexpr std::size_t k_chunks_per_participant = 64;
    static constexpr std::size_t k_min_chunk = 64;
    static constexpr std::size_t k_max_chunk = 16384;
    // Inside a chunk, the shared hit is re-read every this many elements, so a thread
    // notices a hit to its left within 1024 predicate calls, not a whole chunk.
    static constexpr std::size_t k_block = 1024;

    /// The calling thread searches alone for the inline budget, as adaptive does: a hit
    /// near the front is found without waking anybody. Returns true if work remains.
    bool run_inline_while_short() {
        const auto start = std::chrono::steady_clock::now();
        for (;;) {
            if (!scan_chunk(m_next_chunk.fetch_add(1, std::memory_order_relaxed))) return false;
            if (std::chrono::steady_clock::now() - start >= k_inline_budget) return true;
        }
    }

    /// `count` participants: this thread and, through forks that idle workers may take,
    /// count - 1 others. A fork nobody takes runs here after our loop, finds no chunk
    /// left and returns at once.
    void participate(seat& own, std::size_t count) {
        if (count <= 1) {
            while (scan_chunk(m_next_chunk.fetch_add(1, std::memory_order_relaxed))) {
            }
            return;
        }
        const std::size_t right = count / 2;
        fork_join(
            m_sched, own,
            [&](seat& here) {
                participate(here, count - right);
                return std::monostate{};
            },
            [&](seat& here) {
                participate(here, right);
                return std::monostate{};
            });
    }

    /// Tests chunk `chunk`; false when this participant has nothing more to do.
    // relaxed (the counter, the hit, the flags): the counter only has to hand each chunk
    // to one thread; the hit only decreases and only ever holds real hits, so a stale
    // read skips less, never wrongly; the flags are read by the root after the joins.
    bool scan_chunk(std::size_t chunk) {
        if (chunk >= m_chunk_count) return false;
        const std::size_t begin = chunk * m_chunk;
        // Chunks are taken in increasing order: if this one is pruned, so are the rest.
        if (pruned(begin) || m_failed.load(std::memory_order_relaxed)) return false;
        if (m_stop.stop_requested()) {
            m_cancelled.store(true, std::memory_order_relaxed);
            return false;
        }
        const std::size_t end = std::min(m_size, begin + m_chunk);
        using difference = std::iter_difference_t<It>;
        try {
            map_scope in_predicate;  // a nested parallel call must not trust learned costs
            for (std::size_t block = begin; block < end; block += k_block) {
                if (block != begin && pruned(block)) return false;
                const std::size_t block_end = std::min(end, block + k_block);
                for (std::size_t k = block; k < block_end; ++k) {
                    if (std::invoke(m_pred, m_first[static_cast<difference>(k)])) {
                        // Every chunk left of this one was taken before it, every one to
                        // its right (or, for find_any, every one) is pruned: done.
                        publish(k);
                        return false;
                    }
                }
            }
        } catch (...) {
            if (!m_failed.exchange(true, std::memory_order_acq_rel)) m_error = std::current_exception();
            throw;
        }
        return true;
    }

    [[nodiscard]] bool pruned(std::size_t begin) const noexcept {
        const std::size_t hit = m_hit.load(std::memory_order_relaxed);
        return Leftmost ? hit <= begin : hit != m_size;
    }

    void publish(std::size_t index) noexcept {
        std::size_t hit = m_hit.load(std::memory_order_relaxed);
        while (index < hit && !m_hit.compare_exchange_weak(hit, index, std::memory_order_relaxed)) {
        }
    }

    scheduler& m_sched;
    It m_first;
    std::size_t m_size;
    std::size_t m_chunk;  // elements per chunk (the last may be shorter)
    std::size_t m_chunk_count;
    std::size_t m_participants;
    Pred& m_pred;
    const stop_token& m_stop;
    std::atomic<std::size_t> m_next_chunk{0};
    std::atomic<std::size_t> m_hit;  // the smallest hit published so far; m_size for none
    std::atomic<bool> m_failed{false};
    std::atomic<bool> m_cancelled{false};  // a chunk that mattered was skipped for the token
    std::exception_ptr m_error;            // written once, by whoever set m_failed
};

/// The index of the leftmost hit (Leftmost) or of some hit, `size` if none.
template <bool Leftmost, class It, class Pred>
std::size_t run_search(thread_pool& pool, It first, std::size_t size, Pred& pred, const stop_token& stop) {
    if (stop.stop_requested()) throw operation_cancelled();
    if (size == 0) return 0;
    scheduler& sched = pool_access::of(pool);
    // No learned cost per call site: a search that stops at the front has no cost per
    // element to learn, and learning one would make the next search from the same line,
    // with no hit, run inline. Every call starts inline for the budget instead.
    search_operation<Leftmost, It, Pred> operation(sched, first, size, pred, stop, pool.size() + 1);
    return sched.run_in_seat([&](seat& own) { return operation.run(own); });
}

/// The iterator to that hit; the callers turn it into std::ranges::dangling for an
/// rvalue range that does not borrow, as std::ranges::find_if does.
template <bool Leftmost, class Range, class Pred>
std::ranges::iterator_t<Range> search(thread_pool& pool, Range& range, Pred& pred, const stop_token& stop) {
    auto first = std::ranges::begin(range);
    const auto size = static_cast<std::size_t>(std::ranges::size(range));
    const std::size_t index = run_search<Leftmost>(pool, first, size, pred, stop);
    return first + static_cast<std::ranges::range_difference_t<Range>>(index);
}

}  // namespace detail

/// A predicate a search may call: `bool(pred(element))` for the range's reference type,
/// called concurrently from several threads.
template <class Pred, class Range>
concept search_predicate = std::indirect_unary_predicate<Pred, std::ranges::iterator_t<Range>>;

/// The first element of `range` for which `pred` is true, found in parallel on `pool`:
/// the same iterator std::ranges::find_if returns (end if none), whatever the timing.
///
/// - Early exit: the threads test the range from the front together (chunks in index
///   order); a match prunes everything to its right, while threads left of it go on (a
///   match there would come first). A match at position p returns after about p /
///   threads tests per thread; with no match, all n elements are tested.
/// - Complexity: at most n calls of `pred`; elements right of the first match may or may
///   not be tested (up to about 1024 past it per thread). No allocation. The caller
///   searches alone for its first ~25 us (a match near the front wakes nobody), then
///   every worker joins in; no cost per call site is learned.
/// - Thread-safety: `pred` is called concurrently; `range` must not be modified meanwhile.
///   Callable from any thread, including from inside a task of `pool`.
/// - Throws: the first exception `pred` threw (the remaining chunks are skipped);
///   mt::operation_cancelled if `stop` is stopped before the search has finished
///   (never a partial answer: a match found so far may not be the first).
/// - An rvalue range that is not borrowed gives std::ranges::dangling, as
///   std::ranges::find_if does.
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] std::ranges::borrowed_iterator_t<Range> find_first(thread_pool& pool, Range&& range, Pred pred,
                                                                 stop_token stop = {}) {
    return detail::search<true>(pool, range, pred, stop);
}

/// An element of `range` for which `pred` is true (end if none), found in parallel on
/// `pool`: whichever thread finds one first stops the search everywhere, so which match
/// is returned depends on timing. Faster than find_first when any match will do (no
/// thread keeps scanning left of a match). Same complexity bound, thread-safety and
/// exceptions as find_first.
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] std::ranges::borrowed_iterator_t<Range> find_any(thread_pool& pool, Range&& range, Pred pred,
                                                               stop_token stop = {}) {
    return detail::search<false>(pool, range, pred, stop);
}

/// True if `pred` holds for some element of `range` (false for an empty range): find_any
/// != end. Stops at the first match any thread finds. Same thread-safety and exceptions.
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool any_of(thread_pool& pool, Range&& range, Pred pred, stop_token stop = {}) {
    const auto size = static_cast<std::size_t>(std::ranges::size(range));
    return detail::run_search<false>(pool, std::ranges::begin(range), size, pred, stop) != size;
}

/// True if `pred` holds for no element of `range` (true for an empty range). Stops at
/// the first match any thread finds. Same thread-safety and exceptions as find_any.
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool none_of(thread_pool& pool, Range&& range, Pred pred, stop_token stop = {}) {
    return !any_of(pool, std::forward<Range>(range), std::move(pred), std::move(stop));
}

/// True if `pred` holds for every element of `range` (true for an empty range). Stops at
/// the first element any thread finds false. Same thread-safety and exceptions as find_any.
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool all_of(thread_pool& pool, Range&& range, Pred pred, stop_token stop = {}) {
    auto fails = [&pred](auto&& element) { return !static_cast<bool>(std::invoke(pred, element)); };
    const auto size = static_cast<std::size_t>(std::ranges::size(range));
    return detail::run_search<false>(pool, std::ranges::begin(range), size, fails, stop) == size;
}

/// find_first on mt::default_pool().
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] std::ranges::borrowed_iterator_t<Range> find_first(Range&& range, Pred pred, stop_token stop = {}) {
    return find_first(default_pool(), std::forward<Range>(range), std::move(pred), std::move(stop));
}

/// find_any on mt::default_pool().
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] std::ranges::borrowed_iterator_t<Range> find_any(Range&& range, Pred pred, stop_token stop = {}) {
    return find_any(default_pool(), std::forward<Range>(range), std::move(pred), std::move(stop));
}

/// any_of on mt::default_pool().
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool any_of(Range&& range, Pred pred, stop_token stop = {}) {
    return any_of(default_pool(), std::forward<Range>(range), std::move(pred), std::move(stop));
}

/// all_of on mt::default_pool().
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool all_of(Range&& range, Pred pred, stop_token stop = {}) {
    return all_of(default_pool(), std::forward<Range>(range), std::move(pred), std::move(stop));
}

/// none_of on mt::default_pool().
template <splittable_range Range, class Pred>
    requires search_predicate<Pred, Range>
[[nodiscard]] bool none_of(Range&& range, Pred pred, stop_token stop = {}) {
    return none_of(default_pool(), std::forward<Range>(range), std::move(pred), std::move(stop));
}

}  // namespace microtask

// ---- include/microtask/fold.hpp ---------------------------------------------
// microtask — fold.hpp
/// @file
/// The leaf-body form of map_reduce: a tight loop of yours over a whole subrange, folding
/// into an accumulator it owns (like oneTBB's parallel_reduce body over a blocked_range,
/// or rayon's fold followed by reduce).

// ---- include/microtask/reducers.hpp -----------------------------------------
// microtask — reducers.hpp
/// @file
/// The built-in reducers and make_reducer for custom ones. Each is a cheap value type;
/// combine never assumes commutativity. All their members are const and may be called
/// from any thread.


#include <concepts>
#include <iterator>
#include <limits>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>

namespace microtask {

/// A type sum can add: `a + b` converts back to T.
template <class T>
concept summable = requires(T a, T b) {
    { a + b } -> std::convertible_to<T>;
};

/// A type product can multiply: `a * b` converts back to T.
template <class T>
concept multipliable = requires(T a, T b) {
    { a* b } -> std::convertible_to<T>;
};

/// A type min and max can reduce: totally ordered, with std::numeric_limits specialised
/// for the identity (+-infinity, or the type's max / lowest): the arithmetic types.
template <class T>
concept bounded_ordered = std::totally_ordered<T> && std::numeric_limits<T>::is_specialized;

namespace detail {
/// `left = left OP right` in place: through the compound operator for class types that
/// have one (a big integer or matrix adds into its own storage), else through the binary
/// operator. Arithmetic types always take the binary form with an explicit cast, so that
/// small integer types do not warn about their implicit int conversion.
#define MICROTASK_DETAIL_IN_PLACE_OPERATOR(name, op, compound)                                    \
    template <class T>                                                                            \
    constexpr void name(T& left, T&& right) {                                                     \
        if constexpr (!std::is_arithmetic_v<T> && requires { left compound std::move(right); }) { \
            left compound std::move(right);                                                       \
        } else {                                                                                  \
            left = static_cast<T>(std::move(left) op std::move(right));                           \
        }                                                                                         \
    }
MICROTASK_DETAIL_IN_PLACE_OPERATOR(add_into, +, +=)
MICROTASK_DETAIL_IN_PLACE_OPERATOR(multiply_into, *, *=)
#undef MICROTASK_DETAIL_IN_PLACE_OPERATOR

/// An empty value of a sized class type (an empty std::valarray or std::string) acts as
/// the identity of sum: a default-constructed valarray has no elements, and adding
/// valarrays of different lengths is undefined.
template <class T>
constexpr bool is_empty_class_value(const T& value) {
    if constexpr (!std::is_arithmetic_v<T> && requires { value.size() == 0; }) {
        return value.size() == 0;
    } else {
        return false;
    }
}
}  // namespace detail

/// Sum with identity T{} (zero for the arithmetic types; for a class type such as
/// std::string, its empty value rather than T(0), which for std::string would be
/// construction from a null pointer). Exactly associative for integers; for floating point the
/// result is still deterministic (canonical combining tree), and bitwise reproducible, but
/// may differ in the last bits from a serial loop or from another policy.
/// Combines in place: a class type with `+=` (std::valarray, a big integer, a matrix)
/// adds into the left operand's storage, with no temporary per combine; an empty value of
/// a class type with size() counts as zero.
template <summable T>
struct sum {
    /// The type reduced and returned.
    using value_type = T;
    /// True for integral T: integer addition is associative bit for bit.
    static constexpr bool is_exactly_associative = std::is_integral_v<T>;
    /// T{}. O(1).
    [[nodiscard]] constexpr T identity() const { return T{}; }
    /// left = left + right, in place. O(1) for arithmetic T; throws what T's + (or +=)
    /// throws. Any thread.
    constexpr void combine(T& left, T&& right) const {
        if (detail::is_empty_class_value(right)) return;
        if (detail::is_empty_class_value(left)) {
            left = std::move(right);
            return;
        }
        detail::add_into(left, std::move(right));
    }
    /// acc += x for a class type T with `+=`, with no T built from x first (std::string
    /// += const char*, std::valarray += a const valarray& element, copied by nothing).
    /// Throws what `+=` throws.
    template <class E>
        requires(!std::is_arithmetic_v<T>) && std::convertible_to<E, T> &&
                requires(T& a, E&& e) { a += std::forward<E>(e); }
    constexpr void accumulate(T& acc, E&& x) const {
        if constexpr (requires { x.size() == 0; }) {
            if (x.size() == 0) return;
            if (detail::is_empty_class_value(acc)) {
                acc = T(std::forward<E>(x));
                return;
            }
        }
        acc += std::forward<E>(x);
    }
};

/// Product with identity T(1). Combines in place: a class type with `*=` multiplies into
/// the left operand's storage. Exactly associative for integers; floating point as sum.
template <multipliable T>
struct product {
    /// The type reduced and returned.
    using value_type = T;
    /// True for integral T: integer multiplication is associative bit for bit.
    static constexpr bool is_exactly_associative = std::is_integral_v<T>;
    /// T(1). O(1).
    [[nodiscard]] constexpr T identity() const { return T(1); }
    /// left = left * right, in place. O(1) for arithmetic T; throws what T's * (or *=)
    /// throws. Any thread.
    constexpr void combine(T& left, T&& right) const { detail::multiply_into(left, std::move(right)); }
};

namespace detail {
template <class T>
constexpr T highest() {
    if constexpr (std::numeric_limits<T>::has_infinity)
        return std::numeric_limits<T>::infinity();
    else
        return std::numeric_limits<T>::max();
}
template <class T>
constexpr T lowest() {
    if constexpr (std::numeric_limits<T>::has_infinity)
        return -std::numeric_limits<T>::infinity();
    else
        return std::numeric_limits<T>::lowest();
}
}  // namespace detail

/// Minimum; identity is +infinity or the type's max. On ties the earlier value wins
/// (visible for values that compare equal but differ, such as -0.0 and +0.0).
/// Floating point is not declared exactly associative (with a NaN, grouping changes the
/// result), so it is combined over the canonical tree and stays deterministic.
template <bounded_ordered T>
struct min {
    /// The type reduced and returned.
    using value_type = T;
    /// True except for floating point (see above).
    static constexpr bool is_exactly_associative = !std::is_floating_point_v<T>;
    /// +infinity if T has one, else std::numeric_limits<T>::max(). O(1).
    [[nodiscard]] constexpr T identity() const { return detail::highest<T>(); }
    /// Leaves the smaller of left and right in `left`; `left` if neither is smaller.
    /// O(1). Any thread.
    constexpr void combine(T& left, T&& right) const {
        if (right < left) left = right;
    }
};

/// Maximum; identity is -infinity or the type's lowest. On ties the earlier value wins.
/// Floating point: see min.
template <bounded_ordered T>
struct max {
    /// The type reduced and returned.
    using value_type = T;
    /// True except for floating point (see min).
    static constexpr bool is_exactly_associative = !std::is_floating_point_v<T>;
    /// -infinity if T has one, else std::numeric_limits<T>::lowest(). O(1).
    [[nodiscard]] constexpr T identity() const { return detail::lowest<T>(); }
    /// Leaves the larger of left and right in `left`; `left` if neither is larger.
    /// O(1). Any thread.
    constexpr void combine(T& left, T&& right) const {
        if (left < right) left = right;
    }
};

/// A container that concat can append to: default-constructible, and with
/// `c.insert(c.end(), first, last)` (vector, string, deque, list, ...).
template <class C>
concept appendable_container = std::default_initializable<C> && std::movable<C> && std::ranges::range<C> &&
                               requires(C c, std::move_iterator<std::ranges::iterator_t<C>> it) {
                                   c.insert(c.end(), it, it);
                                   { c.empty() } -> std::convertible_to<bool>;
                               };

/// Concatenation in input order; identity is an empty container. Everything happens in
/// place: a map function's elements are appended straight to the accumulator of the
/// leaves a thread runs, and partial containers are moved, never copied (the right one's
/// elements are moved to the end of the left one, or the right one is taken whole when
/// the left is empty).
///
/// A map function may also return a single element, or a std::optional of one (nullopt
/// keeps nothing): it is appended directly, with no one-element container built first —
/// the fast way to filter: `[](int x) { return x % 2 == 0 ? std::optional(x) : std::nullopt; }`.
/// (For concat<std::vector<std::optional<T>>> an optional is an element, and is appended
/// as it is, empty or not.)
template <appendable_container C>
struct concat {
    /// The container reduced and returned.
    using value_type = C;
    /// The container's element type, which a map function may return on its own.
    using element_type = std::ranges::range_value_t<C>;
    /// True: concatenation is associative exactly.
    static constexpr bool is_exactly_associative = true;
    /// An empty C. Throws what C's default constructor throws.
    [[nodiscard]] C identity() const { return C{}; }
    /// Appends `right` to `left`: right's elements are moved to the end of `left` (or
    /// `right` is moved into an empty `left` whole). O(right.size()) amortised for
    /// vector/string/deque, O(1) for list; throws what the insertion throws
    /// (std::bad_alloc). Any thread.
    void combine(C& left, C&& right) const {
        if (left.empty()) {
            left = std::move(right);
        } else {
            left.insert(left.end(), std::make_move_iterator(right.begin()), std::make_move_iterator(right.end()));
        }
    }
    /// Appends a whole container that is not an rvalue (reduce over a range of
    /// containers): its elements are copied once, with no temporary container. O(size).
    void accumulate(C& acc, const C& part) const { acc.insert(acc.end(), part.begin(), part.end()); }
    /// Appends a whole rvalue container: the same as combine (its elements are moved).
    void accumulate(C& acc, C&& part) const { combine(acc, std::move(part)); }
    /// Appends one element to `acc`, with no one-element container built first. Only for
    /// an `E` that converts to the element type but not to C. O(1) amortised; throws what
    /// the insertion throws.
    template <class E>
        requires std::convertible_to<E, element_type> && (!std::convertible_to<E, C>)
    void accumulate(C& acc, E&& element) const {
        append_one(acc, static_cast<element_type>(std::forward<E>(element)));
    }
    /// Appends `*element` to `acc` if `element` is engaged; keeps nothing for nullopt.
    /// O(1) amortised; throws what the insertion throws.
    // Not when an optional is itself a valid element (concat<std::vector<std::optional<T>>>):
    // then the optional is appended as it is, empty or not.
    template <class E>
        requires std::convertible_to<E, element_type> && (!std::convertible_to<std::optional<E>, element_type>)
    void accumulate(C& acc, std::optional<E> element) const {
        // A layout hint, not a claim about how many are kept: without it g++ 12 laid the
        // per-element loop out with a second taken branch for each element a filter
        // skips; with it (and the pointer loop of detail::fold_mapped_elements) the
        // 1-in-8 filter ran ~10% faster; either half alone did not help (docs/performance.md).
#if defined(__GNUC__) || defined(__clang__)
        if (__builtin_expect(element.has_value(), 0)) append_one(acc, static_cast<element_type>(std::move(*element)));
#else
        if (element) append_one(acc, static_cast<element_type>(std::move(*element)));
#endif
    }

private:
    // push_back where the container has it: for a vector it is a tighter path than
    // insert(end(), x), which the filter's per-element loop measures (~20% at 1 in 8 kept).
    static void append_one(C& acc, element_type&& element) {
        if constexpr (requires { acc.push_back(std::move(element)); }) {
            acc.push_back(std::move(element));
        } else {
            acc.insert(acc.end(), std::move(element));
        }
    }
};

/// @cond MICROTASK_DETAIL_SPECIALIZATIONS
namespace detail {
// concat drops an empty optional and appends an engaged one's value: a leaf may gather
// the values branch-free (detail/gather_engaged.hpp) when they are plain bytes of the
// element type itself and the container can insert a range of them.
template <class C, class E>
inline constexpr bool gathers_engaged_values<concat<C>, std::optional<E>> =
    std::is_same_v<std::remove_cv_t<E>, typename concat<C>::element_type> && gatherable_value<E> &&
    requires(C& container, const E* first) { container.insert(container.end(), first, first); };
}  // namespace detail
/// @endcond

/// Tag for make_reducer: promises that `op` is associative bit for bit, so that the engine
/// may fold leaves left to right into one accumulator per run of leaves instead of
/// combining over the canonical tree; the result is the same bits either way (see the
/// reducer concept).
struct exactly_associative_t {
    explicit exactly_associative_t() = default;
};
/// The tag value: `make_reducer(identity, op, mt::exactly_associative)`.
inline constexpr exactly_associative_t exactly_associative{};

/// An operation make_reducer can combine values of type T with: either in place,
/// `op(T& left, T&& right)` returning void and leaving the result in `left` (preferred for
/// containers and other types that own memory), or by value, `op(T, T)` returning
/// something convertible to T.
template <class Op, class T>
concept reducer_operation =
    std::copy_constructible<Op> &&
    ((std::invocable<const Op&, T&, T&&> && std::is_void_v<std::invoke_result_t<const Op&, T&, T&&>>) ||
     (std::invocable<const Op&, T, T> && std::convertible_to<std::invoke_result_t<const Op&, T, T>, T>));

/// A reducer made from an identity value and an associative binary operation, in place
/// or by value (see reducer_operation).
template <class T, class Op, bool Exact = false>
class custom_reducer {
    static constexpr bool k_in_place =
        std::invocable<const Op&, T&, T&&> && std::is_void_v<std::invoke_result_t<const Op&, T&, T&&>>;

public:
    /// The type reduced and returned.
    using value_type = T;
    /// `Exact`: true when made with the mt::exactly_associative tag.
    static constexpr bool is_exactly_associative = Exact;
    /// Stores `identity` and `op` (moved). Throws what moving them throws.
    constexpr custom_reducer(T identity, Op op) : m_identity(std::move(identity)), m_op(std::move(op)) {}
    /// A copy of the stored identity. Throws what copying T throws.
    [[nodiscard]] constexpr T identity() const { return m_identity; }
    /// op(a, b), for a by-value operation. Throws what `op` throws. Called concurrently
    /// from several threads.
    [[nodiscard]] constexpr T combine(T a, T b) const
        requires(!k_in_place)
    {
        return std::invoke(m_op, std::move(a), std::move(b));
    }
    /// op(left, right), for an in-place operation: the result is left in `left`. Throws
    /// what `op` throws. Called concurrently from several threads, on distinct values.
    constexpr void combine(T& left, T&& right) const
        requires k_in_place
    {
        std::invoke(m_op, left, std::move(right));
    }

private:
    T m_identity;
    Op m_op;
};

/// Makes a reducer from `identity` and `op`, either `op(T& left, T&& right) -> void`
/// (in place: the result stays in `left`; the fast form for containers and maps) or
/// `op(T, T) -> T`. Precondition (unchecked): `op` is associative and `identity` is its
/// neutral element. `op` may be called from several threads at once, so it must not
/// mutate shared state. Throws what copying or moving T and Op throws; the reducer's
/// identity and combine throw what copying T and `op` throw.
template <class T, reducer_operation<T> Op>
[[nodiscard]] constexpr custom_reducer<T, Op> make_reducer(T identity, Op op) {
    return {std::move(identity), std::move(op)};
}

/// As above, declaring `op` exactly associative: associative bit for bit (integers,
/// bitwise operations, min/max of integers, concatenation). Never for floating-point
/// arithmetic.
template <class T, reducer_operation<T> Op>
[[nodiscard]] constexpr custom_reducer<T, Op, true> make_reducer(T identity, Op op, exactly_associative_t) {
    return {std::move(identity), std::move(op)};
}

/// combine(a, b) with any reducer, whichever form its combine has: for generic code
/// and tests that need the value of one combine. Throws what the reducer's combine throws.
template <reducer R>
[[nodiscard]] constexpr typename R::value_type combine(const R& r, typename R::value_type a, typename R::value_type b) {
    detail::combine_into(r, a, std::move(b));
    return a;
}

}  // namespace microtask

// ---- include/microtask/fold.hpp (continued) ---------------------------------
#include <functional>
#include <ranges>
#include <type_traits>
#include <utility>

namespace microtask {

/// A leaf body for fold: `body(acc, part)` folds every element of `part` (an
/// mt::part of the range's iterator) into `acc` (an `Acc&`), in order.
/// Semantic requirement: folding two adjacent parts one after the other gives what
/// folding their union does (true of any loop over the part's elements).
template <class Body, class Acc, class Range>
concept leaf_body = std::invocable<Body&, Acc&, part<std::ranges::iterator_t<Range>>>;

/// Folds `range` with `body` into accumulators that start as `red.identity()`, one per
/// run of leaves a thread takes, and combines them with `red` in input order:
///
///     mt::fold(pool, bytes, mt::histogram<256>{},
///              [](auto& bins, auto part) { for (unsigned char b : part) ++bins[b]; });
///
/// - Deterministic like map_reduce: for a reducer that is not exactly associative, each
///   canonical leaf of the policy gets one body call on a fresh identity, and leaves are
///   combined over the canonical tree; for an exactly associative one, a body call may
///   cover several adjacent leaves (fewer calls, same result).
/// - Complexity: O(n) in the body; O(leaves) identities and combines at most, and on the
///   exact path one per part a thief took.
/// - Thread-safety: `body` and `red.combine` run concurrently on distinct accumulators;
///   `range` must not be modified meanwhile. Callable from any thread, including from
///   inside a task of `pool`.
/// - Throws: the first exception `body` or `combine` threw (remaining leaves are
///   skipped; the pool stays usable); std::bad_alloc.
template <splittable_range Range, reducer Red, class Body, partition_policy Policy = adaptive>
    requires leaf_body<Body, typename Red::value_type, Range>
[[nodiscard]] typename Red::value_type fold(thread_pool& pool, Range&& range, Red red, Body body, Policy policy = {},
                                            call_site site = {}) {
    using iterator = std::ranges::iterator_t<Range>;
    return detail::run_leaf_fold(detail::pool_access::of(pool), static_cast<std::size_t>(std::ranges::size(range)),
                                 detail::body_fold<iterator, Body>{std::ranges::begin(range), body}, red, policy, site);
}

/// fold with `controls`: a stop token, an mt::progress, or `{token, progress}`. A
/// stopped token: leaves not yet started are skipped, running ones finish, and the call
/// throws mt::operation_cancelled instead of returning a partial result; checked once
/// per leaf (the body's loop is never interrupted), so a token that is never stopped
/// costs nothing measurable. A progress: reports (elements done, size) as for
/// map_reduce. Otherwise the same as fold without controls.
template <splittable_range Range, reducer Red, class Body, partition_policy Policy = adaptive>
    requires leaf_body<Body, typename Red::value_type, Range>
[[nodiscard]] typename Red::value_type fold(thread_pool& pool, Range&& range, Red red, Body body,
                                            operation_controls controls, Policy policy = {}, call_site site = {}) {
    using iterator = std::ranges::iterator_t<Range>;
    return detail::run_leaf_fold(detail::pool_access::of(pool), static_cast<std::size_t>(std::ranges::size(range)),
                                 detail::body_fold<iterator, Body>{std::ranges::begin(range), body}, red, policy, site,
                                 controls);
}

/// fold with an identity and a combine operation instead of a reducer: the same as
/// `fold(pool, range, mt::make_reducer(identity, combine), body, policy)`. `combine` is
/// `void(T& left, T&& right)` (in place) or `T(T, T)`. Not declared exactly associative,
/// so leaves are combined over the canonical tree; for a combine that is associative bit
/// for bit (concatenation, integer counts), pass
/// `mt::make_reducer(identity, combine, mt::exactly_associative)` as the reducer instead.
template <splittable_range Range, class T, class Body, reducer_operation<T> Combine, partition_policy Policy = adaptive>
    requires leaf_body<Body, T, Range>
[[nodiscard]] T fold(thread_pool& pool, Range&& range, T identity, Body body, Combine combine, Policy policy = {},
                     call_site site = {}) {
    return fold(pool, std::forward<Range>(range), make_reducer(std::move(identity), std::move(combine)),
                std::move(body), policy, site);
}

/// fold on mt::default_pool().
template <splittable_range Range, reducer Red, class Body, partition_policy Policy = adaptive>
    requires leaf_body<Body, typename Red::value_type, Range>
[[nodiscard]] typename Red::value_type fold(Range&& range, Red red, Body body, Policy policy = {},
                                            call_site site = {}) {
    return fold(default_pool(), std::forward<Range>(range), std::move(red), std::move(body), policy, site);
}

/// fold with an identity and a combine operation, on mt::default_pool().
template <splittable_range Range, class T, class Body, reducer_operation<T> Combine, partition_policy Policy = adaptive>
    requires leaf_body<Body, T, Range>
[[nodiscard]] T fold(Range&& range, T identity, Body body, Combine combine, Policy policy = {}, call_site site = {}) {
    return fold(default_pool(), std::forward<Range>(range), std::move(identity), std::move(body), std::move(combine),
                policy, site);
}

/// fold with controls (a stop token, a progress, or both), on mt::default_pool().
template <splittable_range Range, reducer Red, class Body, partition_policy Policy = adaptive>
    requires leaf_body<Body, typename Red::value_type, Range>
[[nodiscard]] typename Red::value_type fold(Range&& range, Red red, Body body, operation_controls controls,
                                            Policy policy = {}, call_site site = {}) {
    return fold(default_pool(), std::forward<Range>(range), std::move(red), std::move(body), std::move(controls),
                policy, site);
}

}  // namespace microtask

// ---- include/microtask/for_each.hpp -----------------------------------------
// microtask — for_each.hpp
/// @file
/// Parallel loop with no reduction.


#include <functional>
#include <ranges>
#include <utility>
#include <variant>

namespace microtask {

namespace detail {
template <class Range, class Fn, class Policy>
void run_for_each(thread_pool& pool, Range& range, Fn& fn, const Policy& policy, const call_site& site,
                  const operation_controls& controls) {
    auto visit = [&fn](std::ranges::range_reference_t<Range> element) {
        std::invoke(fn, std::forward<std::ranges::range_reference_t<Range>>(element));
        return std::monostate{};
    };
    run_fold(pool_access::of(pool), std::ranges::begin(range), static_cast<std::size_t>(std::ranges::size(range)),
             visit, unit_reducer{}, policy, site, controls);
}
}  // namespace detail

/// Calls `fn(element)` exactly once for every element of `range`, in parallel on `pool`.
/// The element is passed as the range's reference type, so `fn(int& x)` may modify it;
/// fn's result, if any, is discarded. Order of calls is unspecified. n calls of `fn`;
/// O(log leaves) stack. Throws the first exception `fn` threw (the remaining calls may be
/// skipped); std::bad_alloc. Same policies, thread-safety and helping as map_reduce.
template <splittable_range Range, class Fn, partition_policy Policy = adaptive>
    requires std::invocable<Fn&, std::ranges::range_reference_t<Range>>
void for_each(thread_pool& pool, Range&& range, Fn fn, Policy policy = {}, call_site site = {}) {
    detail::run_for_each(pool, range, fn, policy, site, operation_controls{});
}

/// for_each with `controls`: a stop token, an mt::progress, or `{token, progress}`. A
/// stopped token: the leaves not yet started are skipped (so some elements were visited
/// and others not), running ones finish, and the call throws mt::operation_cancelled;
/// checked once per leaf, not per element. A progress: reports (elements done, size) as
/// for map_reduce.
template <splittable_range Range, class Fn, partition_policy Policy = adaptive>
    requires std::invocable<Fn&, std::ranges::range_reference_t<Range>>
void for_each(thread_pool& pool, Range&& range, Fn fn, operation_controls controls, Policy policy = {},
              call_site site = {}) {
    detail::run_for_each(pool, range, fn, policy, site, controls);
}

/// for_each on mt::default_pool().
template <splittable_range Range, class Fn, partition_policy Policy = adaptive>
    requires std::invocable<Fn&, std::ranges::range_reference_t<Range>>
void for_each(Range&& range, Fn fn, Policy policy = {}, call_site site = {}) {
    for_each(default_pool(), std::forward<Range>(range), std::move(fn), policy, site);
}

/// for_each with controls (a stop token, a progress, or both), on mt::default_pool().
template <splittable_range Range, class Fn, partition_policy Policy = adaptive>
    requires std::invocable<Fn&, std::ranges::range_reference_t<Range>>
void for_each(Range&& range, Fn fn, operation_controls controls, Policy policy = {}, call_site site = {}) {
    for_each(default_pool(), std::forward<Range>(range), std::move(fn), std::move(controls), policy, site);
}

}  // namespace microtask

// ---- include/microtask/isolate.hpp ------------------------------------------
// microtask — isolate.hpp
/// @file
/// Isolation: waits inside a function help only with that function's own work.


#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>

namespace microtask {

/// Runs `fn()` on the calling thread so that every wait on `pool` inside it — a join, a
/// map_reduce, a task_group::wait, a future::get — helps only with work spawned inside
/// `fn` (directly or by its tasks), never with other tasks of the pool. The same holds on
/// the threads that run `fn`'s stolen tasks, for as long as they run them. Returns what
/// `fn` returns; rethrows what it throws.
///
/// Why: a waiting thread normally runs other queued tasks. If a task holds a lock across a
/// nested parallel call, the wait may pick up another task that takes the same lock on the
/// same thread, and deadlock. Inside isolate that unrelated task is left to other threads:
///
///     std::lock_guard lock(cache_mutex);
///     auto total = mt::isolate(pool, [&] { return mt::map_reduce(pool, items, f, mt::sum<double>{}); });
///
/// Precondition: waits inside `fn` must not depend on work queued outside it (e.g. a
/// future of a task submitted before the call) unless another thread can run that work:
/// an isolated thread will not. Isolation applies to `pool` only; nested calls nest.
/// Cost: O(1) to enter and leave; the waits inside steal only their region's tasks (a
/// label compared per steal). Thread-safety: any thread, inside or outside the pool.
/// Throws whatever `fn` throws.
template <class F>
    requires std::invocable<F&>
std::invoke_result_t<F&> isolate(thread_pool& pool, F&& fn) {
    detail::scheduler& sched = detail::pool_access::of(pool);
    return sched.run_in_seat([&](detail::seat& own) -> std::invoke_result_t<F&> {
        const detail::region_scope region(own, detail::new_region_id());
        return std::invoke(fn);
    });
}

/// isolate on mt::default_pool().
template <class F>
    requires std::invocable<F&>
std::invoke_result_t<F&> isolate(F&& fn) {
    return isolate(default_pool(), std::forward<F>(fn));
}

}  // namespace microtask

// ---- include/microtask/join.hpp ---------------------------------------------
// microtask — join.hpp
/// @file
/// Binary fork-join.


#include <concepts>
#include <functional>
#include <type_traits>
#include <utility>
#include <variant>

namespace microtask {

/// The result type of join for callables A and B: a pair of their results, with `void`
/// results represented as std::monostate.
template <class A, class B>
using join_result_t = std::pair<detail::value_result_t<A&>, detail::value_result_t<B&>>;

/// Runs `a()` and `b()` potentially in parallel on `pool` and returns both results.
///
/// `a` runs on the calling thread; `b` is offered to idle workers and, if nobody took it
/// by the time `a` is done, runs on the calling thread too. The fork costs O(1), no
/// allocation and no shared write (unless the worker's deque has to grow). While waiting
/// for a stolen `b`, the caller runs other tasks. Both callables may capture the caller's
/// locals by reference: join returns only after both have finished. A callable passed as
/// an lvalue is the one invoked (its state changes are seen afterwards); a trivially
/// copyable temporary may be invoked as a copy of itself.
/// Callable from any thread (an outside thread borrows a guest seat) and from inside
/// tasks, to any depth.
/// Throws: if `a` throws and `b` has not started, `b` is skipped; otherwise `b` is
/// awaited and then the exception of `a` (else of `b`) is rethrown. std::bad_alloc if a
/// deque must grow.
/// Both callables must satisfy value_task. The result is a join_result_t<A, B>; the
/// return type is spelled `auto` so that clang, which substitutes into a return type
/// before it checks constraints, also reports a violation as value_task.
template <class A, class B>
    requires value_task<A> && value_task<B>
auto join(thread_pool& pool, A&& a, B&& b) {
    detail::scheduler& sched = detail::pool_access::of(pool);
    // Every nested join: the calling thread's innermost seat is in this pool (as in
    // scheduler::run_in_seat, spelled out here so that nothing else takes `a`'s address).
    if (const detail::held_seat& innermost = *detail::t_innermost_held_seat; innermost.sched == &sched) [[likely]] {
        return join_result_t<A, B>(detail::fork_join(
            sched, *innermost.own, [&a](detail::seat&) { return detail::invoke_to_value(a); },
            [&b](detail::seat&) { return detail::invoke_to_value(b); }));
    }
    return detail::join_from_outside<join_result_t<A, B>, detail::join_argument_t<A>, detail::join_argument_t<B>>(sched,
                                                                                                                  a, b);
}

/// join on mt::default_pool().
template <class A, class B>
    requires value_task<A> && value_task<B>
auto join(A&& a, B&& b) {
    return join(default_pool(), std::forward<A>(a), std::forward<B>(b));
}

}  // namespace microtask

// ---- include/microtask/map_reduce.hpp ---------------------------------------
// microtask — map_reduce.hpp
/// @file
/// The fused primitive: decompose a range, map every element, reduce the results.


#include <functional>
#include <ranges>
#include <type_traits>
#include <utility>

namespace microtask {

/// Returns combine(...combine(identity, map(r[0])), ..., map(r[n-1])) computed in
/// parallel on `pool`, with the results combined in input order (up to the grouping,
/// which never reorders operands).
///
/// - The value is deterministic: it depends only on the input, `map`, the reducer and
///   the policy's leaf boundaries, never on thread count or timing (bitwise, for
///   floating point too, given that `map` and combine are deterministic and the
///   floating-point environment is unchanged). Different policies may round differently
///   for reducers that are not exactly associative.
/// - `policy`: adaptive (default: splits on demand, runs inline when tiny), grain(n), or
///   chunks(k). An empty range gives red.identity().
/// - Complexity: n calls of `map`, n + O(leaves) calls of combine or accumulate;
///   O(log leaves) stack per thread; the library allocates nothing per element.
/// - Thread-safety: `map` (one copy, shared by all threads) and `red.combine` are called
///   concurrently from several threads; `range` must not be modified meanwhile. Callable
///   from any thread, including from inside a task of `pool` (the caller helps instead of
///   blocking).
/// - Throws: the first exception thrown by `map` or `combine` (remaining work is
///   skipped, the call returns only when no work on the range remains, the pool stays
///   usable); std::bad_alloc.
template <splittable_range Range, class Map, class Red, partition_policy Policy = adaptive>
    requires map_function<Map, std::ranges::range_reference_t<Range>> &&
             reducer_for<Red, std::invoke_result_t<Map&, std::ranges::range_reference_t<Range>>>
[[nodiscard]] typename Red::value_type map_reduce(thread_pool& pool, Range&& range, Map map, Red red,
                                                  Policy policy = {}, call_site site = {}) {
    return detail::run_fold(detail::pool_access::of(pool), std::ranges::begin(range),
                            static_cast<std::size_t>(std::ranges::size(range)), map, red, policy, site);
}

/// map_reduce with `controls`: a stop token, an mt::progress, or `{token, progress}`.
/// - A stopped token: leaves not yet started are skipped, running ones finish, and the
///   call throws mt::operation_cancelled instead of returning a partial result (see
///   cancellation.hpp). The token is checked once per leaf (not per element), so a token
///   that is never stopped costs nothing measurable; a stop takes effect within about
///   one leaf.
/// - A progress: reports (elements done, size) as leaves finish, at most once per its
///   interval, one thread at a time, and (size, size) before returning (see progress.hpp).
/// Otherwise the same as the overload without controls.
template <splittable_range Range, class Map, class Red, partition_policy Policy = adaptive>
    requires map_function<Map, std::ranges::range_reference_t<Range>> &&
             reducer_for<Red, std::invoke_result_t<Map&, std::ranges::range_reference_t<Range>>>
[[nodiscard]] typename Red::value_type map_reduce(thread_pool& pool, Range&& range, Map map, Red red,
                                                  operation_controls controls, Policy policy = {},
                                                  call_site site = {}) {
    return detail::run_fold(detail::pool_access::of(pool), std::ranges::begin(range),
                            static_cast<std::size_t>(std::ranges::size(range)), map, red, policy, site, controls);
}

/// map_reduce on mt::default_pool().
template <splittable_range Range, class Map, class Red, partition_policy Policy = adaptive>
    requires map_function<Map, std::ranges::range_reference_t<Range>> &&
             reducer_for<Red, std::invoke_result_t<Map&, std::ranges::range_reference_t<Range>>>
[[nodiscard]] typename Red::value_type map_reduce(Range&& range, Map map, Red red, Policy policy = {},
                                                  call_site site = {}) {
    return map_reduce(default_pool(), std::forward<Range>(range), std::move(map), std::move(red), policy, site);
}

/// map_reduce with controls (a stop token, a progress, or both), on mt::default_pool().
template <splittable_range Range, class Map, class Red, partition_policy Policy = adaptive>
    requires map_function<Map, std::ranges::range_reference_t<Range>> &&
             reducer_for<Red, std::invoke_result_t<Map&, std::ranges::range_reference_t<Range>>>
[[nodiscard]] typename Red::value_type map_reduce(Range&& range, Map map, Red red, operation_controls controls,
                                                  Policy policy = {}, call_site site = {}) {
    return map_reduce(default_pool(), std::forward<Range>(range), std::move(map), std::move(red), std::move(controls),
                      policy, site);
}

}  // namespace microtask

// ---- include/microtask/per_worker.hpp ---------------------------------------
// microtask — per_worker.hpp
/// @file
/// Per-thread state for a pool's tasks: scratch buffers, random-number streams, counters
/// combined at the end (like oneTBB's combinable).


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

// ---- include/microtask/pipeline.hpp -----------------------------------------
// microtask — pipeline.hpp
/// @file
/// An ordered three-stage pipeline on a pool (the shape of most uses of oneTBB's
/// parallel_pipeline): a serial source, a parallel transform, a serial in-order sink,
/// with a bounded number of items in flight.


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

// ---- include/microtask/reduce.hpp -------------------------------------------
// microtask — reduce.hpp
/// @file
/// Combining partial results with a reducer.


#include <cstddef>
#include <ranges>
#include <type_traits>
#include <utility>
#include <vector>

namespace microtask {

namespace detail {
/// The leaves of the step-by-step reduce: one per element, split on demand like adaptive.
struct leaf_per_element {
    [[nodiscard]] std::size_t leaf_count(std::size_t n) const noexcept { return n; }
    static constexpr bool splits_on_demand = true;
};
}  // namespace detail

/// Step three of decompose / distribute / reduce: combines `partials` over the canonical
/// tree with one leaf per partial — node [lo, hi) = combine(node [lo, mid), node [mid, hi)),
/// mid = lo + (hi - lo) / 2 — so that decompose(range, policy) → distribute → reduce gives
/// bit for bit what map_reduce(range, map, red, policy) gives when each partial is its
/// part's fold. Runs on mt::default_pool() like every other call without a pool (a short
/// one inline on the calling thread). Pass the partials as an rvalue
/// (`reduce(std::move(partials), r)` or reduce(distribute(...), r)) and they are moved
/// into combine, not copied: an rvalue range that is neither a view nor a borrowed range
/// is taken to own its elements. A range that is not random access and sized is first
/// collected into a std::vector. n accumulates into an identity and n - 1 combines (for a
/// long range of raw elements, reduce(pool, range, r) folds runs of elements instead);
/// throws what identity, combine or accumulate throw, and std::bad_alloc.
template <std::ranges::input_range Range, class Red>
    requires reducer_for<Red, std::ranges::range_reference_t<Range>>
[[nodiscard]] typename Red::value_type reduce(Range&& partials, Red red, call_site site = {}) {
    // An rvalue container owns its elements and dies after this call: take them. A view
    // (even an rvalue one, such as a filter) refers to someone else's elements: copy.
    constexpr bool may_move = !std::is_lvalue_reference_v<Range> && !std::ranges::borrowed_range<Range> &&
                              !std::ranges::view<std::remove_cvref_t<Range>>;
    using reference = std::ranges::range_reference_t<Range>;
    if constexpr (!splittable_range<Range>) {
        std::vector<std::ranges::range_value_t<Range>> collected;
        if constexpr (std::ranges::sized_range<Range>) collected.reserve(std::ranges::size(partials));
        for (auto&& partial : partials) {
            if constexpr (may_move) {
                collected.push_back(std::move(partial));
            } else {
                collected.push_back(std::forward<decltype(partial)>(partial));
            }
        }
        return reduce(std::move(collected), std::move(red), site);
    } else {
        // Hands each element to the fold: moved out of a container we own, else as the
        // range's own reference type (a value for views like iota: no dangling reference).
        using taken = std::conditional_t<may_move && std::is_lvalue_reference_v<reference>,
                                         std::remove_reference_t<reference>&&, reference>;
        auto take = [](reference x) -> taken { return static_cast<taken>(std::forward<reference>(x)); };
        const auto size = static_cast<std::size_t>(std::ranges::size(partials));
        return detail::run_fold(detail::pool_access::of(default_pool()), std::ranges::begin(partials), size, take, red,
                                detail::leaf_per_element{}, site);
    }
}

/// Parallel reduction of a large range on `pool`: map_reduce with the identity map.
/// Same determinism, policies, complexity, thread-safety and exceptions as map_reduce.
/// Its adaptive leaves fold runs of elements, so over more than adaptive::max_leaves
/// elements it groups differently from the step-by-step reduce(partials, red), which
/// keeps one leaf per element (for a reducer that is not exactly associative, the bits
/// may differ).
template <splittable_range Range, class Red, partition_policy Policy = adaptive>
    requires reducer_for<Red, std::ranges::range_reference_t<Range>>
[[nodiscard]] typename Red::value_type reduce(thread_pool& pool, Range&& range, Red red, Policy policy = {},
                                              call_site site = {}) {
    return map_reduce(
        pool, std::forward<Range>(range),
        // Returns the range's own reference type: a value for views like iota, a
        // reference (no copy until combine) for containers.
        [](std::ranges::range_reference_t<Range> x) -> std::ranges::range_reference_t<Range> {
            return std::forward<std::ranges::range_reference_t<Range>>(x);
        },
        std::move(red), policy, site);
}

/// reduce(pool, range, red) with `controls`: a stop token, an mt::progress, or both
/// (see map_reduce with controls).
template <splittable_range Range, class Red, partition_policy Policy = adaptive>
    requires reducer_for<Red, std::ranges::range_reference_t<Range>>
[[nodiscard]] typename Red::value_type reduce(thread_pool& pool, Range&& range, Red red, operation_controls controls,
                                              Policy policy = {}, call_site site = {}) {
    return map_reduce(
        pool, std::forward<Range>(range),
        [](std::ranges::range_reference_t<Range> x) -> std::ranges::range_reference_t<Range> {
            return std::forward<std::ranges::range_reference_t<Range>>(x);
        },
        std::move(red), std::move(controls), policy, site);
}

}  // namespace microtask

// ---- include/microtask/scan.hpp ---------------------------------------------
// microtask — scan.hpp
/// @file
/// Parallel prefix sums: mt::inclusive_scan and mt::exclusive_scan, as in `<numeric>`.

// ---- include/microtask/detail/chained_scan.hpp ------------------------------
// microtask — detail/chained_scan.hpp
// The engine behind mt::inclusive_scan and mt::exclusive_scan: a scan over the policy's
// leaves with the leaf offsets chained from leaf to leaf.
//
// Determinism: the result is defined by the leaves alone, never by who computes what.
// With sum_k the left fold of leaf k's elements (starting from its first element) and
// offset_0 = init (or none), offset_k = op(offset_{k-1}, sum_{k-1}); element j of leaf k
// is the left fold of leaf k's elements up to j, started from offset_k. Leaf boundaries
// depend only on n and the policy, so a floating-point scan is bitwise the same for every
// pool size and every schedule.
//
// Schedule: threads take leaves in increasing order from one counter. A thread first
// reduces its leaf to sum_k (reading it into its cache) and publishes it, then waits
// for offset_{k-1} and sum_{k-1}, publishes offset_k and scans the leaf from its cache:
// the input crosses the memory bus about once, as in a serial scan. A leaf whose offset
// is already known when it is taken (always so on one thread) is scanned in one pass that
// computes its sum on the side. A thread only ever waits for a lower leaf, which a
// thread that took it earlier is working on without waiting for anything higher, so the
// chain always completes.


#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#if defined(__SSE2__) && defined(__x86_64__)
#include <immintrin.h>
#define MICROTASK_DETAIL_STREAM_STORES 1
#else
#define MICROTASK_DETAIL_STREAM_STORES 0
#endif

namespace microtask::detail {

/// Below this many elements the scan runs on the calling thread (through the same leaf
/// chain, so with the same result).
inline constexpr std::size_t k_scan_parallel_threshold = std::size_t{1} << 15;
/// Polls of a leaf's state before a waiting thread yields, and yields before it sleeps on
/// it: a neighbour's sum is usually a fraction of a leaf's work away (microseconds),
/// while a sleep and wake-up costs tens of microseconds, on every leaf it happens to.
inline constexpr int k_scan_spins = 1 << 16;
inline constexpr int k_scan_yields = 64;
/// Outputs at least this large are written with streaming (non-temporal) stores, where
/// the platform has them: they skip reading each output line before writing it, which
/// is a third of a scan's memory traffic. Smaller outputs stay in the cache (32 MiB is
/// this development machine's L3), where a reader after the scan will find them.
inline constexpr std::size_t k_scan_stream_bytes = std::size_t{32} << 20;

/// Can `Out` take streaming stores of T: contiguous 8-byte elements of the same type.
template <class T, class Out>
constexpr bool streamable_output() {
    if constexpr (!MICROTASK_DETAIL_STREAM_STORES || !std::contiguous_iterator<Out>) {
        return false;
    } else {
        return std::is_same_v<std::iter_value_t<Out>, T> && std::is_trivially_copyable_v<T> && sizeof(T) == 8;
    }
}

template <class T, std::random_access_iterator In, std::random_access_iterator Out, class Op, bool Exclusive>
class chained_scan {
public:
    /// `init`: exclusive scans and inclusive scans with an initial value; std::nullopt for
    /// an inclusive scan that starts from the first element.
    chained_scan(In first, Out out, std::size_t size, std::size_t leaves, Op& op, std::optional<T> init)
        : m_first(first),
          m_out(out),
          m_size(size),
          m_leaf_count(leaves),
          m_op(op),
          m_leaves(std::make_unique<leaf_state[]>(leaves)) {
        m_init = std::move(init);
    }

    /// Runs the scan with `participants` threads of `pool` (one of them the caller).
    void run(thread_pool& pool, std::size_t participants) {
        if (participants <= 1) {
            participate();
        } else {
            distribute(pool, index_range<std::size_t>(0, participants), [this](std::size_t) { participate(); });
        }
        if (m_error) std::rethrow_exception(m_error);
    }

private:
    enum : std::uint32_t { k_sum_ready = 1, k_offset_ready = 2, k_failed = 4 };

    struct leaf_state {
        std::atomic<std::uint32_t> flags{0};
        std::optional<T> sum;     // written before k_sum_ready is published
        std::optional<T> offset;  // written before k_offset_ready is published; empty for
                                  // leaf 0 of an inclusive scan without init
    };

    void participate() noexcept {
        for (;;) {
            // relaxed: the counter only hands out distinct leaves; every value a leaf
            // needs from another is published through that leaf's flags.
            const std::size_t leaf = m_next.fetch_add(1, std::memory_order_relaxed);
            if (leaf >= m_leaf_count) return;
            // relaxed: a stale false only costs the work of a leaf whose result is dropped.
            if (m_failed.load(std::memory_order_relaxed)) {
                publish(leaf, k_failed);
                continue;
            }
            try {
                process(leaf);
            } catch (...) {
                // acq_rel: the winner's m_error is read by run() after the participants
                // have joined (distribute's completion orders it too).
                if (!m_failed.exchange(true, std::memory_order_acq_rel)) m_error = std::current_exception();
                publish(leaf, k_failed);
            }
        }
    }

    void process(std::size_t leaf) {
        leaf_state& self = m_leaves[leaf];
        const bool last = leaf + 1 == m_leaf_count;
        if (leaf == 0) {
            self.offset = m_init;
            publish(leaf, k_offset_ready);
            scan_leaf(leaf, self.offset, !last);
            return;
        }
        leaf_state& before = m_leaves[leaf - 1];
        // acquire: pairs with the release in publish(); makes before.sum/offset visible.
        const bool known = (before.flags.load(std::memory_order_acquire) & (k_sum_ready | k_offset_ready)) ==
                           (k_sum_ready | k_offset_ready);
        if (!known && !last) {
            self.sum.emplace(reduce_leaf(leaf));
            publish(leaf, k_sum_ready);
        }
        if (!known) wait_for(leaf - 1);
        self.offset.emplace(chain(before));
        publish(leaf, k_offset_ready);
        scan_leaf(leaf, self.offset, known && !last);
    }

    /// offset_k from leaf k-1's offset and sum (the sum is the whole value when there is
    /// no offset: leaf 0 of an inclusive scan without init).
    T chain(const leaf_state& before) const {
        if (!before.offset) return *before.sum;
        return static_cast<T>(std::invoke(m_op, *before.offset, *before.sum));
    }

    T reduce_leaf(std::size_t leaf) const {
        In it = m_first + diff(begin_of(leaf));
        const In end = m_first + diff(begin_of(leaf + 1));
        T acc = static_cast<T>(*it);
        for (++it; it != end; ++it) acc = static_cast<T>(std::invoke(m_op, std::move(acc), *it));
        return acc;
    }

    /// Writes leaf `leaf`'s outputs from `offset`; if `with_sum`, also computes and
    /// publishes its sum (one pass over the input instead of two).
    void scan_leaf(std::size_t leaf, const std::optional<T>& offset, bool with_sum) {
        if constexpr (streamable_output<T, Out>()) {
            if (m_size * sizeof(T) >= k_scan_stream_bytes) {
                scan_leaf_into<true>(leaf, offset, with_sum);
#if MICROTASK_DETAIL_STREAM_STORES
                // Streaming stores are weakly ordered: fence them before the sum is
                // published and before this thread's part of the scan is reported done.
                _mm_sfence();
#endif
                if (with_sum) publish(leaf, k_sum_ready);
                return;
            }
        }
        scan_leaf_into<false>(leaf, offset, with_sum);
        if (with_sum) publish(leaf, k_sum_ready);
    }

    template <bool Stream>
    static void store(Out out, T&& value) {
        if constexpr (Stream) {
#if MICROTASK_DETAIL_STREAM_STORES
            long long bits;
            std::memcpy(&bits, &value, sizeof bits);
            _mm_stream_si64(reinterpret_cast<long long*>(std::to_address(out)), bits);
#endif
        } else {
            *out = std::move(value);
        }
    }

    template <bool Stream>
    void scan_leaf_into(std::size_t leaf, const std::optional<T>& offset, bool with_sum) {
        const std::size_t begin = begin_of(leaf);
        const std::size_t end = begin_of(leaf + 1);
        In in = m_first + diff(begin);
        Out out = m_out + diff(begin);
        std::optional<T> sum;
        if (with_sum) sum.emplace(static_cast<T>(*in));
        // The first element: the running value starts from the offset, or is the element.
        T acc = [&] {
            if constexpr (Exclusive) {
                return *offset;
            } else {
                return offset ? static_cast<T>(std::invoke(m_op, *offset, *in)) : static_cast<T>(*in);
            }
        }();
        if constexpr (Exclusive) {
            // Read before writing: `out` may be the input itself.
            auto&& x = *in;
            T next = static_cast<T>(std::invoke(m_op, acc, std::forward<decltype(x)>(x)));
            store<Stream>(out, std::move(acc));
            acc = std::move(next);
        } else {
            store<Stream>(out, T(acc));
        }
        ++in;
        ++out;
        for (std::size_t k = begin + 1; k < end; ++k, ++in, ++out) {
            if (with_sum) sum = static_cast<T>(std::invoke(m_op, std::move(*sum), *in));
            if constexpr (Exclusive) {
                T next = static_cast<T>(std::invoke(m_op, acc, *in));
                store<Stream>(out, std::move(acc));
                acc = std::move(next);
            } else {
                acc = static_cast<T>(std::invoke(m_op, std::move(acc), *in));
                store<Stream>(out, T(acc));
            }
        }
        if (with_sum) m_leaves[leaf].sum = std::move(sum);
    }

    void publish(std::size_t leaf, std::uint32_t flag) noexcept {
        // release: the sum or offset written before is visible to whoever acquires the flag.
        m_leaves[leaf].flags.fetch_or(flag, std::memory_order_release);
        m_leaves[leaf].flags.notify_all();
    }

    /// Waits until leaf `leaf` has published its sum and offset; throws if it failed
    /// (the exception itself is the failing leaf's, recorded in m_error).
    void wait_for(std::size_t leaf) {
        std::atomic<std::uint32_t>& flags = m_leaves[leaf].flags;
        constexpr std::uint32_t ready = k_sum_ready | k_offset_ready;
        int spins = 0;
        for (;;) {
            // acquire: pairs with publish(); the leaf's sum and offset are then visible.
            const std::uint32_t seen = flags.load(std::memory_order_acquire);
            if (seen & k_failed) throw chain_broken{};
            if ((seen & ready) == ready) return;
            if (++spins < k_scan_spins) continue;
            if (spins < k_scan_spins + k_scan_yields) {
                std::this_thread::yield();
                continue;
            }
            flags.wait(seen, std::memory_order_acquire);
        }
    }

    /// Thrown to abandon a leaf whose predecessor failed; never the exception recorded
    /// first, which is the failing leaf's own.
    struct chain_broken {};

    std::size_t begin_of(std::size_t leaf) const noexcept { return leaf_begin(leaf, m_size, m_leaf_count); }
    static std::iter_difference_t<In> diff(std::size_t i) noexcept {
        return static_cast<std::iter_difference_t<In>>(i);
    }

    In m_first;
    Out m_out;
    std::size_t m_size;
    std::size_t m_leaf_count;
    Op& m_op;
    std::optional<T> m_init;
    std::unique_ptr<leaf_state[]> m_leaves;
    std::atomic<std::size_t> m_next{0};
    std::atomic<bool> m_failed{false};
    std::exception_ptr m_error;
};

/// Scans [first, first + size) into `out` over the policy's leaves on `pool`.
template <class T, bool Exclusive, class In, class Out, class Op, class Policy>
Out run_scan(thread_pool& pool, In first, std::size_t size, Out out, Op& op, std::optional<T> init,
             const Policy& policy) {
    if (size == 0) return out;
    chained_scan<T, In, Out, Op, Exclusive> scan(first, out, size, policy.leaf_count(size), op, std::move(init));
    scan.run(pool, size < k_scan_parallel_threshold ? 1 : pool.size() + 1);
    return out + static_cast<std::iter_difference_t<Out>>(size);
}

}  // namespace microtask::detail

// ---- include/microtask/scan.hpp (continued) ---------------------------------
#include <concepts>
#include <cstddef>
#include <functional>
#include <iterator>
#include <optional>
#include <ranges>
#include <type_traits>
#include <utility>

namespace microtask {

/// A binary operation a scan can run with running values of type `T` over elements of
/// reference type `Ref`: `op(t, x)` and `op(t, u)` for T values t, u are valid and
/// convertible to T, and a T can be made from an element (the first element of an
/// inclusive scan starts the running value).
/// Semantic requirement the compiler cannot check: op is associative (up to rounding,
/// for floating point); it is called concurrently from several threads on a shared object.
template <class Op, class T, class Ref>
concept scan_operation =
    std::copy_constructible<Op> && std::constructible_from<T, Ref> && std::invocable<Op&, T, Ref> &&
    std::invocable<Op&, const T&, const T&> && std::convertible_to<std::invoke_result_t<Op&, T, Ref>, T> &&
    std::convertible_to<std::invoke_result_t<Op&, const T&, Ref>, T> &&
    std::convertible_to<std::invoke_result_t<Op&, const T&, const T&>, T>;

/// Where a scan writes: a random-access iterator (the outputs are written in parallel)
/// that a `T` can be assigned through.
template <class Out, class T>
concept scan_output =
    std::random_access_iterator<Out> && std::indirectly_writable<Out, T> && std::indirectly_writable<Out, const T&>;

/// Writes out[i] = r[0] op r[1] op ... op r[i] for every i, in parallel on `pool`, and
/// returns out + size(r) (like std::inclusive_scan; `out` may be the range's own begin).
///
/// - Deterministic: the running value is folded left to right within each leaf of the
///   policy, and the leaves' offsets are chained left to right; so the result depends
///   only on the input, `op` and the policy's leaf boundaries, never on the pool size or
///   timing (bitwise, for floating point too). With integer + and the like it equals
///   std::inclusive_scan's. The default adaptive policy cuts n elements into min(n, 2048)
///   leaves.
/// - Complexity: about 2n calls of `op` when run in parallel (each leaf is reduced, then
///   scanned), n on one thread (always so below 32768 elements); O(leaves) memory. The
///   input is read twice, the second time mostly from cache. Outputs of at least 32 MiB
///   of contiguous 8-byte elements are written with streaming stores on x86-64.
/// - Thread-safety: `op` runs concurrently; neither the range nor the output may be
///   touched by others meanwhile. Callable from any thread, including from inside a task
///   of `pool`.
/// - Throws: the first exception `op`, a conversion or a write threw (the outputs are then
///   partly written); std::bad_alloc.
template <class Range, class Out, class Op = std::plus<>, partition_policy Policy = adaptive>
    requires splittable_range<Range> &&
             scan_operation<Op, std::ranges::range_value_t<Range>, std::ranges::range_reference_t<Range>> &&
             scan_output<Out, std::ranges::range_value_t<Range>>
Out inclusive_scan(thread_pool& pool, Range&& range, Out out, Op op = {}, Policy policy = {}) {
    using value_type = std::ranges::range_value_t<Range>;
    return detail::run_scan<value_type, false>(pool, std::ranges::begin(range),
                                               static_cast<std::size_t>(std::ranges::size(range)), out, op,
                                               std::optional<value_type>{}, policy);
}

/// Writes out[i] = init op r[0] op ... op r[i-1] for every i (out[0] = init), in
/// parallel on `pool`, and returns out + size(r) (like std::exclusive_scan: the running
/// value has the type of `init`; `out` may be the range's own begin). Same determinism,
/// complexity, thread-safety and exceptions as mt::inclusive_scan.
template <class Range, class Out, class T, class Op = std::plus<>, partition_policy Policy = adaptive>
    requires splittable_range<Range> && scan_operation<Op, T, std::ranges::range_reference_t<Range>> &&
             scan_output<Out, T>
Out exclusive_scan(thread_pool& pool, Range&& range, Out out, T init, Op op = {}, Policy policy = {}) {
    return detail::run_scan<T, true>(pool, std::ranges::begin(range),
                                     static_cast<std::size_t>(std::ranges::size(range)), out, op,
                                     std::optional<T>(std::move(init)), policy);
}

/// mt::inclusive_scan on mt::default_pool().
template <class Range, class Out, class Op = std::plus<>, partition_policy Policy = adaptive>
    requires splittable_range<Range> &&
             scan_operation<Op, std::ranges::range_value_t<Range>, std::ranges::range_reference_t<Range>> &&
             scan_output<Out, std::ranges::range_value_t<Range>>
Out inclusive_scan(Range&& range, Out out, Op op = {}, Policy policy = {}) {
    return inclusive_scan(default_pool(), std::forward<Range>(range), out, std::move(op), policy);
}

/// mt::exclusive_scan on mt::default_pool().
template <class Range, class Out, class T, class Op = std::plus<>, partition_policy Policy = adaptive>
    requires splittable_range<Range> && scan_operation<Op, T, std::ranges::range_reference_t<Range>> &&
             scan_output<Out, T>
Out exclusive_scan(Range&& range, Out out, T init, Op op = {}, Policy policy = {}) {
    return exclusive_scan(default_pool(), std::forward<Range>(range), out, std::move(init), std::move(op), policy);
}

}  // namespace microtask

// ---- include/microtask/sort.hpp ---------------------------------------------
// microtask — sort.hpp
/// @file
/// Parallel sorting in place: mt::sort and mt::stable_sort.

// ---- include/microtask/detail/merge_sort.hpp --------------------------------
// microtask — detail/merge_sort.hpp
// The engine behind mt::sort and mt::stable_sort: a fork-join merge sort with one buffer
// of n elements. 2^d leaves are sorted serially (std::sort or std::stable_sort) in the
// buffer, then d merge levels ping-pong between the buffer and the range; d is odd, so
// the last level lands in the range. Every merge is itself split in two by a binary
// search, so the top level's single merge of n elements is parallel too.


#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <type_traits>
#include <vector>

namespace microtask::detail {

/// Fewest elements per leaf: below this, the fork and the merge pass it adds cost more
/// than a second thread saves.
inline constexpr std::size_t k_sort_min_leaf = std::size_t{1} << 13;
/// A merge of fewer elements than this runs serially (one fork costs about a microsecond,
/// a merge of this many ints some tens of microseconds).
inline constexpr std::size_t k_merge_grain = std::size_t{1} << 14;

/// Merges the sorted runs [a, a_end) and [b, b_end) into `out`, moving the elements.
/// Stable: an element of the first run goes before an equivalent one of the second.
template <class In, class Out, class Comp>
void merge_moving(In a, In a_end, In b, In b_end, Out out, Comp& comp) {
    using value_type = std::iter_value_t<In>;
    if constexpr (std::is_trivially_copyable_v<value_type> && sizeof(value_type) <= 2 * sizeof(void*)) {
        // Small trivially copyable elements: select without a branch. On random keys the
        // branch of the loop below is mispredicted half of the time, which made the merge
        // passes cost as much as a third of the sort of the leaves.
        while (a != a_end && b != b_end) {
            const value_type from_a = *a;
            const value_type from_b = *b;
            const bool take_b = std::invoke(comp, from_b, from_a);
            *out = take_b ? from_b : from_a;
            ++out;
            b += take_b;
            a += !take_b;
        }
    }
    while (a != a_end && b != b_end) {
        if (std::invoke(comp, *b, *a)) {
            *out = std::move(*b);
            ++b;
        } else {
            *out = std::move(*a);
            ++a;
        }
        ++out;
    }
    out = std::move(a, a_end, out);
    std::move(b, b_end, out);
}

/// merge_moving on `pool`: the longer run is cut at its middle element and the other run
/// at the matching bound (lower for a cut in the first run, upper for a cut in the
/// second, which keeps equivalent elements of the first run in front), and both halves
/// merge in parallel.
template <class In, class Out, class Comp>
void merge_parallel(thread_pool& pool, In a, In a_end, In b, In b_end, Out out, Comp& comp) {
    const auto a_size = a_end - a;
    const auto b_size = b_end - b;
    if (static_cast<std::size_t>(a_size + b_size) <= k_merge_grain) return merge_moving(a, a_end, b, b_end, out, comp);
    In a_cut = a;
    In b_cut = b;
    if (a_size >= b_size) {
        a_cut = a + a_size / 2;
        b_cut = std::lower_bound(b, b_end, *a_cut, std::ref(comp));
    } else {
        b_cut = b + b_size / 2;
        a_cut = std::upper_bound(a, a_end, *b_cut, std::ref(comp));
    }
    const Out out_cut = out + ((a_cut - a) + (b_cut - b));
    join(
        pool, [&] { merge_parallel(pool, a, a_cut, b, b_cut, out, comp); },
        [&] { merge_parallel(pool, a_cut, a_end, b_cut, b_end, out_cut, comp); });
}

/// One parallel sort of [first, first + size). Owns the buffer; its destructor destroys
/// whatever the leaves constructed in it, also when a comparison or move threw.
template <std::random_access_iterator It, class Comp, bool Stable>
class merge_sorter {
public:
    using value_type = std::iter_value_t<It>;

    /// Precondition: size >= 2 * k_sort_min_leaf (smaller ranges are sorted serially).
    merge_sorter(thread_pool& pool, It first, std::size_t size, Comp& comp)
        : m_pool(pool),
          m_first(first),
          m_size(size),
          m_comp(comp),
          m_depth(depth_for(size, pool.size() + 1)),
          m_constructed(std::size_t{1} << m_depth, false),
          m_buffer(std::allocator<value_type>{}.allocate(size)) {}

    merge_sorter(const merge_sorter&) = delete;
    merge_sorter& operator=(const merge_sorter&) = delete;

    ~merge_sorter() {
        // m_constructed is only read here, after every leaf's task has joined.
        for (std::size_t leaf = 0; leaf < m_constructed.size(); ++leaf) {
            if (m_constructed[leaf]) std::destroy(m_buffer + leaf_begin(leaf), m_buffer + leaf_begin(leaf + 1));
        }
        std::allocator<value_type>{}.deallocate(m_buffer, m_size);
    }

    void run() { sort_node(0, std::size_t{1} << m_depth, true); }

private:
    /// The odd number of levels d that gives at least four leaves per thread (so that a
    /// thread slowed by others' work delays the rest by a quarter of its share at most),
    /// less two levels at a time while the leaves would be too small.
    static unsigned depth_for(std::size_t size, std::size_t threads) {
        unsigned depth = 1;
        while ((std::size_t{1} << depth) < 4 * threads) depth += 2;
        while (depth > 1 && (size >> depth) < k_sort_min_leaf) depth -= 2;
        return depth;
    }

    std::size_t leaf_begin(std::size_t leaf) const noexcept {
        return leaf_begin_of(leaf, m_size, std::size_t{1} << m_depth);
    }
    static std::size_t leaf_begin_of(std::size_t i, std::size_t n, std::size_t leaves) noexcept {
        return i * (n / leaves) + std::min(i, n % leaves);
    }

    /// Sorts leaves [lo, hi) into the range (`into_range`) or the buffer. Leaves are at
    /// an odd depth below the root, whose result goes into the range, so a leaf's goes
    /// into the buffer.
    void sort_node(std::size_t lo, std::size_t hi, bool into_range) {
        if (hi - lo == 1) return sort_leaf(lo);
        const std::size_t mid = lo + (hi - lo) / 2;
        join(
            m_pool, [&] { sort_node(lo, mid, !into_range); }, [&] { sort_node(mid, hi, !into_range); });
        const std::size_t begin = leaf_begin(lo);
        const std::size_t middle = leaf_begin(mid);
        const std::size_t end = leaf_begin(hi);
        if (into_range) {
            merge_parallel(m_pool, m_buffer + begin, m_buffer + middle, m_buffer + middle, m_buffer + end,
                           m_first + diff(begin), m_comp);
        } else {
            merge_parallel(m_pool, m_first + diff(begin), m_first + diff(middle), m_first + diff(middle),
                           m_first + diff(end), m_buffer + begin, m_comp);
        }
    }

    /// Moves the leaf into the buffer (constructing its elements there), then sorts it.
    void sort_leaf(std::size_t leaf) {
        const std::size_t begin = leaf_begin(leaf);
        const std::size_t end = leaf_begin(leaf + 1);
        std::uninitialized_move(m_first + diff(begin), m_first + diff(end), m_buffer + begin);
        // A byte per leaf, each written by its own leaf's task: distinct memory locations.
        m_constructed[leaf] = true;
        if constexpr (Stable) {
            std::stable_sort(m_buffer + begin, m_buffer + end, std::ref(m_comp));
        } else {
            std::sort(m_buffer + begin, m_buffer + end, std::ref(m_comp));
        }
    }

    static std::iter_difference_t<It> diff(std::size_t i) noexcept {
        return static_cast<std::iter_difference_t<It>>(i);
    }

    thread_pool& m_pool;
    It m_first;
    std::size_t m_size;
    Comp& m_comp;
    unsigned m_depth;
    // bytes, not std::vector<bool>: leaves set their flags concurrently.
    std::vector<unsigned char> m_constructed;
    value_type* m_buffer;
};

/// Sorts [first, first + size) with `comp` on `pool`, stably if `Stable`.
template <bool Stable, std::random_access_iterator It, class Comp>
void parallel_sort(thread_pool& pool, It first, std::size_t size, Comp& comp) {
    if (size < 2 * k_sort_min_leaf) {
        const It last = first + static_cast<std::iter_difference_t<It>>(size);
        if constexpr (Stable) {
            std::stable_sort(first, last, std::ref(comp));
        } else {
            std::sort(first, last, std::ref(comp));
        }
        return;
    }
    merge_sorter<It, Comp, Stable> sorter(pool, first, size, comp);
    sorter.run();
}

}  // namespace microtask::detail

// ---- include/microtask/sort.hpp (continued) ---------------------------------
#include <concepts>
#include <cstddef>
#include <functional>
#include <iterator>
#include <ranges>

namespace microtask {

/// A range mt::sort can sort with `Comp`: random access with a known size
/// (splittable_range), and what std::sortable asks of its iterator, i.e. `comp(a, b)` is
/// a strict weak order on the elements and the elements can be moved out and back.
/// (Spelled out rather than std::sortable, which libc++ 14 does not have.)
/// Semantic requirement the compiler cannot check: `comp` is a strict weak order, and
/// calling it concurrently from several threads is safe (it is called on one shared
/// object).
template <class R, class Comp>
concept sortable_range =
    splittable_range<R> && std::indirectly_movable_storable<std::ranges::iterator_t<R>, std::ranges::iterator_t<R>> &&
    std::indirectly_swappable<std::ranges::iterator_t<R>> &&
    std::indirect_strict_weak_order<Comp, std::ranges::iterator_t<R>>;

/// Sorts `range` in place into non-descending order by `comp`, in parallel on `pool`.
/// The order of equivalent elements is unspecified (use stable_sort to keep it).
///
/// - Algorithm: a merge sort; the leaves (at least four per thread, at most
///   n / 8192 of them) are sorted by std::sort, then merged level by level, each merge
///   split in parallel by binary search. Ranges shorter than 16384 elements are sorted by
///   std::sort on the calling thread.
/// - Complexity: O(n log n) comparisons; O(n) moves per merge level (about
///   log2(4 * threads) levels); a buffer of n elements for the duration of the call
///   (uninitialised storage: elements need not be default-constructible or copyable).
/// - Thread-safety: `comp` is called concurrently from several threads; `range` must not
///   be accessed by others meanwhile. Callable from any thread, including from inside a
///   task of `pool`.
/// - Throws: std::bad_alloc (the buffer); the first exception `comp` or a move threw.
///   Then the range holds valid but unspecified values (some may be moved-from).
template <class Range, class Comp = std::less<>>
    requires sortable_range<Range, Comp>
void sort(thread_pool& pool, Range&& range, Comp comp = {}) {
    detail::parallel_sort<false>(pool, std::ranges::begin(range), static_cast<std::size_t>(std::ranges::size(range)),
                                 comp);
}

/// Sorts `range` in place like mt::sort, keeping equivalent elements in their original
/// order (like std::stable_sort): the leaves are sorted by std::stable_sort and every
/// merge puts an element of the left run before an equivalent one of the right. The
/// result is therefore fully determined by the input, whatever the pool size. Same
/// complexity, thread-safety and exceptions as mt::sort.
template <class Range, class Comp = std::less<>>
    requires sortable_range<Range, Comp>
void stable_sort(thread_pool& pool, Range&& range, Comp comp = {}) {
    detail::parallel_sort<true>(pool, std::ranges::begin(range), static_cast<std::size_t>(std::ranges::size(range)),
                                comp);
}

/// mt::sort on mt::default_pool().
template <class Range, class Comp = std::less<>>
    requires sortable_range<Range, Comp>
void sort(Range&& range, Comp comp = {}) {
    sort(default_pool(), std::forward<Range>(range), std::move(comp));
}

/// mt::stable_sort on mt::default_pool().
template <class Range, class Comp = std::less<>>
    requires sortable_range<Range, Comp>
void stable_sort(Range&& range, Comp comp = {}) {
    stable_sort(default_pool(), std::forward<Range>(range), std::move(comp));
}

}  // namespace microtask

// ---- include/microtask/task_group.hpp ---------------------------------------
// microtask — task_group.hpp
/// @file
/// A dynamic set of tasks waited on together.


#include <atomic>
#include <concepts>
#include <cstdint>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace microtask {

/// Runs any number of tasks on a pool and waits for all of them.
///
/// Every task passed to run() runs exactly once, even after another task of the group
/// threw; wait() then rethrows the first exception. The group can be reused after
/// wait() returns or throws.
/// Thread-safety: run() from any thread, also from inside the group's own tasks; wait()
/// from any thread, from several at once, and nested (a wait that, while helping, runs a
/// task which waits on the same group); when several waits overlap, the first exception
/// goes to one of them. The destructor waits for tasks still running (it cannot
/// rethrow, so call wait() to see exceptions).
///
/// Cancellation: once cancel() is called or the group's stop token is stopped, tasks
/// that have not started are skipped (they never run: the exception to "every task runs
/// exactly once"), running ones finish, and wait() throws mt::operation_cancelled if any
/// task was skipped. An exception does not cancel the group (its tasks are independent);
/// call cancel() where one task's failure should stop the others.
class task_group {
public:
    /// An empty group whose tasks run on `pool`. The pool must outlive the group.
    /// O(1), never throws.
    explicit task_group(thread_pool& pool) noexcept : m_sched(detail::pool_access::of(pool)) {}
    /// An empty group bound to `stop`: when it is stopped, the tasks that have not
    /// started are skipped, as after cancel(). O(1), never throws.
    task_group(thread_pool& pool, stop_token stop) noexcept
        : m_sched(detail::pool_access::of(pool)), m_stop(std::move(stop)) {}
    task_group(const task_group&) = delete;
    task_group& operator=(const task_group&) = delete;
    /// Waits for every task still pending (helping the pool meanwhile); an exception a
    /// task threw since the last wait() is discarded. Never throws.
    ~task_group() { wait_all(); }

    /// Queues a copy of `fn` (decayed) to run exactly once on the pool (the same path as
    /// thread_pool::submit). Any thread, also from inside the group's tasks and during
    /// wait(). O(1): one small block from a per-thread recycling cache. Throws
    /// std::bad_alloc, and then the task is not queued.
    template <class F>
        requires std::invocable<std::decay_t<F>&>
    void run(F&& fn) {
        auto* task = new group_task<std::decay_t<F>>(std::forward<F>(fn), *this);
        // relaxed: the task's decrement is ordered after this by the queue hand-off.
        m_state.fetch_add(k_one_task, std::memory_order_relaxed);
        try {
            m_sched.submit(task);
        } catch (...) {
            delete task;
            finish_one();  // as if it ran: a concurrent wait() may be parked on this count
            throw;
        }
    }

    /// Skips every task of the group that has not started yet, from any thread (also from
    /// inside one of its tasks); running tasks finish. Lasts until the next wait() returns
    /// or throws: tasks run after that run again. O(1), never throws.
    void cancel() noexcept {
        // relaxed: a task that reads a stale `false` had started before it could see the
        // request, which the contract allows; one queued after cancel() returned reads it
        // through the queue's release/acquire hand-off.
        m_cancel_requested.store(true, std::memory_order_relaxed);
    }

    /// True once cancel() was called (until the next wait() ends) or the token stopped.
    [[nodiscard]] bool is_cancelled() const noexcept {
        return m_cancel_requested.load(std::memory_order_relaxed) || m_stop.stop_requested();
    }

    /// Waits until every task run so far has finished; the waiting thread runs other
    /// tasks meanwhile. Rethrows the first exception a task threw since the last wait();
    /// otherwise throws mt::operation_cancelled if a task was skipped since then (see
    /// cancel()).
    /// Throws std::logic_error, before waiting, if called from inside one of this group's
    /// own tasks (or from a task that such a task helped run while it waited): that task
    /// is among those waited for, so the wait could never end.
    void wait() {
        if (detail::running_task_frame::runs_task_of(this)) {
            throw std::logic_error(
                "microtask::task_group::wait: called from inside one of the group's own tasks, "
                "which would wait for itself forever; wait from outside the group's tasks");
        }
        wait_all();
        std::exception_ptr error;
        {
            std::lock_guard lock(m_error_mutex);
            error = std::exchange(m_error, nullptr);
        }
        // relaxed: the skipping tasks' stores are ordered before wait_all()'s return by
        // their seq_cst finish_one().
        m_cancel_requested.store(false, std::memory_order_relaxed);
        const bool skipped = m_skipped.exchange(false, std::memory_order_relaxed);
        if (error) std::rethrow_exception(error);
        if (skipped) throw operation_cancelled();
    }

private:
    // m_state packs the pending-task count (bits 32-63), the number of registered waiters
    // (bits 0-15) and, in bits 16-31, the seat index + 1 of the waiter when exactly one is
    // registered (0: unknown), so a finishing task reads all of it in the one RMW that may
    // be its last touch of the group: the group can be destroyed right after. With one
    // known waiter the finisher wakes that seat; otherwise it finds the waiters through
    // their seats' wait_key (scheduler::wake_waiters_of), a scan of every seat that took a
    // fifth of a task's time in trees of small task groups (skynet). The count, not the
    // index alone, stays right when waits nest on one thread or come from several threads.
    static constexpr unsigned k_waiter_bits = 16;
    static constexpr std::uint64_t k_waiter_mask = (std::uint64_t{1} << k_waiter_bits) - 1;
    static constexpr std::uint64_t k_one_waiter = 1;
    static constexpr unsigned k_hint_shift = 16;
    static constexpr std::uint64_t k_hint_mask = std::uint64_t{0xFFFF} << k_hint_shift;
    static constexpr unsigned k_task_shift = 32;
    static constexpr std::uint64_t k_one_task = std::uint64_t{1} << k_task_shift;

    template <class F>
    class group_task final : public detail::task_base, public detail::recycled_allocation {
    public:
        group_task(F&& fn, task_group& group) : task_base{&run}, m_fn(std::move(fn)), m_group(group) {}
        group_task(const F& fn, task_group& group) : task_base{&run}, m_fn(fn), m_group(group) {}

    private:
        static void run(task_base* base) noexcept {
            auto* self = static_cast<group_task*>(base);
            task_group& group = self->m_group;
            if (group.is_cancelled()) {
                group.m_skipped.store(true, std::memory_order_relaxed);  // read after finish_one (seq_cst)
            } else {
                try {
                    const detail::running_task_frame frame(&group);
                    self->m_fn();
                } catch (...) {
                    group.record_failure();
                }
            }
            delete self;
            group.finish_one();
        }
        F m_fn;
        task_group& m_group;
    };

    // A mutex, not an atomic flag: run() may overlap wait(), and wait() must never see
    // "failed" before the exception_ptr is fully written. Only the failure path locks.
    void record_failure() noexcept {
        std::lock_guard lock(m_error_mutex);
        if (!m_error) m_error = std::current_exception();
    }

    void finish_one() noexcept {
        detail::scheduler& sched = m_sched;
        const void* const key = this;  // only compared once `this` may be gone
        // seq_cst: pairs with wait_all()'s registration and its seq_cst reads (the
        // Dekker pairing of parking::park). After this RMW `this` may be destroyed.
        const std::uint64_t before = m_state.fetch_sub(k_one_task, std::memory_order_seq_cst);
        if ((before >> k_task_shift) != 1 || (before & k_waiter_mask) == 0) return;
        const std::uint64_t hint = (before & k_hint_mask) >> k_hint_shift;
        if ((before & k_waiter_mask) == 1 && hint != 0) {
            // The one waiter registered when our RMW read the state: it had stored its key
            // before registering, so it is waiting for this group (or has just stopped,
            // and then a spurious wake-up is harmless).
            sched.wake_seat(sched.seat_at(static_cast<std::size_t>(hint - 1)));
        } else {
            sched.wake_waiters_of(key);
        }
    }

    [[nodiscard]] bool idle() const noexcept { return (m_state.load(std::memory_order_seq_cst) >> k_task_shift) == 0; }

    /// Registers a waiter on seat `own`: the count, and the seat as the hint when it is
    /// the only waiter (a private seat, outside the pool's array, gives no hint).
    /// seq_cst: see wait_all().
    void register_waiter(const detail::seat& own) noexcept {
        const std::uint64_t seat_hint =
            own.index < m_sched.seat_count() && own.index < 0xFFFF ? std::uint64_t{own.index} + 1 : 0;
        std::uint64_t state = m_state.load(std::memory_order_relaxed);
        std::uint64_t next;
        do {
            next = (state & ~k_hint_mask) + k_one_waiter;
            // A second waiter makes the hint unknown: one index cannot name both.
            if ((state & k_waiter_mask) == 0) next |= seat_hint << k_hint_shift;
        } while (!m_state.compare_exchange_weak(state, next, std::memory_order_seq_cst, std::memory_order_relaxed));
    }

    /// Undoes register_waiter; the hint becomes unknown (the waiter left may be another).
    /// relaxed: a finisher that still counts us only wakes this seat spuriously (it
    /// re-checks its own condition), which is harmless.
    void deregister_waiter() noexcept {
        std::uint64_t state = m_state.load(std::memory_order_relaxed);
        while (
            !m_state.compare_exchange_weak(state, (state & ~k_hint_mask) - k_one_waiter, std::memory_order_relaxed)) {
        }
    }

    void wait_all() noexcept {
        if (idle()) return;
        m_sched.run_in_seat([this](detail::seat& own) {
            // seq_cst: the key must be visible to a finisher whose RMW reads our
            // registration below (it synchronises with our registration RMW and then loads the
            // key with seq_cst). The outer key is restored afterwards: waits nest.
            const void* const outer = own.wait_key.exchange(this, std::memory_order_seq_cst);
            register_waiter(own);
            m_sched.wait_until(own, [this] { return idle(); });
            deregister_waiter();
            // seq_cst: an outer wait on another group parks on this seat next; that
            // group's finisher must read the restored key, and its seq_cst load comes
            // after this store in the total order whenever our park's re-check missed it.
            own.wait_key.store(outer, std::memory_order_seq_cst);
        });
    }

    detail::scheduler& m_sched;
    stop_token m_stop;
    std::atomic<bool> m_cancel_requested{false};
    std::atomic<bool> m_skipped{false};  // a task was skipped since the last wait()
    std::atomic<std::uint64_t> m_state{0};
    std::mutex m_error_mutex;
    std::exception_ptr m_error;
};

}  // namespace microtask

// ---- include/microtask/tiles.hpp --------------------------------------------
// microtask — tiles.hpp
/// @file
/// 2-D index ranges cut into tiles (like oneTBB's blocked_range2d): rows x columns,
/// handed to for_each, map_reduce, fold, decompose and distribute one tile at a time.


#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <ranges>
#include <stdexcept>
#include <string>

namespace microtask {

/// One tile of a tiles2d: the rows and columns it covers, and its place in the grid of
/// tiles (`tile_row`, `tile_col`, counted in tiles from the top left). O(1) to copy.
template <std::integral T>
struct tile2d {
    /// The rows of the tile, [first, last).
    index_range<T> rows;
    /// The columns of the tile, [first, last).
    index_range<T> cols;
    /// Which tile row of the grid this is (0 for the first).
    std::size_t tile_row = 0;
    /// Which tile column of the grid this is (0 for the first).
    std::size_t tile_col = 0;
    /// rows.size() * cols.size(). O(1).
    [[nodiscard]] std::size_t size() const noexcept { return rows.size() * cols.size(); }
};

/// The index space rows x columns cut into tiles of at most tile_rows x tile_cols, as a
/// random-access sized range of mt::tile2d in row-major tile order; so every parallel
/// call that takes a range takes it, and each element it handles is a whole tile:
///
///     mt::for_each(pool, mt::tiles(mt::iota(0, h), mt::iota(0, w), 64, 64), [&](auto tile) {
///         for (int y : tile.rows) for (int x : tile.cols) image[y * w + x] = shade(x, y);
///     });
///
/// The policy then groups consecutive tiles into leaves, as it groups elements of any
/// range. Tiles at the right and bottom edges may be smaller. O(1) to copy and index;
/// any thread (it holds no elements). Not a borrowed range: its iterators point to the
/// tiles2d, which must outlive them and the parts decompose makes of it.
template <std::integral T>
class tiles2d : public std::ranges::view_base {
public:
    /// A random-access iterator whose value is the tile (by value). O(1), noexcept.
    class iterator {
    public:
        /// The tile type.
        using value_type = tile2d<T>;
        /// Signed distance between two iterators.
        using difference_type = std::ptrdiff_t;
        /// A tile by value: there is no stored element to refer to.
        using reference = tile2d<T>;
        /// Random access (C++20 iterator concepts).
        using iterator_concept = std::random_access_iterator_tag;
        /// Random access (legacy iterator requirements).
        using iterator_category = std::random_access_iterator_tag;

        /// An iterator of no range.
        constexpr iterator() noexcept = default;
        /// Tile `index` (row-major) of `grid`.
        constexpr iterator(const tiles2d* grid, std::size_t index) noexcept : m_grid(grid), m_index(index) {}

        /// The current tile.
        constexpr tile2d<T> operator*() const noexcept { return m_grid->tile_at(m_index); }
        /// The tile `n` steps ahead.
        constexpr tile2d<T> operator[](difference_type n) const noexcept {
            return m_grid->tile_at(m_index + static_cast<std::size_t>(n));
        }
        /// Next tile.
        constexpr iterator& operator++() noexcept {
            ++m_index;
            return *this;
        }
        /// Next tile; returns the previous position.
        constexpr iterator operator++(int) noexcept {
            iterator old = *this;
            ++m_index;
            return old;
        }
        /// Previous tile.
        constexpr iterator& operator--() noexcept {
            --m_index;
            return *this;
        }
        /// Previous tile; returns the previous position.
        constexpr iterator operator--(int) noexcept {
            iterator old = *this;
            --m_index;
            return old;
        }
        /// Advances by `n` (which may be negative).
        constexpr iterator& operator+=(difference_type n) noexcept {
            m_index += static_cast<std::size_t>(n);
            return *this;
        }
        /// Moves back by `n` (which may be negative).
        constexpr iterator& operator-=(difference_type n) noexcept {
            m_index -= static_cast<std::size_t>(n);
            return *this;
        }

        friend constexpr iterator operator+(iterator it, difference_type n) noexcept { return it += n; }
        friend constexpr iterator operator+(difference_type n, iterator it) noexcept { return it += n; }
        friend constexpr iterator operator-(iterator it, difference_type n) noexcept { return it -= n; }
        friend constexpr difference_type operator-(iterator a, iterator b) noexcept {
            return static_cast<difference_type>(a.m_index) - static_cast<difference_type>(b.m_index);
        }
        friend constexpr bool operator==(iterator a, iterator b) noexcept { return a.m_index == b.m_index; }
        friend constexpr auto operator<=>(iterator a, iterator b) noexcept { return a.m_index <=> b.m_index; }

    private:
        const tiles2d* m_grid = nullptr;
        std::size_t m_index = 0;
    };

    /// No tiles.
    constexpr tiles2d() noexcept = default;
    /// rows x cols in tiles of at most tile_rows x tile_cols. Throws std::invalid_argument
    /// if a tile size is below 1.
    tiles2d(index_range<T> rows, index_range<T> cols, std::size_t tile_rows, std::size_t tile_cols)
        : m_rows(rows),
          m_cols(cols),
          m_tile_rows(detail::checked_positive(tile_rows, "tiles: tile rows")),
          m_tile_cols(detail::checked_positive(tile_cols, "tiles: tile columns")),
          m_grid_rows(rows.size() / m_tile_rows + (rows.size() % m_tile_rows != 0)),
          m_grid_cols(cols.size() / m_tile_cols + (cols.size() % m_tile_cols != 0)) {}

    /// The first tile. O(1). The range must outlive its iterators (they point to it).
    constexpr iterator begin() const noexcept { return iterator(this, 0); }
    /// Past the last tile. O(1).
    constexpr iterator end() const noexcept { return iterator(this, size()); }
    /// The number of tiles (0 if there are no rows or no columns). O(1).
    [[nodiscard]] constexpr std::size_t size() const noexcept {
        return m_grid_rows == 0 || m_grid_cols == 0 ? 0 : m_grid_rows * m_grid_cols;
    }
    /// True if there is no tile. O(1).
    [[nodiscard]] constexpr bool empty() const noexcept { return size() == 0; }
    /// Tile i in row-major tile order. Precondition: i < size() (unchecked). O(1).
    [[nodiscard]] constexpr tile2d<T> operator[](std::size_t i) const noexcept { return tile_at(i); }
    /// The number of tile rows and tile columns of the grid. O(1).
    [[nodiscard]] constexpr std::size_t grid_rows() const noexcept { return m_grid_rows; }
    /// The number of tile columns of the grid. O(1).
    [[nodiscard]] constexpr std::size_t grid_cols() const noexcept { return m_grid_cols; }

private:
    constexpr tile2d<T> tile_at(std::size_t i) const noexcept {
        const std::size_t tile_row = i / m_grid_cols;
        const std::size_t tile_col = i % m_grid_cols;
        const std::size_t row_first = tile_row * m_tile_rows;
        const std::size_t col_first = tile_col * m_tile_cols;
        const std::size_t row_last = row_first + m_tile_rows < m_rows.size() ? row_first + m_tile_rows : m_rows.size();
        const std::size_t col_last = col_first + m_tile_cols < m_cols.size() ? col_first + m_tile_cols : m_cols.size();
        return {index_range<T>(m_rows[row_first], m_rows[row_last]),
                index_range<T>(m_cols[col_first], m_cols[col_last]), tile_row, tile_col};
    }

    index_range<T> m_rows;
    index_range<T> m_cols;
    std::size_t m_tile_rows = 1;
    std::size_t m_tile_cols = 1;
    std::size_t m_grid_rows = 0;
    std::size_t m_grid_cols = 0;
};

/// The index space rows x cols (two mt::iota ranges of one integer type) in tiles of at
/// most tile_rows x tile_cols; see tiles2d. Throws std::invalid_argument if a tile size
/// is below 1 (negative included). O(1).
template <std::integral T, std::integral Size>
[[nodiscard]] tiles2d<T> tiles(index_range<T> rows, index_range<T> cols, Size tile_rows, Size tile_cols) {
    return tiles2d<T>(rows, cols, detail::checked_positive(tile_rows, "tiles: tile rows"),
                      detail::checked_positive(tile_cols, "tiles: tile columns"));
}

}  // namespace microtask

// tiles2d is not a borrowed range: its iterators point to the tiles2d object, so
// decompose needs it as an lvalue that outlives the parts.

// ---- include/microtask/version.hpp ------------------------------------------
// microtask — version.hpp
/// @file
/// The one home of the version number: CMake's project version, the generated single
/// header and the package version files read it from here. Which number a change
/// increments is decided in CHANGELOG.md, section Versioning.

/// Major version.
#define MICROTASK_VERSION_MAJOR 0
/// Minor version.
#define MICROTASK_VERSION_MINOR 1
/// Patch version.
#define MICROTASK_VERSION_PATCH 0

namespace microtask {
/// The library version as MAJOR * 10000 + MINOR * 100 + PATCH (100 for 0.1.0), for
/// `static_assert(mt::version >= 100)`.
inline constexpr int version =
    MICROTASK_VERSION_MAJOR * 10000 + MICROTASK_VERSION_MINOR * 100 + MICROTASK_VERSION_PATCH;
}  // namespace microtask

// ---- include/microtask/microtask.hpp (continued) ----------------------------
/// @namespace microtask
/// Every public name of the library. The headers are listed under Files; names in
/// `microtask::detail` are implementation and may change in any release. Users write
/// `namespace mt = microtask;`.
