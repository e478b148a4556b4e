// Misuse: distribute collects the results in a std::vector; a function returning a
// reference cannot be stored (return a pointer or std::reference_wrapper instead).
// expect: value_task
#include <microtask/microtask.hpp>

#include <vector>

int main() {
    microtask::thread_pool pool(1);
    std::vector<int> parts{1, 2, 3};
    auto results = microtask::distribute(pool, parts, [](int& x) -> int& { return x; });
    return static_cast<int>(results.size());
}
