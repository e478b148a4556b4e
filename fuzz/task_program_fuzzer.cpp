// libFuzzer target: the byte front end of the task programs of tests/task_program.hpp.
// It decodes the input bytes into a task program (fork-join, map_reduce with any
// reducer, parallel reduce, for_each, decompose + distribute, a user decomposer,
// distribute, task_group, submit + get, concurrent outside threads, a second pool,
// nested to any of these, and throwing nodes), which run_and_check (the interpreter,
// tests/task_interpreter.hpp) runs on a microtask::thread_pool and sequentially; it
// traps when the two disagree, when a node runs twice (or not at all in a run without
// an exception), or when the pool stops working after an exception.
//
// Byte format (a missing byte reads as 0, so every input is a valid program):
//   byte 0     header: bits 0-1 choose the pool (1 to 4 workers), bit 2 runs the whole
//              program as a task submitted to the pool instead of from this thread.
//   byte 1     seed of the element values.
//   then       the root node. A node is an opcode byte (value % 13) and its operands:
//     0 leaf       v                    value v + param
//     1 throw_if   code m r v           throws error `code % 64` (std::bad_alloc if bit 6
//                                       of `code` is set) when param % m == r (m = 1 +
//                                       byte % 4, so m == 1 always throws), else value
//                                       v + param
//     2 join       a b                  mt::join of the two children
//     3 map_reduce n red policy calls [child]
//                                       n = byte % 65 elements; element i is a hash of
//                                       (seed, node, i, param), plus child(i) for i < calls
//                                       (calls = byte % 4; the child is present iff
//                                       calls > 0); red (byte % 11) picks sum, product,
//                                       min, max, concat of vectors / single elements /
//                                       optionals, affine-map composition, poly hash (both
//                                       non-commutative), the last two also tagged
//                                       exactly_associative
//     4 reduce     n red policy         the elements in this thread (no child), then
//                                       mt::reduce(pool, values, red, policy)
//     5 for_each   n policy calls [child]   mt::for_each, then mt::reduce(pool, ...)
//     6 decompose  n policy calls [child]   mt::distribute over mt::decompose's parts
//     7 task_group k child...           k = byte % 5 children, each a task of one group;
//                                       if byte / 5 is odd, task i runs task i + 1 into
//                                       the group (from inside a task, during wait())
//     8 submit     child                pool.submit(child).get()
//     9 threads    a b                  a and b on two new std::threads at once, each
//                                       calling into the pool as an outside thread; only
//                                       where the caller is itself an outside thread (the
//                                       root when not inside the pool, or a child of
//                                       threads), elsewhere it decodes as join
//    10 distribute n calls [child]      mt::distribute over the element indices
//    11 decompose_user n f calls [child]
//                                       a user decomposer lists the element indices, then
//                                       mt::distribute; if f is odd the decomposer throws
//                                       error f / 2 % 64
//    12 other_pool a b                  mt::join of the two children on a second pool
//   An operation without a red byte folds its elements with the poly hash.
//   policy byte p: p % 3 == 0 adaptive, 1 grain(1 + p / 3 % 16), 2 chunks(1 + p / 3 % 16).
//   A child's param: child i of join, threads, other_pool: param + i; of task_group:
//   param * 31 + i; of submit: param + 7; the calls child of element i: param * 131 + i.
//
// Depth is capped at 6 and the total number of element evaluations (counting nesting
// multiplicity) at k_budget; past either, a node decodes as a leaf. The program is the
// decoded tree unrolled: a calls child becomes `calls` nodes, one per param.
#include "../tests/task_interpreter.hpp"

#include <microtask/microtask.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

namespace mt = microtask;
using namespace microtask_test;

