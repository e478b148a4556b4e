// microtask — detail/tree_cut.hpp
// Cuts of the canonical combination tree, for computing one fold in several places
// (processes of mt::mpi) and combining the pieces into exactly the value one process gets.
//
// The tree (see detail/fold.hpp) is fixed by (n, policy): L = policy.leaf_count(n) leaves,
// leaf i = elements [leaf_begin(i), leaf_begin(i + 1)), node [lo, hi) of leaves =
// combine(node [lo, mid), node [mid, hi)) with mid = lo + (hi - lo) / 2. A *cut* is a set
// of nodes that partitions [0, L). Any cut reproduces the root bit for bit: compute each
// node of the cut (fold_node), then combine them with the tree's shape above the cut
// (combine_cut). The nodes are a laminar family, so every node above a cut is a union of
// cut nodes and combine_cut never needs a node it does not have.
#pragma once

#include "../concepts.hpp"
#include "../fold.hpp"
#include "../partition.hpp"
#include "../range.hpp"
#include "../thread_pool.hpp"
#include "fold.hpp"

#include <cstddef>
#include <iterator>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace microtask::detail {

/// The leaves [lo, hi) of one node of the canonical tree.
struct tree_node {
    std::size_t lo = 0;
    std::size_t hi = 0;
    friend bool operator==(const tree_node&, const tree_node&) = default;
};

/// Appends to `out`, left to right, the largest nodes of the subtree `node` that lie
/// inside the leaves [first, last): the canonical cover of that interval, O(log L) nodes.
inline void cover_leaves(std::size_t first, std::size_t last, tree_node node, std::vector<tree_node>& out) {
    if (first >= last || last <= node.lo || node.hi <= first) return;
    if (first <= node.lo && node.hi <= last) {
        out.push_back(node);
        return;
    }
    const std::size_t mid = node.lo + (node.hi - node.lo) / 2;
    cover_leaves(first, last, {node.lo, mid}, out);
    cover_leaves(first, last, {mid, node.hi}, out);
}

/// Appends to `out`, left to right, the nodes `depth` levels below `node` (a leaf above
/// that depth stands for itself): a cut of up to 2^depth nodes of nearly equal size.
inline void nodes_at_depth(tree_node node, unsigned depth, std::vector<tree_node>& out) {
    if (depth == 0 || node.hi - node.lo <= 1) {
        out.push_back(node);
        return;
    }
    const std::size_t mid = node.lo + (node.hi - node.lo) / 2;
    nodes_at_depth({node.lo, mid}, depth - 1, out);
    nodes_at_depth({mid, node.hi}, depth - 1, out);
}

/// The leaf fold of one process's share: the value of `node` of the tree of `size`
/// elements and `leaves` leaves, computed on `pool` with the same leaves and the same
/// combining shape as the whole map_reduce. It is an mt::fold over the node's leaf
/// indices: one index per leaf of that fold (adaptive gives min(k, max_leaves) = k leaves
/// for the k <= max_leaves leaves of an adaptive tree; grain and chunks get chunks(k)),
/// whose body folds the elements of those leaves as map_reduce's leaf does.
template <class It, class Map, class Red, partition_policy Policy>
typename Red::value_type fold_node(thread_pool& pool, It first, std::size_t size, std::size_t leaves, tree_node node,
                                   Map& map, const Red& red, const Policy&, call_site site) {
    using leaf_part = part<typename index_range<std::size_t>::iterator>;
    auto leaf_body = [&](typename Red::value_type& acc, leaf_part part) {
        fold_mapped_elements(red, acc, first, map, leaf_begin(*part.begin(), size, leaves),
                             leaf_begin(*part.end(), size, leaves));
    };
    const index_range<std::size_t> leaf_indices(node.lo, node.hi);
    if constexpr (std::is_same_v<Policy, adaptive>) {
        return fold(pool, leaf_indices, red, leaf_body, adaptive{}, site);
    } else {
        return fold(pool, leaf_indices, red, leaf_body, chunks(node.hi - node.lo), site);
    }
}

/// One computed node of a cut.
template <class T>
struct node_value {
    tree_node node;
    T value;
};

/// The value of `node` from the cut `pieces` (sorted left to right, from index `next`
/// on), combined in the tree's shape. Throws std::logic_error if the pieces are not a
/// cut below `node`.
template <class Red>
typename Red::value_type combine_cut_below(const Red& red, std::vector<node_value<typename Red::value_type>>& pieces,
                                           std::size_t& next, tree_node node) {
    if (next >= pieces.size() || pieces[next].node.lo != node.lo || pieces[next].node.hi > node.hi) {
        throw std::logic_error("microtask: the partial results do not form a cut of the combination tree");
    }
    if (pieces[next].node == node) return std::move(pieces[next++].value);
    const std::size_t mid = node.lo + (node.hi - node.lo) / 2;
    typename Red::value_type left = combine_cut_below(red, pieces, next, {node.lo, mid});
    combine_into(red, left, combine_cut_below(red, pieces, next, {mid, node.hi}));
    return left;
}

/// The root value over `leaves` leaves from a cut (sorted left to right): the tree's
/// combination for a reducer that is not exactly associative; for one that is, a left
/// fold (same bits, and a concat appends into one container instead of merging level by
/// level). The identity for zero leaves. Throws what combine throws; std::logic_error if
/// the pieces are not a cut.
template <class Red>
typename Red::value_type combine_cut(const Red& red, std::vector<node_value<typename Red::value_type>>& pieces,
                                     std::size_t leaves) {
    if (leaves == 0) return red.identity();
    if constexpr (exactly_associative<Red>()) {
        typename Red::value_type acc = red.identity();
        std::size_t expected = 0;
        for (auto& piece : pieces) {
            if (piece.node.lo != expected) break;
            expected = piece.node.hi;
            combine_into(red, acc, std::move(piece.value));
        }
        if (expected != leaves) {
            throw std::logic_error("microtask: the partial results do not cover the range");
        }
        return acc;
    } else {
        std::size_t next = 0;
        typename Red::value_type root = combine_cut_below(red, pieces, next, {0, leaves});
        if (next != pieces.size()) {
            throw std::logic_error("microtask: the partial results do not form a cut of the combination tree");
        }
        return root;
    }
}

}  // namespace microtask::detail
