// Misuse: mt::exclusive_scan with an operation that cannot take the running value.
// expect: scan_operation about string
#include <microtask/microtask.hpp>

#include <string>
#include <vector>

int main() {
    microtask::thread_pool pool(1);
    std::vector<int> values{1, 2, 3};
    std::vector<std::string> out(3);
    microtask::exclusive_scan(pool, values, out.begin(), std::string("x"), [](int a, int b) { return a + b; });
}
