// microtask — range.hpp
// Index ranges to decompose.
#pragma once

#include <compare>
#include <concepts>
#include <cstddef>
#include <iterator>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace microtask {

/// The half-open index range [first, last) of an integer type: a random-access, sized,
/// borrowed view whose elements are the indices themselves (like std::views::iota, which
/// clang 14 cannot compile with libstdc++ 12's <ranges>, hence this small type of ours;
/// for the same reason it derives from view_base, not view_interface).
/// O(1) to copy, split and index. Any thread.
template <std::integral T>
class index_range : public std::ranges::view_base {
public:
    class iterator {
    public:
        using value_type = T;
        using difference_type = std::ptrdiff_t;
        using reference = T;
        using iterator_concept = std::random_access_iterator_tag;
        using iterator_category = std::random_access_iterator_tag;

        constexpr iterator() noexcept = default;
        constexpr explicit iterator(T value) noexcept : m_value(value) {}

        constexpr T operator*() const noexcept { return m_value; }
        constexpr T operator[](difference_type n) const noexcept { return static_cast<T>(m_value + n); }

        constexpr iterator& operator++() noexcept { ++m_value; return *this; }
        constexpr iterator operator++(int) noexcept { iterator old = *this; ++m_value; return old; }
        constexpr iterator& operator--() noexcept { --m_value; return *this; }
        constexpr iterator operator--(int) noexcept { iterator old = *this; --m_value; return old; }
        constexpr iterator& operator+=(difference_type n) noexcept { m_value = static_cast<T>(m_value + n); return *this; }
        constexpr iterator& operator-=(difference_type n) noexcept { m_value = static_cast<T>(m_value - n); return *this; }

        friend constexpr iterator operator+(iterator it, difference_type n) noexcept { return it += n; }
        friend constexpr iterator operator+(difference_type n, iterator it) noexcept { return it += n; }
        friend constexpr iterator operator-(iterator it, difference_type n) noexcept { return it -= n; }
        friend constexpr difference_type operator-(iterator a, iterator b) noexcept {
            return static_cast<difference_type>(a.m_value) - static_cast<difference_type>(b.m_value);
        }
        friend constexpr bool operator==(iterator a, iterator b) noexcept = default;
        friend constexpr auto operator<=>(iterator a, iterator b) noexcept = default;

    private:
        T m_value{};
    };

    constexpr index_range() noexcept = default;
    /// Precondition: first <= last (mt::iota checks it and throws).
    constexpr index_range(T first, T last) noexcept : m_first(first), m_last(last) {}

    constexpr iterator begin() const noexcept { return iterator(m_first); }
    constexpr iterator end() const noexcept { return iterator(m_last); }
    constexpr std::size_t size() const noexcept { return static_cast<std::size_t>(m_last - m_first); }
    [[nodiscard]] constexpr bool empty() const noexcept { return m_first == m_last; }
    constexpr T operator[](std::size_t i) const noexcept { return static_cast<T>(m_first + i); }

private:
    T m_first{};
    T m_last{};
};

/// The half-open index range [first, last) as an mt::index_range of the common integer
/// type. Throws std::invalid_argument if first > last. O(1).
template <std::integral First, std::integral Last>
[[nodiscard]] auto iota(First first, Last last) {
    using index = std::common_type_t<First, Last>;
    if (std::cmp_greater(first, last)) {
        throw std::invalid_argument("microtask::iota: first (" + std::to_string(first) +
                                    ") must not be greater than last (" + std::to_string(last) + ")");
    }
    return index_range<index>(static_cast<index>(first), static_cast<index>(last));
}

}  // namespace microtask

template <class T>
inline constexpr bool std::ranges::enable_borrowed_range<microtask::index_range<T>> = true;
