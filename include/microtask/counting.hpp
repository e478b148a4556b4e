// microtask — counting.hpp
/// @file
/// Reducers for the collector's everyday jobs, all in place: element-wise sums of arrays
/// (histograms, per-bin counts) and merges of maps (word counts, group-by sums).
#pragma once

#include "concepts.hpp"

#include <array>
#include <concepts>
#include <cstddef>
#include <functional>
#include <iterator>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace microtask {

/// A container elementwise_sum can add up: default-constructible, sized, and indexable
/// with elements that support `+=` (std::array, std::vector, std::valarray, ...).
template <class C>
concept elementwise_addable =
    std::default_initializable<C> && std::movable<C> && requires(C& c, const C& d, std::size_t i) {
        { c.size() } -> std::convertible_to<std::size_t>;
        c[i] += d[i];
    };

namespace detail {
template <class C>
concept fixed_size_container = requires { std::tuple_size<C>::value; };

template <class C>
[[noreturn]] void throw_size_mismatch(const char* what, std::size_t left, std::size_t right) {
    throw std::invalid_argument(std::string("microtask::elementwise_sum: ") + what + " (" + std::to_string(left) +
                                " and " + std::to_string(right) + " elements)");
}
}  // namespace detail

/// Element-wise sum of equally sized arrays; identity is an array of `size` zeros (for
/// std::array, its static size). In place: combine adds the right array into the left
/// one, and accumulate either adds a whole array or counts one bin (`++acc[bin]`), so a
/// histogram needs no array per element:
/// `mt::reduce(pool, bytes, mt::histogram<256>{})` counts each byte in its bin.
///
/// An empty array of a resizable type counts as the identity (so
/// `elementwise_sum<std::vector<long>>{}` accepts vectors of any one length).
/// Exactly associative for integral elements (counts); floating-point elements are
/// combined over the canonical tree, and stay deterministic.
template <elementwise_addable C>
class elementwise_sum {
public:
    /// The array reduced and returned.
    using value_type = C;
    /// The type of one element (one bin).
    using element_type = std::remove_cvref_t<decltype(std::declval<C&>()[std::size_t{}])>;
    /// True for integral elements: integer addition is associative bit for bit.
    static constexpr bool is_exactly_associative = std::is_integral_v<element_type>;

    /// For std::array-like C: arrays of the static size. O(1).
    constexpr elementwise_sum() noexcept
        requires detail::fixed_size_container<C>
    = default;
    /// For resizable C: arrays of `size` elements (0: any one length, see above). O(1).
    constexpr explicit elementwise_sum(std::size_t size = 0) noexcept
        requires(!detail::fixed_size_container<C>) && std::constructible_from<C, std::size_t>
        : m_size(size) {}

    /// `size` value-initialised (zero) elements. O(size); throws std::bad_alloc.
    [[nodiscard]] C identity() const {
        if constexpr (detail::fixed_size_container<C>) {
            return C{};
        } else {
            return C(m_size);
        }
    }
    /// left[i] += right[i] for every i. O(size). Throws std::invalid_argument if both are
    /// non-empty and their sizes differ. Any thread.
    void combine(C& left, C&& right) const {
        if constexpr (!detail::fixed_size_container<C>) {
            if (right.size() == 0) return;
            if (left.size() == 0) {
                left = std::move(right);
                return;
            }
        }
        add(left, right);
    }
    /// Adds a whole array into `acc` without copying it first. O(size); throws as combine.
    void accumulate(C& acc, const C& x) const {
        if constexpr (!detail::fixed_size_container<C>) {
            if (x.size() == 0) return;
            if (acc.size() == 0) {
                acc = x;
                return;
            }
        }
        add(acc, x);
    }
    /// Counts one in bin `bin`: `++acc[bin]`. O(1). Throws std::out_of_range if `bin` is
    /// negative or not below the array's size.
    template <std::integral Bin>
        requires(!std::same_as<Bin, bool>)
    void accumulate(C& acc, Bin bin) const {
        if (!std::in_range<std::size_t>(bin) || static_cast<std::size_t>(bin) >= acc.size()) {
            throw std::out_of_range("microtask::elementwise_sum: bin " + std::to_string(bin) + " is outside [0, " +
                                    std::to_string(acc.size()) + ")");
        }
        ++acc[static_cast<std::size_t>(bin)];
    }

private:
    static void add(C& left, const C& right) {
        const std::size_t size = left.size();
        if (size != static_cast<std::size_t>(right.size())) {
            detail::throw_size_mismatch<C>("partial results differ in size", size, right.size());
        }
        for (std::size_t i = 0; i < size; ++i) left[i] += right[i];
    }

    std::size_t m_size = 0;
};

/// A histogram of `Bins` bins: map each element to its bin index (an integer) and reduce
/// with `mt::histogram<Bins>{}` to get a `std::array<Count, Bins>` of counts.
template <std::size_t Bins, class Count = std::size_t>
using histogram = elementwise_sum<std::array<Count, Bins>>;

