// The one interpreter of the task programs (task_program.hpp): it runs a program twice,
// on a pool with the library's primitives (parallel_run) and as a plain loop in the
// calling thread (sequential_run, the oracle), counting every node's evaluations.
//
// The oracle gives the value and, when the program throws, the set of error codes the
// library's documented rules let reach the caller: join (and submit, threads: the first
// element in order) rethrows a's exception if `a` throws, else b's; map_reduce, reduce,
// for_each, distribute and task_group rethrow whichever failing subtask recorded its
// failure first, so any of them. run_and_check compares the two runs.
#pragma once

#include "task_program.hpp"
#include "test_support.hpp"

#include <microtask/microtask.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <functional>
#include <iterator>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace microtask_test {

/// What a planted fault throws: its code (the stress trees use the node's index).
struct injected_fault : std::runtime_error {
    explicit injected_fault(std::uint32_t fault_code)
        : std::runtime_error("injected fault " + std::to_string(fault_code)), code(fault_code) {}
    std::uint32_t code;
};

/// The error code that stands for std::bad_alloc.
inline constexpr std::uint32_t k_bad_alloc_code = 0xFFFFFFFF;

// ---- Values and reducers ------------------------------------------------------------

/// Order-sensitive: ordered(ordered(h, a), b) != ordered(ordered(h, b), a) in general.
constexpr std::uint64_t ordered(std::uint64_t acc, std::uint64_t x) noexcept {
    return acc * 0x100000001B3ull + mix64(x);
}

/// The value of the poly reducers: a polynomial hash of a sequence with its length as a
/// power of the base, so combine is exactly associative (wrapping arithmetic) but not
/// commutative. `tag` is element index + 1 on an element not yet combined (0 on a
/// combination), so that a planted fault can name the element whose fold throws.
struct poly {
    std::uint64_t hash = 0;
    std::uint64_t power = 1;
    std::uint32_t tag = 0;
};
inline constexpr std::uint64_t k_poly_base = 0x100000001B3ull;

/// Throws injected_fault(code) when it folds in the element tagged `trigger` (0: never),
/// counting the throw in `*fired`. `Exact` picks the fold engine's left-to-right path
/// (true) or its canonical-tree path (false); the arithmetic is exact either way.
template <bool Exact>
struct poly_reducer {
    using value_type = poly;
    static constexpr bool is_exactly_associative = Exact;
    std::uint32_t trigger = 0;
    std::uint32_t code = 0;
    std::atomic<std::uint64_t>* fired = nullptr;
    [[nodiscard]] poly identity() const noexcept { return {}; }
    [[nodiscard]] poly combine(poly a, poly b) const {
        if (trigger != 0 && b.tag == trigger) {
            fired->fetch_add(1, std::memory_order_relaxed);
            throw injected_fault(code);
        }
        return {a.hash * b.power + b.hash, a.power * b.power, 0};
    }
};

struct affine {
    std::uint64_t a = 1;
    std::uint64_t b = 0;
};
inline constexpr auto compose_affine = [](affine f, affine g) { return affine{g.a * f.a, g.a * f.b + g.b}; };

template <class Range>
std::uint64_t ordered_hash(const Range& values) {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (std::uint64_t x : values) h = ordered(h, x);
    return h;
}

/// Folds one element into an accumulator the way a plain loop would (the oracle's own
/// fold, not the library's): combine when it is a value_type, else the reducer's
/// accumulate (concat of single elements, optionals), in place or by value.
template <class Red, class T>
void fold_in(const Red& red, typename Red::value_type& acc, T&& element) {
    using value_type = typename Red::value_type;
    if constexpr (std::convertible_to<T, value_type>) {
        acc = microtask::combine(red, std::move(acc), value_type(std::forward<T>(element)));
    } else if constexpr (microtask::accumulates_in_place<Red, T>) {
        red.accumulate(acc, std::forward<T>(element));
    } else {
        acc = red.accumulate(std::move(acc), std::forward<T>(element));
    }
}

// ---- The two runs ---------------------------------------------------------------------

