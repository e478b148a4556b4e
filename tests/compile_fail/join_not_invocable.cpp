// Misuse: join's callables are called with no arguments.
// expect: value_task
#include <microtask/microtask.hpp>

int main() {
    microtask::thread_pool pool(1);
    auto [a, b] = microtask::join(pool, [] { return 1; }, [](int x) { return x; });
    return a + b;
}