namespace {

// ---------------------------------------------------------------------------------
// The opcodes.

/// What follows an opcode byte (see the byte format above).
enum class operands : std::uint8_t { leaf, throw_if, pair, single, group, elements };

struct opcode {
    task_op op;
    operands layout;
    // operands::elements: which bytes follow n, in this order.
    bool reducer = false;                 // red
    bool policy = false;                  // policy
    fault_kind fault = fault_kind::none;  // f: odd plants this fault, code f / 2 % 64
    bool calls = true;                    // calls [child]
};

// Adding a primitive: one line here (and its task_op in tests/task_program.hpp).
constexpr std::array k_opcodes = {
    opcode{task_op::leaf, operands::leaf},
    opcode{task_op::leaf, operands::throw_if},
    opcode{task_op::join, operands::pair},
    opcode{task_op::map_reduce, operands::elements, true, true},
    opcode{task_op::reduce, operands::elements, true, true, fault_kind::none, false},
    opcode{task_op::for_each, operands::elements, false, true},
    opcode{task_op::decompose, operands::elements, false, true},
    opcode{task_op::task_group, operands::group},
    opcode{task_op::submit, operands::single},
    opcode{task_op::threads, operands::pair},
    opcode{task_op::distribute, operands::elements},
    opcode{task_op::decompose_user, operands::elements, false, false, fault_kind::in_decomposer},
    opcode{task_op::other_pool, operands::pair},
};
constexpr opcode k_join = k_opcodes[2];

constexpr unsigned k_max_depth = 6;
constexpr long k_budget = 3000;     // element evaluations per run, nesting multiplied out
constexpr long k_thread_cost = 50;  // starting a thread, in budget units

// ---------------------------------------------------------------------------------
// Decoding: bytes -> a tree of patterns -> the program (the patterns unrolled per param).

/// A decoded node, before its params are known.
struct pattern {
    task_node node;  // count set; salt, first and (for throw_if) fault set per param
    operands layout = operands::leaf;
    std::uint64_t value = 0;  // leaf, throw_if
    std::uint8_t modulus = 1;
    std::uint8_t residue = 0;
    std::vector<std::uint32_t> children;  // one per child; a calls child once, for every element
};

struct decoded_input {
    task_program program;
    std::size_t pool_index = 0;
    bool inside_pool = false;
};

class decoder {
public:
    decoder(const std::uint8_t* data, std::size_t size) : m_data(data), m_size(size) {}

    decoded_input decode() {
        decoded_input input;
        const std::uint8_t header = next();
        input.pool_index = header & 3u;
        input.inside_pool = (header & 4u) != 0;
        m_seed = next();
        decode_node(0, 1, !input.inside_pool);
        m_prog = &input.program;
        m_prog->nodes.resize(1);
        unroll(0, 0, 0);
        return input;
    }

private:
    std::uint8_t next() { return m_pos < m_size ? m_data[m_pos++] : 0; }

    policy_spec next_policy() {
        const std::uint8_t p = next();
        return {static_cast<std::uint8_t>(p % 3), static_cast<std::uint8_t>(1 + p / 3 % 16)};
    }

    // Spends `cost` of the budget if it is there.
    bool afford(long cost) {
        if (cost > m_budget) return false;
        m_budget -= cost;
        return true;
    }

    std::uint32_t add_leaf(std::uint64_t value) {
        pattern leaf;
        leaf.value = value;
        m_patterns.push_back(leaf);
        return static_cast<std::uint32_t>(m_patterns.size() - 1);
    }

    // `times`: how often this node is evaluated per run (the product of the call counts
    // of the map_reduce-like nodes above it). `outside`: the node runs on a thread that
    // is not one of the pool's workers.
    std::uint32_t decode_node(unsigned depth, long times, bool outside) {
        opcode code = k_opcodes[next() % k_opcodes.size()];
        // A worker blocked in std::thread::join is out of the pool (the guide's
        // "blocking inside tasks"), so only outside threads start threads.
        if (code.op == task_op::threads && (!outside || !afford(2 * k_thread_cost * times))) code = k_join;
        if (depth >= k_max_depth || !afford(times)) return add_leaf(next());
        const auto index = static_cast<std::uint32_t>(m_patterns.size());
        m_patterns.emplace_back();
        pattern p;
        p.layout = code.layout;
        task_node& n = p.node;
        n.op = code.op;
        auto child = [&](long child_times, bool child_outside) {
            p.children.push_back(decode_node(depth + 1, child_times, child_outside));
        };
        switch (code.layout) {
            case operands::leaf:
                p.value = next();
                break;
            case operands::throw_if: {
                const std::uint8_t error = next();
                n.code = error % 64;
                n.fault = (error & 64) != 0 ? fault_kind::bad_alloc : fault_kind::throws;
                p.modulus = static_cast<std::uint8_t>(1 + next() % 4);
                p.residue = next() % p.modulus;
                p.value = next();
                break;
            }
            case operands::pair:
                child(times, code.op == task_op::threads);
                child(times, code.op == task_op::threads);
                break;
            case operands::single:
                child(times, false);
                break;
            case operands::group: {
                const std::uint8_t shape = next();
                n.chain = (shape / 5) % 2 != 0;
                for (int i = 0; i < shape % 5; ++i) child(times, false);
                break;
            }
            case operands::elements: {
                n.elements = next() % 65;
                if (code.reducer) n.reducer = static_cast<reducer_kind>(next() % k_reducer_kinds);
                if (code.policy) n.policy = next_policy();
                if (!afford(times * static_cast<long>(n.elements))) n.elements = 0;
                if (code.fault != fault_kind::none) {
                    const std::uint8_t f = next();
                    if (f % 2 != 0) n.fault = code.fault;
                    n.code = f / 2 % 64;
                }
                if (code.calls) n.count = std::min<std::uint32_t>(next() % 4, n.elements);
                if (n.count > 0) child(times * n.count, false);
                break;
            }
        }
        if (code.layout != operands::elements) n.count = n.elements = static_cast<std::uint32_t>(p.children.size());
        m_patterns[index] = std::move(p);
        return index;
    }

