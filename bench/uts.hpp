// The tree model of UTS, the Unbalanced Tree Search benchmark (Olivier et al., LCPC
// 2006): a tree that exists only implicitly. Each node is named by a SHA-1 digest; child
// i of a node is named SHA-1(parent's digest || i as 4 big-endian bytes), and a node's
// number of children is drawn from its own digest. The shape is therefore fixed by the
// parameters and the root's seed, but nobody knows a subtree's size before walking it:
// the work is unbalanced in a way no static partition can foresee.
//
// The definitions follow the UTS reference, so that its published sizes check this
// code: T1 (geometric, b0 = 4, depth 10, seed 19) has 4,130,071 nodes and T3 (binomial,
// root 2000, m = 8, q = 0.124875, seed 42) 4,112,897 nodes; both were counted with
// count_serial below when this file was written. The suite runs smaller trees of the
// same two kinds (bench/classic_bench.cpp).
#pragma once

#include "uts_sha1.hpp"

#include <cmath>
#include <cstdint>

namespace bench::uts {

/// The two classic distributions of the number of children.
enum class kind {
    geometric,  // geometric with mean b0 at every depth below depth_limit, none below
    binomial,   // the root has b0 children; every other node m with probability q, else 0
};

struct tree {
    kind shape;
    double b0;        // geometric: mean children per node; binomial: the root's children
    int depth_limit;  // geometric: nodes at this depth are leaves (UTS's gen_mx)
    int m;            // binomial: children of an inner node
    double q;         // binomial: probability that a node is inner
    int seed;         // the root's name
};

/// A node: its digest (its name and random state) and its depth (the root's is 0).
struct node {
    sha1::digest state;
    int height;
};

/// UTS caps the children of any node but a binomial root.
constexpr int k_max_children = 100;

/// The root: SHA-1 of 16 zero bytes and the seed as 4 big-endian bytes.
inline node root(const tree& t) {
    std::uint8_t bytes[20]{};
    for (int i = 0; i < 4; ++i)
        bytes[16 + i] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(t.seed) >> (24 - 8 * i));
    return {sha1::hash(bytes, 20), 0};
}

/// Child `i` of `parent`: the one SHA-1 per node that makes up most of the work.
inline node child(const node& parent, int i) {
    std::uint8_t bytes[24];
    for (int k = 0; k < 20; ++k) bytes[k] = parent.state[k];
    for (int k = 0; k < 4; ++k)
        bytes[20 + k] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(i) >> (24 - 8 * k));
    return {sha1::hash(bytes, 24), parent.height + 1};
}

/// The node's uniform draw on [0, 1): the digest's last 4 bytes, big-endian, as a
/// non-negative 31-bit integer over 2^31.
inline double uniform(const node& n) {
    const std::uint32_t bits = std::uint32_t{n.state[16]} << 24 | std::uint32_t{n.state[17]} << 16 |
                               std::uint32_t{n.state[18]} << 8 | std::uint32_t{n.state[19]};
    return static_cast<double>(bits & 0x7FFFFFFFu) / 2147483648.0;
}

/// How many children `n` has.
inline int child_count(const tree& t, const node& n) {
    if (t.shape == kind::binomial) {
        if (n.height == 0) return static_cast<int>(std::floor(t.b0));
        return uniform(n) < t.q ? t.m : 0;
    }
    if (n.height >= t.depth_limit) return 0;
    // Inverse of the geometric distribution's CDF, with p chosen so that its mean is b0.
    const double p = 1.0 / (1.0 + t.b0);
    const int count = static_cast<int>(std::floor(std::log(1.0 - uniform(n)) / std::log(1.0 - p)));
    return count < k_max_children ? count : k_max_children;
}

/// The number of nodes of the subtree under `n`, `n` included, depth first on one thread.
inline std::int64_t count_serial(const tree& t, const node& n) {
    std::int64_t nodes = 1;
    const int children = child_count(t, n);
    for (int i = 0; i < children; ++i) nodes += count_serial(t, child(n, i));
    return nodes;
}

}  // namespace bench::uts
