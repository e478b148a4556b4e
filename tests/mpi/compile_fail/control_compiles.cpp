// Control: the correct uses the other mt::mpi cases misuse. It must compile; if it does
// not, the harness (the MPI compiler wrapper, include path) is broken.
// expect: compiles
#include <microtask/mpi.hpp>
#include <microtask/reducers.hpp>

#include <string>
#include <vector>

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    microtask::thread_pool pool(1);
    std::vector<int> values{1, 2, 3};
    const auto identity = [](int x) { return x; };
    int total = microtask::mpi::map_reduce(MPI_COMM_WORLD, pool, values, identity, microtask::sum<int>{});
    total += microtask::mpi::map_reduce(MPI_COMM_WORLD, pool, values, identity, microtask::sum<int>{},
                                        microtask::grain(2), microtask::mpi::on_demand(4));
    const auto words = microtask::mpi::map_reduce(
        MPI_COMM_WORLD, pool, values, [](int x) { return std::vector<std::string>(1, std::to_string(x)); },
        microtask::concat<std::vector<std::string>>{});
    MPI_Finalize();
    return total + static_cast<int>(words.size());
}
