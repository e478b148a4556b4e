// Misuse: decomposing a temporary vector would leave the parts dangling.
// expect: borrowed_range
#include <microtask/microtask.hpp>

#include <vector>

int main() {
    auto parts = microtask::decompose(std::vector<int>{1, 2, 3}, microtask::grain(2));
    return static_cast<int>(parts.size());
}
