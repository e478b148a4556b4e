// Misuse: submit takes a callable with no arguments.
// expect: value_task
#include <microtask/microtask.hpp>

int main() {
    microtask::thread_pool pool(1);
    return pool.submit([](int x) { return x; }).get();
}
