// Misuse: an in-place combine that is not a const member. The engine calls combine on a
// shared const reducer, so neither form of combine (combines_in_place,
// combines_by_value) is found and the type is not a reducer.
// expect: reducer about appender
#include <microtask/microtask.hpp>

#include <vector>

struct appender {
    using value_type = std::vector<int>;
    value_type identity() const { return {}; }
    void combine(value_type& left, value_type&& right) { left.insert(left.end(), right.begin(), right.end()); }
};

int main() {
    microtask::thread_pool pool{1};
    auto all = microtask::map_reduce(pool, microtask::iota(0, 10), [](int i) { return std::vector<int>{i}; }, appender{});
    return static_cast<int>(all.size());
}