/// The library's primitives, on `pool`.
struct parallel_run {
    static constexpr bool parallel = true;
    using pool_ptr = microtask::thread_pool*;

    template <class A, class B>
    static auto join(pool_ptr pool, A a, B b) {
        return microtask::join(*pool, a, b);
    }
    template <class Map, class Red, class Policy>
    static auto map_reduce(pool_ptr pool, std::uint32_t n, Map map, const Red& red, Policy policy) {
        return microtask::map_reduce(*pool, microtask::iota(0u, n), map, red, policy);
    }
    template <class T, class Red, class Policy>
    static auto reduce(pool_ptr pool, const std::vector<T>& values, const Red& red, Policy policy) {
        return microtask::reduce(*pool, values, red, policy);
    }
    /// The reduce without a pool, of partial results.
    template <class T, class Red>
    static auto reduce(std::vector<T>&& partials, const Red& red) {
        return microtask::reduce(std::move(partials), red);
    }
    template <class Fn, class Policy>
    static void for_each(pool_ptr pool, std::uint32_t n, Fn fn, Policy policy) {
        microtask::for_each(*pool, microtask::iota(0u, n), fn, policy);
    }
    template <class Parts, class Fn>
    static auto distribute(pool_ptr pool, const Parts& parts, Fn fn) {
        return microtask::distribute(*pool, parts, fn);
    }
    template <class Fn>
    static std::vector<std::uint64_t> group(pool_ptr pool, std::uint32_t n, bool chain, Fn fn) {
        std::vector<std::uint64_t> results(n);
        // Chained: task i first runs task i + 1 into the group, then does its own work,
        // so a failing task does not stop the chain (every task runs, as with run()).
        std::function<void(std::uint32_t)> spawn;
        microtask::task_group tasks(*pool);  // destroyed (waiting) before what its tasks use
        if (chain) {
            spawn = [&](std::uint32_t i) {
                tasks.run([&spawn, &results, &fn, i] {
                    if (i + 1 < results.size()) spawn(i + 1);
                    results[i] = fn(i);
                });
            };
            if (n > 0) spawn(0);
        } else {
            for (std::uint32_t i = 0; i < n; ++i) tasks.run([&results, &fn, i] { results[i] = fn(i); });
        }
        tasks.wait();
        return results;
    }
    template <class Fn>
    static std::vector<std::uint64_t> submit_all(pool_ptr pool, std::uint32_t n, Fn fn) {
        std::vector<microtask::future<std::uint64_t>> futures;
        futures.reserve(n);
        for (std::uint32_t i = 0; i < n; ++i) futures.push_back(pool->submit([&fn, i] { return fn(i); }));
        // Wait for all before the first get() may throw: what a careful user does, and it
        // lets the check demand that every submitted element ran.
        for (auto& f : futures) f.wait();
        std::vector<std::uint64_t> results;
        for (auto& f : futures) results.push_back(f.get());
        return results;
    }
    template <class Fn>
    static std::vector<std::uint64_t> threads(std::uint32_t n, Fn fn) {
        std::vector<std::uint64_t> results(n);
        std::vector<std::exception_ptr> errors(n);
        {
            std::vector<std::jthread> started;
            for (std::uint32_t i = 0; i < n; ++i) {
                started.emplace_back([&, i] {
                    try {
                        results[i] = fn(i);
                    } catch (...) {
                        errors[i] = std::current_exception();
                    }
                });
            }
        }  // joined
        for (const auto& error : errors) {
            if (error) std::rethrow_exception(error);
        }
        return results;
    }
};

/// Thrown by the sequential run: the sorted error codes that may reach the caller.
struct possible_errors {
    std::vector<std::uint32_t> codes;
};

/// The oracle: each primitive as a loop in the calling thread that runs every subtask,
/// also after one threw, and collects the error codes that may reach the caller.
struct sequential_run {
    static constexpr bool parallel = false;
    using pool_ptr = microtask::thread_pool*;  // unused

