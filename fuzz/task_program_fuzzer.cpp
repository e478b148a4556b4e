// libFuzzer target: decodes the input bytes into a small task program (fork-join,
// map_reduce with a built-in reducer, parallel reduce, for_each, decompose + distribute,
// task_group, submit + get, concurrent outside threads, nested to any of these, and
// throwing nodes), runs it on a microtask::thread_pool and sequentially, and traps when
// the two disagree.
//
// Byte format (a missing byte reads as 0, so every input is a valid program):
//   byte 0     header: bits 0-1 choose the pool (1 to 4 workers), bit 2 runs the whole
//              program as a task submitted to the pool instead of from this thread.
//   byte 1     seed of the element values.
//   then       the root node. A node is an opcode byte (value % 10) and its operands:
//     0 leaf       v                    value v + param
//     1 throw_if   code m r v           throws error `code % 64` when param % m == r
//                                       (m = 1 + byte % 4, so m == 1 always throws),
//                                       else value v + param
//     2 join       a b                  mt::join of the two children
//     3 map_reduce n red policy calls [child]
//                                       n = byte % 65 elements; element i is a hash of
//                                       (seed, node, i, param), plus child(i) for i < calls
//                                       (calls = byte % 4; the child is present iff
//                                       calls > 0); red picks sum, product, min, max,
//                                       concat of vectors / single elements / optionals,
//                                       or affine-map composition (non-commutative), with
//                                       and without the exactly_associative tag
//     4 reduce     n red policy         mt::reduce(pool, values, red, policy) over the
//                                       elements (no child)
//     5 for_each   n policy calls [child]
//     6 distribute n policy calls [child]   mt::distribute over mt::decompose's parts
//     7 task_group k child...           k = byte % 5 children, each a task of one group;
//                                       if byte / 5 is odd, task i runs task i + 1 into
//                                       the group (from inside a task, during wait())
//     8 submit     child                pool.submit(child).get()
//     9 threads    a b                  a and b on two new std::threads at once, each
//                                       calling into the pool as an outside thread; only
//                                       where the caller is itself an outside thread (the
//                                       root when not inside the pool, or a child of
//                                       threads), elsewhere it decodes as join
//   policy byte p: p % 3 == 0 adaptive, 1 grain(1 + p / 3 % 16), 2 chunks(1 + p / 3 % 16).
//
// Depth is capped at 6 and the total number of element evaluations (counting nesting
// multiplicity) at k_budget; past either, a node decodes as a leaf.
//
// Exceptions: the sequential evaluation computes the set of error codes that may reach
// the caller, following the library's documented rules: join rethrows a's exception if
// `a` throws (else b's); map_reduce, reduce, for_each, distribute and task_group rethrow
// whichever of their failing subtasks recorded its failure first, so any of them. The
// parallel run must throw exactly when the sequential one does, a microtask_fuzz_error
// whose code is in that set; after an exception the pool must still work.
#include <microtask/microtask.hpp>

#include "../tests/test_support.hpp"

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace mt = microtask;
using u64 = std::uint64_t;

namespace {

// ---------------------------------------------------------------------------------
// The program.

enum class op : std::uint8_t {
    leaf,
    throw_if,
    join,
    map_reduce,
    reduce,
    for_each,
    distribute,
    task_group,
    submit,
    threads
};
constexpr unsigned k_op_count = 10;
constexpr long k_thread_cost = 50;  // starting a thread, in budget units

enum class red_kind : std::uint8_t {
    sum,
    product,
    min,
    max,
    concat_vector,
    concat_single,
    concat_optional,
    affine,
    affine_exact
};
constexpr unsigned k_red_count = 9;

struct policy_spec {
    std::uint8_t kind = 0;  // 0 adaptive, 1 grain, 2 chunks
    std::uint8_t size = 1;
};

struct node {
    op kind = op::leaf;
    std::uint8_t code = 0;     // throw_if
    std::uint8_t modulus = 1;  // throw_if
    std::uint8_t residue = 0;  // throw_if
    u64 value = 0;             // leaf, throw_if
    std::size_t n = 0;         // element count, or task_group's child count
    bool chain = false;        // task_group: each task runs the next one
    red_kind red = red_kind::sum;
    policy_spec policy;
    std::size_t calls = 0;  // elements that also evaluate the child
    std::vector<std::uint32_t> children;
};

struct program {
    std::size_t pool_index = 0;
    bool inside_pool = false;
    u64 seed = 0;
    std::vector<node> nodes;  // nodes[0] is the root
};

constexpr unsigned k_max_depth = 6;
constexpr long k_budget = 3000;  // element evaluations per run, nesting multiplied out

class decoder {
public:
    decoder(const std::uint8_t* data, std::size_t size) : m_data(data), m_size(size) {}

