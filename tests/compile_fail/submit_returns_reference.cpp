// Misuse: a future holds the task's result by value; a task returning a reference
// cannot be submitted.
// expect: value_task
#include <microtask/microtask.hpp>

int main() {
    microtask::thread_pool pool(1);
    static int value = 1;
    return pool.submit([]() -> int& { return value; }).get();
}
