// Misuse: distribute indexes its parts, so they must be a random-access sized range.
// expect: splittable_range about list<int
#include <microtask/microtask.hpp>

#include <list>

int main() {
    microtask::thread_pool pool(1);
    std::list<int> parts{1, 2, 3};
    auto results = microtask::distribute(pool, parts, [](int x) { return x + 1; });
    return static_cast<int>(results.size());
}
