// Misuse: for_each over a range that is not random access.
// expect: splittable_range about list<int
#include <microtask/microtask.hpp>

#include <list>

int main() {
    microtask::thread_pool pool(1);
    std::list<int> values{1, 2, 3};
    microtask::for_each(pool, values, [](int& x) { x *= 2; });
}
