// Misuse: the reducer's in-place accumulate takes a std::string, but the map function
// returns a std::vector<int>, which neither converts to value_type nor can be accumulated.
// expect: reducer_for
#include <microtask/microtask.hpp>

#include <cstddef>
#include <string>
#include <vector>

struct total_length {
    using value_type = std::size_t;
    static constexpr bool is_exactly_associative = true;
    std::size_t identity() const { return 0; }
    void combine(std::size_t& left, std::size_t&& right) const { left += right; }
    void accumulate(std::size_t& acc, const std::string& s) const { acc += s.size(); }
};

int main() {
    microtask::thread_pool pool{1};
    auto n = microtask::map_reduce(pool, microtask::iota(0, 10), [](int i) { return std::vector<int>(i); }, total_length{});
    return static_cast<int>(n);
}
