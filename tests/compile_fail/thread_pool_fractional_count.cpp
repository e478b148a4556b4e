// Misuse: a thread count must be an integer, not a floating-point value.
// expect: integral
#include <microtask/microtask.hpp>

int main() {
    microtask::thread_pool pool(2.5);
    return static_cast<int>(pool.size());
}