    /// The possible errors of several subtasks.
    class errors {
    public:
        template <class Fn>
        auto attempt(Fn&& fn) -> std::optional<decltype(fn())> {
            try {
                return fn();
            } catch (const possible_errors& e) {
                add(e.codes);
            } catch (const injected_fault& e) {
                add({e.code});
            } catch (const std::bad_alloc&) {
                add({k_bad_alloc_code});
            }
            return std::nullopt;
        }
        void rethrow() const {
            if (!m_codes.empty()) throw possible_errors{m_codes};
        }

    private:
        void add(const std::vector<std::uint32_t>& codes) {
            std::vector<std::uint32_t> merged;
            std::ranges::set_union(m_codes, codes, std::back_inserter(merged));
            m_codes = std::move(merged);
        }
        std::vector<std::uint32_t> m_codes;
    };

    // Both sides run even when `a` throws, but only a's errors can arrive then.
    template <class A, class B>
    static auto join(pool_ptr, A a, B b) {
        errors first, second;
        auto left = first.attempt(a);
        auto right = second.attempt(b);
        first.rethrow();
        second.rethrow();
        return std::pair(std::move(*left), std::move(*right));
    }
    template <class Map, class Red, class Policy>
    static auto map_reduce(pool_ptr, std::uint32_t n, Map map, const Red& red, Policy) {
        errors failed;
        auto acc = red.identity();
        for (std::uint32_t i = 0; i < n; ++i) {
            if (auto mapped = failed.attempt([&] { return map(i); })) {
                failed.attempt([&] { return (fold_in(red, acc, std::move(*mapped)), 0); });
            }
        }
        failed.rethrow();
        return acc;
    }
    template <class T, class Red, class Policy>
    static auto reduce(pool_ptr, const std::vector<T>& values, const Red& red, Policy) {
        return fold_all(values, red);
    }
    template <class T, class Red>
    static auto reduce(std::vector<T>&& partials, const Red& red) {
        return fold_all(partials, red);
    }
    template <class Fn, class Policy>
    static void for_each(pool_ptr, std::uint32_t n, Fn fn, Policy) {
        errors failed;
        for (std::uint32_t i = 0; i < n; ++i) failed.attempt([&] { return (fn(i), 0); });
        failed.rethrow();
    }
    template <class Parts, class Fn>
    static auto distribute(pool_ptr, const Parts& parts, Fn fn) {
        using result = std::invoke_result_t<Fn&, std::ranges::range_reference_t<const Parts>>;
        errors failed;
        std::vector<result> results;
        for (auto&& part : parts) {
            auto value = failed.attempt([&] { return fn(part); });
            results.push_back(value ? std::move(*value) : result{});
        }
        failed.rethrow();
        return results;
    }
    template <class Fn>
    static std::vector<std::uint64_t> group(pool_ptr pool, std::uint32_t n, bool, Fn fn) {
        return distribute(pool, microtask::iota(0u, n), fn);
    }
    // Every element runs; the first that failed, in order, is the one whose errors arrive.
    template <class Fn>
    static std::vector<std::uint64_t> submit_all(pool_ptr, std::uint32_t n, Fn fn) {
        std::vector<errors> failed(n);
        std::vector<std::uint64_t> results(n);
        for (std::uint32_t i = 0; i < n; ++i) results[i] = failed[i].attempt([&] { return fn(i); }).value_or(0);
        for (const errors& e : failed) e.rethrow();
        return results;
    }
    template <class Fn>
    static std::vector<std::uint64_t> threads(std::uint32_t n, Fn fn) {
        return submit_all(nullptr, n, fn);
    }

private:
    template <class T, class Red>
    static typename Red::value_type fold_all(const std::vector<T>& values, const Red& red) {
        errors failed;
        auto acc = red.identity();
        for (const T& x : values) failed.attempt([&] { return (fold_in(red, acc, x), 0); });
        failed.rethrow();
        return acc;
    }
};

/// A reducer kind as a type, for `if constexpr`.
template <reducer_kind Kind>
inline constexpr std::integral_constant<reducer_kind, Kind> reducer_tag{};

