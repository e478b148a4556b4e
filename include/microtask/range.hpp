// microtask — range.hpp
// Index ranges to decompose.
#pragma once

#include <concepts>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace microtask {

/// The half-open index range [first, last) as a random-access, sized, borrowed view
/// (std::ranges::iota_view). Throws std::invalid_argument if first > last.
template <std::integral First, std::integral Last>
[[nodiscard]] auto iota(First first, Last last) {
    using index = std::common_type_t<First, Last>;
    if (std::cmp_greater(first, last)) {
        throw std::invalid_argument("microtask::iota: first (" + std::to_string(first) +
                                    ") must not be greater than last (" + std::to_string(last) + ")");
    }
    return std::ranges::iota_view<index, index>(static_cast<index>(first), static_cast<index>(last));
}

}  // namespace microtask
