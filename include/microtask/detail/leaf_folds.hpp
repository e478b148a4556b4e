// microtask — detail/leaf_folds.hpp
// What one leaf of a fold does with its elements (the LeafFold of detail/fold.hpp):
// map_reduce's leaf maps and accumulates each element; mt::fold's hands the user's body the
// whole subrange. Also the reducer of nothing, for for_each and distribute.
#pragma once

#include "../concepts.hpp"
#include "../range.hpp"

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
    if constexpr (std::is_trivially_copyable_v<value_type> && sizeof(value_type) <= k_register_bytes) {
        value_type local = acc;
        for (std::size_t k = begin; k < end; ++k) {
            accumulate_into(red, local, std::invoke(map, first[static_cast<difference>(k)]));
        }
        acc = local;
    } else if constexpr (std::contiguous_iterator<It>) {
        // A pointer loop: with the index loop below g++ 12 kept the loop's exit test on
        // its own after the body, a second taken branch for every element a filter skips.
        // (Not a pointer to const: a map may take the element by non-const reference.)
        auto* element = std::to_address(first) + begin;
        auto* const last = std::to_address(first) + end;
        for (; element != last; ++element) accumulate_into(red, acc, std::invoke(map, *element));
    } else {
        for (std::size_t k = begin; k < end; ++k) {
            accumulate_into(red, acc, std::invoke(map, first[static_cast<difference>(k)]));
        }
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
