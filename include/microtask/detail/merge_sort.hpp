// microtask — detail/merge_sort.hpp
// The engine behind mt::sort and mt::stable_sort: a fork-join merge sort with one buffer
// of n elements. 2^d leaves are sorted serially (std::sort or std::stable_sort) in the
// buffer, then d merge levels ping-pong between the buffer and the range; d is odd, so
// the last level lands in the range. Every merge is itself split in two by a binary
// search, so the top level's single merge of n elements is parallel too.
#pragma once

#include "../join.hpp"
#include "../thread_pool.hpp"

#include <algorithm>
#include <cstddef>
#include <functional>
#include <iterator>
#include <memory>
#include <type_traits>
#include <vector>

namespace microtask::detail {

/// Fewest elements per leaf: below this, the fork and the merge pass it adds cost more
/// than a second thread saves.
inline constexpr std::size_t k_sort_min_leaf = std::size_t{1} << 13;
/// A merge of fewer elements than this runs serially (one fork costs about a microsecond,
/// a merge of this many ints some tens of microseconds).
inline constexpr std::size_t k_merge_grain = std::size_t{1} << 14;

/// Merges the sorted runs [a, a_end) and [b, b_end) into `out`, moving the elements.
/// Stable: an element of the first run goes before an equivalent one of the second.
template <class In, class Out, class Comp>
void merge_moving(In a, In a_end, In b, In b_end, Out out, Comp& comp) {
    using value_type = std::iter_value_t<In>;
    if constexpr (std::is_trivially_copyable_v<value_type> && sizeof(value_type) <= 2 * sizeof(void*)) {
        // Small trivially copyable elements: select without a branch. On random keys the
        // branch of the loop below is mispredicted half of the time, which made the merge
        // passes cost as much as a third of the sort of the leaves.
        while (a != a_end && b != b_end) {
            const value_type from_a = *a;
            const value_type from_b = *b;
            const bool take_b = std::invoke(comp, from_b, from_a);
            *out = take_b ? from_b : from_a;
            ++out;
            b += take_b;
            a += !take_b;
        }
    }
    while (a != a_end && b != b_end) {
        if (std::invoke(comp, *b, *a)) {
            *out = std::move(*b);
            ++b;
        } else {
            *out = std::move(*a);
            ++a;
        }
        ++out;
    }
    out = std::move(a, a_end, out);
    std::move(b, b_end, out);
}

/// merge_moving on `pool`: the longer run is cut at its middle element and the other run
/// at the matching bound (lower for a cut in the first run, upper for a cut in the
/// second, which keeps equivalent elements of the first run in front), and both halves
/// merge in parallel.
template <class In, class Out, class Comp>
void merge_parallel(thread_pool& pool, In a, In a_end, In b, In b_end, Out out, Comp& comp) {
    const auto a_size = a_end - a;
    const auto b_size = b_end - b;
    if (static_cast<std::size_t>(a_size + b_size) <= k_merge_grain) return merge_moving(a, a_end, b, b_end, out, comp);
    In a_cut = a;
    In b_cut = b;
    if (a_size >= b_size) {
        a_cut = a + a_size / 2;
        b_cut = std::lower_bound(b, b_end, *a_cut, std::ref(comp));
    } else {
        b_cut = b + b_size / 2;
        a_cut = std::upper_bound(a, a_end, *b_cut, std::ref(comp));
    }
    const Out out_cut = out + ((a_cut - a) + (b_cut - b));
    join(
        pool, [&] { merge_parallel(pool, a, a_cut, b, b_cut, out, comp); },
        [&] { merge_parallel(pool, a_cut, a_end, b_cut, b_end, out_cut, comp); });
}

/// One parallel sort of [first, first + size). Owns the buffer; its destructor destroys
/// whatever the leaves constructed in it, also when a comparison or move threw.
template <std::random_access_iterator It, class Comp, bool Stable>
class merge_sorter {
public:
    using value_type = std::iter_value_t<It>;

    /// Precondition: size >= 2 * k_sort_min_leaf (smaller ranges are sorted serially).
    merge_sorter(thread_pool& pool, It first, std::size_t size, Comp& comp)
        : m_pool(pool),
          m_first(first),
          m_size(size),
          m_comp(comp),
          m_depth(depth_for(size, pool.size() + 1)),
          m_constructed(std::size_t{1} << m_depth, false),
          m_buffer(std::allocator<value_type>{}.allocate(size)) {}

