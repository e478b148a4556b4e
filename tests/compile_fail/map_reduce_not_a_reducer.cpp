// Misuse: a "reducer" whose identity() returns a type that does not convert to its
// value_type, so it is not a monoid over value_type at all.
// expect: reducer
#include <microtask/microtask.hpp>

#include <string>
#include <vector>

struct identity_of_wrong_type {
    using value_type = int;
    std::string identity() const { return {}; }
    int combine(int a, int b) const { return a + b; }
};

int main() {
    microtask::thread_pool pool(1);
    std::vector<int> values{1, 2, 3};
    return microtask::map_reduce(pool, values, [](int x) { return x; }, identity_of_wrong_type{});
}
