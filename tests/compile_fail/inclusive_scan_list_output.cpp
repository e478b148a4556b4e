// Misuse: mt::inclusive_scan into an output that is not random access.
// expect: scan_output about List_iterator
#include <microtask/microtask.hpp>

#include <list>
#include <vector>

int main() {
    microtask::thread_pool pool(1);
    std::vector<int> values{1, 2, 3};
    std::list<int> out(3);
    microtask::inclusive_scan(pool, values, out.begin());
}
