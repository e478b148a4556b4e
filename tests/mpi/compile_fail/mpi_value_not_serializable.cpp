// Misuse: a reducer whose value type mt::mpi cannot send (a std::map: not trivially
// copyable, not a vector or string) and for which no mt::mpi::serializer is specialised.
// expect: serializable
#include <microtask/mpi.hpp>
#include <microtask/reducers.hpp>

#include <map>
#include <vector>

int main(int argc, char** argv) {
    MPI_Init(&argc, &argv);
    microtask::thread_pool pool(1);
    std::vector<int> values{1, 2, 3};
    auto merge =
        microtask::make_reducer(std::map<int, int>{}, [](std::map<int, int>& left, std::map<int, int>&& right) {
            for (auto& [key, count] : right) left[key] += count;
        });
    auto counts = microtask::mpi::map_reduce(
        MPI_COMM_WORLD, pool, values,
        [](int x) {
            return std::map<int, int>{{x, 1}};
        },
        merge);
    MPI_Finalize();
    return static_cast<int>(counts.size());
}
