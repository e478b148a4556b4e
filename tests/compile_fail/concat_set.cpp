// Misuse: concat needs a container it can append to at the end; std::set is not one.
// expect: appendable_container
#include <microtask/microtask.hpp>

#include <set>

int main() {
    microtask::concat<std::set<int>> red;
    return static_cast<int>(red.identity().size());
}
