// Misuse: sequential reduce of strings with an integer sum.
// expect: reducer_for
#include <microtask/microtask.hpp>

#include <string>
#include <vector>

int main() {
    std::vector<std::string> partials{"a", "b"};
    return microtask::reduce(partials, microtask::sum<int>{});
}
