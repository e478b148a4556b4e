// distributed_pi: pi as the integral of 4 / (1 + x^2) over [0, 1] by the midpoint rule,
// summed across the ranks of MPI_COMM_WORLD with mt::mpi::map_reduce, each rank on its own
// work-stealing pool. The floating-point sum is bitwise the one a single process gets
// with mt::map_reduce, whatever the number of ranks, threads, or balancing.
//
//   mpirun -np 4 distributed_pi [--size INTERVALS] [--threads N] [--quick]
//   (as root: mpirun --allow-run-as-root; more ranks than cores: --oversubscribe)
#include "../example_support.hpp"

#include <microtask/mpi.hpp>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <numbers>

namespace mt = microtask;

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    int rank = 0, ranks = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    // Every rank parses the same arguments; a bad one ends every rank with status 2.
    const example::options opts = example::parse(
        argc, argv, "pi by the midpoint rule over --size intervals, across MPI ranks", 200'000'000, 1'000'000);
    mt::thread_pool pool = example::make_pool(opts);
    const long n = opts.size;
    const double width = 1.0 / static_cast<double>(n);
    const auto height = [width](long i) {
        const double x = (static_cast<double>(i) + 0.5) * width;
        return 4.0 / (1.0 + x * x);
    };
    const auto intervals = mt::iota(0L, n);

    double distributed = 0, balanced = 0;
    const double distributed_s = example::seconds(
        [&] { distributed = mt::mpi::map_reduce(MPI_COMM_WORLD, pool, intervals, height, mt::sum<double>{}) * width; });
    const double balanced_s = example::seconds([&] {
        balanced =
            mt::mpi::map_reduce(MPI_COMM_WORLD, pool, intervals, height, mt::sum<double>{}, mt::mpi::on_demand(8)) *
            width;
    });
    // The single-process value, on every rank, for the bitwise comparison.
    double single = 0;
    const double single_s =
        example::seconds([&] { single = mt::map_reduce(pool, intervals, height, mt::sum<double>{}) * width; });

    const bool same = std::bit_cast<std::uint64_t>(distributed) == std::bit_cast<std::uint64_t>(single) &&
                      std::bit_cast<std::uint64_t>(balanced) == std::bit_cast<std::uint64_t>(single);
    const bool close = std::abs(single - std::numbers::pi) < 1e-9;
    int ok = same && close ? 1 : 0, all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (rank == 0) {
        std::printf("pi over %ld intervals on %d ranks x %zu threads: %.17g (error %+.2e)\n", n, ranks, pool.size(),
                    distributed, distributed - std::numbers::pi);
        std::printf("  static_blocks %.4f s, on_demand %.4f s, one process %.4f s; %s\n", distributed_s, balanced_s,
                    single_s,
                    all_ok ? "every rank's results are bitwise the single-process sum"
                           : "MISMATCH against the single-process sum");
    }
    MPI_Finalize();
    return all_ok ? 0 : 1;
}
