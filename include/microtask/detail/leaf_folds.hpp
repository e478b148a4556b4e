// microtask — detail/leaf_folds.hpp
// What one leaf of a fold does with its elements (the LeafFold of detail/fold.hpp):
// map_reduce's leaf maps and accumulates each element; mt::fold's hands the user's body the
// whole subrange. Also the reducer of nothing, for for_each and distribute.
#pragma once

#include "../concepts.hpp"
#include "../range.hpp"
#include "gather_engaged.hpp"

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
