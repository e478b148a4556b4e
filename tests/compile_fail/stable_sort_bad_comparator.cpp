// Misuse: mt::stable_sort with a comparator that cannot compare the elements.
// expect: sortable_range about string
#include <microtask/microtask.hpp>

#include <string>
#include <vector>

int main() {
    microtask::thread_pool pool(1);
    std::vector<std::string> words{"b", "a"};
    microtask::stable_sort(pool, words, [](int a, int b) { return a < b; });
}
