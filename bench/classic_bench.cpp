// Workloads `classic/<workload>`: the classic task-parallel suite of the Cilk, BOTS and
// UTS papers, each as serial code, microtask, oneTBB's task_group and OpenMP tasks, all
// in this binary:
//   fib        fib(32) with a fork per call and no cutoff; ns_per_fork is the elapsed
//              time over the exact number of forks (3,524,577 per call)
//   nqueens    the 14,200 solutions of 12 queens, a task per safe square of each row
//   uts_t1     UTS geometric tree (b0 = 4, depth 10, seed 25): 547,015 nodes
//   uts_t3     UTS binomial tree (root 2000, m = 7, q = 0.1423, seed 42): 675,016 nodes
//   integrate  adaptive trapezoid quadrature of x^3 + x over [0, 1000], both halves forked
//   matmul     512 x 512 doubles, C += A B over quadrants, serial 64 x 64 blocks
//   skynet     10^6 leaves, 10 children per node, the sum of the leaf indices
// microtask is written as docs/guide.md teaches: mt::join for the binary forks (fib,
// integrate), an mt::task_group per node for the n-ary ones; oneTBB with a task_group per
// node and OpenMP with task + taskwait, in the same shape. Every timed iteration checks
// its answer against the serial one (the node count for UTS, bitwise for integrate).
// Here fib, integrate and skynet, whose trees are fixed by their size; nqueens and UTS,
// whose trees a search discovers, are in classic_search_bench.cpp, matmul in
// classic_matmul_bench.cpp, and what they share in classic.hpp.
#include "classic.hpp"

#include <array>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>