    /// Lays out pattern `index` evaluated with `param` at node `slot` of the program,
    /// its children after every node so far.
    void unroll(std::uint32_t index, std::uint64_t param, std::uint32_t slot) {
        const pattern& p = m_patterns[index];
        task_node n = p.node;
        if (p.layout == operands::leaf || p.layout == operands::throw_if) {
            n.salt = p.value + param;
            if (param % p.modulus != p.residue) n.fault = fault_kind::none;
        } else {
            n.salt = mix64(m_seed * 0x9e3779b97f4a7c15ull ^ index * 0x632be59bd9b4e019ull ^ (param << 20));
        }
        n.first = static_cast<std::uint32_t>(m_prog->nodes.size());
        m_prog->nodes.resize(m_prog->nodes.size() + n.count);
        m_prog->nodes[slot] = n;
        for (std::uint32_t i = 0; i < n.count; ++i) {
            const std::uint32_t child = p.children.size() == 1 ? p.children[0] : p.children[i];
            unroll(child, child_param(p.layout, param, i), n.first + i);
        }
    }

    static std::uint64_t child_param(operands layout, std::uint64_t param, std::uint32_t i) {
        switch (layout) {
            case operands::single:
                return param + 7;
            case operands::group:
                return param * 31 + i;
            case operands::elements:
                return param * 131 + i;
            default:
                return param + i;
        }
    }

    const std::uint8_t* m_data;
    std::size_t m_size;
    std::size_t m_pos = 0;
    long m_budget = k_budget;
    std::uint64_t m_seed = 0;
    std::vector<pattern> m_patterns;  // m_patterns[0] is the root
    task_program* m_prog = nullptr;
};

// ---------------------------------------------------------------------------------
// The driver.

mt::thread_pool& pool_of_size(std::size_t index) {
    // Kept across inputs: starting threads per input would dominate the run time.
    static std::array<std::unique_ptr<mt::thread_pool>, 4> pools;
    if (!pools[index]) pools[index] = std::make_unique<mt::thread_pool>(index + 1);
    return *pools[index];
}

mt::thread_pool& second_pool() {
    static mt::thread_pool pool(2);
    return pool;
}

std::string describe(const run_outcome& outcome) {
    std::string text = "threw=" + std::to_string(outcome.threw) + " value=" + std::to_string(outcome.value) + " codes=";
    for (std::uint32_t code : outcome.codes) text += std::to_string(code) + " ";
    return text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const decoded_input input = decoder(data, size).decode();
    mt::thread_pool& pool = pool_of_size(input.pool_index);
    std::uint64_t tasks = 0;
    std::uint64_t lost = 0;
    const checked_run run = run_and_check(input.program, pool, &second_pool(), input.inside_pool, tasks, lost);
    static const bool verbose = std::getenv("MICROTASK_FUZZ_VERBOSE") != nullptr;
    if (verbose || !run.problem.empty()) {
        std::fprintf(stderr, "nodes=%zu pool=%zu inside_pool=%d tasks=%llu\n  sequential: %s\n  parallel:   %s\n",
                     input.program.nodes.size(), pool.size(), input.inside_pool, static_cast<unsigned long long>(tasks),
                     describe(run.expected).c_str(), describe(run.got).c_str());
    }
    if (!run.problem.empty()) {
        std::fprintf(stderr, "task_program_fuzzer: %s\n", run.problem.c_str());
        __builtin_trap();
    }

    // After an exception, the pool must still work. (Only then: every submit wakes a
    // worker, which costs more than a small program.)
    if (!run.got.threw) return 0;
    const std::uint64_t sum = mt::map_reduce(
        pool, mt::iota(std::uint64_t{0}, std::uint64_t{100}), [](std::uint64_t x) { return x; },
        mt::sum<std::uint64_t>{});
    if (sum != 4950 || pool.submit([] { return 42; }).get() != 42) {
        std::fprintf(stderr, "task_program_fuzzer: the pool no longer works after an exception\n");
        __builtin_trap();
    }
    return 0;
}