    program decode() {
        program prog;
        const std::uint8_t header = next();
        prog.pool_index = header & 3u;
        prog.inside_pool = (header & 4u) != 0;
        prog.seed = next();
        m_prog = &prog;
        decode_node(0, 1, !prog.inside_pool);
        return prog;
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

    std::uint32_t add_leaf(u64 value) {
        node leaf;
        leaf.value = value;
        m_prog->nodes.push_back(leaf);
        return static_cast<std::uint32_t>(m_prog->nodes.size() - 1);
    }

    // `times`: how often this node is evaluated per run (the product of the call counts
    // of the map_reduce-like nodes above it). `outside`: the node runs on a thread that
    // is not one of the pool's workers.
    std::uint32_t decode_node(unsigned depth, long times, bool outside) {
        auto kind = static_cast<op>(next() % k_op_count);
        // A worker blocked in std::thread::join is out of the pool (the guide's
        // "blocking inside tasks"), so only outside threads start threads.
        if (kind == op::threads && (!outside || !afford(2 * k_thread_cost * times))) kind = op::join;
        if (depth >= k_max_depth || !afford(times)) return add_leaf(next());
        const auto index = static_cast<std::uint32_t>(m_prog->nodes.size());
        m_prog->nodes.emplace_back();
        node decoded;
        decoded.kind = kind;
        switch (kind) {
            case op::leaf:
                decoded.value = next();
                break;
            case op::throw_if:
                decoded.code = next() % 64;
                decoded.modulus = static_cast<std::uint8_t>(1 + next() % 4);
                decoded.residue = next() % decoded.modulus;
                decoded.value = next();
                break;
            case op::join:
                decoded.children.push_back(decode_node(depth + 1, times, false));
                decoded.children.push_back(decode_node(depth + 1, times, false));
                break;
            case op::threads:
                decoded.children.push_back(decode_node(depth + 1, times, true));
                decoded.children.push_back(decode_node(depth + 1, times, true));
                break;
            case op::map_reduce:
            case op::reduce:
            case op::for_each:
            case op::distribute: {
                decoded.n = next() % 65;
                if (kind == op::map_reduce || kind == op::reduce)
                    decoded.red = static_cast<red_kind>(next() % k_red_count);
                decoded.policy = next_policy();
                if (!afford(times * static_cast<long>(decoded.n))) decoded.n = 0;
                if (kind != op::reduce) decoded.calls = std::min<std::size_t>(next() % 4, decoded.n);
                if (decoded.calls > 0) {
                    decoded.children.push_back(decode_node(depth + 1, times * static_cast<long>(decoded.calls), false));
                }
                break;
            }
            case op::task_group: {
                const std::uint8_t shape = next();
                decoded.n = shape % 5;
                decoded.chain = (shape / 5) % 2 != 0;
                for (std::size_t i = 0; i < decoded.n; ++i)
                    decoded.children.push_back(decode_node(depth + 1, times, false));
                break;
            }
            case op::submit:
                decoded.children.push_back(decode_node(depth + 1, times, false));
                break;
        }
        m_prog->nodes[index] = std::move(decoded);
        return index;
    }

    const std::uint8_t* m_data;
    std::size_t m_size;
    std::size_t m_pos = 0;
    long m_budget = k_budget;
    program* m_prog = nullptr;
};

// ---------------------------------------------------------------------------------
// Values.

u64 mix(u64 x) { return microtask_test::splitmix64(x).next(); }  // one splitmix64 step from x

// Order-sensitive: combine(a, b) != combine(b, a) in general.
u64 ordered(u64 acc, u64 x) { return acc * 0x100000001b3ull + mix(x); }

template <class Range>
u64 ordered_hash(const Range& values) {
    u64 h = 0xcbf29ce484222325ull;
    for (u64 x : values) h = ordered(h, x);
    return h;
}

// x -> a * x + b, composed left to right: associative, not commutative.
struct affine {
    u64 a = 1;
    u64 b = 0;
};
constexpr affine compose(affine f, affine g) { return {g.a * f.a, g.a * f.b + g.b}; }
constexpr auto compose_op = [](affine f, affine g) { return compose(f, g); };

// Runs `body(reducer, shape, finish)` with the reducer `kind` names: shape turns an
// element value into what the map function returns, finish the reduction into a u64.
template <class Body>
u64 with_reducer(red_kind kind, Body&& body) {
    auto same = [](u64 x) { return x; };
    auto hash_vector = [](const std::vector<u64>& v) { return ordered_hash(v); };
    auto hash_affine = [](affine f) { return ordered(f.a, f.b); };
    auto to_affine = [](u64 x) { return affine{x | 1, x >> 7}; };
    switch (kind) {
        case red_kind::sum:
            return body(mt::sum<u64>{}, same, same);
        case red_kind::product:
            return body(
                mt::product<u64>{}, [](u64 x) { return x | 1; }, same);
        case red_kind::min:
            return body(mt::min<u64>{}, same, same);
        case red_kind::max:
            return body(mt::max<u64>{}, same, same);
        case red_kind::concat_vector:
            return body(
                mt::concat<std::vector<u64>>{},
                [](u64 x) {
                    return x % 5 == 0 ? std::vector<u64>{} : std::vector<u64>{x, x >> 9};
                },
                hash_vector);
        case red_kind::concat_single:
            return body(mt::concat<std::vector<u64>>{}, same, hash_vector);
        case red_kind::concat_optional:
            return body(
                mt::concat<std::vector<u64>>{}, [](u64 x) { return x % 3 == 0 ? std::nullopt : std::optional<u64>(x); },
                hash_vector);
        case red_kind::affine:
            return body(mt::make_reducer(affine{}, compose_op), to_affine, hash_affine);
        case red_kind::affine_exact:
            return body(mt::make_reducer(affine{}, compose_op, mt::exactly_associative), to_affine, hash_affine);
    }
    __builtin_trap();
}

template <class Body>
u64 with_policy(policy_spec policy, Body&& body) {
    switch (policy.kind) {
        case 1:
            return body(mt::grain(policy.size));
        case 2:
            return body(mt::chunks(policy.size));
        default:
            return body(mt::adaptive{});
    }
}

// ---------------------------------------------------------------------------------
// The two ways to run a program: on a pool, and sequentially (the oracle).

struct microtask_fuzz_error {
    unsigned code;
};

// Thrown by the sequential run: the error codes that may reach the caller.
struct possible_errors {
    u64 codes;
};

class parallel_run {
public:
    explicit parallel_run(mt::thread_pool& pool) : m_pool(pool) {}

