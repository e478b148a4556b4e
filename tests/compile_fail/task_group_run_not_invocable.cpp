// Misuse: task_group::run takes a callable with no arguments.
// expect: invocable
#include <microtask/microtask.hpp>

int main() {
    microtask::thread_pool pool(1);
    microtask::task_group group(pool);
    group.run([](int x) { return x; });
    group.wait();
}
