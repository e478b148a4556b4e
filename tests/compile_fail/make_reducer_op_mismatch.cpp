// Misuse: the operation of make_reducer cannot combine two values of the identity's type.
// expect: reducer_operation
#include <microtask/microtask.hpp>

#include <string>

int main() {
    auto joined = microtask::make_reducer(0, [](std::string a, const std::string& b) { return a + b; });
    return joined.identity();
}
