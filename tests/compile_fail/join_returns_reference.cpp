// Misuse: join stores both results; a callable returning a reference cannot be stored
// (return a pointer or std::ref instead).
// expect: value_task
#include <microtask/microtask.hpp>

int main() {
    microtask::thread_pool pool(1);
    int value = 1;
    auto [a, b] = microtask::join(pool, [&]() -> int& { return value; }, [] { return 2; });
    return a + b;
}
