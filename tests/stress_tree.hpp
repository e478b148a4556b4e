// Random task trees for the stress and fault tests.
//
// A tree is generated from a seed: every internal node evaluates its children with one
// of the library's parallel primitives (map_reduce, join, task_group, submit,
// distribute, decompose + distribute, for_each + parallel reduce, or join on a second
// pool), chosen at random, with random fan-out, depth, policies, yields and sleeps.
// Its value is an order-sensitive hash of its children's values, so a lost, duplicated
// or misordered result changes the root's value; the expected value comes from a plain
// sequential pass over the same tree. Every evaluation of a node is counted, so a test
// can check that each task ran exactly once. Faults (exceptions from leaves, from
// reducers, from a decomposer, std::bad_alloc) can be planted at random nodes.
#pragma once

#include "test_support.hpp"

#include <microtask/microtask.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace microtask_test {

/// A node's value: a polynomial hash of a sequence with its length as a power of the
/// base. combine is exactly associative (wrapping arithmetic) but not commutative, so
/// the result checks the order in which partial results were combined, too.
struct poly {
    std::uint64_t hash = 0;
    std::uint64_t power = 1;
    friend bool operator==(const poly&, const poly&) = default;
};

inline constexpr std::uint64_t k_poly_base = 0x100000001B3ull;

constexpr poly poly_combine(poly a, poly b) noexcept { return {a.hash * b.power + b.hash, a.power * b.power}; }

/// What a planted fault throws: says which node threw it.
struct injected_fault : std::runtime_error {
    explicit injected_fault(std::uint32_t at)
        : std::runtime_error("injected fault at node " + std::to_string(at)), node(at) {}
    std::uint32_t node;
};

/// The reducer every node folds its children with. It throws injected_fault(owner)
/// when it folds in the value whose hash is `trigger` (0: never), which plants a fault
/// inside a reducer, and counts the throw in `*fired` (if set). `Exact` picks the fold
/// engine's left-to-right path (true) or its canonical-tree path (false); the arithmetic
/// is exact either way.
template <bool Exact>
struct poly_reducer {
    using value_type = poly;
    static constexpr bool is_exactly_associative = Exact;
    std::uint64_t trigger = 0;
    std::uint32_t owner = 0;
    std::atomic<std::uint64_t>* fired = nullptr;
    [[nodiscard]] poly identity() const noexcept { return {}; }
    [[nodiscard]] poly combine(poly a, poly b) const {
        if (trigger != 0 && b.hash == trigger) {
            if (fired != nullptr) fired->fetch_add(1, std::memory_order_relaxed);
            throw injected_fault(owner);
        }
        return poly_combine(a, b);
    }
};

enum class node_kind : std::uint8_t {
    leaf,
    map_reduce,       // mt::map_reduce over the children
    join,             // nested mt::join, halving the children
    task_group,       // one task_group::run per child
    submit,           // one thread_pool::submit per child, then get()
    distribute,       // mt::distribute over the children's indices
    decompose,        // a user decomposer lists the children, then mt::distribute
    for_each_reduce,  // mt::for_each into a vector, then the parallel mt::reduce
    other_pool,       // nested mt::join on the second pool (the subtree stays there)
};
inline constexpr unsigned k_internal_kinds = 8;

enum class node_fault : std::uint8_t { none, throws, bad_alloc, in_combine, in_decomposer };
enum class node_pause : std::uint8_t { none, yield, sleep };

struct tree_node {
    node_kind kind = node_kind::leaf;
    node_fault fault = node_fault::none;
    node_pause pause = node_pause::none;
    std::uint8_t policy = 0;  // adaptive, grain(1), grain(2), chunks(3)
    bool exact = false;       // which poly_reducer flavour
    std::uint32_t first = 0;  // children are [first, first + count)
    std::uint32_t count = 0;
    std::uint32_t sleep_us = 0;
    std::uint64_t payload = 0;
    std::uint64_t trigger = 0;  // node_fault::in_combine: hash of the child whose fold throws
};

struct tree_shape {
    unsigned max_depth = 5;
    unsigned max_nodes = 1500;
    unsigned max_fanout = 6;
    unsigned faults = 0;  // how many nodes get a fault planted
    unsigned pause_percent = 4;
    bool other_pool = false;  // may use node_kind::other_pool
};

