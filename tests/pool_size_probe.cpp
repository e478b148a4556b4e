// Prints the default sizes of a pool, for the sizing tests in tests/CMakeLists.txt (run
// under taskset and with MICROTASK_NUM_THREADS): "sizes: <default_pool> <thread_pool{}>",
// or "error: <what>" if a default size is refused.
#include <microtask/microtask.hpp>

#include <cstdio>
#include <stdexcept>

int main() {
    try {
        microtask::thread_pool pool;
        std::printf("sizes: %zu %zu\n", microtask::default_pool().size(), pool.size());
    } catch (const std::invalid_argument& error) {
        std::printf("error: %s\n", error.what());
    }
    return 0;
}
