// Misuse: the predicate takes a string, but the elements are ints.
// expect: search_predicate
#include <microtask/microtask.hpp>

#include <string>
#include <vector>

int main() {
    microtask::thread_pool pool(1);
    std::vector<int> values{1, 2, 3};
    return *microtask::find_first(pool, values, [](const std::string& s) { return s.empty(); });
}
