// Misuse: a plain number where a partition policy (grain, chunks, adaptive) is expected.
// expect: partition_policy
#include <microtask/microtask.hpp>

#include <vector>

int main() {
    microtask::thread_pool pool(1);
    std::vector<int> values{1, 2, 3};
    return microtask::map_reduce(pool, values, [](int x) { return x; }, microtask::sum<int>{}, 64);
}
