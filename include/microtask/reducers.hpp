// microtask — reducers.hpp
/// @file
/// The built-in reducers and make_reducer for custom ones. Each is a cheap value type;
/// combine never assumes commutativity.
#pragma once

#include "concepts.hpp"

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
    { a * b } -> std::convertible_to<T>;
};

/// A type min and max can reduce: totally ordered, with std::numeric_limits specialised
/// for the identity (+-infinity, or the type's max / lowest): the arithmetic types.
template <class T>
concept bounded_ordered = std::totally_ordered<T> && std::numeric_limits<T>::is_specialized;

/// Sum with identity T{} (zero for the arithmetic types; for a class type such as
/// std::string, its empty value rather than T(0), which for std::string would be
/// construction from a null pointer). Exactly associative for integers; for floating point the
/// result is still deterministic (canonical combining tree), and bitwise reproducible.
template <summable T>
struct sum {
    /// The type reduced and returned.
    using value_type = T;
    /// True for integral T: integer addition is associative bit for bit.
    static constexpr bool is_exactly_associative = std::is_integral_v<T>;
    /// T{}. O(1).
    [[nodiscard]] constexpr T identity() const { return T{}; }
    /// a + b. O(1) for arithmetic T; throws what T's + throws. Any thread.
    [[nodiscard]] constexpr T combine(T a, T b) const { return static_cast<T>(std::move(a) + std::move(b)); }
};

/// Product with identity T{1}.
template <multipliable T>
struct product {
    /// The type reduced and returned.
    using value_type = T;
    /// True for integral T: integer multiplication is associative bit for bit.
    static constexpr bool is_exactly_associative = std::is_integral_v<T>;
    /// T(1). O(1).
    [[nodiscard]] constexpr T identity() const { return T(1); }
    /// a * b. O(1) for arithmetic T; throws what T's * throws. Any thread.
    [[nodiscard]] constexpr T combine(T a, T b) const { return static_cast<T>(std::move(a) * std::move(b)); }
};

namespace detail {
template <class T>
constexpr T highest() {
    if constexpr (std::numeric_limits<T>::has_infinity) return std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::max();
}
template <class T>
constexpr T lowest() {
    if constexpr (std::numeric_limits<T>::has_infinity) return -std::numeric_limits<T>::infinity();
    else return std::numeric_limits<T>::lowest();
}
}  // namespace detail

/// Minimum; identity is +infinity or the type's max. On ties the earlier value wins.
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
    /// The smaller of a and b; `a` if neither is smaller. O(1). Any thread.
    [[nodiscard]] constexpr T combine(T a, T b) const { return b < a ? b : a; }
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
    /// The larger of a and b; `a` if neither is larger. O(1). Any thread.
    [[nodiscard]] constexpr T combine(T a, T b) const { return a < b ? b : a; }
};

/// A container that concat can append to: default-constructible, and with
/// `c.insert(c.end(), first, last)` (vector, string, deque, list, ...).
template <class C>
concept appendable_container =
    std::default_initializable<C> && std::movable<C> && std::ranges::range<C> &&
    requires(C c, std::move_iterator<std::ranges::iterator_t<C>> it) {
        c.insert(c.end(), it, it);
        { c.empty() } -> std::convertible_to<bool>;
    };

/// Concatenation in input order; identity is an empty container. Partial containers are
/// moved, never copied: elements are moved into the left operand (or the right one is
/// returned when the left is empty).
///
/// A map function may also return a single element, or a std::optional of one (nullopt
/// keeps nothing): it is appended directly, with no one-element container built first —
/// the fast way to filter: `[](int x) { return x % 2 == 0 ? std::optional(x) : std::nullopt; }`.
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
    /// `a` followed by `b`: b's elements are moved to the end of `a` (or `b` is returned
    /// if `a` is empty). O(b.size()) amortised for vector/string/deque; throws what the
    /// insertion throws (std::bad_alloc). Any thread.
    [[nodiscard]] C combine(C a, C b) const {
        if (a.empty()) return b;
        a.insert(a.end(), std::make_move_iterator(b.begin()), std::make_move_iterator(b.end()));
        return a;
    }
    /// Appends one element to `acc`, with no one-element container built first. Only for
    /// an `E` that converts to the element type but not to C. O(1) amortised; throws what
    /// the insertion throws.
    template <class E>
        requires std::convertible_to<E, element_type> && (!std::convertible_to<E, C>)
    [[nodiscard]] C accumulate(C acc, E&& element) const {
        acc.insert(acc.end(), static_cast<element_type>(std::forward<E>(element)));
        return acc;
    }
    /// Appends `*element` to `acc` if `element` is engaged; keeps nothing for nullopt.
    /// O(1) amortised; throws what the insertion throws.
    // Not when an optional is itself a valid element (concat<std::vector<std::optional<T>>>):
    // then the optional is appended as it is, empty or not.
    template <class E>
        requires std::convertible_to<E, element_type> && (!std::convertible_to<std::optional<E>, element_type>)
    [[nodiscard]] C accumulate(C acc, std::optional<E> element) const {
        if (element) acc.insert(acc.end(), static_cast<element_type>(std::move(*element)));
        return acc;
    }
};

/// Tag for make_reducer: promises that `op` is associative bit for bit, so map_reduce may
/// fold in whatever order is fastest (see the reducer concept).
struct exactly_associative_t {
    explicit exactly_associative_t() = default;
};
/// The tag value: `make_reducer(identity, op, mt::exactly_associative)`.
inline constexpr exactly_associative_t exactly_associative{};

/// A reducer made from an identity value and an associative binary operation.
template <class T, class Op, bool Exact = false>
class custom_reducer {
public:
    /// The type reduced and returned.
    using value_type = T;
    /// `Exact`: true when made with the mt::exactly_associative tag.
    static constexpr bool is_exactly_associative = Exact;
    /// Stores `identity` and `op` (moved). Throws what moving them throws.
    constexpr custom_reducer(T identity, Op op) : m_identity(std::move(identity)), m_op(std::move(op)) {}
    /// A copy of the stored identity. Throws what copying T throws.
    [[nodiscard]] constexpr T identity() const { return m_identity; }
    /// op(a, b). Throws what `op` throws. Called concurrently from several threads.
    [[nodiscard]] constexpr T combine(T a, T b) const { return std::invoke(m_op, std::move(a), std::move(b)); }

private:
    T m_identity;
    Op m_op;
};

/// Makes a reducer from `identity` and `op(T, T) -> T`. Precondition (unchecked): `op`
/// is associative and `identity` is its neutral element. `op` may be called from several
/// threads at once, so it must not mutate shared state.
template <class T, class Op>
    requires std::copy_constructible<Op> && std::regular_invocable<const Op&, T, T> &&
             std::convertible_to<std::invoke_result_t<const Op&, T, T>, T>
[[nodiscard]] constexpr custom_reducer<T, Op> make_reducer(T identity, Op op) {
    return {std::move(identity), std::move(op)};
}

/// As above, declaring `op` exactly associative.
template <class T, class Op>
    requires std::copy_constructible<Op> && std::regular_invocable<const Op&, T, T> &&
             std::convertible_to<std::invoke_result_t<const Op&, T, T>, T>
[[nodiscard]] constexpr custom_reducer<T, Op, true> make_reducer(T identity, Op op, exactly_associative_t) {
    return {std::move(identity), std::move(op)};
}

}  // namespace microtask