namespace {

namespace mt = microtask;
using classic::child_sums;

// ---- fib(32): the cost of one fork ---------------------------------------------------

constexpr int k_fib_n = 32;
constexpr std::int64_t k_fib_answer = 2178309;

/// Forks made by fib(n) with a fork per call: one per call with n >= 2, so
/// forks(n) = 1 + forks(n - 1) + forks(n - 2) (fib(n + 1) - 1), counted in a loop.
constexpr std::int64_t fib_forks(int n) {
    std::int64_t previous = 0, current = 0;  // forks(0), forks(1)
    for (int i = 2; i <= n; ++i) {
        const std::int64_t next = 1 + current + previous;
        previous = current;
        current = next;
    }
    return current;
}
static_assert(fib_forks(k_fib_n) == 3524577);

std::int64_t fib_serial(int n) { return n < 2 ? n : fib_serial(n - 1) + fib_serial(n - 2); }

/// Times `fib(n)` like classic::run, plus ns_per_fork = elapsed / (iterations * forks),
/// by its own clock (a rate counter with kInvert would print "s" after a value in ns).
template <class Fib>
void run_fib(benchmark::State& state, Fib fib) {
    const auto start = std::chrono::steady_clock::now();
    classic::run(state, k_fib_answer, "classic/fib: result differs from fib(32)",
                 [&] { return fib(bench::opaque(k_fib_n)); });
    const std::chrono::duration<double, std::nano> elapsed = std::chrono::steady_clock::now() - start;
    state.counters["ns_per_fork"] =
        elapsed.count() / (static_cast<double>(state.iterations()) * static_cast<double>(fib_forks(k_fib_n)));
}

std::int64_t fib_microtask(mt::thread_pool& pool, int n) {
    if (n < 2) return n;
    auto [a, b] = mt::join(
        pool, [&] { return fib_microtask(pool, n - 1); }, [&] { return fib_microtask(pool, n - 2); });
    return a + b;
}

#if MICROTASK_BENCH_HAVE_TBB
// oneTBB's usual form: a task_group per call, one side run, the other computed inline.
std::int64_t fib_tbb(int n) {
    if (n < 2) return n;
    std::int64_t a = 0;
    tbb::task_group group;
    group.run([&] { a = fib_tbb(n - 1); });
    const std::int64_t b = fib_tbb(n - 2);
    group.wait();
    return a + b;
}
#endif

#if MICROTASK_BENCH_HAVE_OPENMP
std::int64_t fib_omp(int n) {
    if (n < 2) return n;
    std::int64_t a = 0;
#pragma omp task shared(a) firstprivate(n)
    a = fib_omp(n - 1);
    const std::int64_t b = fib_omp(n - 2);
#pragma omp taskwait
    return a + b;
}
#endif

void bm_fib_serial(benchmark::State& state) { run_fib(state, fib_serial); }
void bm_fib_microtask(benchmark::State& state) {
    run_fib(state, [&pool = bench::pool()](int n) { return fib_microtask(pool, n); });
}
#if MICROTASK_BENCH_HAVE_TBB
void bm_fib_tbb_task_group(benchmark::State& state) {
    bench::limit_peers();
    run_fib(state, fib_tbb);
}
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
void bm_fib_omp_task(benchmark::State& state) {
    bench::limit_peers();
    run_fib(state, [](int n) { return classic::omp_root([n] { return fib_omp(n); }); });
}
#endif

// ---- integrate: adaptive quadrature, both halves forked ------------------------------

constexpr double k_integrate_to = 1000.0;
constexpr double k_integrate_epsilon = 1e-8;  // ~7.3 M calls, 3.6 M forks

double integrand(double x) { return (x * x + 1.0) * x; }

/// [x1, x2] with f at both ends and its trapezoid estimate of the integral.
struct segment {
    double x1, y1, x2, y2, area;
};

/// The two halves of `s` (the midpoint is evaluated once, for both).
std::array<segment, 2> halves(const segment& s) {
    const double half = (s.x2 - s.x1) / 2;
    const double x0 = s.x1 + half;
    const double y0 = integrand(x0);
    return {segment{s.x1, s.y1, x0, y0, (s.y1 + y0) / 2 * half}, segment{x0, y0, s.x2, s.y2, (y0 + s.y2) / 2 * half}};
}

/// Whether the halves' estimate is within epsilon of the whole's: then it is the answer.
bool converged(const segment& whole, const std::array<segment, 2>& h) {
    return std::fabs(h[0].area + h[1].area - whole.area) < k_integrate_epsilon;
}

double integrate_serial(const segment& s) {
    const auto h = halves(s);
    if (converged(s, h)) return h[0].area + h[1].area;
    return integrate_serial(h[0]) + integrate_serial(h[1]);
}

double integrate_microtask(mt::thread_pool& pool, const segment& s) {
    const auto h = halves(s);
    if (converged(s, h)) return h[0].area + h[1].area;
    auto [left, right] = mt::join(
        pool, [&] { return integrate_microtask(pool, h[0]); }, [&] { return integrate_microtask(pool, h[1]); });
    return left + right;
}

#if MICROTASK_BENCH_HAVE_TBB
double integrate_tbb(const segment& s) {
    const auto h = halves(s);
    if (converged(s, h)) return h[0].area + h[1].area;
    double left = 0;
    tbb::task_group group;
    group.run([&] { left = integrate_tbb(h[0]); });
    const double right = integrate_tbb(h[1]);
    group.wait();
    return left + right;
}
#endif

#if MICROTASK_BENCH_HAVE_OPENMP
double integrate_omp(const segment& s) {
    const auto h = halves(s);
    if (converged(s, h)) return h[0].area + h[1].area;
    double left = 0;
    const segment* first = &h[0];
#pragma omp task shared(left) firstprivate(first)
    left = integrate_omp(*first);
    const double right = integrate_omp(h[1]);
#pragma omp taskwait
    return left + right;
}
#endif

/// The whole interval, its ends read through bench::opaque so that no call is hoisted.
segment whole_interval() {
    const double to = bench::opaque(k_integrate_to);
    return {0.0, integrand(0.0), to, integrand(to), (integrand(0.0) + integrand(to)) / 2 * to};
}

/// The serial result's bits, computed once (untimed) for every peer.
std::uint64_t integrate_answer() {
    return bench::computed_once(
        0, [](std::int64_t) { return std::bit_cast<std::uint64_t>(integrate_serial(whole_interval())); });
}

/// Runs `integrate(whole_interval())`, checked bitwise against the serial result: the
/// recursion and the order of every addition are the same in every peer.
template <class Integrate>
void run_integrate(benchmark::State& state, Integrate integrate) {
    const std::uint64_t expected = integrate_answer();
    classic::run(state, expected, "classic/integrate: result differs from the serial one",
                 [&] { return std::bit_cast<std::uint64_t>(integrate(whole_interval())); });
}

void bm_integrate_serial(benchmark::State& state) { run_integrate(state, integrate_serial); }
void bm_integrate_microtask(benchmark::State& state) {
    run_integrate(state, [&pool = bench::pool()](const segment& s) { return integrate_microtask(pool, s); });
}
#if MICROTASK_BENCH_HAVE_TBB
void bm_integrate_tbb_task_group(benchmark::State& state) {
    bench::limit_peers();
    run_integrate(state, integrate_tbb);
}
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
void bm_integrate_omp_task(benchmark::State& state) {
    bench::limit_peers();
    run_integrate(state, [](const segment& s) { return classic::omp_root([&s] { return integrate_omp(s); }); });
}
#endif

// ---- skynet: 10^6 leaves, 10 children per node ---------------------------------------

constexpr std::int64_t k_skynet_leaves = 1'000'000;
constexpr std::int64_t k_skynet_answer = 499'999'500'000;  // 0 + 1 + ... + 999'999
constexpr int k_skynet_fanout = 10;

/// The sum of the leaf indices first .. first + size - 1 under a node of `size` leaves.
std::int64_t skynet_serial(std::int64_t first, std::int64_t size) {
    if (size == 1) return first;
    std::int64_t sum = 0;
    const std::int64_t part = size / k_skynet_fanout;
    for (int i = 0; i < k_skynet_fanout; ++i) sum += skynet_serial(first + i * part, part);
    return sum;
}

std::int64_t skynet_microtask(mt::thread_pool& pool, std::int64_t first, std::int64_t size) {
    if (size == 1) return first;
    child_sums sums(k_skynet_fanout);
    const std::int64_t part = size / k_skynet_fanout;
    mt::task_group group{pool};
    for (int i = 0; i < k_skynet_fanout; ++i) {
        group.run([&pool, &sums, first, part, i] { sums[i] = skynet_microtask(pool, first + i * part, part); });
    }
    group.wait();
    return sums.total();
}

#if MICROTASK_BENCH_HAVE_TBB
std::int64_t skynet_tbb(std::int64_t first, std::int64_t size) {
    if (size == 1) return first;
    child_sums sums(k_skynet_fanout);
    const std::int64_t part = size / k_skynet_fanout;
    tbb::task_group group;
    for (int i = 0; i < k_skynet_fanout; ++i) {
        group.run([&sums, first, part, i] { sums[i] = skynet_tbb(first + i * part, part); });
    }
    group.wait();
    return sums.total();
}
#endif

#if MICROTASK_BENCH_HAVE_OPENMP
std::int64_t skynet_omp(std::int64_t first, std::int64_t size) {
    if (size == 1) return first;
    child_sums sums(k_skynet_fanout);
    child_sums* out = &sums;
    const std::int64_t part = size / k_skynet_fanout;
    for (int i = 0; i < k_skynet_fanout; ++i) {
#pragma omp task firstprivate(out, first, part, i)
        (*out)[i] = skynet_omp(first + i * part, part);
    }
#pragma omp taskwait
    return sums.total();
}
#endif

constexpr const char* k_skynet_error = "classic/skynet: sum of the leaves differs from 499999500000";

void bm_skynet_serial(benchmark::State& state) {
    classic::run(state, k_skynet_answer, k_skynet_error,
                 [] { return skynet_serial(0, bench::opaque(k_skynet_leaves)); });
}
void bm_skynet_microtask(benchmark::State& state) {
    classic::run(state, k_skynet_answer, k_skynet_error,
                 [&pool = bench::pool()] { return skynet_microtask(pool, 0, bench::opaque(k_skynet_leaves)); });
}
#if MICROTASK_BENCH_HAVE_TBB
void bm_skynet_tbb_task_group(benchmark::State& state) {
    bench::limit_peers();
    classic::run(state, k_skynet_answer, k_skynet_error, [] { return skynet_tbb(0, bench::opaque(k_skynet_leaves)); });
}
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
void bm_skynet_omp_task(benchmark::State& state) {
    bench::limit_peers();
    classic::run(state, k_skynet_answer, k_skynet_error, [] {
        const std::int64_t leaves = bench::opaque(k_skynet_leaves);
        return classic::omp_root([leaves] { return skynet_omp(0, leaves); });
    });
}
#endif

CLASSIC_BENCH(fib, serial);
CLASSIC_BENCH(fib, microtask);
CLASSIC_TBB_BENCH(fib);
CLASSIC_OMP_BENCH(fib);
CLASSIC_BENCH(integrate, serial);
CLASSIC_BENCH(integrate, microtask);
CLASSIC_TBB_BENCH(integrate);
CLASSIC_OMP_BENCH(integrate);
CLASSIC_BENCH(skynet, serial);
CLASSIC_BENCH(skynet, microtask);
CLASSIC_TBB_BENCH(skynet);
CLASSIC_OMP_BENCH(skynet);

}  // namespace
