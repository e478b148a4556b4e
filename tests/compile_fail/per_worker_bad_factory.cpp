// Misuse: a per_worker<int> whose factory makes a string.
// expect: state_factory about int
#include <microtask/microtask.hpp>

#include <string>

int main() {
    microtask::thread_pool pool(1);
    microtask::per_worker<int> counts(pool, [] { return std::string("zero"); });
    (void)counts;
}
