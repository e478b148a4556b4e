// Task programs: the one representation of the random task programs that the stress and
// fault tests build from a seed (stress_tree.hpp) and the fuzzer builds from its input
// bytes (fuzz/task_program_fuzzer.cpp); task_interpreter.hpp runs them.
//
// A program is a tree of nodes, each evaluated exactly once. An inner node runs one of
// the library's primitives (task_op) over its elements [0, elements); element i is a
// hash of (node, i), plus the value of child `first + i` for i < count. The node folds
// the elements with its reducer, in element order, and mixes its own salt into the
// result, so a lost, duplicated or misordered value changes the root's value (with the
// order-sensitive reducers: poly and affine). A node can carry a planted fault
// (fault_kind) and a pause.
//
// Adding a primitive: a task_op here, its case in task_interpreter.hpp (and the
// sequential meaning of any new run function), then one line in each front end: the
// generator's k_tree_ops and the fuzzer's opcode table.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace microtask_test {

// ---- The program --------------------------------------------------------------------

/// How an inner node runs its elements.
enum class task_op : std::uint8_t {
    leaf,            // no elements: the node's value is its salt
    join,            // nested mt::join, halving the elements
    map_reduce,      // mt::map_reduce over the elements
    reduce,          // the elements in the calling thread, then the parallel mt::reduce
    for_each,        // mt::for_each into a vector, then the parallel mt::reduce
    decompose,       // mt::decompose(iota, policy), mt::distribute over the parts (each folds
                     // its elements), then mt::reduce of the partial results
    task_group,      // one task_group::run per element (chained: task i runs task i + 1)
    submit,          // one thread_pool::submit per element, wait for all, then get() in order
    threads,         // one new std::thread per element, each calling into the pool from
                     // outside (only where the caller is itself an outside thread)
    distribute,      // mt::distribute over the element indices
    decompose_user,  // a user decomposer lists the element indices, then mt::distribute
    other_pool,      // nested mt::join on the second pool (the subtree stays there)
};

/// How a node folds its elements (task_interpreter.hpp's with_reducer: what each element
/// becomes). Any kind folds map_reduce, reduce and for_each; the other primitives fold
/// with the poly kinds only (k_poly_reducers).
enum class reducer_kind : std::uint8_t {
    sum,
    product,
    min,
    max,
    concat_vector,
    concat_single,
    concat_optional,
    affine,        // x -> a * x + b composed: associative, not commutative
    affine_exact,  // the same, tagged exactly_associative
    poly,          // polynomial hash (poly_reducer): order-sensitive, may throw in combine
    poly_exact,
};
inline constexpr unsigned k_reducer_kinds = 11;

/// A set of reducer kinds, a bit each. An interpreter compiles every primitive that folds
/// once per reducer of its set (a few seconds of compile time each), so a front end that
/// uses few reducers names them.
using reducer_set = std::uint32_t;
constexpr reducer_set reducer_bit(reducer_kind kind) { return reducer_set{1} << static_cast<unsigned>(kind); }
inline constexpr reducer_set k_all_reducers = (reducer_set{1} << k_reducer_kinds) - 1;
/// The reducers of the primitives other than map_reduce, reduce and for_each: the library
/// folds their results with its fold engine, which the reducer kinds exercise through the
/// three, so these compile it for the poly reducers only.
inline constexpr reducer_set k_poly_reducers = reducer_bit(reducer_kind::poly) | reducer_bit(reducer_kind::poly_exact);

enum class fault_kind : std::uint8_t {
    none,
    throws,         // the node throws injected_fault(code) after its elements ran
    bad_alloc,      // the node throws std::bad_alloc after its elements ran
    in_combine,     // poly reducers: combine throws injected_fault(code) folding in element `trigger`
    in_decomposer,  // decompose_user: the decomposer throws injected_fault(code)
};

enum class pause_kind : std::uint8_t { none, yield, sleep };

/// A partition policy: kind 0 adaptive, 1 grain(size), 2 chunks(size).
struct policy_spec {
    std::uint8_t kind = 0;
    std::uint8_t size = 1;
};

struct task_node {
    task_op op = task_op::leaf;
    reducer_kind reducer = reducer_kind::poly;
    policy_spec policy;
    fault_kind fault = fault_kind::none;
    pause_kind pause = pause_kind::none;
    bool chain = false;          // task_group: each task runs the next one into the group
    std::uint32_t code = 0;      // what a planted fault throws
    std::uint32_t trigger = 0;   // fault_kind::in_combine: the element whose fold throws
    std::uint32_t sleep_us = 0;  // pause_kind::sleep
    std::uint32_t elements = 0;
    std::uint32_t first = 0;  // element i < count evaluates child first + i
    std::uint32_t count = 0;
    std::uint64_t salt = 0;
};

/// nodes[0] is the root; every other node is the child of exactly one node.
struct task_program {
    std::vector<task_node> nodes;
};

/// The number of nodes with a fault planted.
inline std::size_t planted_faults(const task_program& prog) {
    return static_cast<std::size_t>(
        std::ranges::count_if(prog.nodes, [](const task_node& n) { return n.fault != fault_kind::none; }));
}

}  // namespace microtask_test
