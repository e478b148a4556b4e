// microtask — partition.hpp
/// @file
/// Decomposition policies: how a range of n elements is cut into leaves (subtasks).
/// The leaf boundaries depend only on n and the policy, never on timing or thread count:
/// that is what makes every reduction deterministic. When the leaves cannot all be
/// equal, the first n % leaves get one element more.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace microtask {

namespace detail {
template <std::integral Count>
std::size_t checked_positive(Count value, const char* what) {
    if (value < 1) {
        throw std::invalid_argument(std::string("microtask::") + what + " must be at least 1 (got " +
                                    std::to_string(value) + ")");
    }
    return static_cast<std::size_t>(value);
}
}  // namespace detail

/// Leaves of at most `size` elements, as nearly equal as possible; every leaf is a
/// subtask. Throws std::invalid_argument if size < 1.
struct grain {
    /// Leaves of at most `max_size` elements. Throws std::invalid_argument if
    /// max_size < 1 (negative values included). O(1).
    template <std::integral Size>
    explicit grain(Size max_size) : size(detail::checked_positive(max_size, "grain: grain size")) {}
    /// Number of leaves for a range of `n` elements: ceil(n / size). O(1), never throws.
    [[nodiscard]] std::size_t leaf_count(std::size_t n) const noexcept { return n / size + (n % size != 0); }
    /// False: every leaf is a subtask, whether or not a worker is idle.
    static constexpr bool splits_on_demand = false;
    /// The maximum number of elements per leaf (at least 1).
    std::size_t size;
};

/// `count` nearly equal leaves (fewer if the range is shorter); every leaf is a subtask.
/// Throws std::invalid_argument if count < 1.
struct chunks {
    /// `chunk_count` leaves. Throws std::invalid_argument if chunk_count < 1 (negative
    /// values included). O(1).
    template <std::integral Count>
    explicit chunks(Count chunk_count) : count(detail::checked_positive(chunk_count, "chunks: chunk count")) {}
    /// Number of leaves for a range of `n` elements: min(n, count). O(1), never throws.
    [[nodiscard]] std::size_t leaf_count(std::size_t n) const noexcept { return std::min(n, count); }
    /// False: every leaf is a subtask, whether or not a worker is idle.
    static constexpr bool splits_on_demand = false;
    /// The requested number of leaves (at least 1).
    std::size_t count;
};

/// The default: up to `max_leaves` canonical leaves, split into subtasks only on demand
/// (when a worker is idle to take one), and run inline without any split when the whole
/// job finishes sooner than a wake-up would take. Nothing to tune.
struct adaptive {
    /// The most leaves a range is cut into; a longer range gets longer leaves.
    static constexpr std::size_t max_leaves = 2048;
    /// Number of canonical leaves for a range of `n` elements: min(n, max_leaves). O(1),
    /// never throws.
    [[nodiscard]] std::size_t leaf_count(std::size_t n) const noexcept { return std::min(n, max_leaves); }
    /// True: leaves become subtasks only when an idle worker takes them.
    static constexpr bool splits_on_demand = true;
};

/// Where a parallel call was written: the last, defaulted parameter of map_reduce,
/// reduce, for_each and fold, filled in at the caller's line. adaptive remembers the cost
/// of one element per call site (and per instantiation), so that a cheap call elsewhere
/// through the same function type never makes this one run inline; a site's estimate is
/// re-measured one call in 64. Never pass it yourself.
struct call_site {
    /// The caller's file name (its address serves as part of the key).
    const char* file = __builtin_FILE();
    /// The caller's line.
    unsigned line = __builtin_LINE();
};

/// One of grain, chunks, adaptive; user-defined policies are not supported.
template <class P>
concept partition_policy = std::is_same_v<P, grain> || std::is_same_v<P, chunks> || std::is_same_v<P, adaptive>;

namespace detail {
/// Start of leaf `i` of `leaves` over n elements: the first n % leaves leaves get one
/// extra element. Overflow-free for any n.
constexpr std::size_t leaf_begin(std::size_t i, std::size_t n, std::size_t leaves) noexcept {
    const std::size_t q = n / leaves;
    const std::size_t r = n % leaves;
    return i * q + std::min(i, r);
}
}  // namespace detail

}  // namespace microtask