    [[noreturn]] void raise(unsigned code) { throw microtask_fuzz_error{code}; }

    template <class A, class B>
    auto join(A a, B b) {
        return mt::join(m_pool, a, b);
    }

    template <class Map, class Red, class Policy>
    auto map_reduce(std::size_t n, Map map, Red red, Policy policy) {
        return mt::map_reduce(m_pool, mt::iota(std::size_t{0}, n), map, red, policy);
    }

    template <class T, class Red, class Policy>
    auto reduce(const std::vector<T>& values, Red red, Policy policy) {
        return mt::reduce(m_pool, values, red, policy);
    }

    template <class Fn, class Policy>
    void for_each(std::size_t n, Fn fn, Policy policy) {
        mt::for_each(m_pool, mt::iota(std::size_t{0}, n), fn, policy);
    }

    template <class Parts, class Fn>
    std::vector<u64> distribute(const Parts& parts, Fn fn) {
        return mt::distribute(m_pool, parts, fn);
    }

    template <class Fn>
    std::vector<u64> group(std::size_t k, bool chain, Fn fn) {
        std::vector<u64> results(k);
        // Chained: task i first runs task i + 1 into the group, then does its own work,
        // so a failing task does not stop the chain (every task runs, as with run()).
        std::function<void(std::size_t)> spawn;
        mt::task_group tasks(m_pool);  // destroyed (waiting) before what its tasks use
        if (chain) {
            spawn = [&](std::size_t i) {
                tasks.run([&spawn, &results, &fn, i] {
                    if (i + 1 < results.size()) spawn(i + 1);
                    results[i] = fn(i);
                });
            };
            if (k > 0) spawn(0);
        } else {
            for (std::size_t i = 0; i < k; ++i) tasks.run([&results, &fn, i] { results[i] = fn(i); });
        }
        tasks.wait();
        return results;
    }

