// Control: correct uses of every entry point the other cases misuse. It must compile;
// if it does not, the harness (include path, flags, standard) is broken, and every
// "expected failure" would pass for the wrong reason.
// expect: compiles
#include <microtask/microtask.hpp>

#include <string>
#include <vector>

int main() {
    microtask::thread_pool pool(1);
    std::vector<int> values{1, 2, 3};
    int total = microtask::map_reduce(pool, values, [](int x) { return x; }, microtask::sum<int>{});
    total += microtask::map_reduce(pool, values, [](int x) { return x; }, microtask::sum<int>{}, microtask::grain(2));
    total += microtask::reduce(values, microtask::sum<int>{});
    total += microtask::reduce(pool, values, microtask::sum<int>{});
    microtask::for_each(pool, values, [](int& x) { x *= 2; });
    auto parts = microtask::decompose(values, microtask::grain(2));
    auto sums = microtask::distribute(pool, parts, [](auto part) { return static_cast<int>(part.size()); });
    auto [a, b] = microtask::join(pool, [] { return 1; }, [] { return 2; });
    microtask::task_group group(pool);
    group.run([] {});
    group.wait();
    auto joined = microtask::make_reducer(std::string{}, [](std::string l, const std::string& r) { return l + r; });
    microtask::concat<std::vector<int>> red;
    return total + static_cast<int>(sums.size()) + a + b + pool.submit([] { return 0; }).get() +
           static_cast<int>(joined.identity().size() + red.identity().size());
}
