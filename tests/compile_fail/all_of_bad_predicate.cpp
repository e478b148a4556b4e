// Misuse: the predicate cannot be called with the range's elements.
// expect: search_predicate
#include <microtask/microtask.hpp>

#include <string>
#include <vector>

int main() {
    microtask::thread_pool pool(1);
    std::vector<int> values{1, 2, 3};
    return microtask::all_of(pool, values, [](const std::string& s) { return s.empty(); }) ? 0 : 1;
}
