// Misuse: sum adds with +, which std::vector does not have (concat joins vectors).
// expect: summable
#include <microtask/microtask.hpp>

#include <vector>

int main() {
    microtask::thread_pool pool(1);
    std::vector<int> values{1, 2, 3};
    auto all = microtask::map_reduce(pool, values, [](int x) { return std::vector<int>{x}; },
                                     microtask::sum<std::vector<int>>{});
    return static_cast<int>(all.size());
}