    merge_sorter(const merge_sorter&) = delete;
    merge_sorter& operator=(const merge_sorter&) = delete;

    ~merge_sorter() {
        // m_constructed is only read here, after every leaf's task has joined.
        for (std::size_t leaf = 0; leaf < m_constructed.size(); ++leaf) {
            if (m_constructed[leaf]) std::destroy(m_buffer + leaf_begin(leaf), m_buffer + leaf_begin(leaf + 1));
        }
        std::allocator<value_type>{}.deallocate(m_buffer, m_size);
    }

    void run() { sort_node(0, std::size_t{1} << m_depth, true); }

private:
    /// The odd number of levels d that gives at least four leaves per thread (so that a
    /// thread slowed by others' work delays the rest by a quarter of its share at most),
    /// less two levels at a time while the leaves would be too small.
    static unsigned depth_for(std::size_t size, std::size_t threads) {
        unsigned depth = 1;
        while ((std::size_t{1} << depth) < 4 * threads) depth += 2;
        while (depth > 1 && (size >> depth) < k_sort_min_leaf) depth -= 2;
        return depth;
    }

    std::size_t leaf_begin(std::size_t leaf) const noexcept {
        return leaf_begin_of(leaf, m_size, std::size_t{1} << m_depth);
    }
    static std::size_t leaf_begin_of(std::size_t i, std::size_t n, std::size_t leaves) noexcept {
        return i * (n / leaves) + std::min(i, n % leaves);
    }

    /// Sorts leaves [lo, hi) into the range (`into_range`) or the buffer. Leaves are at
    /// an odd depth below the root, whose result goes into the range, so a leaf's goes
    /// into the buffer.
    void sort_node(std::size_t lo, std::size_t hi, bool into_range) {
        if (hi - lo == 1) return sort_leaf(lo);
        const std::size_t mid = lo + (hi - lo) / 2;
        join(
            m_pool, [&] { sort_node(lo, mid, !into_range); }, [&] { sort_node(mid, hi, !into_range); });
        const std::size_t begin = leaf_begin(lo);
        const std::size_t middle = leaf_begin(mid);
        const std::size_t end = leaf_begin(hi);
        if (into_range) {
            merge_parallel(m_pool, m_buffer + begin, m_buffer + middle, m_buffer + middle, m_buffer + end,
                           m_first + diff(begin), m_comp);
        } else {
            merge_parallel(m_pool, m_first + diff(begin), m_first + diff(middle), m_first + diff(middle),
                           m_first + diff(end), m_buffer + begin, m_comp);
        }
    }

    /// Moves the leaf into the buffer (constructing its elements there), then sorts it.
    void sort_leaf(std::size_t leaf) {
        const std::size_t begin = leaf_begin(leaf);
        const std::size_t end = leaf_begin(leaf + 1);
        std::uninitialized_move(m_first + diff(begin), m_first + diff(end), m_buffer + begin);
        // A byte per leaf, each written by its own leaf's task: distinct memory locations.
        m_constructed[leaf] = true;
        if constexpr (Stable) {
            std::stable_sort(m_buffer + begin, m_buffer + end, std::ref(m_comp));
        } else {
            std::sort(m_buffer + begin, m_buffer + end, std::ref(m_comp));
        }
    }

    static std::iter_difference_t<It> diff(std::size_t i) noexcept {
        return static_cast<std::iter_difference_t<It>>(i);
    }

    thread_pool& m_pool;
    It m_first;
    std::size_t m_size;
    Comp& m_comp;
    unsigned m_depth;
    // bytes, not std::vector<bool>: leaves set their flags concurrently.
    std::vector<unsigned char> m_constructed;
    value_type* m_buffer;
};

/// Sorts [first, first + size) with `comp` on `pool`, stably if `Stable`.
template <bool Stable, std::random_access_iterator It, class Comp>
void parallel_sort(thread_pool& pool, It first, std::size_t size, Comp& comp) {
    if (size < 2 * k_sort_min_leaf) {
        const It last = first + static_cast<std::iter_difference_t<It>>(size);
        if constexpr (Stable) {
            std::stable_sort(first, last, std::ref(comp));
        } else {
            std::sort(first, last, std::ref(comp));
        }
        return;
    }
    merge_sorter<It, Comp, Stable> sorter(pool, first, size, comp);
    sorter.run();
}

}  // namespace microtask::detail