    // a and b on two new threads; a's exception wins, as with join.
    template <class A, class B>
    std::pair<u64, u64> concurrently(A a, B b) {
        u64 left = 0;
        u64 right = 0;
        std::exception_ptr left_error;
        std::exception_ptr right_error;
        std::thread first([&] {
            try {
                left = a();
            } catch (...) {
                left_error = std::current_exception();
            }
        });
        std::thread second([&] {
            try {
                right = b();
            } catch (...) {
                right_error = std::current_exception();
            }
        });
        first.join();
        second.join();
        if (left_error) std::rethrow_exception(left_error);
        if (right_error) std::rethrow_exception(right_error);
        return {left, right};
    }

    template <class Fn>
    u64 submit(Fn fn) {
        return m_pool.submit(fn).get();
    }

private:
    mt::thread_pool& m_pool;
};

class sequential_run {
public:
    [[noreturn]] void raise(unsigned code) { throw possible_errors{u64{1} << code}; }

    // Both sides are evaluated even when `a` throws, but only a's errors can arrive then.
    template <class A, class B>
    auto join(A a, B b) {
        errors first, second;
        auto left = first.attempt(a);
        auto right = second.attempt(b);
        first.rethrow();
        second.rethrow();
        return std::pair(std::move(*left), std::move(*right));
    }

    template <class Map, class Red, class Policy>
    auto map_reduce(std::size_t n, Map map, Red red, Policy) {
        errors failed;
        auto acc = red.identity();
        for (std::size_t i = 0; i < n; ++i) {
            if (auto mapped = failed.attempt([&] { return map(i); }))
                acc = fold_in(red, std::move(acc), std::move(*mapped));
        }
        failed.rethrow();
        return acc;
    }

    template <class T, class Red, class Policy>
    auto reduce(const std::vector<T>& values, Red red, Policy) {
        auto acc = red.identity();
        for (const T& x : values) acc = fold_in(red, std::move(acc), x);
        return acc;
    }

    template <class Fn, class Policy>
    void for_each(std::size_t n, Fn fn, Policy) {
        errors failed;
        for (std::size_t i = 0; i < n; ++i) failed.attempt([&] { return (fn(i), 0); });
        failed.rethrow();
    }

    template <class Parts, class Fn>
    std::vector<u64> distribute(const Parts& parts, Fn fn) {
        return collect(parts.size(), [&](std::size_t i) { return fn(parts[i]); });
    }

    template <class Fn>
    std::vector<u64> group(std::size_t k, bool, Fn fn) {
        return collect(k, fn);
    }

    template <class A, class B>
    auto concurrently(A a, B b) {
        return join(a, b);
    }

    template <class Fn>
    u64 submit(Fn fn) {
        return fn();
    }

private:
    // Accumulates the possible errors of several subtasks.
    class errors {
    public:
        template <class Fn>
        auto attempt(Fn&& fn) -> std::optional<decltype(fn())> {
            try {
                return fn();
            } catch (const possible_errors& e) {
                m_codes |= e.codes;
                return std::nullopt;
            }
        }
        void rethrow() const {
            if (m_codes != 0) throw possible_errors{m_codes};
        }

