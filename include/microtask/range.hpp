// microtask — range.hpp
/// @file
/// Index ranges to decompose.
#pragma once

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
