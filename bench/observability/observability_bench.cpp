// What observability costs: statistics, the timeline trace and progress reports, on the
// fork-heavy and task-heavy workloads and on a long map_reduce.
//
// Built twice (bench/CMakeLists.txt): `observability_bench` as shipped (statistics
// always counted, tracing off until started), and `observability_bench_off` with
// MICROTASK_NO_STATS_OR_TRACE, which compiles the counters and the tracing check out.
// scripts/bench-observability runs the two alternately and compares each row with its
// twin: the ratio is the cost of the instrumentation when off. Inside one binary, the
// `trace_on` rows against the plain rows give the cost of tracing when on, and the
// `progress` row against `no_progress` the cost of a progress reporter.
#include <microtask/microtask.hpp>

#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

namespace {

namespace mt = microtask;

mt::thread_pool& pool() {
    static mt::thread_pool instance{2};
    return instance;
}

std::int64_t fib_serial(int n) { return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2); }

// fib(n) forking at every call (cutoff 0): the cost of one fork-join dominates.
std::int64_t fib(mt::thread_pool& p, int n) {
    if (n < 2) return n;
    auto [a, b] = mt::join(
        p, [&] { return fib(p, n - 1); }, [&] { return fib(p, n - 2); });
    return a + b;
}

// Tracing on for the body of one benchmark: the spans stay in memory (as they would in a
// traced program), so these rows run a bounded number of iterations.
struct tracing_for {
    explicit tracing_for(bool on) : m_on(on) {
        if (m_on) mt::start_tracing();
    }
    ~tracing_for() {
        if (m_on) mt::stop_tracing();
    }
    bool m_on;
};

void bm_fork_join(benchmark::State& state) {
    const tracing_for tracing(state.range(0) != 0);
    constexpr int n = 25;
    const std::int64_t expected = fib_serial(n);
    for (auto _ : state) {
        // A volatile round trip, not benchmark::DoNotOptimize(int): see bench::opaque in
        // bench/bench_common.hpp.
        volatile int opaque_n = n;
        const std::int64_t r = fib(pool(), opaque_n);
        if (r != expected) {
            state.SkipWithError("fork_join: wrong result");
            break;
        }
    }
}

void bm_task_group(benchmark::State& state) {
    const tracing_for tracing(state.range(0) != 0);
    constexpr std::int64_t tasks = 10'000;
    std::vector<int> out(tasks, -1);
    std::int64_t expected = 0;
    for (std::int64_t i = 0; i < tasks; ++i) expected += i % 7;
    for (auto _ : state) {
        mt::task_group group{pool()};
        int* slot = out.data();
        for (std::int64_t i = 0; i < tasks; ++i) group.run([slot, i] { slot[i] = static_cast<int>(i % 7); });
        group.wait();
        std::int64_t sum = 0;
        for (int& v : out) sum += std::exchange(v, -1);
        // A task that did not run leaves -1 in its place.
        if (sum != expected) {
            state.SkipWithError("task_group: a task did not run");
            break;
        }
    }
}

// A long map_reduce with cheap elements (many leaves), without and with a progress
// reporter: the reporter's cost is an atomic add and a clock read per leaf.
void bm_map_reduce(benchmark::State& state) {
    const bool with_progress = state.range(0) != 0;
    constexpr std::int64_t n = 20'000'000;
    std::int64_t reports = 0;
    mt::progress bar([&reports](std::size_t, std::size_t) { ++reports; }, std::chrono::milliseconds(10));
    auto map = [](std::int64_t i) { return std::sqrt(static_cast<double>(i)); };
    double result = 0;
    for (auto _ : state) {
        const auto range = mt::iota(std::int64_t{0}, n);
        result = with_progress ? mt::map_reduce(pool(), range, map, mt::sum<double>{}, bar)
                               : mt::map_reduce(pool(), range, map, mt::sum<double>{});
        benchmark::DoNotOptimize(result);
        // The integral of sqrt over [0, n) within 0.1%.
        const double approx = 2.0 / 3.0 * std::pow(static_cast<double>(n), 1.5);
        if (std::abs(result - approx) > approx * 1e-3 || (with_progress && bar.done() != n)) {
            state.SkipWithError("map_reduce: wrong result or incomplete progress");
            break;
        }
    }
    state.counters["reports"] = static_cast<double>(reports);
}

}  // namespace

BENCHMARK(bm_fork_join)->Name("observability/fork_join_fib25")->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(bm_fork_join)
    ->Name("observability/fork_join_fib25_trace_on")
    ->Arg(1)
    ->Iterations(40)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_task_group)->Name("observability/task_group_10k")->Arg(0)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(bm_task_group)
    ->Name("observability/task_group_10k_trace_on")
    ->Arg(1)
    ->Iterations(200)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_map_reduce)
    ->Name("observability/map_reduce_2e7_no_progress")
    ->Arg(0)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(bm_map_reduce)
    ->Name("observability/map_reduce_2e7_progress")
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
