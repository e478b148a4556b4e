// microtask — detail/gather_engaged.hpp
// The leaf loop of the filter idiom: a map that returns std::optional<E>, folded by a
// reducer that keeps the engaged values in order and drops the empty ones (mt::concat).
#pragma once

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