struct random_tree {
    std::vector<tree_node> nodes;
    std::vector<poly> expected;  // per node, as if no fault were planted
    unsigned fault_count = 0;
};

/// A node's value from its children's folded value: mixes in the node's own payload, so
/// that every node counts as one element of its parent's sequence.
inline poly finish_node(const tree_node& n, poly folded) noexcept {
    return {mix64(folded.hash ^ mix64(n.payload) ^ (folded.power * 31)), k_poly_base};
}

inline random_tree generate_tree(std::uint64_t seed, const tree_shape& shape) {
    splitmix64 rng(seed);
    random_tree tree;
    std::vector<unsigned> depth{0};
    tree.nodes.emplace_back();
    // Breadth first: a node's children get consecutive indices after every node so far,
    // so children always have larger indices than their parent.
    for (std::size_t i = 0; i < tree.nodes.size(); ++i) {
        tree_node n;
        n.payload = rng.next() | 1;
        n.policy = static_cast<std::uint8_t>(rng.below(4));
        n.exact = rng.chance(50);
        if (rng.chance(shape.pause_percent)) {
            n.pause = rng.chance(50) ? node_pause::yield : node_pause::sleep;
            n.sleep_us = static_cast<std::uint32_t>(rng.between(1, 200));
        }
        std::uint64_t fanout = rng.between(i == 0 ? 2 : 0, shape.max_fanout);
        if (depth[i] >= shape.max_depth || tree.nodes.size() + fanout > shape.max_nodes) fanout = 0;
        if (fanout > 0) {
            const unsigned kinds = shape.other_pool ? k_internal_kinds : k_internal_kinds - 1;
            n.kind = static_cast<node_kind>(1 + rng.below(kinds));
            n.first = static_cast<std::uint32_t>(tree.nodes.size());
            n.count = static_cast<std::uint32_t>(fanout);
            for (std::uint64_t c = 0; c < fanout; ++c) {
                tree.nodes.emplace_back();
                depth.push_back(depth[i] + 1);
            }
        }
        tree.nodes[i] = n;
    }
    // Expected values, leaves first (children have larger indices than their parent).
    tree.expected.resize(tree.nodes.size());
    for (std::size_t i = tree.nodes.size(); i-- > 0;) {
        const tree_node& n = tree.nodes[i];
        poly folded;
        for (std::uint32_t c = 0; c < n.count; ++c) folded = poly_combine(folded, tree.expected[n.first + c]);
        tree.expected[i] = finish_node(n, folded);
    }
    for (unsigned f = 0; f < shape.faults; ++f) {
        tree_node& n = tree.nodes[rng.below(tree.nodes.size())];
        if (n.fault != node_fault::none) continue;
        if (n.kind == node_kind::leaf) {
            n.fault = rng.chance(70) ? node_fault::throws : node_fault::bad_alloc;
        } else {
            const auto pick = rng.below(n.kind == node_kind::decompose ? 3 : 2);
            n.fault = pick == 0 ? node_fault::throws : pick == 1 ? node_fault::in_combine : node_fault::in_decomposer;
            if (n.fault == node_fault::in_combine) n.trigger = tree.expected[n.first + rng.below(n.count)].hash;
        }
        ++tree.fault_count;
    }
    return tree;
}

/// Evaluates a tree on a pool with the library's primitives, counting every node's runs.
class tree_runner {
public:
    tree_runner(const random_tree& tree, microtask::thread_pool* other_pool)
        : m_tree(tree), m_other(other_pool), m_ran(tree.nodes.size()) {}

    poly run(microtask::thread_pool& pool) { return eval(pool, 0); }

    [[nodiscard]] std::uint8_t ran(std::size_t node) const { return m_ran[node].load(std::memory_order_relaxed); }

    /// Planted faults that fired (threw) during the run; at most one reaches the caller.
    [[nodiscard]] std::uint64_t faults_fired() const { return m_fired.load(std::memory_order_relaxed); }

private:
    template <class F>
    static auto with_policy(std::uint8_t policy, F&& f) {
        switch (policy) {
            case 0:
                return f(microtask::adaptive{});
            case 1:
                return f(microtask::grain(1));
            case 2:
                return f(microtask::grain(2));
            default:
                return f(microtask::chunks(3));
        }
    }

