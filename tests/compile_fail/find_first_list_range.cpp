// Misuse: std::list is not random access, so a parallel search cannot split it.
// expect: splittable_range about list<int
#include <microtask/microtask.hpp>

#include <list>

int main() {
    microtask::thread_pool pool(1);
    std::list<int> values{1, 2, 3};
    return *microtask::find_first(pool, values, [](int x) { return x > 1; });
}
