// Misuse: std::list is not random access, so a parallel search cannot split it.
// expect: splittable_range about list<int
#include <microtask/microtask.hpp>

#include <list>

int main() {
    std::list<int> values{1, 2, 3};
    return microtask::none_of(values, [](int x) { return x > 1; }) ? 0 : 1;
}
