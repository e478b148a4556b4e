// microtask — concepts.hpp
/// @file
/// The requirements the public entry points check, named so that a compiler error says
/// which one a type failed.
#pragma once

#include <concepts>
#include <cstddef>
#include <functional>
#include <ranges>
#include <type_traits>
#include <utility>

namespace microtask {

/// A reducer: a monoid over `R::value_type`.
///
/// Valid expressions, for `const R r` and `typename R::value_type a, b`:
///   - `r.identity()`                          -> convertible to value_type
///   - `r.combine(std::move(a), std::move(b))` -> convertible to value_type
/// Semantic requirements the compiler cannot check:
///   - associativity: combine(combine(a, b), c) == combine(a, combine(b, c));
///   - identity: combine(identity(), a) == a == combine(a, identity());
///   - combine may be called concurrently on distinct values.
/// Commutativity is never assumed: partial results are always combined in input order.
/// Optional: `static constexpr bool is_exactly_associative = true;` declares that
/// combine is associative bit for bit (integer sum, concat, min, max), which lets
/// map_reduce fold in whatever order is fastest. Without it (e.g. floating-point sum)
/// results are combined over a canonical tree so they never depend on timing.
template <class R>
concept reducer =
    std::copy_constructible<R> && requires { typename R::value_type; } &&
    std::movable<typename R::value_type> &&
    requires(const R& r, typename R::value_type a, typename R::value_type b) {
        { r.identity() } -> std::convertible_to<typename R::value_type>;
        { r.combine(std::move(a), std::move(b)) } -> std::convertible_to<typename R::value_type>;
    };

/// A reducer that can fold a `T` straight into an accumulator with
/// `r.accumulate(std::move(acc), t)` (optional; e.g. concat appends one element, or an
/// engaged std::optional, without building a one-element container first).
template <class R, class T>
concept accumulates = reducer<R> && requires(const R& r, typename R::value_type acc, T&& t) {
    { r.accumulate(std::move(acc), std::forward<T>(t)) } -> std::convertible_to<typename R::value_type>;
};

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
concept decomposer =
    std::invocable<D&, const Job&> && std::ranges::sized_range<std::invoke_result_t<D&, const Job&>>;

namespace detail {
/// Folds one mapped value into an accumulator: combine() when it converts to the
/// value_type, else the reducer's accumulate().
template <class R, class T>
typename R::value_type fold_in(const R& r, typename R::value_type acc, T&& mapped) {
    if constexpr (std::convertible_to<T, typename R::value_type>) {
        return r.combine(std::move(acc), std::forward<T>(mapped));
    } else {
        return r.accumulate(std::move(acc), std::forward<T>(mapped));
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
