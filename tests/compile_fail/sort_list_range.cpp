// Misuse: mt::sort on a range that is not random access.
// expect: sortable_range about list<int
#include <microtask/microtask.hpp>

#include <list>

int main() {
    microtask::thread_pool pool(1);
    std::list<int> values{3, 1, 2};
    microtask::sort(pool, values);
}
