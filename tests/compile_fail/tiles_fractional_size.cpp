// Misuse: a tile size that is not an integer.
// expect: integral about double
#include <microtask/microtask.hpp>

int main() {
    auto grid = microtask::tiles(microtask::iota(0, 10), microtask::iota(0, 10), 2.5, 2.5);
    (void)grid;
}
