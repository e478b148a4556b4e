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
