// Misuse: a user decomposer must return the subtasks as a sized range, not one value.
// expect: decomposer
#include <microtask/microtask.hpp>

struct job {
    int size;
};

int main() {
    auto parts = microtask::decompose(job{10}, [](const job& j) { return j.size / 2; });
    return static_cast<int>(parts.size());
}
