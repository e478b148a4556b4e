// Misuse: a fold body must take the accumulator by reference and a part (a subrange);
// this one takes a single element.
// expect: leaf_body
#include <microtask/microtask.hpp>

#include <vector>

int main() {
    microtask::thread_pool pool{1};
    std::vector<int> v{1, 2, 3};
    long s = microtask::fold(pool, v, microtask::sum<long>{}, [](long& acc, int x) { acc += x; });
    return static_cast<int>(s);
}