// ---- The interpreter -------------------------------------------------------------------

/// Evaluates a program with Run's primitives, counting every node's evaluations.
/// `other` is the pool of task_op::other_pool (nullptr: the same pool). Every node's
/// reducer must be in `Reducers`.
template <class Run, reducer_set Reducers>
class interpreter {
public:
    using pool_ptr = microtask::thread_pool*;

    interpreter(const task_program& prog, pool_ptr other) : m_prog(prog), m_other(other), m_ran(prog.nodes.size()) {}

    std::uint64_t eval(pool_ptr pool, std::uint32_t id) {
        const task_node& n = m_prog.nodes[id];
        m_ran[id].fetch_add(1, std::memory_order_relaxed);
        if constexpr (Run::parallel) {
            if (n.pause == pause_kind::yield) std::this_thread::yield();
            if (n.pause == pause_kind::sleep) std::this_thread::sleep_for(std::chrono::microseconds(n.sleep_us));
        }
        if (n.op == task_op::leaf) {
            if (n.fault != fault_kind::none) fire(n);
            return n.salt;
        }
        std::uint64_t folded = 0;
        if (n.op == task_op::map_reduce || n.op == task_op::reduce || n.op == task_op::for_each) {
            folded = with_reducer<Reducers>(n, [&](const auto& red, auto shape, auto finish) {
                return finish(fold_with_policy(pool, n, red, shape));
            });
        } else {
            folded = with_reducer<Reducers & k_poly_reducers>(
                n, [&](const auto& red, auto shape, auto finish) { return finish(fold_results(pool, n, red, shape)); });
        }
        // An inner node's own fault fires after its elements ran: a failure while sibling
        // subtrees may still be running elsewhere.
        if (n.fault == fault_kind::throws || n.fault == fault_kind::bad_alloc) fire(n);
        return mix64(folded ^ mix64(n.salt));
    }

    [[nodiscard]] std::uint8_t ran(std::size_t id) const { return m_ran[id].load(std::memory_order_relaxed); }

    /// Planted faults that fired (threw) during the run; at most one reaches the caller.
    [[nodiscard]] std::uint64_t faults_fired() const { return m_fired.load(std::memory_order_relaxed); }

private:
    /// Counts a planted fault as fired, then throws it.
    [[noreturn]] void fire(const task_node& n) {
        m_fired.fetch_add(1, std::memory_order_relaxed);
        if (n.fault == fault_kind::bad_alloc) throw std::bad_alloc();
        throw injected_fault(n.code);
    }

    /// Element i of node n.
    std::uint64_t element(pool_ptr pool, const task_node& n, std::uint32_t i) {
        const std::uint64_t own = mix64(n.salt + i);
        return i < n.count ? own + eval(pool, n.first + i) : own;
    }

