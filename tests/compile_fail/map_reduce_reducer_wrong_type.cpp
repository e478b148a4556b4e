// Misuse: the reducer's value_type does not fit what the map function returns
// (std::string cannot be summed into an int).
// expect: reducer_for
#include <microtask/microtask.hpp>

#include <string>
#include <vector>

int main() {
    microtask::thread_pool pool(1);
    std::vector<int> values{1, 2, 3};
    return microtask::map_reduce(pool, values, [](int x) { return std::to_string(x); }, microtask::sum<int>{});
}
