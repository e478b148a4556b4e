// Misuse: the predicate returns nothing a search could test.
// expect: search_predicate
#include <microtask/microtask.hpp>

#include <vector>

int main() {
    microtask::thread_pool pool(1);
    std::vector<int> values{1, 2, 3};
    return *microtask::find_any(pool, values, [](int) {});
}