/// A map merge_maps can merge: std::map, std::unordered_map or alike (try_emplace, find).
template <class M>
concept mergeable_map = std::default_initializable<M> && std::movable<M> &&
                        requires(M& m, const typename M::key_type& k, typename M::mapped_type v) {
                            m.try_emplace(k, std::move(v));
                            m.find(k);
                            { m.size() } -> std::convertible_to<std::size_t>;
                            { m.empty() } -> std::convertible_to<bool>;
                        };

/// Merges maps key by key; a key present in both gets `op(left value, right value)`
/// (default: +). Identity: the empty map. In place: the smaller map's entries move into
/// the larger one (node by node where the map supports extract, allocating nothing), and
/// the order of op's operands is kept, so op need not be commutative.
/// accumulate also takes one `{key, value}` pair (anything with .first and .second).
/// Exactly associative when the values are integers added with +; otherwise the
/// canonical tree is used (deterministic).
template <mergeable_map Map, class Op = std::plus<>>
    requires std::copy_constructible<Op> &&
             std::convertible_to<std::invoke_result_t<const Op&, typename Map::mapped_type, typename Map::mapped_type>,
                                 typename Map::mapped_type>
struct merge_maps {
    /// The map reduced and returned.
    using value_type = Map;
    /// True for integral values combined with std::plus.
    static constexpr bool is_exactly_associative =
        std::is_integral_v<typename Map::mapped_type> &&
        (std::same_as<Op, std::plus<>> || std::same_as<Op, std::plus<typename Map::mapped_type>>);

    /// How two values of one key combine.
    [[no_unique_address]] Op op{};

    /// An empty map. O(1).
    [[nodiscard]] Map identity() const { return Map{}; }
    /// Merges `right` into `left`. O(min(size) × lookup). Throws what the map's insertion
    /// and `op` throw. Any thread.
    void combine(Map& left, Map&& right) const {
        if (left.empty()) {
            left = std::move(right);
        } else if (left.size() >= right.size()) {
            merge_into(left, right, /*small_is_left=*/false);
        } else {
            merge_into(right, left, /*small_is_left=*/true);
            left = std::move(right);
        }
    }
    /// Adds one `{key, value}` pair. O(lookup); throws what insertion and `op` throw.
    template <class Pair>
        requires std::constructible_from<typename Map::key_type, decltype((std::declval<Pair>().first))> &&
                 std::constructible_from<typename Map::mapped_type, decltype((std::declval<Pair>().second))>
    void accumulate(Map& acc, Pair&& entry) const {
        auto [it, inserted] =
            acc.try_emplace(typename Map::key_type(std::forward<Pair>(entry).first), std::forward<Pair>(entry).second);
        if (!inserted) it->second = std::invoke(op, std::move(it->second), std::forward<Pair>(entry).second);
    }

private:
    // Moves the entries of `small` into `big`; a shared key's value is op(left, right)
    // in the caller's operand order.
    void merge_into(Map& big, Map& small, bool small_is_left) const {
        for (auto it = small.begin(); it != small.end();) {
            auto found = big.find(it->first);
            if (found == big.end()) {
                if constexpr (requires { big.insert(small.extract(it)); }) {
                    auto next = std::next(it);
                    big.insert(small.extract(it));
                    it = next;
                    continue;
                } else {
                    big.try_emplace(it->first, std::move(it->second));
                }
            } else if (small_is_left) {
                found->second = std::invoke(op, std::move(it->second), std::move(found->second));
            } else {
                found->second = std::invoke(op, std::move(found->second), std::move(it->second));
            }
            ++it;
        }
    }
};

/// Counts how often each key occurs: map each element to its key and reduce with
/// `mt::count_keys<std::unordered_map<std::string, std::size_t>>{}` (a word count). A key
/// of another type is used to look up first where the map allows (transparent hash or
/// comparison), and converted to key_type only for a new entry; so a std::string_view key
/// into a map of std::string allocates once per distinct word. Merges as merge_maps.
template <mergeable_map Map>
    requires std::integral<typename Map::mapped_type>
struct count_keys : merge_maps<Map> {
    using merge_maps<Map>::accumulate;
    /// ++acc[key]. O(lookup); throws what insertion throws.
    template <class Key>
        requires std::constructible_from<typename Map::key_type, Key&&> && (!requires(Key&& k) { k.first; })
    void accumulate(Map& acc, Key&& key) const {
        // Look up with the key as it is only where that is a real heterogeneous lookup
        // (transparent hash or comparison), not a conversion to key_type in disguise.
        if constexpr (!std::convertible_to<Key&&, typename Map::key_type> && requires { acc.find(key); }) {
            if (auto it = acc.find(key); it != acc.end()) {
                ++it->second;
                return;
            }
            acc.try_emplace(typename Map::key_type(std::forward<Key>(key)), 1);
        } else {
            ++acc[typename Map::key_type(std::forward<Key>(key))];
        }
    }
};

}  // namespace microtask
