// microtask — reducers.hpp
/// @file
/// The built-in reducers and make_reducer for custom ones. Each is a cheap value type;
/// combine never assumes commutativity. All their members are const and may be called
/// from any thread.
#pragma once

#include "concepts.hpp"
#include "detail/gather_engaged.hpp"

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