    private:
        u64 m_codes = 0;
    };

    template <class Fn>
    std::vector<u64> collect(std::size_t count, Fn fn) {
        errors failed;
        std::vector<u64> results(count);
        for (std::size_t i = 0; i < count; ++i) {
            if (auto value = failed.attempt([&] { return fn(i); })) results[i] = *value;
        }
        failed.rethrow();
        return results;
    }

    // The oracle's own left fold (not the library's): combine when the mapped value is a
    // value_type, else the reducer's accumulate (concat of single elements, optionals).
    // Both forms of the reducer protocol: in place (void results) and by value.
    template <class Red, class T>
    static typename Red::value_type fold_in(const Red& red, typename Red::value_type acc, T&& mapped) {
        using value_type = typename Red::value_type;
        if constexpr (std::convertible_to<T, value_type>) {
            return mt::combine(red, std::move(acc), value_type(std::forward<T>(mapped)));
        } else if constexpr (mt::accumulates_in_place<Red, T>) {
            red.accumulate(acc, std::forward<T>(mapped));
            return acc;
        } else {
            return red.accumulate(std::move(acc), std::forward<T>(mapped));
        }
    }
};

// ---------------------------------------------------------------------------------
// The evaluator, shared by both runs.

template <class Run>
class evaluator {
public:
    evaluator(Run& run, const program& prog) : m_run(run), m_prog(prog) {}

    u64 eval(std::uint32_t index, u64 param) {
        const node& n = m_prog.nodes[index];
        switch (n.kind) {
            case op::leaf:
                return n.value + param;
            case op::throw_if:
                if (param % n.modulus == n.residue) m_run.raise(n.code);
                return n.value + param;
            case op::join: {
                auto [a, b] = m_run.join([&] { return eval(n.children[0], param); },
                                         [&] { return eval(n.children[1], param + 1); });
                return ordered(a, b);
            }
            case op::threads: {
                auto [a, b] = m_run.concurrently([&] { return eval(n.children[0], param); },
                                                 [&] { return eval(n.children[1], param + 1); });
                return ordered(b, a);
            }
            case op::map_reduce:
                return with_reducer(n.red, [&](auto red, auto shape, auto finish) {
                    return with_policy(n.policy, [&](auto policy) {
                        auto map = [&, shape](std::size_t i) { return shape(element(index, i, param)); };
                        return finish(m_run.map_reduce(n.n, map, red, policy));
                    });
                });
            case op::reduce:
                return with_reducer(n.red, [&](auto red, auto shape, auto finish) {
                    return with_policy(n.policy, [&](auto policy) {
                        std::vector<decltype(shape(u64{}))> values;
                        for (std::size_t i = 0; i < n.n; ++i) values.push_back(shape(element(index, i, param)));
                        return finish(m_run.reduce(values, red, policy));
                    });
                });
            case op::for_each:
                return with_policy(n.policy, [&](auto policy) {
                    std::vector<u64> out(n.n);
                    m_run.for_each(
                        n.n, [&](std::size_t i) { out[i] = element(index, i, param); }, policy);
                    return ordered_hash(out);
                });
            case op::distribute:
                return with_policy(n.policy, [&](auto policy) {
                    const auto indices = mt::iota(std::size_t{0}, n.n);
                    const auto parts = mt::decompose(indices, policy);
                    check_parts(parts, n.n);
                    return ordered_hash(m_run.distribute(parts, [&](auto part) {
                        u64 h = 0;
                        for (std::size_t i : part) h = ordered(h, element(index, i, param));
                        return h;
                    }));
                });
            case op::task_group:
                return ordered_hash(m_run.group(n.children.size(), n.chain,
                                                [&](std::size_t i) { return eval(n.children[i], param * 31 + i); }));
            case op::submit:
                return m_run.submit([&] { return eval(n.children[0], param + 7); });
        }
        __builtin_trap();
    }

private:
    // Element i of a map_reduce-like node: a hash, plus the child's value for i < calls.
    u64 element(std::uint32_t index, std::size_t i, u64 param) {
        const node& n = m_prog.nodes[index];
        u64 value = mix(m_prog.seed * 0x9e3779b97f4a7c15ull ^ index * 0x632be59bd9b4e019ull ^ i ^ (param << 20));
        if (i < n.calls) value += eval(n.children[0], param * 131 + i);
        return value;
    }