    /// Runs `body(reducer, shape, finish)` with the node's reducer, which must be in `Set`
    /// (only those are compiled): shape(x, i) turns the value x of element i into what the
    /// reducer folds, finish the reducer's result into a value.
    template <reducer_set Set, class Body>
    std::uint64_t with_reducer(const task_node& n, Body&& body) {
        namespace mt = microtask;
        using u64 = std::uint64_t;
        using vector = std::vector<u64>;
        const auto same = [](u64 x, std::uint32_t) { return x; };
        const auto odd = [](u64 x, std::uint32_t) { return x | 1; };
        const auto pair_or_none = [](u64 x, std::uint32_t) { return x % 5 == 0 ? vector{} : vector{x, x >> 9}; };
        const auto some = [](u64 x, std::uint32_t) { return x % 3 == 0 ? std::nullopt : std::optional<u64>(x); };
        const auto hash_vector = [](const vector& v) { return ordered_hash(v); };
        const auto to_affine = [](u64 x, std::uint32_t) { return affine{x | 1, x >> 7}; };
        const auto hash_affine = [](affine f) { return ordered(f.a, f.b); };
        const auto to_poly = [](u64 x, std::uint32_t i) { return poly{x, k_poly_base, i + 1}; };
        const auto hash_poly = [](poly p) { return ordered(p.hash, p.power); };
        const std::uint32_t trigger = n.fault == fault_kind::in_combine ? n.trigger + 1 : 0;
        // body(reducer, shape, finish), compiled only for the kinds in Set.
        auto use = [&](auto tag, const auto& red, auto shape, auto finish) -> u64 {
            if constexpr ((Set & reducer_bit(decltype(tag)::value)) != 0) return body(red, shape, finish);
            throw std::logic_error("task_program: a reducer outside the set compiled for the node's primitive");
        };
        switch (n.reducer) {
            case reducer_kind::sum:
                return use(reducer_tag<reducer_kind::sum>, mt::sum<u64>{}, same, std::identity{});
            case reducer_kind::product:
                return use(reducer_tag<reducer_kind::product>, mt::product<u64>{}, odd, std::identity{});
            case reducer_kind::min:
                return use(reducer_tag<reducer_kind::min>, mt::min<u64>{}, same, std::identity{});
            case reducer_kind::max:
                return use(reducer_tag<reducer_kind::max>, mt::max<u64>{}, same, std::identity{});
            case reducer_kind::concat_vector:
                return use(reducer_tag<reducer_kind::concat_vector>, mt::concat<vector>{}, pair_or_none, hash_vector);
            case reducer_kind::concat_single:
                return use(reducer_tag<reducer_kind::concat_single>, mt::concat<vector>{}, same, hash_vector);
            case reducer_kind::concat_optional:
                return use(reducer_tag<reducer_kind::concat_optional>, mt::concat<vector>{}, some, hash_vector);
            case reducer_kind::affine:
                return use(reducer_tag<reducer_kind::affine>, mt::make_reducer(affine{}, compose_affine), to_affine,
                           hash_affine);
            case reducer_kind::affine_exact:
                return use(reducer_tag<reducer_kind::affine_exact>,
                           mt::make_reducer(affine{}, compose_affine, mt::exactly_associative), to_affine, hash_affine);
            case reducer_kind::poly:
                return use(reducer_tag<reducer_kind::poly>, poly_reducer<false>{trigger, n.code, &m_fired}, to_poly,
                           hash_poly);
            case reducer_kind::poly_exact:
                return use(reducer_tag<reducer_kind::poly_exact>, poly_reducer<true>{trigger, n.code, &m_fired},
                           to_poly, hash_poly);
        }
        throw std::logic_error("task_program: not a reducer_kind");
    }

    /// Runs `body(policy)` with the policy's type. The oracle ignores policies (they do not
    /// change a value here: each reducer's arithmetic is exact), so it compiles one.
    template <class Body>
    static auto with_policy(policy_spec policy, Body&& body) {
        if constexpr (Run::parallel) {
            if (policy.kind == 1) return body(microtask::grain(policy.size));
            if (policy.kind == 2) return body(microtask::chunks(policy.size));
        }
        return body(microtask::adaptive{});
    }

    /// map_reduce, reduce and for_each: node n's elements, folded in order with `red`.
    template <class Red, class Shape>
    typename Red::value_type fold_with_policy(pool_ptr pool, const task_node& n, const Red& red, Shape shape) {
        if (n.op == task_op::map_reduce) {
            auto shaped = [&](std::uint32_t i) { return shape(element(pool, n, i), i); };
            return with_policy(n.policy,
                               [&](auto policy) { return Run::map_reduce(pool, n.elements, shaped, red, policy); });
        }
        const auto elements = shaped_values(element_values(pool, n), shape);
        return with_policy(n.policy, [&](auto policy) { return Run::reduce(pool, elements, red, policy); });
    }

