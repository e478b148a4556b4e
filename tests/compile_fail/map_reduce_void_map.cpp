// Misuse: a map function that returns void has nothing to reduce (for_each is the
// primitive for side effects).
// expect: map_function
#include <microtask/microtask.hpp>

#include <vector>

int main() {
    microtask::thread_pool pool(1);
    std::vector<int> values{1, 2, 3};
    return microtask::map_reduce(pool, values, [](int) {}, microtask::sum<int>{});
}