    // decompose must cut [0, n) into contiguous, non-empty parts in order.
    template <class Parts>
    static void check_parts(const Parts& parts, std::size_t n) {
        std::size_t next = 0;
        for (const auto& part : parts) {
            if (part.empty() || part[0] != next) __builtin_trap();
            next += part.size();
        }
        if (next != n) __builtin_trap();
    }

    Run& m_run;
    const program& m_prog;
};

// ---------------------------------------------------------------------------------
// The driver.

struct outcome {
    bool threw = false;
    u64 value = 0;  // when !threw
    u64 codes = 0;  // sequential: the codes that may arrive; parallel: the one that did
};

outcome run_sequentially(const program& prog) {
    sequential_run run;
    evaluator<sequential_run> eval(run, prog);
    try {
        return {false, eval.eval(0, 0), 0};
    } catch (const possible_errors& e) {
        return {true, 0, e.codes};
    }
}

outcome run_on(mt::thread_pool& pool, const program& prog) {
    parallel_run run(pool);
    evaluator<parallel_run> eval(run, prog);
    try {
        const u64 value = prog.inside_pool ? pool.submit([&] { return eval.eval(0, 0); }).get() : eval.eval(0, 0);
        return {false, value, 0};
    } catch (const microtask_fuzz_error& e) {
        return {true, 0, u64{1} << e.code};
    }
    // Any other exception escapes to libFuzzer, which reports it as a crash.
}

mt::thread_pool& pool_of_size(std::size_t index) {
    // Kept across inputs: starting threads per input would dominate the run time.
    static std::array<std::unique_ptr<mt::thread_pool>, 4> pools;
    if (!pools[index]) pools[index] = std::make_unique<mt::thread_pool>(index + 1);
    return *pools[index];
}

[[noreturn]] void fail(const char* what, const outcome& expected, const outcome& got) {
    std::fprintf(stderr,
                 "task_program_fuzzer: %s\n  sequential: threw=%d value=%llu codes=%#llx\n"
                 "  parallel:   threw=%d value=%llu codes=%#llx\n",
                 what, expected.threw, static_cast<unsigned long long>(expected.value),
                 static_cast<unsigned long long>(expected.codes), got.threw, static_cast<unsigned long long>(got.value),
                 static_cast<unsigned long long>(got.codes));
    __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const program prog = decoder(data, size).decode();
    const outcome expected = run_sequentially(prog);
    mt::thread_pool& pool = pool_of_size(prog.pool_index);
    const outcome got = run_on(pool, prog);
    static const bool verbose = std::getenv("MICROTASK_FUZZ_VERBOSE") != nullptr;
    if (verbose) {
        std::fprintf(stderr, "nodes=%zu pool=%zu inside_pool=%d threw=%d/%d value=%llu/%llu codes=%#llx/%#llx\n",
                     prog.nodes.size(), pool.size(), prog.inside_pool, expected.threw, got.threw,
                     static_cast<unsigned long long>(expected.value), static_cast<unsigned long long>(got.value),
                     static_cast<unsigned long long>(expected.codes), static_cast<unsigned long long>(got.codes));
    }

    if (expected.threw != got.threw) fail("one run threw and the other did not", expected, got);
    if (!expected.threw && expected.value != got.value) fail("different values", expected, got);
    if (expected.threw && (expected.codes & got.codes) == 0) fail("an error that cannot arrive arrived", expected, got);

    // After an exception, the pool must still work. (Only then: every submit wakes a
    // worker, which costs more than a small program.)
    if (!got.threw) return 0;
    const u64 sum = mt::map_reduce(
        pool, mt::iota(u64{0}, u64{100}), [](u64 x) { return x; }, mt::sum<u64>{});
    if (sum != 4950 || pool.submit([] { return 42; }).get() != 42) {
        fail("the pool no longer works", expected, got);
    }
    return 0;
}
