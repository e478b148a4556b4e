// Workload `classic/matmul` of the classic suite (what the suite is: classic_bench.cpp):
// C += A B on 512 x 512 doubles, divided into quadrants down to 64 x 64 blocks, the four
// independent products of each phase as four tasks (an mt::task_group, a tbb::task_group,
// OpenMP task + taskwait).
#include "classic.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace {

namespace mt = microtask;

// ---- matmul: C += A B by quadrants ---------------------------------------------------

constexpr int k_matmul_n = 512;
constexpr int k_matmul_base = 64;  // 3 blocks of 64 x 64 doubles fit in L2

/// Square blocks of C, A and B inside row-major matrices whose rows are `stride` apart.
struct operands {
    double* c;
    const double* a;
    const double* b;
    std::ptrdiff_t stride;
};

/// The blocks of the product C_ij += A_ik B_kj one level down, whose side is `half`.
operands quadrant(const operands& m, int half, int i, int j, int k) {
    const std::ptrdiff_t s = m.stride;
    return {m.c + (i * s + j) * half, m.a + (i * s + k) * half, m.b + (k * s + j) * half, s};
}

/// C += A B on one block, serially. The i-k-j order runs along rows of B and C, which
/// the compiler vectorises. Out of line, so that every peer runs this one copy of the
/// loop: inlined, each peer had its own, and where each copy landed relative to a 64-byte
/// boundary moved a peer's time by up to 50% from one build to the next (52 against
/// 79 us per block; docs/performance.md, the classic suite).
[[gnu::noinline]] void multiply_block(const operands& m, int size) {
    for (int i = 0; i < size; ++i) {
        double* c = m.c + i * m.stride;
        for (int k = 0; k < size; ++k) {
            const double a = m.a[i * m.stride + k];
            const double* b = m.b + k * m.stride;
            for (int j = 0; j < size; ++j) c[j] += a * b[j];
        }
    }
}

// Each level runs two phases, k = 0 then k = 1: both write all four quadrants of C, so
// only the four products within a phase are independent.
void matmul_serial(const operands& m, int size) {
    if (size <= k_matmul_base) return multiply_block(m, size);
    const int half = size / 2;
    for (int k = 0; k < 2; ++k) {
        for (int i = 0; i < 2; ++i) {
            for (int j = 0; j < 2; ++j) matmul_serial(quadrant(m, half, i, j, k), half);
        }
    }
}

void matmul_microtask(mt::thread_pool& pool, const operands& m, int size) {
    if (size <= k_matmul_base) return multiply_block(m, size);
    const int half = size / 2;
    for (int k = 0; k < 2; ++k) {
        mt::task_group group{pool};
        for (int i = 0; i < 2; ++i) {
            for (int j = 0; j < 2; ++j) {
                group.run([&pool, q = quadrant(m, half, i, j, k), half] { matmul_microtask(pool, q, half); });
            }
        }
        group.wait();
    }
}

#if MICROTASK_BENCH_HAVE_TBB
void matmul_tbb(const operands& m, int size) {
    if (size <= k_matmul_base) return multiply_block(m, size);
    const int half = size / 2;
    for (int k = 0; k < 2; ++k) {
        tbb::task_group group;
        for (int i = 0; i < 2; ++i) {
            for (int j = 0; j < 2; ++j) group.run([q = quadrant(m, half, i, j, k), half] { matmul_tbb(q, half); });
        }
        group.wait();
    }
}
#endif

#if MICROTASK_BENCH_HAVE_OPENMP
void matmul_omp(const operands& m, int size) {
    if (size <= k_matmul_base) return multiply_block(m, size);
    const int half = size / 2;
    for (int k = 0; k < 2; ++k) {
        for (int i = 0; i < 2; ++i) {
            for (int j = 0; j < 2; ++j) {
                const operands q = quadrant(m, half, i, j, k);
#pragma omp task firstprivate(q, half)
                matmul_omp(q, half);
            }
        }
#pragma omp taskwait
    }
}
#endif

/// The inputs, the output and the expected product, made once. The entries are small
/// integers, so every sum is exact: any order of the additions gives the same bits, and
/// the plain triple loop's product checks the recursive ones exactly.
struct matmul_data {
    std::vector<double> a, b, c, expected;
};

matmul_data& matmul_inputs() {
    static matmul_data data = [] {
        constexpr std::size_t n = k_matmul_n;
        matmul_data d{std::vector<double>(n * n), std::vector<double>(n * n), std::vector<double>(n * n),
                      std::vector<double>(n * n, 0.0)};
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t j = 0; j < n; ++j) {
                d.a[i * n + j] = static_cast<double>((i * 7 + j * 3) % 11) - 5.0;
                d.b[i * n + j] = static_cast<double>((i * 5 + j * 9) % 13) - 6.0;
            }
        }
        for (std::size_t i = 0; i < n; ++i) {
            for (std::size_t k = 0; k < n; ++k) {
                for (std::size_t j = 0; j < n; ++j) d.expected[i * n + j] += d.a[i * n + k] * d.b[k * n + j];
            }
        }
        return d;
    }();
    return data;
}

/// Zeroes C, runs `multiply(operands, n)` and compares C with the expected product, all
/// inside the timed iteration (the zeroing and the comparison are ~1% of it, alike for
/// every peer).
template <class Multiply>
void run_matmul(benchmark::State& state, Multiply multiply) {
    matmul_data& d = matmul_inputs();
    classic::run(state, true, "classic/matmul: product differs from the triple loop's", [&] {
        std::fill(d.c.begin(), d.c.end(), 0.0);
        multiply(operands{d.c.data(), d.a.data(), d.b.data(), k_matmul_n}, bench::opaque(k_matmul_n));
        return d.c == d.expected;
    });
}

void bm_matmul_serial(benchmark::State& state) { run_matmul(state, matmul_serial); }
void bm_matmul_microtask(benchmark::State& state) {
    run_matmul(state, [&pool = bench::pool()](const operands& m, int n) { matmul_microtask(pool, m, n); });
}
#if MICROTASK_BENCH_HAVE_TBB
void bm_matmul_tbb_task_group(benchmark::State& state) {
    bench::limit_peers();
    run_matmul(state, matmul_tbb);
}
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
void bm_matmul_omp_task(benchmark::State& state) {
    bench::limit_peers();
    run_matmul(state, [](const operands& m, int n) {
        return classic::omp_root([&m, n] {
            matmul_omp(m, n);
            return true;  // omp_root returns the root's result; a product has none
        });
    });
}
#endif

CLASSIC_BENCH(matmul, serial);
CLASSIC_BENCH(matmul, microtask);
CLASSIC_TBB_BENCH(matmul);
CLASSIC_OMP_BENCH(matmul);

}  // namespace
