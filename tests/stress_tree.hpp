// Random task trees for the stress and fault tests: the seed front end of the task
// programs in task_program.hpp (the fuzzer is the other, from bytes).
//
// A tree is generated from a seed: every inner node runs its children with one of the
// library's primitives (k_tree_ops), chosen at random, with random fan-out, depth,
// reducers (mostly the order-sensitive poly), policies, yields and sleeps. Faults
// (exceptions and std::bad_alloc from nodes, from reducers, from a user decomposer) can
// be planted at random nodes; a fault's code is its node's index.
#pragma once

#include "task_program.hpp"
#include "test_support.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace microtask_test {

/// The primitives of inner nodes. task_op::threads is left out: it may run only where the
/// caller is an outside thread, and the trees also run inside pool tasks.
inline constexpr std::array k_tree_ops = {
    task_op::join,       task_op::map_reduce, task_op::reduce,     task_op::for_each,       task_op::decompose,
    task_op::task_group, task_op::submit,     task_op::distribute, task_op::decompose_user,
    task_op::other_pool,  // last: only where tree_shape::other_pool
};

/// The reducers of the trees: the order-sensitive poly hash, whose combine can throw, on
/// both fold paths. (Each reducer more would compile every folding primitive once more;
/// the fuzzer covers the others.)
inline constexpr reducer_set k_tree_reducers = reducer_bit(reducer_kind::poly) | reducer_bit(reducer_kind::poly_exact);

struct tree_shape {
    unsigned max_depth = 5;
    unsigned max_nodes = 1500;
    unsigned max_fanout = 6;
    unsigned faults = 0;  // how many nodes get a fault planted
    unsigned pause_percent = 4;
    bool other_pool = false;  // may use task_op::other_pool
};

inline task_program generate_tree(std::uint64_t seed, const tree_shape& shape) {
    splitmix64 rng(seed);
    task_program tree;
    std::vector<unsigned> depth{0};
    tree.nodes.emplace_back();
    // Breadth first: a node's children get consecutive indices after every node so far.
    for (std::size_t i = 0; i < tree.nodes.size(); ++i) {
        task_node n;
        n.salt = rng.next() | 1;
        n.policy = std::array<policy_spec, 4>{{{0, 1}, {1, 1}, {1, 2}, {2, 3}}}[rng.below(4)];
        n.reducer = rng.chance(50) ? reducer_kind::poly : reducer_kind::poly_exact;
        n.chain = rng.chance(50);
        if (rng.chance(shape.pause_percent)) {
            n.pause = rng.chance(50) ? pause_kind::yield : pause_kind::sleep;
            n.sleep_us = static_cast<std::uint32_t>(rng.between(1, 200));
        }
        std::uint64_t fanout = rng.between(i == 0 ? 2 : 0, shape.max_fanout);
        if (depth[i] >= shape.max_depth || tree.nodes.size() + fanout > shape.max_nodes) fanout = 0;
        if (fanout > 0) {
            n.op = k_tree_ops[rng.below(shape.other_pool ? k_tree_ops.size() : k_tree_ops.size() - 1)];
            n.first = static_cast<std::uint32_t>(tree.nodes.size());
            n.count = n.elements = static_cast<std::uint32_t>(fanout);
            for (std::uint64_t c = 0; c < fanout; ++c) {
                tree.nodes.emplace_back();
                depth.push_back(depth[i] + 1);
            }
        }
        tree.nodes[i] = n;
    }
    for (unsigned f = 0; f < shape.faults; ++f) {
        const auto at = static_cast<std::uint32_t>(rng.below(tree.nodes.size()));
        task_node& n = tree.nodes[at];
        if (n.fault != fault_kind::none) continue;
        n.code = at;
        if (n.op == task_op::leaf) {
            n.fault = rng.chance(70) ? fault_kind::throws : fault_kind::bad_alloc;
            continue;
        }
        const auto pick = rng.below(n.op == task_op::decompose_user ? 3 : 2);
        n.fault = pick == 0 ? fault_kind::throws : pick == 1 ? fault_kind::in_combine : fault_kind::in_decomposer;
        n.trigger = static_cast<std::uint32_t>(rng.below(n.elements));
    }
    return tree;
}

}  // namespace microtask_test
