// Misuse: std::list is not random access, so it cannot be split in O(1).
// expect: splittable_range about list<int
#include <microtask/microtask.hpp>

#include <list>

int main() {
    microtask::thread_pool pool(1);
    std::list<int> values{1, 2, 3};
    return microtask::map_reduce(pool, values, [](int x) { return x; }, microtask::sum<int>{});
}