    template <class F>
    poly with_reducer(const tree_node& n, std::uint32_t id, F&& f) {
        if (n.exact) return f(poly_reducer<true>{n.trigger, id, &m_fired});
        return f(poly_reducer<false>{n.trigger, id, &m_fired});
    }

    /// Counts a planted fault as fired, then throws it.
    [[noreturn]] void fire(const tree_node& n, std::uint32_t id) {
        m_fired.fetch_add(1, std::memory_order_relaxed);
        if (n.fault == node_fault::bad_alloc) throw std::bad_alloc();
        throw injected_fault(id);
    }

    static void pause(const tree_node& n) {
        if (n.pause == node_pause::yield) std::this_thread::yield();
        if (n.pause == node_pause::sleep) std::this_thread::sleep_for(std::chrono::microseconds(n.sleep_us));
    }

    poly eval(microtask::thread_pool& pool, std::uint32_t id) {
        namespace mt = microtask;
        const tree_node& n = m_tree.nodes[id];
        m_ran[id].fetch_add(1, std::memory_order_relaxed);
        pause(n);
        if (n.kind == node_kind::leaf) {
            if (n.fault == node_fault::throws || n.fault == node_fault::bad_alloc) fire(n, id);
            return finish_node(n, poly{});
        }
        const poly folded = with_reducer(n, id, [&](auto red) { return eval_children(pool, id, red); });
        // An internal node's own fault fires after its children ran: a failure while
        // sibling subtrees may still be running elsewhere.
        if (n.fault == node_fault::throws) fire(n, id);
        return finish_node(n, folded);
    }

    template <class Red>
    poly eval_children(microtask::thread_pool& pool, std::uint32_t id, const Red& red) {
        namespace mt = microtask;
        const tree_node& n = m_tree.nodes[id];
        const std::uint32_t first = n.first;
        switch (n.kind) {
            case node_kind::map_reduce:
                return with_policy(n.policy, [&](auto policy) {
                    return mt::map_reduce(
                        pool, mt::iota(0u, n.count),
                        [this, &pool, first](std::uint32_t c) { return eval(pool, first + c); }, red, policy);
                });
            case node_kind::join:
                return join_range(pool, red, first, first + n.count);
            case node_kind::other_pool:
                return join_range(m_other != nullptr ? *m_other : pool, red, first, first + n.count);
            case node_kind::task_group: {
                std::vector<poly> out(n.count);
                mt::task_group group(pool);
                for (std::uint32_t c = 0; c < n.count; ++c) {
                    group.run([this, &pool, &out, first, c] { out[c] = eval(pool, first + c); });
                }
                group.wait();
                return mt::reduce(std::move(out), red);
            }
            case node_kind::submit: {
                std::vector<mt::future<poly>> futures;
                futures.reserve(n.count);
                for (std::uint32_t c = 0; c < n.count; ++c) {
                    futures.push_back(pool.submit([this, &pool, child = first + c] { return eval(pool, child); }));
                }
                // Wait for all before the first get() may throw: what a careful user does,
                // and it lets the test demand that every submitted child ran.
                for (auto& f : futures) f.wait();
                poly acc = red.identity();
                for (auto& f : futures) acc = red.combine(acc, f.get());
                return acc;
            }
            case node_kind::distribute:
                return mt::reduce(mt::distribute(pool, mt::iota(first, first + n.count),
                                                 [this, &pool](std::uint32_t child) { return eval(pool, child); }),
                                  red);
            case node_kind::decompose: {
                const bool fails = n.fault == node_fault::in_decomposer;
                auto children = mt::decompose(n, [this, fails, id](const tree_node& job) {
                    if (fails) fire(job, id);
                    std::vector<std::uint32_t> ids;
                    for (std::uint32_t c = 0; c < job.count; ++c) ids.push_back(job.first + c);
                    return ids;
                });
                return mt::reduce(
                    mt::distribute(pool, children, [this, &pool](std::uint32_t child) { return eval(pool, child); }),
                    red);
            }
            case node_kind::for_each_reduce: {
                std::vector<poly> out(n.count);
                return with_policy(n.policy, [&](auto policy) {
                    mt::for_each(
                        pool, mt::iota(0u, n.count),
                        [this, &pool, &out, first](std::uint32_t c) { out[c] = eval(pool, first + c); }, policy);
                    return mt::reduce(pool, out, red, policy);
                });
            }
            case node_kind::leaf:
                break;
        }
        return red.identity();
    }

