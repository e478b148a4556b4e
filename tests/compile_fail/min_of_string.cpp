// Misuse: min needs a type with std::numeric_limits for its identity; std::string has
// none (use make_reducer with an identity of your choice).
// expect: bounded_ordered
#include <microtask/microtask.hpp>

#include <string>
#include <vector>

int main() {
    microtask::thread_pool pool(1);
    std::vector<std::string> words{"b", "a"};
    auto first = microtask::map_reduce(pool, words, [](const std::string& w) { return w; },
                                       microtask::min<std::string>{});
    return static_cast<int>(first.size());
}