    /// The other primitives: node n's elements, folded in order with `red` (a poly
    /// reducer) as the library folds partial results.
    template <class Red, class Shape>
    typename Red::value_type fold_results(pool_ptr pool, const task_node& n, const Red& red, Shape shape) {
        namespace mt = microtask;
        if (n.op == task_op::join) return join_range(pool, n, red, shape, 0, n.elements);
        if (n.op == task_op::other_pool) {
            return join_range(m_other != nullptr ? m_other : pool, n, red, shape, 0, n.elements);
        }
        if (n.op == task_op::decompose) {
            // The parts have one type whatever the policy: distribute is compiled once.
            const auto parts =
                with_policy(n.policy, [&](auto policy) { return mt::decompose(mt::iota(0u, n.elements), policy); });
            check_parts(parts, n.elements);
            auto fold_part = [&](auto part) {
                auto acc = red.identity();
                for (std::uint32_t i : part) fold_in(red, acc, shape(element(pool, n, i), i));
                return acc;
            };
            return Run::reduce(Run::distribute(pool, parts, fold_part), red);
        }
        return Run::reduce(shaped_values(element_values(pool, n), shape), red);
    }

    template <class Shape>
    static auto shaped_values(const std::vector<std::uint64_t>& values, Shape shape) {
        std::vector<decltype(shape(std::uint64_t{}, 0u))> elements;
        for (std::uint32_t i = 0; i < values.size(); ++i) elements.push_back(shape(values[i], i));
        return elements;
    }

    /// The values of node n's elements in order, by the node's primitive, for the
    /// primitives that do not fold them themselves. (Apart from the fold, so that these
    /// primitives are compiled once and not once per reducer.)
    std::vector<std::uint64_t> element_values(pool_ptr pool, const task_node& n) {
        namespace mt = microtask;
        auto value_of = [this, pool, &n](std::uint32_t i) { return element(pool, n, i); };
        switch (n.op) {
            case task_op::reduce: {  // in the calling thread
                std::vector<std::uint64_t> values;
                for (std::uint32_t i = 0; i < n.elements; ++i) values.push_back(value_of(i));
                return values;
            }
            case task_op::for_each:
                return with_policy(n.policy, [&](auto policy) {
                    std::vector<std::uint64_t> out(n.elements);
                    Run::for_each(
                        pool, n.elements, [&](std::uint32_t i) { out[i] = value_of(i); }, policy);
                    return out;
                });
            case task_op::distribute:
                return Run::distribute(pool, mt::iota(0u, n.elements), value_of);
            case task_op::decompose_user: {
                auto parts = mt::decompose(n, [this](const task_node& job) {
                    if (job.fault == fault_kind::in_decomposer) fire(job);
                    std::vector<std::uint32_t> indices(job.elements);
                    for (std::uint32_t i = 0; i < job.elements; ++i) indices[i] = i;
                    return indices;
                });
                return Run::distribute(pool, parts, value_of);
            }
            case task_op::task_group:
                return Run::group(pool, n.elements, n.chain, value_of);
            case task_op::submit:
                return Run::submit_all(pool, n.elements, value_of);
            case task_op::threads:
                return Run::threads(n.elements, value_of);
            default:
                throw std::logic_error("task_program: this primitive folds its elements itself");
        }
    }

    /// Elements [lo, hi) by nested joins; each element is folded in as the right operand
    /// once, so a planted combine fault fires whichever element it names.
    template <class Red, class Shape>
    typename Red::value_type join_range(pool_ptr pool, const task_node& n, const Red& red, Shape shape,
                                        std::uint32_t lo, std::uint32_t hi) {
        auto acc = red.identity();
        if (hi - lo == 1) fold_in(red, acc, shape(element(pool, n, lo), lo));
        if (hi - lo <= 1) return acc;
        const std::uint32_t mid = lo + (hi - lo) / 2;
        auto [left, right] = Run::join(
            pool, [&] { return join_range(pool, n, red, shape, lo, mid); },
            [&] { return join_range(pool, n, red, shape, mid, hi); });
        return microtask::combine(red, std::move(left), std::move(right));
    }

    /// decompose must cut [0, n) into contiguous, non-empty parts in order.
    template <class Parts>
    static void check_parts(const Parts& parts, std::uint32_t n) {
        std::uint32_t next = 0;
        for (const auto& part : parts) {
            if (part.empty() || part[0] != next) throw std::logic_error("decompose: parts not contiguous");
            next += static_cast<std::uint32_t>(part.size());
        }
        if (next != n) throw std::logic_error("decompose: parts do not cover the range");
    }