    template <class Red>
    poly join_range(microtask::thread_pool& pool, const Red& red, std::uint32_t lo, std::uint32_t hi) {
        // Each child's value is folded in as the right operand once, so a reducer fault
        // fires whichever child it is planted on.
        if (hi - lo == 1) return red.combine(red.identity(), eval(pool, lo));
        const std::uint32_t mid = lo + (hi - lo) / 2;
        auto [left, right] = microtask::join(
            pool, [&] { return join_range(pool, red, lo, mid); }, [&] { return join_range(pool, red, mid, hi); });
        return red.combine(left, right);
    }

    const random_tree& m_tree;
    microtask::thread_pool* m_other;
    std::vector<std::atomic<std::uint8_t>> m_ran;
    std::atomic<std::uint64_t> m_fired{0};
};

/// What one evaluation of a tree did.
struct tree_outcome {
    bool threw = false;
    bool threw_bad_alloc = false;
    std::int64_t fault_node = -1;  // the node named by the injected_fault caught
    poly value;
};

inline tree_outcome run_tree(tree_runner& runner, microtask::thread_pool& pool) {
    tree_outcome outcome;
    try {
        outcome.value = runner.run(pool);
    } catch (const injected_fault& e) {
        outcome.threw = true;
        outcome.fault_node = e.node;
    } catch (const std::bad_alloc&) {
        outcome.threw = true;
        outcome.threw_bad_alloc = true;
    }
    return outcome;
}

/// Checks an evaluation against the tree. Returns "" when everything holds, else what
/// went wrong. Fault-free: the sequential value, and every node ran exactly once.
/// With faults: the caller got one of the planted exceptions; no node ran twice; and
/// every child of a task_group or submit node that ran, ran (those tasks always run).
/// `tasks` and `lost` are incremented by the nodes that ran and the nodes that should
/// have run but did not.
inline std::string check_tree_run(const random_tree& tree, const tree_runner& runner, const tree_outcome& outcome,
                                  std::uint64_t& tasks, std::uint64_t& lost) {
    std::string problem;
    std::uint64_t missing = 0;
    for (std::size_t i = 0; i < tree.nodes.size(); ++i) {
        const std::uint8_t runs = runner.ran(i);
        tasks += runs;
        if (runs > 1 && problem.empty())
            problem = "node " + std::to_string(i) + " ran " + std::to_string(runs) + " times";
        const tree_node& n = tree.nodes[i];
        if (tree.fault_count == 0) {
            missing += runs == 0;
        } else if (runs == 1 && (n.kind == node_kind::task_group || n.kind == node_kind::submit)) {
            for (std::uint32_t c = 0; c < n.count; ++c) missing += runner.ran(n.first + c) == 0;
        }
    }
    lost += missing;
    if (missing != 0 && problem.empty()) problem = std::to_string(missing) + " tasks never ran";
    if (!problem.empty()) return problem;
    if (tree.fault_count == 0) {
        if (outcome.threw) return "a fault-free tree threw";
        if (!(outcome.value == tree.expected[0])) return "wrong value: differs from the sequential evaluation";
        return {};
    }
    if (!outcome.threw) return "a tree with faults planted did not throw";
    if (outcome.threw_bad_alloc) {
        for (const tree_node& n : tree.nodes) {
            if (n.fault == node_fault::bad_alloc) return {};
        }
        return "std::bad_alloc reached the caller but none was planted";
    }
    const tree_node& thrower = tree.nodes[static_cast<std::size_t>(outcome.fault_node)];
    if (thrower.fault == node_fault::none || thrower.fault == node_fault::bad_alloc) {
        return "the exception names node " + std::to_string(outcome.fault_node) + ", which had no such fault";
    }
    return {};
}

}  // namespace microtask_test
