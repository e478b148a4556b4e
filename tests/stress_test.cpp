// Stress: random task trees mixing every primitive, on oversubscribed pools, checked
// against sequential evaluation, with every task counted. Time-boxed: see
// stress_seconds() in test_support.hpp and scripts/stress (--long for hours).
#include "stress_tree.hpp"
#include "task_interpreter.hpp"
#include "test_support.hpp"

#include <microtask/microtask.hpp>

#include "catch.hpp"

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace mt = microtask;
using namespace microtask_test;

namespace {

/// One outside thread's share of a round: evaluates `trees` random trees on the pool,
/// some from the thread itself (it borrows a guest or leased seat) and some from inside
/// a pool task (where waiting helps instead of blocking).
struct caller_result {
    std::uint64_t tasks = 0;
    std::uint64_t lost = 0;
    std::uint64_t trees = 0;
    std::string problem;  // the first failure, with the seed that reproduces its tree
};

void evaluate_trees(mt::thread_pool& pool, mt::thread_pool* other, std::uint64_t seed, unsigned trees,
                    caller_result& out) {
    splitmix64 rng(seed);
    for (unsigned t = 0; t < trees && out.problem.empty(); ++t) {
        const std::uint64_t tree_seed = rng.next();
        tree_shape shape;
        shape.max_depth = static_cast<unsigned>(rng.between(1, 6));
        shape.max_fanout = static_cast<unsigned>(rng.between(2, 8));
        shape.max_nodes = static_cast<unsigned>(rng.between(50, scaled(3000) < 300 ? 300 : scaled(3000)));
        shape.other_pool = other != nullptr;
        const task_program tree = generate_tree(tree_seed, shape);
        out.problem = run_and_check<k_tree_reducers>(tree, pool, other, rng.chance(30), out.tasks, out.lost).problem;
        if (!out.problem.empty()) {
            out.problem += " (tree seed " + std::to_string(tree_seed) + ", " + std::to_string(tree.nodes.size()) +
                           " nodes, pool of " + std::to_string(pool.size()) + ")";
        }
        ++out.trees;
    }
}

}  // namespace

TEST_CASE(
    "stress: random trees of nested parallel calls on oversubscribed pools match sequential evaluation, "
    "each task running exactly once",
    "[stress]") {
    const std::uint64_t seed = stress_seed();
    const time_budget budget(stress_seconds(20, 12));
    INFO("seed " << seed << " (replay a failed round with MICROTASK_STRESS_SEED=<its round_seed>)");
    reliability_counts counts;
    std::uint64_t trees = 0;
    run_rounds(budget, seed, 3, [&](std::uint64_t round_seed) {
        splitmix64 rng(round_seed);
        const auto workers = static_cast<int>(rng.between(1, 16));  // 2 cores: mostly oversubscribed
        auto other = rng.chance(30) ? std::make_unique<mt::thread_pool>(static_cast<int>(rng.between(1, 3))) : nullptr;
        mt::thread_pool pool(workers);
        const auto callers = static_cast<unsigned>(rng.between(1, 3));
        std::vector<caller_result> results(callers);
        std::vector<std::thread> threads;
        for (unsigned c = 1; c < callers; ++c) {
            threads.emplace_back(evaluate_trees, std::ref(pool), other.get(), rng.next(),
                                 static_cast<unsigned>(rng.between(1, 3)), std::ref(results[c]));
        }
        evaluate_trees(pool, other.get(), rng.next(), static_cast<unsigned>(rng.between(1, 3)), results[0]);
        for (auto& thread : threads) thread.join();
        for (const caller_result& result : results) {
            CAPTURE(round_seed, workers, callers);
            REQUIRE(result.problem == "");
            counts.tasks += result.tasks;
            counts.lost += result.lost;
            trees += result.trees;
        }
    });
    REQUIRE(counts.lost == 0);
    REQUIRE(trees >= 3);
    report_reliability("stress_random_trees", counts, budget.elapsed_seconds(), seed);
}

TEST_CASE(
    "stress: storms of submits from more outside threads than leased seats and from tasks each run "
    "exactly once, also when the pool is destroyed with tasks queued",
    "[stress]") {
    const std::uint64_t seed = stress_seed();
    const time_budget budget(stress_seconds(8, 5));
    INFO("seed " << seed);
    reliability_counts counts;
    run_rounds(budget, seed, 3, [&](std::uint64_t round_seed) {
        splitmix64 rng(round_seed);
        const auto workers = static_cast<int>(rng.between(1, 16));
        // More than the 16 leased seats: the late submitters go through the injection queue.
        const auto submitters = static_cast<unsigned>(rng.between(1, 24));
        const std::size_t per_thread = rng.between(1, scaled(2000) < 50 ? 50 : scaled(2000));
        const std::size_t children = rng.between(0, 3);  // tasks a task submits in turn
        const std::size_t total = submitters * per_thread * (1 + children);
        std::vector<std::atomic<std::uint8_t>> ran(total);
        {
            mt::thread_pool pool(workers);
            std::vector<std::thread> threads;
            for (unsigned s = 0; s < submitters; ++s) {
                threads.emplace_back([&, s] {
                    std::vector<mt::future<void>> kept;
                    for (std::size_t i = 0; i < per_thread; ++i) {
                        const std::size_t index = (s * per_thread + i) * (1 + children);
                        auto fut = pool.submit([&ran, &pool, index, children] {
                            ran[index].fetch_add(1, std::memory_order_relaxed);
                            for (std::size_t k = 1; k <= children; ++k) {
                                (void)pool.submit(
                                    [&ran, at = index + k] { ran[at].fetch_add(1, std::memory_order_relaxed); });
                            }
                        });
                        if (i % 3 == 0) kept.push_back(std::move(fut));  // the others are fire-and-forget
                    }
                    for (auto& f : kept) f.get();
                });
            }
            for (auto& thread : threads) thread.join();
        }  // fire-and-forget tasks and their children may still be queued: the destructor runs them
        std::uint64_t runs = 0, lost = 0, duplicated = 0;
        for (auto& r : ran) {
            runs += r.load();
            lost += r.load() == 0;
            duplicated += r.load() > 1;
        }
        CAPTURE(round_seed, workers, submitters, per_thread, children);
        counts.tasks += runs;  // counted by the tasks, not the number submitted
        counts.lost += lost;
        REQUIRE(lost == 0);
        REQUIRE(duplicated == 0);
    });
    report_reliability("stress_submit_storms", counts, budget.elapsed_seconds(), seed);
}
