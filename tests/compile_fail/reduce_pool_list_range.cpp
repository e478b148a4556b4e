// Misuse: the parallel reduce needs a random-access sized range.
// expect: splittable_range about list<int
#include <microtask/microtask.hpp>

#include <list>

int main() {
    microtask::thread_pool pool(1);
    std::list<int> values{1, 2, 3};
    return microtask::reduce(pool, values, microtask::sum<int>{});
}
