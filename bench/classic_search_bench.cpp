// Workloads `classic/nqueens`, `classic/uts_t1` and `classic/uts_t3` of the classic suite
// (what the suite is: classic_bench.cpp): searches whose tree is discovered as it is
// walked, with a task per child in every parallel peer (an mt::task_group, a
// tbb::task_group per node, OpenMP task + taskwait) and the children's counts summed.
#include "classic.hpp"
#include "uts.hpp"

#include <array>
#include <cstdint>

namespace {

namespace mt = microtask;
using classic::child_sums;

// ---- nqueens(12): a task per safe square --------------------------------------------

constexpr int k_queens_n = 12;
constexpr std::int64_t k_queens_answer = 14200;  // solutions of 12 queens

/// board[r] is the column of the queen in row r, for the rows placed so far.
using board = std::array<std::int8_t, 16>;

/// Whether a queen at (row, col) is attacked by none of the queens in rows 0..row-1.
bool safe(const board& b, int row, int col) {
    for (int r = 0; r < row; ++r) {
        const int c = b[r];
        if (c == col || c - col == row - r || col - c == row - r) return false;
    }
    return true;
}

// Serial code reuses one board (the next choice in a row overwrites the last); the
// parallel peers give each task its own copy, since sibling tasks place their queens in
// the same row at the same time.
std::int64_t queens_serial(int n, int row, board& b) {
    if (row == n) return 1;
    std::int64_t solutions = 0;
    for (int col = 0; col < n; ++col) {
        if (!safe(b, row, col)) continue;
        b[row] = static_cast<std::int8_t>(col);
        solutions += queens_serial(n, row + 1, b);
    }
    return solutions;
}

/// `b` with a queen at (row, col): what each child task starts from.
board placed(board b, int row, int col) {
    b[row] = static_cast<std::int8_t>(col);
    return b;
}

std::int64_t queens_microtask(mt::thread_pool& pool, int n, int row, const board& b) {
    if (row == n) return 1;
    child_sums solutions(n);
    mt::task_group group{pool};
    for (int col = 0; col < n; ++col) {
        if (!safe(b, row, col)) continue;
        group.run([&pool, &solutions, &b, n, row, col] {
            solutions[col] = queens_microtask(pool, n, row + 1, placed(b, row, col));
        });
    }
    group.wait();
    return solutions.total();
}

#if MICROTASK_BENCH_HAVE_TBB
std::int64_t queens_tbb(int n, int row, const board& b) {
    if (row == n) return 1;
    child_sums solutions(n);
    tbb::task_group group;
    for (int col = 0; col < n; ++col) {
        if (!safe(b, row, col)) continue;
        group.run([&solutions, &b, n, row, col] { solutions[col] = queens_tbb(n, row + 1, placed(b, row, col)); });
    }
    group.wait();
    return solutions.total();
}
#endif

#if MICROTASK_BENCH_HAVE_OPENMP
std::int64_t queens_omp(int n, int row, const board& b) {
    if (row == n) return 1;
    child_sums solutions(n);
    child_sums* out = &solutions;
    const board* from = &b;
    for (int col = 0; col < n; ++col) {
        if (!safe(b, row, col)) continue;
#pragma omp task firstprivate(out, from, n, row, col)
        (*out)[col] = queens_omp(n, row + 1, placed(*from, row, col));
    }
#pragma omp taskwait
    return solutions.total();
}
#endif

constexpr const char* k_queens_error = "classic/nqueens: solutions of 12 queens differ from 14200";

void bm_nqueens_serial(benchmark::State& state) {
    classic::run(state, k_queens_answer, k_queens_error, [] {
        board b{};
        return queens_serial(bench::opaque(k_queens_n), 0, b);
    });
}
void bm_nqueens_microtask(benchmark::State& state) {
    classic::run(state, k_queens_answer, k_queens_error,
                 [&pool = bench::pool()] { return queens_microtask(pool, bench::opaque(k_queens_n), 0, board{}); });
}
#if MICROTASK_BENCH_HAVE_TBB
void bm_nqueens_tbb_task_group(benchmark::State& state) {
    bench::limit_peers();
    classic::run(state, k_queens_answer, k_queens_error,
                 [] { return queens_tbb(bench::opaque(k_queens_n), 0, board{}); });
}
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
void bm_nqueens_omp_task(benchmark::State& state) {
    bench::limit_peers();
    classic::run(state, k_queens_answer, k_queens_error, [] {
        const int n = bench::opaque(k_queens_n);
        return classic::omp_root([n] { return queens_omp(n, 0, board{}); });
    });
}
#endif

// ---- UTS: count the nodes of an implicit unbalanced tree ----------------------------

// T1 of the UTS paper (geometric, b0 = 4, depth 10) with another root: its seed 19 gives
// 4,130,071 nodes, too many for a run of 20-300 ms here, seed 25 gives 547,015 (a
// geometric tree's size swings by orders of magnitude with the root's draws). T3's shape
// with m = 7 and q just under 1/7 (1 - qm = 0.004: nearly critical, so subtree sizes
// vary wildly), seed 42.
constexpr bench::uts::tree k_t1{bench::uts::kind::geometric, 4.0, 10, 0, 0.0, 25};
constexpr bench::uts::tree k_t3{bench::uts::kind::binomial, 2000.0, 0, 7, 0.1423, 42};
constexpr std::int64_t k_t1_nodes = 547'015;
constexpr std::int64_t k_t3_nodes = 675'016;

/// The tree's node count, counted serially once (untimed) for all of its peers.
std::int64_t uts_answer(const bench::uts::tree& t) {
    return bench::computed_once(t.shape == bench::uts::kind::geometric ? 1 : 3,
                                [&t](std::int64_t) { return bench::uts::count_serial(t, bench::uts::root(t)); });
}

/// Times `count(tree)` against the serial count, which must also be the size this file
/// documents for the tree (else the tree model or SHA-1 changed, and every peer stops).
template <class Count>
void run_uts(benchmark::State& state, const bench::uts::tree& t, std::int64_t documented, Count count) {
    const std::int64_t expected = uts_answer(t);
    if (expected != documented) {
        state.SkipWithError("classic/uts: the serial node count is not the tree's documented size");
        return;
    }
    classic::run(state, expected, "classic/uts: node count differs from the serial count", [&] {
        bench::uts::tree copy = t;
        copy.seed = bench::opaque(t.seed);  // no hoisting a pure count out of the loop
        return count(copy);
    });
}

std::int64_t uts_microtask(mt::thread_pool& pool, const bench::uts::tree& t, const bench::uts::node& n) {
    const int children = bench::uts::child_count(t, n);
    if (children == 0) return 1;
    child_sums nodes(children);
    mt::task_group group{pool};
    for (int i = 0; i < children; ++i) {
        group.run([&pool, &t, &n, &nodes, i] { nodes[i] = uts_microtask(pool, t, bench::uts::child(n, i)); });
    }
    group.wait();
    return 1 + nodes.total();
}

#if MICROTASK_BENCH_HAVE_TBB
std::int64_t uts_tbb(const bench::uts::tree& t, const bench::uts::node& n) {
    const int children = bench::uts::child_count(t, n);
    if (children == 0) return 1;
    child_sums nodes(children);
    tbb::task_group group;
    for (int i = 0; i < children; ++i) {
        group.run([&t, &n, &nodes, i] { nodes[i] = uts_tbb(t, bench::uts::child(n, i)); });
    }
    group.wait();
    return 1 + nodes.total();
}
#endif

#if MICROTASK_BENCH_HAVE_OPENMP
std::int64_t uts_omp(const bench::uts::tree& t, const bench::uts::node& n) {
    const int children = bench::uts::child_count(t, n);
    if (children == 0) return 1;
    child_sums nodes(children);
    child_sums* out = &nodes;
    const bench::uts::tree* tree = &t;
    const bench::uts::node* parent = &n;
    for (int i = 0; i < children; ++i) {
#pragma omp task firstprivate(out, tree, parent, i)
        (*out)[i] = uts_omp(*tree, bench::uts::child(*parent, i));
    }
#pragma omp taskwait
    return 1 + nodes.total();
}
#endif

void uts_serial_peer(benchmark::State& state, const bench::uts::tree& t, std::int64_t documented) {
    run_uts(state, t, documented,
            [](const bench::uts::tree& c) { return bench::uts::count_serial(c, bench::uts::root(c)); });
}
void uts_microtask_peer(benchmark::State& state, const bench::uts::tree& t, std::int64_t documented) {
    run_uts(state, t, documented,
            [&pool = bench::pool()](const bench::uts::tree& c) { return uts_microtask(pool, c, bench::uts::root(c)); });
}
#if MICROTASK_BENCH_HAVE_TBB
void uts_tbb_peer(benchmark::State& state, const bench::uts::tree& t, std::int64_t documented) {
    bench::limit_peers();
    run_uts(state, t, documented, [](const bench::uts::tree& c) { return uts_tbb(c, bench::uts::root(c)); });
}
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
void uts_omp_peer(benchmark::State& state, const bench::uts::tree& t, std::int64_t documented) {
    bench::limit_peers();
    run_uts(state, t, documented, [](const bench::uts::tree& c) {
        return classic::omp_root([&c] { return uts_omp(c, bench::uts::root(c)); });
    });
}
#endif

void bm_uts_t1_serial(benchmark::State& state) { uts_serial_peer(state, k_t1, k_t1_nodes); }
void bm_uts_t1_microtask(benchmark::State& state) { uts_microtask_peer(state, k_t1, k_t1_nodes); }
void bm_uts_t3_serial(benchmark::State& state) { uts_serial_peer(state, k_t3, k_t3_nodes); }
void bm_uts_t3_microtask(benchmark::State& state) { uts_microtask_peer(state, k_t3, k_t3_nodes); }
#if MICROTASK_BENCH_HAVE_TBB
void bm_uts_t1_tbb_task_group(benchmark::State& state) { uts_tbb_peer(state, k_t1, k_t1_nodes); }
void bm_uts_t3_tbb_task_group(benchmark::State& state) { uts_tbb_peer(state, k_t3, k_t3_nodes); }
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
void bm_uts_t1_omp_task(benchmark::State& state) { uts_omp_peer(state, k_t1, k_t1_nodes); }
void bm_uts_t3_omp_task(benchmark::State& state) { uts_omp_peer(state, k_t3, k_t3_nodes); }
#endif

CLASSIC_BENCH(nqueens, serial);
CLASSIC_BENCH(nqueens, microtask);
CLASSIC_TBB_BENCH(nqueens);
CLASSIC_OMP_BENCH(nqueens);
CLASSIC_BENCH(uts_t1, serial);
CLASSIC_BENCH(uts_t1, microtask);
CLASSIC_TBB_BENCH(uts_t1);
CLASSIC_OMP_BENCH(uts_t1);
CLASSIC_BENCH(uts_t3, serial);
CLASSIC_BENCH(uts_t3, microtask);
CLASSIC_TBB_BENCH(uts_t3);
CLASSIC_OMP_BENCH(uts_t3);

}  // namespace