    const task_program& m_prog;
    pool_ptr m_other;
    std::vector<std::atomic<std::uint8_t>> m_ran;
    std::atomic<std::uint64_t> m_fired{0};
};

// ---- Running and checking ------------------------------------------------------------------

/// What one run of a program did.
struct run_outcome {
    bool threw = false;
    std::uint64_t value = 0;           // when !threw
    std::vector<std::uint32_t> codes;  // sequential: the codes that may arrive; parallel: the one that did
};

/// What `fn` returned, or the codes it threw (the oracle's possible errors, a planted
/// fault, std::bad_alloc); any other exception escapes.
template <class Fn>
run_outcome outcome_of(Fn&& fn) {
    try {
        return {false, fn(), {}};
    } catch (const possible_errors& e) {
        return {true, 0, e.codes};
    } catch (const injected_fault& e) {
        return {true, 0, {e.code}};
    } catch (const std::bad_alloc&) {
        return {true, 0, {k_bad_alloc_code}};
    }
}

/// What run_and_check found.
struct checked_run {
    run_outcome expected;  // sequential
    run_outcome got;       // on the pool
    std::uint64_t faults_fired = 0;
    std::string problem;  // "" when every check holds
};

/// Runs `prog` on `pool` (from a task submitted to it if `inside_pool`, else from the
/// calling thread) and sequentially, and checks: no node ran twice; without an exception,
/// every node ran once, the value is the oracle's; with one, the oracle threw too, the
/// code is one it allows, and every element of a task_group, submit or threads node that
/// ran, ran (those tasks always run). `tasks` and `lost` are incremented by the nodes that
/// ran and the nodes that should have run but did not. Other exceptions escape.
template <reducer_set Reducers = k_all_reducers>
checked_run run_and_check(const task_program& prog, microtask::thread_pool& pool, microtask::thread_pool* other,
                          bool inside_pool, std::uint64_t& tasks, std::uint64_t& lost) {
    checked_run result;
    interpreter<sequential_run, Reducers> oracle(prog, nullptr);
    result.expected = outcome_of([&] { return oracle.eval(nullptr, 0); });
    interpreter<parallel_run, Reducers> runner(prog, other);
    result.got = outcome_of(
        [&] { return inside_pool ? pool.submit([&] { return runner.eval(&pool, 0); }).get() : runner.eval(&pool, 0); });
    result.faults_fired = runner.faults_fired();

    std::string& problem = result.problem;
    std::uint64_t missing = 0;
    for (std::size_t i = 0; i < prog.nodes.size(); ++i) {
        const std::uint8_t runs = runner.ran(i);
        tasks += runs;
        if (runs > 1 && problem.empty())
            problem = "node " + std::to_string(i) + " ran " + std::to_string(runs) + " times";
        const task_node& n = prog.nodes[i];
        if (!result.expected.threw) {
            missing += runs == 0;
        } else if (runs == 1 && (n.op == task_op::task_group || n.op == task_op::submit || n.op == task_op::threads)) {
            for (std::uint32_t c = 0; c < n.count; ++c) missing += runner.ran(n.first + c) == 0;
        }
    }
    lost += missing;
    if (missing != 0 && problem.empty()) problem = std::to_string(missing) + " tasks never ran";
    if (!problem.empty()) return result;
    const run_outcome& expected = result.expected;
    const run_outcome& got = result.got;
    if (expected.threw != got.threw) {
        problem = got.threw ? "threw, but the sequential run did not" : "did not throw, but the sequential run did";
    } else if (!got.threw && got.value != expected.value) {
        problem = "wrong value: differs from the sequential run";
    } else if (got.threw && !std::ranges::binary_search(expected.codes, got.codes.front())) {
        problem = "error code " + std::to_string(got.codes.front()) + " arrived, which the sequential run cannot raise";
    }
    return result;
}

}  // namespace microtask_test
