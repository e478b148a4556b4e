// mt::mpi measured under mpirun: the cost of one call (latency, messages, bytes) and the
// balance of static_blocks against on_demand with one slowed rank. Figures in
// docs/distributed.md.
//
// Not Google Benchmark: it picks its iteration count per process by timing, so ranks
// would make different numbers of collective calls and wait for each other forever.
// Here every rank makes the same fixed number of calls; rank 0 prints medians.
//
//   mpirun -np P mpi_bench latency [--reps N]
//   mpirun -np P mpi_bench balance [--elements N] [--micros U] [--threads T]
#include <microtask/map_reduce.hpp>
#include <microtask/mpi.hpp>
#include <microtask/reducers.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace mt = microtask;
using seconds = std::chrono::duration<double>;

namespace {

int g_rank = 0;
int g_ranks = 1;

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

// Times `call` `reps` times, all ranks in step (a barrier before each), and returns the
// median over repetitions of the slowest rank's time.
template <class Call>
double timed(int reps, Call call) {
    std::vector<double> times;
    for (int r = 0; r < reps; ++r) {
        MPI_Barrier(MPI_COMM_WORLD);
        const auto start = std::chrono::steady_clock::now();
        call();
        double mine = seconds(std::chrono::steady_clock::now() - start).count(), slowest = 0;
        MPI_Allreduce(&mine, &slowest, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        times.push_back(slowest);
    }
    return median(times);
}

long arg(int argc, char** argv, const char* name, long fallback) {
    for (int i = 2; i + 1 < argc; ++i) {
        if (std::strcmp(argv[i], name) == 0) return std::atol(argv[i + 1]);
    }
    return fallback;
}

double term(std::size_t i) { return std::sin(double(i)); }

// Per call: latency of a tiny map_reduce (64 elements: the cost is all exchange), the
// same with on_demand, an MPI_Allreduce of one double for scale, and the payload bytes
// a rank sends (records of 24 bytes of node plus the value).
void latency(int argc, char** argv) {
    const int reps = static_cast<int>(arg(argc, argv, "--reps", 2001));
    mt::thread_pool pool(1);
    const auto small = mt::iota(std::size_t{0}, std::size_t{64});
    volatile double sink = 0;
    const double single = timed(reps, [&] { sink = mt::map_reduce(pool, small, term, mt::sum<double>{}); });
    const double allreduce = timed(reps, [&] {
        double x = 1, y = 0;
        MPI_Allreduce(&x, &y, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
        sink = y;
    });
    const double sum_static =
        timed(reps, [&] { sink = mt::mpi::map_reduce(MPI_COMM_WORLD, pool, small, term, mt::sum<double>{}); });
    const double sum_on_demand = timed(reps / 4, [&] {
        sink = mt::mpi::map_reduce(MPI_COMM_WORLD, pool, small, term, mt::sum<double>{}, mt::mpi::on_demand(8));
    });
    // on_demand's cost per chunk: the same 4096 trivial elements cut into few or many chunks.
    const auto mid = mt::iota(std::size_t{0}, std::size_t{4096});
    const auto od_time = [&](std::size_t per_rank) {
        return timed(std::max(5, reps / 10), [&] {
            sink =
                mt::mpi::map_reduce(MPI_COMM_WORLD, pool, mid, term, mt::sum<double>{}, mt::mpi::on_demand(per_rank));
        });
    };
    const std::size_t mid_leaves = mt::adaptive{}.leaf_count(4096);
    const std::size_t few = mt::detail::on_demand_chunks(mid_leaves, std::size_t(g_ranks), 1).size();
    const std::size_t many = mt::detail::on_demand_chunks(mid_leaves, std::size_t(g_ranks), 64).size();
    const double few_s = od_time(1), many_s = od_time(64);
    const double per_chunk = (many_s - few_s) / double(many - few);
    // A concat of 10^6 ints: the exchange moves 4 MB to every rank.
    const auto big = mt::iota(0, 1'000'000);
    const double concat_static = timed(std::max(3, reps / 100), [&] {
        const auto all = mt::mpi::map_reduce(
            MPI_COMM_WORLD, pool, big, [](int i) { return i; }, mt::concat<std::vector<int>>{});
        sink = double(all.size());
    });
    const double concat_single = timed(std::max(3, reps / 100), [&] {
        const auto all = mt::map_reduce(
            pool, big, [](int i) { return i; }, mt::concat<std::vector<int>>{});
        sink = double(all.size());
    });
    const std::size_t leaves = mt::adaptive{}.leaf_count(64);
    std::size_t nodes = 0;
    for (int r = 0; r < g_ranks; ++r) {
        nodes = std::max(
            nodes, mt::detail::static_share<mt::sum<double>>(leaves, std::size_t(r), std::size_t(g_ranks)).size());
    }
    if (g_rank == 0) {
        std::printf(
            "ranks %d: single-process map_reduce(64) %.1f us | MPI_Allreduce(1 double) %.1f us | "
            "mpi::map_reduce(64, sum<double>) static %.1f us, on_demand %.1f us | "
            "max nodes per rank %zu = %zu payload bytes + 72 header bytes | "
            "concat of 10^6 int: mpi %.2f ms, single-process %.2f ms | "
            "on_demand 4096 elements: %zu chunks %.1f us, %zu chunks %.1f us: %.2f us per chunk\n",
            g_ranks, single * 1e6, allreduce * 1e6, sum_static * 1e6, sum_on_demand * 1e6, nodes,
            nodes * (24 + sizeof(double)), concat_static * 1e3, concat_single * 1e3, few, few_s * 1e6, many,
            many_s * 1e6, per_chunk * 1e6);
    }
}

// One rank slowed: every element waits `micros` microseconds, three times that on rank
// 1. Waiting, not computing: this machine has 2 cores for up to 4 ranks, so CPU-bound
// work would measure the cores' sharing, not the balancing. Ideal: the time if the
// elements were shared in proportion to each rank's own measured speed.
void balance(int argc, char** argv) {
    const auto n = static_cast<std::size_t>(arg(argc, argv, "--elements", 1200));
    const long micros = arg(argc, argv, "--micros", 200);
    const int threads = static_cast<int>(arg(argc, argv, "--threads", 2));
    const int reps = static_cast<int>(arg(argc, argv, "--reps", 3));
    mt::thread_pool pool(threads);
    const long mine = g_rank == 1 ? 3 * micros : micros;
    const auto work = [mine](std::size_t i) {
        std::this_thread::sleep_for(std::chrono::microseconds(mine));
        return double(i);
    };
    const auto elements = mt::iota(std::size_t{0}, n);
    const mt::grain leaf(4);
    // Each rank's own speed: all n elements on its own pool (no MPI inside).
    const auto start = std::chrono::steady_clock::now();
    volatile double sink = mt::map_reduce(pool, elements, work, mt::sum<double>{}, leaf);
    const double alone = seconds(std::chrono::steady_clock::now() - start).count();
    double rate = 1.0 / alone, total_rate = 0;
    MPI_Allreduce(&rate, &total_rate, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    const double ideal = 1.0 / total_rate;
    const double fixed =
        timed(reps, [&] { sink = mt::mpi::map_reduce(MPI_COMM_WORLD, pool, elements, work, mt::sum<double>{}, leaf); });
    // Under on_demand rank 0's calling thread serves requests instead of computing: its
    // pool gets one more worker, so that it computes with as many threads as alone.
    mt::thread_pool serving_pool(g_rank == 0 ? threads + 1 : threads);
    const auto chunks_per_rank = static_cast<std::size_t>(arg(argc, argv, "--chunks", 8));
    const double dynamic = timed(reps, [&] {
        sink = mt::mpi::map_reduce(MPI_COMM_WORLD, serving_pool, elements, work, mt::sum<double>{}, leaf,
                                   mt::mpi::on_demand(chunks_per_rank));
    });
    (void)sink;
    if (g_rank == 0) {
        std::printf(
            "ranks %d, %d threads each, %zu elements of %ld us (rank 1: %ld us): rank 0 alone %.3f s | "
            "ideal %.3f s | static_blocks %.3f s (%.2fx ideal) | on_demand(%zu) %.3f s (%.2fx ideal)\n",
            g_ranks, threads, n, micros, 3 * micros, alone, ideal, fixed, fixed / ideal, chunks_per_rank, dynamic,
            dynamic / ideal);
    }
}

}  // namespace

int main(int argc, char** argv) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_ranks);
    const std::string mode = argc > 1 ? argv[1] : "latency";
    if (mode == "latency") {
        latency(argc, argv);
    } else if (mode == "balance") {
        balance(argc, argv);
    } else if (g_rank == 0) {
        std::fprintf(stderr, "usage: mpi_bench latency|balance [options]\n");
    }
    MPI_Finalize();
    return 0;
}
