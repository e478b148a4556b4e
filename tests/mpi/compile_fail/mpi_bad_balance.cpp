// Misuse: something that is not a balance mode (an int) where on_demand or
// static_blocks belongs.
// expect: balance_mode
#include <microtask/mpi.hpp>
#include <microtask/reducers.hpp>

#include <vector>

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    microtask::thread_pool pool(1);
    std::vector<int> values{1, 2, 3};
    int total = microtask::mpi::map_reduce(
        MPI_COMM_WORLD, pool, values, [](int x) { return x; }, microtask::sum<int>{}, microtask::adaptive{}, 4);
    MPI_Finalize();
    return total;
}
